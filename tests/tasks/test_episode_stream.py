import torch
from torch.utils.data import DataLoader

from kgdnc.tasks import Curriculum, EpisodeStream, collate, get_task
from kgdnc.tasks.traversal import make_episode


def seeds(episodes):
    return [e.meta["seed"] for e in episodes]


def test_stream_is_reproducible_and_independent_of_workers():
    task = get_task("traversal")
    c = Curriculum(task.lessons, start=3)
    one = list(EpisodeStream(task, c, base_seed=7, limit=12))
    again = list(EpisodeStream("traversal", c, base_seed=7, limit=12))
    assert seeds(one) == seeds(again) and len(set(seeds(one))) == 12
    loader = DataLoader(
        EpisodeStream(task, c, base_seed=7, limit=12), batch_size=None, num_workers=2
    )
    assert seeds(list(loader)) == seeds(one)
    other = list(EpisodeStream(task, c, base_seed=8, limit=12))
    assert not set(seeds(other)) & set(seeds(one))
    resumed = list(EpisodeStream(task, c, base_seed=7, start=5, limit=7))
    assert seeds(resumed) == seeds(one)[5:]


def test_episode_rebuilt_from_its_seed_and_lesson():
    task = get_task("traversal")
    c = Curriculum(task.lessons, start=5)
    for e in EpisodeStream(task, c, base_seed=1, limit=5):
        again = make_episode(task.lesson(e.meta["lesson"]), e.meta["seed"])
        assert torch.equal(again.inputs, e.inputs) and torch.equal(again.targets, e.targets)


def test_workers_follow_the_curriculum_and_batches_collate():
    task = get_task("traversal")
    c = Curriculum(task.lessons, replay=0.0)
    c.update(1.0)
    c.update(1.0)  # lesson 3, set in the main process before the workers start
    loader = DataLoader(
        EpisodeStream(task, c, base_seed=0, limit=8), batch_size=4, num_workers=2,
        collate_fn=collate,
    )  # fmt: skip
    batches = list(loader)
    assert len(batches) == 2 and batches[0].inputs.shape[0] == 4
    lessons = {e.meta["lesson"] for e in EpisodeStream(task, c, base_seed=0, limit=8)}
    assert lessons == {3}


def test_running_workers_see_the_curriculum_advance():
    task = get_task("traversal")
    c = Curriculum(task.lessons, replay=0.0)
    loader = DataLoader(
        EpisodeStream(task, c, base_seed=0, limit=30), batch_size=None, num_workers=1,
        prefetch_factor=1,
    )  # fmt: skip
    seen = []
    for i, e in enumerate(loader):
        seen.append(e.meta["lesson"])
        if i == 3:
            c.update(1.0)  # main process moves to lesson 2 while the worker runs
    assert seen[:4] == [1, 1, 1, 1]
    assert seen[-10:] == [2] * 10
