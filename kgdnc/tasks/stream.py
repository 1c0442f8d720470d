"""Episodes generated on the fly, reproducibly, in DataLoader workers."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from typing import Any

import networkx as nx
from torch.utils.data import IterableDataset, get_worker_info

from kgdnc.tasks.curriculum import Lesson
from kgdnc.tasks.registry import Task, get_task

__all__ = ["EpisodeStream", "episode_seed"]


def episode_seed(base_seed: int, epoch: int, rank: int, index: int) -> random.Random:
    """The generator that draws episode ``index``'s lesson and seed (string seeding
    is stable across processes and Python hash seeds)."""
    return random.Random(f"kgdnc-episode/{base_seed}/{epoch}/{rank}/{index}")


class EpisodeStream(IterableDataset):
    """An endless (or ``limit``-long) stream of episodes of one task.

    Episode ``k`` (counting from ``start``) draws its lesson from ``lessons`` and
    its seed with :func:`episode_seed` ``(base_seed, epoch, rank, k)``, then is made
    by ``task.make_episode(lesson, seed, graph)``: so the stream does not depend on
    the number of workers (worker w of n makes the episodes with k % n == w, and the
    DataLoader interleaves them in order), and each episode is reproducible from
    ``meta["seed"]`` and its lesson.

    Args:
        task: a :class:`Task` or its name.
        lessons: ``rng -> Lesson``, e.g. a :class:`Curriculum` (whose position is
            shared with the workers) or ``lambda rng: lesson``.
        base_seed: the run's seed.
        graph: a user graph to draw episodes on (None: random graphs).
        max_triples: sub-graph limit for ``graph``.
        epoch, rank: mixed into the seeds; give each DDP rank its own ``rank`` and
            call :meth:`set_epoch` (or pass ``start``) when a run resumes.
        start: index of the first episode.
        limit: number of episodes (None: endless).
        options: keyword arguments for ``task.make_episode`` (e.g.
            ``planning_steps``).
    """

    def __init__(
        self,
        task: Task | str,
        lessons: Callable[[random.Random], Lesson],
        base_seed: int = 0,
        *,
        graph: nx.MultiDiGraph | None = None,
        max_triples: int | None = None,
        epoch: int = 0,
        rank: int = 0,
        start: int = 0,
        limit: int | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.task = get_task(task) if isinstance(task, str) else task
        self.lessons = lessons
        self.base_seed = base_seed
        self.graph = graph
        self.max_triples = max_triples
        self.epoch = epoch
        self.rank = rank
        self.start = start
        self.limit = limit
        self.options = dict(options or {})

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def episode(self, index: int) -> Any:
        """Episode number ``index`` of this stream."""
        rng = episode_seed(self.base_seed, self.epoch, self.rank, index)
        lesson = self.lessons(rng)
        seed = rng.getrandbits(63)
        if self.graph is None:
            return self.task.make_episode(lesson, seed, **self.options)
        if self.task.name == "copy":
            return self.task.make_episode(lesson, seed, self.graph, **self.options)
        return self.task.make_episode(
            lesson, seed, self.graph, max_triples=self.max_triples, **self.options
        )

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        stop = None if self.limit is None else self.start + self.limit
        for index in itertools.islice(itertools.count(self.start), worker, None, workers):
            if stop is not None and index >= stop:
                return
            yield self.episode(index)

    def __len__(self) -> int:
        if self.limit is None:
            raise TypeError("an endless EpisodeStream has no length")
        return self.limit
