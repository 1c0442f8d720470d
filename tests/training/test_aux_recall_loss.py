"""The auxiliary recall loss: recall steps carry loss, never scores."""

import itertools
import random

import pytest
import torch

from kgdnc.errors import UserError
from kgdnc.tasks import get_task
from kgdnc.tasks.episode import collate
from kgdnc.training.data import episode_options
from kgdnc.training.presets import make_preset

TINY = dict(hidden_size=8, memory_size=8, word_size=4, read_heads=1)


def _module(task="traversal", **overrides):
    from kgdnc.training.module import GraphTaskModule

    torch.manual_seed(0)
    return GraphTaskModule(make_preset("cpu", task, **TINY, **overrides).to_dict())


def _batch(task="traversal", blocks=2):
    spec = get_task(task)
    episodes = [spec.make_episode(spec.lessons[0], random.Random(i), aux_recall=blocks)
                for i in range(3)]
    return collate(episodes)


@pytest.mark.parametrize("task", ["traversal", "inference"])
def test_recall_steps_change_the_loss_and_not_the_scores(task):
    module = _module(task)
    batch = _batch(task)
    assert batch.aux.any()
    with torch.no_grad():
        full = module.run_batch(batch, explore=False)
        # the same batch with no recall steps marked: less loss, the same scores
        bare = module.run_batch(batch._replace(aux=torch.zeros_like(batch.aux)), explore=False)
        # other targets on the recall steps only: another loss, the same scores
        targets = batch.targets.clone()
        targets[batch.aux] = (targets[batch.aux] + 1) % 10
        moved = module.run_batch(batch._replace(targets=targets), explore=False)
    assert full.loss > bare.loss
    assert not torch.isclose(full.loss, moved.loss)
    for other in (bare, moved):
        assert torch.equal(full.scores.step_correct, other.scores.step_correct)
        assert torch.equal(full.scores.episode_correct, other.scores.episode_correct)
        assert torch.equal(full.scores.answer_steps, other.scores.answer_steps)
    # answer steps are counted from the mask alone
    assert full.scores.answer_steps.tolist() == batch.mask.sum(-1).tolist()
    # the task's own loss counts recall steps as the module's does
    y, _ = module(batch.inputs)
    assert torch.isclose(get_task(task).loss(y, batch), full.loss, rtol=1e-4)


def test_recall_steps_alone_give_gradients():
    module = _module()
    batch = _batch()
    no_answers = batch._replace(mask=torch.zeros_like(batch.mask))
    result = module.run_batch(no_answers, explore=False)
    assert result.loss > 0
    result.loss.backward()
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    # nothing to score: no answer steps, every episode vacuously right
    assert int(result.scores.answer_steps.sum()) == 0


def test_episode_options_give_recall_blocks_to_training_episodes_only():
    from kgdnc.training.data import episode_options

    for task in ("traversal", "inference"):
        config = make_preset("cpu", task, aux_recall=3)
        assert episode_options(config)["aux_recall"] == 3
        assert "aux_recall" not in episode_options(config, training=False)
        assert "aux_recall" not in episode_options(make_preset("cpu", task))


def test_training_stream_gets_recall_blocks_and_fresh_checks_do_not():
    from kgdnc.training.data import EpisodeDataModule
    from kgdnc.training.run import make_curriculum

    config = make_preset("cpu", "inference", aux_recall=2, check_mode="fresh")
    data = EpisodeDataModule(config, make_curriculum(config))
    train = data.train_dataloader().dataset
    assert train.options == {"aux_recall": 2}
    assert int(train.episode(0).aux.sum()) == 2
    checks = data.val_dataloader().dataset
    assert "aux_recall" not in checks.options
    batch = next(iter(checks))
    assert not batch.aux.any() and batch.mask.any()


@pytest.mark.parametrize(
    "task, value, message",
    [
        ("copy", 2, "not copy"),
        ("traversal", -1, "aux_recall must be at least 0"),
    ],
)
def test_aux_recall_is_refused_where_it_has_no_meaning(task, value, message):
    with pytest.raises(UserError, match=message):
        make_preset("cpu", task, aux_recall=value)
    assert make_preset("cpu", task).aux_recall == 0  # off by default everywhere


def _sp_episodes(n=3, lesson=5):
    spec = get_task("shortest-path")
    return [spec.make_episode(spec.lessons[lesson], random.Random(i)) for i in range(n)]


def test_predecessor_recall_asks_for_the_triples_into_a_node():
    from kgdnc.tasks.codec import encode_input, triple_digits
    from kgdnc.tasks.shortest_path import predecessor_recall

    episode = _sp_episodes(1)[0]
    blocks = predecessor_recall(episode, 4, random.Random(0))
    triples = sorted({(u, r, v) for u, v, r in episode.graph.edges(data="relation")})
    assert blocks.inputs.shape == (8, 92) and blocks.answers == [1, 3, 5, 7]
    everything = torch.stack([triple_digits(t) for t in triples])
    nodes = []
    for k in range(4):
        # the query names only the destination: (_, _, d), flag 0 on; then a blank answer step
        query = blocks.inputs[2 * k]
        d = next(v for _, _, v in triples
                 if torch.equal(query, encode_input((None, None, v), phase=True)))
        nodes.append(d)
        assert torch.equal(blocks.inputs[2 * k + 1],
                           encode_input((None, None, None), phase=True, answer=True))
        assert torch.equal(blocks.digits[k], everything)  # scored on every triple
        assert blocks.targets[k].tolist() == [t[2] == d for t in triples]
        assert blocks.targets[k].any()
    assert len(set(nodes)) == 4  # distinct while there are enough
    empty = predecessor_recall(episode, 0, random.Random(0))
    assert empty.inputs.shape[0] == 0 and empty.answers == []


def test_first_move_queries_are_the_episode_query_scored_on_the_first_move():
    import networkx as nx

    from kgdnc.tasks.codec import encode_input
    from kgdnc.tasks.shortest_path import first_move_queries

    episode = _sp_episodes(1)[0]
    blocks = first_move_queries(episode, 3, random.Random(4), planning_steps=5)
    assert blocks.inputs.shape == (3 * 7, 92) and blocks.answers == [6, 13, 20]
    labels = sorted(episode.graph.nodes)
    for k, step in enumerate(blocks.answers):
        query = blocks.inputs[step - 6]
        s, d = next((s, d) for s in labels for d in labels
                    if torch.equal(query, encode_input((s, None, d), phase=True)))
        # planning as in the episode: flag 0 on the first blank step only
        assert torch.equal(blocks.inputs[step - 5], encode_input((None, None, None), phase=True))
        assert not blocks.inputs[step - 4].any()
        assert torch.equal(blocks.inputs[step], episode.step_input(None))
        distance = nx.shortest_path_length(episode.graph, s, d)
        assert 2 <= distance <= max(2, episode.shortest_length)
        triples, digits = episode.candidates(s)
        assert torch.equal(blocks.digits[k], digits)
        want = [nx.has_path(episode.graph, v, d)
                and nx.shortest_path_length(episode.graph, v, d) == distance - 1
                for _, _, v in triples]
        assert blocks.targets[k].tolist() == want and any(want)


def _twins(**options):
    """A shortest-path module with ``options`` and one without, the same weights."""
    module = _module("shortest-path", **options)
    plain = _module("shortest-path")
    plain.network.load_state_dict(module.network.state_dict())
    return module, plain


def _run_both(module, plain, explore):
    """Each module's result on the same episodes and DAgger draws."""
    results = []
    for m in (module, plain):
        m._rng = random.Random(7)
        with torch.no_grad():
            results.append(m.run_batch(_sp_episodes(), explore=explore))
    return results


@pytest.mark.parametrize("option, value",
                         [("aux_recall", 2), ("aux_queries", 2), ("plan_targets", True)])
def test_shortest_path_blocks_add_loss_in_training_only(option, value):
    module, plain = _twins(**{option: value})
    for explore in (True, False):
        with_blocks, without = _run_both(module, plain, explore)
        # the walks are the same: the blocks come after the answer, and the plan
        # loss only reads the planning steps' outputs
        assert torch.equal(with_blocks.scores.step_correct, without.scores.step_correct)
        assert torch.equal(with_blocks.scores.episode_correct, without.scores.episode_correct)
        if explore:
            assert float(with_blocks.loss) > float(without.loss) + 1e-3
        else:
            assert float(with_blocks.loss) == pytest.approx(float(without.loss))
    module._rng = random.Random(7)
    loss = module.run_batch(_sp_episodes(), explore=True).loss
    loss.backward()
    assert all(p.grad is not None for p in module.network.parameters() if p.requires_grad)


def test_block_loss_is_each_block_nll_from_the_state_after_the_answer():
    from kgdnc.tasks.shortest_path import (
        candidate_log_probs,
        first_move_queries,
        optimal_nll,
        predecessor_recall,
    )
    from kgdnc.training.rollout import block_loss

    episodes = _sp_episodes(2)
    net = _module("shortest-path").network
    state = net.initial_state(2, 64)
    makers = (lambda e, r: predecessor_recall(e, 3, r),
              lambda e, r: first_move_queries(e, 2, r, planning_steps=3))
    for make, move_loss in itertools.product(makers, ("candidates", "triple")):
        rng = random.Random(5)
        drawn = [make(e, rng) for e in episodes]
        with torch.no_grad():
            got, _ = block_loss(drawn, net, state, move_loss=move_loss)
            # by hand, one episode at a time
            for i, blocks in enumerate(drawn):
                y, _ = net(blocks.inputs[None], net.initial_state(1, 64))
                want = 0.0
                for k, step in enumerate(blocks.answers):
                    mask = torch.ones(1, blocks.digits[k].shape[0], dtype=torch.bool)
                    logp = candidate_log_probs(y[:, step], blocks.digits[k][None], mask,
                                               renormalise=move_loss == "candidates")
                    want += float(optimal_nll(logp, blocks.targets[k][None]))
                assert float(got[i]) == pytest.approx(want, rel=1e-5)
        if move_loss == "triple":
            # unnormalised: each block's loss is at least its renormalised loss
            assert (got >= block_loss(drawn, net, state)[0] - 1e-4).all()


@pytest.mark.parametrize("task", ["traversal", "inference", "copy"])
def test_aux_queries_is_for_shortest_path_only(task):
    with pytest.raises(UserError, match="aux_queries \\(--aux-queries\\) is for shortest path"):
        make_preset("cpu", task, aux_queries=1)
    with pytest.raises(UserError, match="aux_queries must be at least 0"):
        make_preset("cpu", "shortest-path", aux_queries=-1)


def test_shortest_path_resume_can_turn_it_on():
    import dataclasses

    config = make_preset("cpu", "shortest-path")
    assert dataclasses.replace(config, aux_recall=2).aux_recall == 2
    assert dataclasses.replace(config, aux_queries=2).aux_queries == 2
    # its blocks are not part of the episodes: the rollout asks them
    assert "aux_recall" not in episode_options(dataclasses.replace(config, aux_recall=2))


def test_triple_move_loss_scores_the_same_walks_with_every_digit():
    from kgdnc.tasks.shortest_path import ShortestPathRollout, candidate_log_probs, optimal_nll
    from kgdnc.training.rollout import play

    module, plain = _twins(move_loss="triple")
    triple, candidates = _run_both(module, plain, explore=True)
    assert torch.equal(triple.scores.step_correct, candidates.scores.step_correct)
    assert float(triple.loss) > float(candidates.loss) + 1.0  # the shared digits count too
    # by hand: the summed -log Σ_optimal of the triples' own scores, greedy walks
    net = module.network
    episodes = _sp_episodes()
    roll = ShortestPathRollout(episodes)
    state = net.initial_state(3, 64)
    with torch.no_grad():
        got = play(roll, net, state, move_loss="triple").losses
        roll = ShortestPathRollout(episodes)
        _, state = net(roll.prefix.inputs, net.initial_state(3, 64))
        want = torch.zeros(3)
        while not roll.done:
            y, state = net(roll.inputs()[:, None], state)
            digits, mask, optimal = roll.candidates()
            raw = candidate_log_probs(y[:, 0], digits, mask, renormalise=False)
            want += optimal_nll(raw, optimal) * optimal.any(-1).float()
            roll.advance(raw.argmax(-1))
    assert torch.allclose(got, want, rtol=1e-5)
    module._rng = random.Random(7)
    module.run_batch(_sp_episodes(), explore=True).loss.backward()
    assert all(p.grad is not None for p in module.network.parameters() if p.requires_grad)
