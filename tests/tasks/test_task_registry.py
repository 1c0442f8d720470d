import random

import pytest
import torch

from kgdnc.errors import UserError
from kgdnc.tasks import TASK_NAMES, ShortestPathEpisode, collate, get_task
from kgdnc.tasks.codec import encode_triple


def test_registry_has_the_four_tasks():
    assert set(TASK_NAMES) == {"copy", "traversal", "shortest-path", "inference"}
    # the paper's cadence in episodes: every 100 batches of 2 (traversal), of 32
    # (inference), of 1 (shortest path, on 50 fresh episodes)
    traversal, inference = get_task("traversal"), get_task("inference")
    assert (traversal.threshold, traversal.check_every, traversal.check_mode) == (
        0.9, 200, "running")
    assert (inference.check_every, inference.check_mode) == (3200, "running")
    sp = get_task("shortest-path")
    assert (sp.threshold, sp.check_every, sp.replay, sp.interactive) == (0.8, 2000, 0.0, True)
    assert (sp.check_mode, sp.eval_episodes) == ("fresh", 50)
    assert get_task("inference").lessons[0].queries == 3
    with pytest.raises(UserError, match="choose one of"):
        get_task("sorting")
    with pytest.raises(UserError, match="lessons 1-14"):
        get_task("traversal").lesson(15)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_sizes_match_episodes(name):
    task = get_task(name)
    ep = task.make_episode(task.lessons[0], random.Random(0))
    if task.interactive:
        assert isinstance(ep, ShortestPathEpisode)
        ep = ep.prefix
    assert ep.inputs.shape[-1] == task.input_size
    assert ep.targets.shape[-1] == task.target_size
    assert task.curriculum().lesson == task.lessons[0]


@pytest.mark.parametrize("name", ["traversal", "inference"])
def test_loss_and_accuracy_on_perfect_logits(name):
    task = get_task(name)
    eps = [task.make_episode(task.lessons[1], s) for s in range(3)]
    batch = collate(eps)
    logits = torch.zeros(*batch.mask.shape, task.output_size)
    for i, e in enumerate(eps):
        for t, triple in zip(torch.nonzero(e.mask).flatten(), e.meta["answers"], strict=True):
            logits[i, t] = encode_triple(triple) * 20
    assert task.episode_correct(logits, batch).all()
    assert task.loss(logits, batch) < 1e-3
    logits[0, torch.nonzero(eps[0].mask)[0, 0]] = 0
    assert task.episode_correct(logits, batch).tolist() == [False, True, True]
    assert task.loss(logits, batch) > 1.0
