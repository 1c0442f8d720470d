"""The learning rate on a plateau of the curriculum checks (``--lr-patience``).

A lesson's checks often climb and then sit a few points under the threshold for
many checks, where a lower rate lets them through (the campaign lowered it by hand
twice). :class:`PlateauSchedule` does that at a fixed rule: after each check, if
the lesson's best check has not improved by ``min_delta`` for ``patience``
training episodes, the rate is multiplied by ``decay``, never below ``floor``. A
passed lesson starts a new best; the rate stays where it is, or, with ``restart``,
returns to the configuration's rate, so that each new lesson is first learned at
the full rate (``--lr-restart``). With ``hold``, a lesson's first ``hold`` training
episodes never lower the rate (``--lr-hold``): a new lesson's checks often sit flat
for a while before they climb at once, and a rate lowered in that wait can hold the
climb back for hundreds of thousands of episodes (docs/results.md, session 17).
With ``keep_lessons``, the checks of the lessons listed never lower the rate
(``--lr-keep-lessons``): a lesson whose checks sit flat while the network looks for
a new way to read its memory needs the full rate, where others' last points need a
lower one (docs/results.md, sessions 20–21).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

__all__ = ["PlateauSchedule"]


class PlateauSchedule:
    """The learning rate of a run, lowered when its checks stop improving.

    Args:
        lr: the configuration's learning rate (where the schedule starts).
        patience: training episodes without a better check before a drop.
        decay: factor of each drop, in (0, 1).
        floor: the lowest rate a drop may reach.
        min_delta: the gain over the lesson's best that counts as better (one
            point: about three standard deviations of an inference check of
            3,200 episodes near 88 %, so noise rarely makes a new best).
        restart: a passed lesson returns the rate to ``lr``.
        hold: training episodes at the start of each lesson (and of the run)
            during which the rate is never lowered; 0: none.
        keep_lessons: lessons (1-based) whose checks never lower the rate.
    """

    def __init__(
        self, lr: float, patience: int, decay: float, floor: float, min_delta: float = 0.01,
        restart: bool = False, hold: int = 0, keep_lessons: Collection[int] = (),
    ) -> None:
        if patience < 1:
            raise ValueError(f"patience must be at least 1 episode, got {patience}")
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must lie in (0, 1), got {decay}")
        if hold < 0:
            raise ValueError(f"hold must be at least 0 episodes, got {hold}")
        if any(lesson < 1 for lesson in keep_lessons):
            raise ValueError(f"keep_lessons are lesson numbers from 1, got {keep_lessons}")
        self.base = float(lr)
        self.lr = float(lr)
        self.patience = int(patience)
        self.decay = float(decay)
        self.floor = float(floor)
        self.min_delta = float(min_delta)
        self.restart = bool(restart)
        self.hold = int(hold)
        self.keep_lessons = frozenset(int(lesson) for lesson in keep_lessons)
        self.best = -math.inf
        self.since = 0  # episodes seen at the best check or the last drop
        self.start: float | None = None  # episodes seen when the lesson began

    def begin(self, episodes: int) -> None:
        """Mark the episodes seen when training starts, the start of its first
        lesson's hold; a schedule restored from a checkpoint keeps its own."""
        if self.start is None:
            self.start = float(episodes)

    def update(self, accuracy: float, episodes: int, passed: bool, lesson: int = 1) -> bool:
        """Record one check (its accuracy, the run's episodes so far, whether it
        passed the lesson, the 1-based lesson it checked). Returns True when the
        rate changed: lowered on a plateau, or restored to ``base`` at a pass with
        ``restart``."""
        if passed:
            self.best, self.since, self.start = -math.inf, episodes, float(episodes)
            if self.restart and self.lr != self.base:
                self.lr = self.base
                return True
            return False
        if accuracy >= self.best + self.min_delta:
            self.best, self.since = accuracy, episodes
            return False
        if episodes - self.since < self.patience or self.lr <= self.floor:
            return False
        if episodes - (self.start or 0.0) < self.hold or lesson in self.keep_lessons:
            return False
        self.lr = max(self.lr * self.decay, self.floor)
        self.since = episodes
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"base": self.base, "lr": self.lr, "best": self.best, "since": self.since,
                "start": self.start}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue a saved schedule, unless the run's rate was changed on resume
        (``--lr``): then it starts again from the new rate, its hold counted from the
        resume. A schedule saved before holds existed has no lesson start: no hold."""
        if not math.isclose(float(state.get("base", math.nan)), self.base, rel_tol=1e-9):
            return
        self.lr = max(float(state["lr"]), min(self.floor, self.base))
        self.best = float(state["best"])
        self.since = int(state["since"])
        start = state.get("start", -math.inf)
        self.start = None if start is None else float(start)
