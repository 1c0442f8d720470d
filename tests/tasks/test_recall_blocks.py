"""Recall blocks of the auxiliary recall loss (Park et al. 2020) at the end of
traversal and inference training episodes."""

import random

import pytest
import torch

from kgdnc.tasks import get_task
from kgdnc.tasks.codec import digits_to_triple
from kgdnc.tasks.episode import EpisodeBuilder, collate

TASKS = ["traversal", "inference"]


def _episode(name, seed, **options):
    task = get_task(name)
    return task.make_episode(task.lessons[1], seed, **options)


@pytest.mark.parametrize("name", TASKS)
def test_default_is_the_tasks_own_episode(name):
    plain = _episode(name, 5)
    zero = _episode(name, 5, aux_recall=0)
    assert torch.equal(plain.inputs, zero.inputs) and torch.equal(plain.targets, zero.targets)
    assert torch.equal(plain.mask, zero.mask) and plain.meta == zero.meta
    assert plain.aux.shape == plain.mask.shape and not plain.aux.any()
    assert "recall" not in plain.meta


@pytest.mark.parametrize("name", TASKS)
@pytest.mark.parametrize("blocks", [1, 3])
def test_recall_blocks_are_appended_after_the_tasks_own_steps(name, blocks, read, described):
    plain = _episode(name, 11)
    ep = _episode(name, 11, aux_recall=blocks)
    t0 = len(plain)
    assert len(ep) == t0 + 2 * blocks
    # the task's own layout, targets, answers and scored steps are unchanged
    assert torch.equal(ep.inputs[:t0], plain.inputs)
    assert torch.equal(ep.targets[:t0], plain.targets)
    assert torch.equal(ep.mask[:t0], plain.mask) and not ep.mask[t0:].any()
    assert {k: v for k, v in ep.meta.items() if k != "recall"} == plain.meta
    # aux: exactly the answer step of each block
    assert torch.nonzero(ep.aux).flatten().tolist() == [t0 + 2 * k + 1 for k in range(blocks)]
    assert not (ep.aux & ep.mask).any()

    steps = read(ep.inputs)
    description = {tuple(t) for t, _, _ in steps[: ep.meta["n_triples"]]}
    assert len(description) == described(steps).number_of_edges() == ep.meta["n_triples"]
    recalled = [tuple(r) for r in digits_to_triple(ep.targets[ep.aux]).tolist()]
    assert recalled == ep.meta["recall"]
    assert set(recalled) <= description and len(set(recalled)) == blocks
    for k, (s, e, _) in enumerate(recalled):
        query, answer = steps[t0 + 2 * k], steps[t0 + 2 * k + 1]
        assert query == ((s, e, None), True, False)
        assert answer == ((None, None, None), True, True)


@pytest.mark.parametrize("name", TASKS)
def test_recall_blocks_are_reproducible_from_the_seed(name):
    a, b = _episode(name, 42, aux_recall=4), _episode(name, 42, aux_recall=4)
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
    assert torch.equal(a.aux, b.aux) and a.meta == b.meta
    draws = {tuple(_episode(name, s, aux_recall=4).meta["recall"]) for s in range(6)}
    assert len(draws) > 1  # drawn, not fixed


def test_recall_draws_distinct_triples_while_there_are_enough():
    triples = [(1, 2, 3), (4, 5, 6), (7, 8, 9)]
    b = EpisodeBuilder()
    chosen = b.recall(triples, 7, random.Random(0))
    assert len(chosen) == 7
    # every triple once before any repeats
    assert sorted(chosen[:3]) == triples and sorted(chosen[3:6]) == triples
    ep = b.build({})
    assert len(ep) == 14 and not ep.mask.any() and ep.aux.sum() == 7
    assert b.recall([], 2, random.Random(0)) == []


def test_recall_prefers_triples_whose_source_and_edge_name_one_destination():
    triples = [(1, 2, 3), (1, 2, 4), (5, 6, 7)]
    chosen = EpisodeBuilder().recall(triples, 3, random.Random(0))
    assert chosen == [(5, 6, 7)] * 3


def test_a_loss_only_step_needs_a_target():
    with pytest.raises(ValueError, match="target"):
        EpisodeBuilder().add(aux=True)


def test_collate_pads_aux_false_and_keeps_it_apart_from_the_mask():
    eps = [_episode("traversal", s, aux_recall=s % 3) for s in range(4)]
    batch = collate(eps)
    assert batch.aux.shape == batch.mask.shape
    for i, e in enumerate(eps):
        n = len(e)
        assert torch.equal(batch.aux[i, :n], e.aux) and not batch.aux[i, n:].any()
    assert int(batch.aux.sum()) == sum(s % 3 for s in range(4))
    assert torch.equal(batch.loss_mask(), batch.mask | batch.aux)
    # the positional fields keep their order; aux is last, with a default
    assert batch._fields[:5] == ("inputs", "targets", "mask", "lengths", "lessons")
    assert batch._replace(aux=None).loss_mask() is batch.mask
