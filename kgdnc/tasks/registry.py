"""The tasks by name, each with its lessons, thresholds, sizes and loss."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from kgdnc.errors import UserError
from kgdnc.tasks import copy as copy_task
from kgdnc.tasks import inference, shortest_path, traversal
from kgdnc.tasks.codec import INPUT_SIZE, N_DIGITS, OUTPUT_SIZE, digit_loss, digits_correct
from kgdnc.tasks.curriculum import (
    COPY_LESSONS,
    INFERENCE_LESSONS,
    SHORTEST_PATH_LESSONS,
    TRAVERSAL_LESSONS,
    Curriculum,
    Lesson,
)
from kgdnc.tasks.episode import Batch

__all__ = ["TASK_NAMES", "Task", "get_task"]


@dataclass(frozen=True)
class Task:
    """Everything the training loop needs to know about one task.

    Attributes:
        name: "copy", "traversal", "shortest-path" or "inference".
        lessons: its curriculum table.
        threshold: greedy accuracy that passes a lesson.
        check_every: training episodes between curriculum checks (the paper's
            cadence: every 100 batches of its batch size).
        check_mode: ``running`` (greedy answers of the training episodes
            themselves) or ``fresh`` (a new evaluation set at every check).
        eval_episodes: size of a fresh check's evaluation set.
        replay: fraction of episodes replayed from earlier lessons.
        interactive: True for shortest path (episodes are ``ShortestPathEpisode``,
            answered through ``ShortestPathRollout``), else plain ``Episode``.
        input_size: I of x (92; copy 8).
        output_size: O of y (90; copy 6).
        target_size: K of the targets (9 digit classes; copy 6 bits).
        make_episode: ``(lesson, rng_or_seed, graph=None) -> Episode | ShortestPathEpisode``.
        step_loss: ``(logits (..., O), targets (..., K)) -> (...)`` loss per step.
        step_correct: ``(logits (..., O), targets (..., K)) -> (...)`` bool per step.
        per_answer: True where each answer step is a question of its own
            (inference: three queries an episode, each answered in one step),
            so a curriculum check counts answers; else one question is a whole
            episode (a traversal's path, a shortest path's walk). The paper
            passes a lesson when 90 % of the greedy answers are right.
    """

    name: str
    lessons: tuple[Lesson, ...]
    threshold: float
    check_every: int
    check_mode: str
    eval_episodes: int
    replay: float
    interactive: bool
    input_size: int
    output_size: int
    target_size: int
    make_episode: Callable[..., Any]
    step_loss: Callable[[Tensor, Tensor], Tensor]
    step_correct: Callable[[Tensor, Tensor], Tensor]
    per_answer: bool = False

    def curriculum(self, start: int = 0) -> Curriculum:
        """A fresh curriculum over this task's lessons."""
        return Curriculum(self.lessons, self.threshold, self.check_every, self.replay, start=start)

    def lesson(self, index: int) -> Lesson:
        """The lesson with this (1-based) number; UserError if there is none."""
        for lesson in self.lessons:
            if lesson.index == index:
                return lesson
        raise UserError(
            f"{self.name} has lessons 1-{len(self.lessons)}, not {index}; pick one of those"
        )

    def loss(self, logits: Tensor, batch: Batch) -> Tensor:
        """Mean over episodes of the loss summed over answer and loss-only steps.

        Args:
            logits: (B, T, O) network output y; batch: targets (B, T, K), mask and
                aux (B, T).
        """
        per_step = self.step_loss(logits, batch.targets) * batch.loss_mask()
        return per_step.sum() / logits.shape[0]

    def episode_correct(self, logits: Tensor, batch: Batch) -> Tensor:
        """(B,) True where every answer step of the episode is right (greedy)."""
        ok = self.step_correct(logits, batch.targets) | ~batch.mask
        return ok.all(dim=-1)


_GRAPH = {
    "input_size": INPUT_SIZE,
    "output_size": OUTPUT_SIZE,
    "target_size": N_DIGITS,
    "step_loss": digit_loss,
    "step_correct": digits_correct,
}
_TASKS: dict[str, Task] = {
    "copy": Task(
        name="copy",
        lessons=COPY_LESSONS,
        threshold=0.9,
        check_every=1600,
        check_mode="fresh",
        eval_episodes=128,
        replay=0.1,
        interactive=False,
        input_size=copy_task.COPY_INPUT_SIZE,
        output_size=copy_task.COPY_OUTPUT_SIZE,
        target_size=copy_task.BITS,
        make_episode=copy_task.make_episode,
        step_loss=copy_task.bits_loss,
        step_correct=copy_task.bits_correct,
    ),
    "traversal": Task(
        name="traversal",
        lessons=TRAVERSAL_LESSONS,
        threshold=0.9,
        check_every=200,  # batches of 2
        check_mode="running",
        eval_episodes=128,
        replay=0.1,
        interactive=False,
        make_episode=traversal.make_episode,
        **_GRAPH,
    ),
    "inference": Task(
        name="inference",
        lessons=INFERENCE_LESSONS,
        threshold=0.9,
        check_every=3200,  # batches of 32
        check_mode="running",
        eval_episodes=128,
        replay=0.1,
        interactive=False,
        make_episode=inference.make_episode,
        per_answer=True,
        **_GRAPH,
    ),
    "shortest-path": Task(
        name="shortest-path",
        lessons=SHORTEST_PATH_LESSONS,
        threshold=0.8,
        check_every=2000,  # batches of 1, on 50 fresh episodes
        check_mode="fresh",
        eval_episodes=50,
        replay=0.0,
        interactive=True,
        make_episode=shortest_path.make_episode,
        **_GRAPH,
    ),
}
TASK_NAMES: tuple[str, ...] = tuple(_TASKS)


def get_task(name: str) -> Task:
    """The task called ``name``; UserError naming the choices otherwise."""
    try:
        return _TASKS[name]
    except KeyError:
        raise UserError(f"unknown task {name!r}; choose one of: {', '.join(TASK_NAMES)}") from None
