"""The data module: endless training batches and fresh evaluation sets.

Episodes are generated on the fly from the task's rules; nothing is stored.

- Training: :class:`kgdnc.tasks.EpisodeStream`, endless; each episode's lesson
  is drawn from the curriculum (the current lesson, or with probability
  ``replay`` an earlier one); episode k of rank r is reproducible from the
  run's seed, and a resumed run starts after the episodes already seen. With
  workers, the curriculum's position is shared memory, so workers follow a
  lesson change within a few batches.
- Validation (a ``fresh`` curriculum check, see :class:`CheckPlan`):
  ``eval_episodes`` fresh episodes of the current lesson only, a new set at
  every check (the check's number is part of the seed), split over the ranks
  under DDP. ``running`` checks need no validation set: the module tallies the
  training episodes' own greedy answers (on their answer steps: recall blocks
  of the auxiliary loss, ``aux_recall``, carry loss only and are never scored;
  fresh check sets have none).

Graph-task batches are :class:`kgdnc.tasks.Batch` (B, T, 92); interactive
tasks (shortest path) yield the list of episodes itself, which the rollout
plays step by step.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytorch_lightning as pl
from torch.utils.data import DataLoader, IterableDataset

from kgdnc.training.presets import TrainConfig


def mix_seed(*parts: int) -> int:
    """A 63-bit seed from several integers (stable across processes and runs)."""
    value = 0x9E3779B97F4A7C15
    for part in parts:
        value = (value ^ (int(part) & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9
        value &= 0xFFFFFFFFFFFFFFFF
        value ^= value >> 31
    return value & 0x7FFFFFFFFFFFFFFF


@dataclass(frozen=True)
class CheckPlan:
    """How a run checks its curriculum (the configuration with the task's defaults).

    Attributes:
        every: training episodes between checks.
        mode: ``running`` (the training episodes' own greedy answers on the
            current lesson since the last check) or ``fresh`` (``episodes`` new
            episodes of the current lesson).
        episodes: size of a fresh check's evaluation set.
        pass_rule: shortest path: ``exact`` or ``one-longer``.
    """

    every: int
    mode: str
    episodes: int
    pass_rule: str

    def batches(self, batch_size: int) -> int:
        """Training batches between checks: ``every`` episodes, rounded up."""
        return max(1, math.ceil(self.every / batch_size))


def check_plan(config: TrainConfig) -> CheckPlan:
    """The :class:`CheckPlan` of ``config`` (unset fields take the task's own)."""
    from kgdnc.tasks import get_task

    task = get_task(config.task)
    return CheckPlan(
        every=config.check_every if config.check_every is not None else task.check_every,
        mode=config.check_mode if config.check_mode is not None else task.check_mode,
        episodes=config.eval_episodes if config.eval_episodes is not None else task.eval_episodes,
        pass_rule=config.pass_rule,
    )


def episode_options(config: TrainConfig, training: bool = True) -> dict[str, Any]:
    """Keyword arguments for the task's ``make_episode`` that the configuration sets.

    ``aux_recall`` (recall blocks for the auxiliary loss) and inference's
    ``plan_targets`` (hops named while planning) are for training episodes only:
    a fresh check (``training=False``) scores the task's own episodes.
    Shortest path's blocks are not part of its episodes: the rollout asks them
    after the answer (:func:`kgdnc.training.rollout.block_loss`).
    """
    options: dict[str, Any] = {}
    if config.planning_steps is not None and config.task in ("shortest-path", "inference"):
        options["planning_steps"] = config.planning_steps
    if config.real_choice and config.task == "shortest-path":
        options["real_choice"] = True
    if training and config.aux_recall and config.task in ("traversal", "inference"):
        # shortest path asks its recall blocks after the interactive answer (rollout)
        options["aux_recall"] = config.aux_recall
    if training and config.plan_targets and config.task == "inference":
        # shortest path names its plan in the rollout (kgdnc.training.rollout)
        options["plan_targets"] = True
    return options


def batch_of(task: Any, episodes: Sequence[Any]) -> Any:
    """Collate ``episodes`` for ``task``: a padded ``Batch``, or the list for interactive tasks."""
    if task.interactive:
        return list(episodes)
    from kgdnc.tasks import collate

    return collate(episodes)


class CheckSet(IterableDataset):  # type: ignore[type-arg]
    """A fresh evaluation set of the current lesson at every iteration.

    Check ``c`` is episodes ``0 … n-1`` of ``EpisodeStream(epoch=c)``, all of the
    lesson being trained (no replay), so a check is reproducible. Under DDP rank
    ``r`` of ``w`` makes episodes ``i ≡ r (mod w)``.
    """

    def __init__(
        self, task: Any, curriculum: Any, episodes: int, batch_size: int, seed: int,
        rank: int = 0, world_size: int = 1, options: dict[str, Any] | None = None,
    ) -> None:
        self.task = task
        self.curriculum = curriculum
        self.episodes = episodes
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.options = options
        self.checks = 0

    def __iter__(self) -> Iterator[Any]:
        from kgdnc.tasks import EpisodeStream

        lesson = self.curriculum.lesson
        stream = EpisodeStream(
            self.task, lambda rng: lesson, self.seed, epoch=self.checks, options=self.options
        )
        self.checks += 1
        mine = list(range(self.rank, self.episodes, self.world_size))
        for start in range(0, len(mine), self.batch_size):
            chunk = mine[start : start + self.batch_size]
            yield batch_of(self.task, [stream.episode(i) for i in chunk])


def _passthrough(item: Any) -> Any:
    return item


class EpisodeDataModule(pl.LightningDataModule):
    """Training stream and curriculum checks of one task.

    Args:
        config: the run's :class:`TrainConfig`.
        curriculum: shared with the curriculum callback, which advances it.
    """

    def __init__(self, config: TrainConfig, curriculum: Any) -> None:
        super().__init__()
        from kgdnc.tasks import get_task

        self.config = config
        self.task = get_task(config.task)
        self.curriculum = curriculum
        self._check_set: CheckSet | None = None
        self._checks_done = 0

    def _rank(self) -> tuple[int, int, int]:
        """(rank, world size, training episodes this rank has seen)."""
        trainer = self.trainer
        if trainer is None:
            return 0, 1, 0
        module = trainer.lightning_module
        seen = int(getattr(module, "examples_seen", 0)) // max(trainer.world_size, 1)
        return trainer.global_rank, trainer.world_size, seen

    def train_dataloader(self) -> DataLoader:  # type: ignore[type-arg]
        from kgdnc.tasks import EpisodeStream

        rank, _, seen = self._rank()
        batch = self.config.batch_size
        # Episode k of this rank's stream is reproducible; a resumed run starts
        # after the episodes it has already seen, whatever its batch size was.
        stream = EpisodeStream(
            self.task, self.curriculum, self.config.seed, rank=rank, start=seen,
            options=episode_options(self.config),
        )
        workers = self.config.num_workers
        return DataLoader(
            stream, batch_size=batch, num_workers=workers,
            collate_fn=functools.partial(batch_of, self.task), persistent_workers=workers > 0,
        )

    def val_dataloader(self) -> DataLoader:  # type: ignore[type-arg]
        rank, world, _ = self._rank()
        if self._check_set is None:
            episodes = check_plan(self.config).episodes
            eval_batch = min(episodes, max(self.config.batch_size, 32))
            self._check_set = CheckSet(
                self.task, self.curriculum, episodes, eval_batch,
                seed=mix_seed(self.config.seed, 0xC4EC), rank=rank, world_size=world,
                options=episode_options(self.config, training=False),
            )
            self._check_set.checks = self._checks_done
        return DataLoader(self._check_set, batch_size=None, num_workers=0, collate_fn=_passthrough)

    def state_dict(self) -> dict[str, Any]:
        """The number of curriculum checks made, so a resumed run draws new check sets."""
        checks = self._check_set.checks if self._check_set is not None else self._checks_done
        return {"checks": checks}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._checks_done = int(state_dict.get("checks", 0))
        if self._check_set is not None:
            self._check_set.checks = self._checks_done


