"""The lesson tables (ED Tables 3–5) and the curriculum that walks them.

A :class:`Curriculum` holds the current lesson. Its position lives in a shared
memory tensor, so the copies that DataLoader workers hold follow the main
process when it advances (they see the new lesson within a few prefetched
batches).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch

__all__ = [
    "COPY_ALLOCATION_LESSON",
    "COPY_LESSONS",
    "INFERENCE_LESSONS",
    "SHORTEST_PATH_LESSONS",
    "TRAVERSAL_LESSONS",
    "Curriculum",
    "Lesson",
]

Range = tuple[int, int]


@dataclass(frozen=True)
class Lesson:
    """One row of a curriculum table; every range is inclusive.

    Attributes:
        index: the lesson's number in its table (1-based).
        nodes: number of graph nodes (lo, hi).
        out_degree: out-degree K drawn per node (lo, hi).
        length: path length (traversal, shortest path), relation length
            (inference) or sequence length (copy).
        queries: queries per episode (inference: 3; copy: sequences per episode).
    """

    index: int
    nodes: Range
    out_degree: Range
    length: Range
    queries: int = 1


def _table(rows: Sequence[tuple[Range, Range, Range]], queries: int = 1) -> tuple[Lesson, ...]:
    return tuple(
        Lesson(i + 1, nodes, degree, length, queries)
        for i, (nodes, degree, length) in enumerate(rows)
    )


# ED Table 3 — nodes / out-degree / path length.
TRAVERSAL_LESSONS = _table(
    [
        ((3, 10), (2, 4), (1, 1)),
        ((3, 10), (2, 4), (1, 2)),
        ((5, 10), (2, 4), (1, 3)),
        ((5, 10), (2, 4), (1, 4)),
        ((10, 15), (2, 4), (1, 4)),
        ((10, 15), (2, 4), (1, 5)),
        ((10, 20), (2, 4), (1, 5)),
        ((10, 20), (2, 4), (1, 6)),
        ((10, 30), (2, 4), (1, 6)),
        ((10, 30), (2, 4), (1, 7)),
        ((10, 30), (2, 4), (1, 8)),
        ((10, 30), (2, 4), (1, 9)),
        ((10, 40), (2, 6), (1, 10)),
        ((10, 40), (2, 6), (1, 20)),
    ]
)

# ED Table 4 — nodes / out-degree / relation length; 3 queries per episode.
INFERENCE_LESSONS = _table(
    [
        ((3, 3), (2, 2), (2, 2)),
        ((3, 5), (2, 2), (2, 2)),
        ((4, 6), (2, 4), (2, 2)),
        ((4, 6), (2, 4), (2, 2)),
        ((6, 12), (2, 4), (2, 2)),
        ((12, 18), (2, 4), (2, 2)),
        ((4, 6), (2, 4), (2, 3)),
        ((6, 12), (2, 4), (2, 3)),
        ((12, 18), (2, 4), (2, 3)),
        ((4, 6), (2, 4), (2, 4)),
        ((4, 6), (2, 4), (2, 4)),
        ((6, 12), (2, 4), (2, 4)),
        ((12, 18), (2, 4), (2, 4)),
        ((4, 6), (2, 4), (2, 5)),
        ((6, 12), (2, 4), (2, 5)),
        ((12, 18), (2, 4), (2, 5)),
        ((20, 25), (2, 4), (2, 5)),
    ],
    queries=3,
)

# ED Table 5 — nodes / out-degree / path length.
SHORTEST_PATH_LESSONS = _table(
    [
        ((5, 10), (1, 2), (2, 2)),
        ((5, 20), (1, 2), (2, 2)),
        ((10, 20), (1, 2), (2, 2)),
        ((10, 20), (1, 2), (2, 3)),
        ((10, 20), (1, 3), (2, 3)),
        ((10, 20), (2, 3), (2, 3)),
        ((10, 20), (2, 3), (2, 4)),
        ((10, 20), (2, 4), (2, 4)),
        ((10, 25), (2, 4), (2, 4)),
        ((10, 25), (2, 4), (2, 5)),
        ((10, 25), (2, 4), (2, 5)),
        ((15, 25), (2, 4), (2, 5)),
        ((15, 25), (2, 5), (2, 5)),
        ((20, 25), (2, 5), (2, 5)),
        ((20, 25), (2, 6), (2, 5)),
    ]
)

# Copy (ED Fig. 4): sequences of length 1–100 of 6-bit vectors; our curriculum
# grows the maximum length (the paper gives none). ``nodes``/``out_degree`` unused.
COPY_LESSONS = tuple(
    Lesson(i + 1, (0, 0), (0, 0), (1, hi), 1) for i, hi in enumerate((5, 10, 20, 50, 100))
)
# Copy with allocation (ED Fig. 1): 10 sequences of 5 vectors (50 in all) per episode.
COPY_ALLOCATION_LESSON = Lesson(1, (0, 0), (0, 0), (5, 5), 10)


class Curriculum:
    """The current lesson of a table, with replay, thresholds and a resumable state.

    Args:
        lessons: the table, easiest first.
        threshold: accuracy of greedy answers that passes a lesson (0.9; shortest
            path 0.8).
        check_every: training episodes between checks (the paper's: 200 for
            traversal, 3,200 for inference, 2,000 for shortest path). The
            training loop reads it and calls :meth:`update`; the curriculum
            counts nothing itself.
        replay: fraction of episodes drawn uniformly from the earlier lessons (0.1
            for traversal and inference, 0 for shortest path).
        start: position (0-based) to start from.
        mix: fraction of episodes drawn uniformly from all lessons up to and
            including the current one (a mixed curriculum, Zaremba & Sutskever
            2014); 0, the paper's, draws only by ``replay``.
        stretch: fraction of episodes that take the current lesson's graphs
            with a length range reaching the last lesson's longest (walks
            longer than any trained, so the query must be kept in memory);
            they carry lesson number 0, so checks count none of them. 0 is the
            paper's.
        stretch_reach: the stretched walks' longest as a multiple of the
            current lesson's longest (rounded up, at most the last lesson's);
            None: the last lesson's longest.
        late_threshold: the pass mark of the lessons from ``late_from`` to
            ``late_to`` (None: ``threshold`` throughout, the paper's).
        late_from: the first lesson (1-based) passed at ``late_threshold``.
        late_to: the last lesson (1-based) passed at it (None: the last lesson).
        end_threshold: the pass mark of the lessons from ``end_from`` to the last,
            in place of the late mark there (None: none).
        end_from: the first lesson (1-based) passed at ``end_threshold`` (None:
            the last lesson only).
    """

    def __init__(
        self,
        lessons: Sequence[Lesson],
        threshold: float = 0.9,
        check_every: int = 200,
        replay: float = 0.1,
        start: int = 0,
        mix: float = 0.0,
        stretch: float = 0.0,
        stretch_reach: float | None = None,
        late_threshold: float | None = None,
        late_from: int = 1,
        late_to: int | None = None,
        end_threshold: float | None = None,
        end_from: int | None = None,
    ) -> None:
        if not lessons:
            raise ValueError("a curriculum needs at least one lesson")
        if not 0 <= start < len(lessons):
            raise ValueError(f"start {start} is outside 0-{len(lessons) - 1}")
        self.lessons: tuple[Lesson, ...] = tuple(lessons)
        self.threshold = threshold
        self.check_every = check_every
        self.replay = replay
        self.mix = mix
        self.stretch = stretch
        self.stretch_reach = stretch_reach
        self.late_threshold = late_threshold
        self.late_from = late_from
        self.late_to = late_to
        self.end_threshold = end_threshold
        self.end_from = end_from
        # [position, completed]; shared so DataLoader workers follow the main process.
        self._state = torch.tensor([start, 0], dtype=torch.long).share_memory_()

    @property
    def position(self) -> int:
        """0-based position of the current lesson in :attr:`lessons`."""
        return int(self._state[0])

    @property
    def lesson(self) -> Lesson:
        """The current lesson."""
        return self.lessons[self.position]

    @property
    def completed(self) -> bool:
        """True once the last lesson has been passed."""
        return bool(self._state[1])

    def sample_lesson(self, rng: random.Random) -> Lesson:
        """The lesson for one episode: with probability ``stretch`` the current
        lesson stretched (see the class); else with probability ``mix`` any
        lesson up to the current one, uniformly; else an earlier lesson,
        uniformly, with probability ``replay`` (when there is one); else the
        current lesson."""
        pos = self.position
        if self.stretch > 0 and rng.random() < self.stretch:
            return self.stretched(self.lessons[pos])
        if self.mix > 0 and rng.random() < self.mix:
            return self.lessons[rng.randrange(pos + 1)]
        if pos > 0 and self.replay > 0 and rng.random() < self.replay:
            return self.lessons[rng.randrange(pos)]
        return self.lessons[pos]

    __call__ = sample_lesson

    def stretched(self, lesson: Lesson) -> Lesson:
        """``lesson`` with its length range reaching the last lesson's longest
        (or ``stretch_reach`` times its own), numbered 0 (no lesson: checks skip it)."""
        last, own = self.lessons[-1].length[1], lesson.length[1]
        if self.stretch_reach is None:
            longest = max(last, own)
        else:
            longest = max(own, min(last, math.ceil(self.stretch_reach * own)))
        return replace(lesson, index=0, length=(lesson.length[0], longest))

    @property
    def at_end(self) -> bool:
        """True on the end lessons: from ``end_from`` (None: the last lesson) on."""
        return self.position + 1 >= (self.end_from or len(self.lessons))

    @property
    def pass_mark(self) -> float:
        """The accuracy that passes the current lesson."""
        number = self.position + 1
        if self.end_threshold is not None and self.at_end:
            return self.end_threshold
        if (self.late_threshold is not None and number >= self.late_from
                and (self.late_to is None or number <= self.late_to)):
            return self.late_threshold
        return self.threshold

    def update(self, accuracy: float) -> bool:
        """Record a check's accuracy (greedy answers on the current lesson).

        Returns:
            True when the lesson was passed and the curriculum moved to the next
            one; passing the last lesson sets :attr:`completed` and returns False.
        """
        if accuracy < self.pass_mark:
            return False
        if self.position + 1 < len(self.lessons):
            self._state[0] += 1
            return True
        self._state[1] = 1
        return False

    def state_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "completed": self.completed,
            "n_lessons": len(self.lessons),
            "threshold": self.threshold,
            "late_threshold": self.late_threshold,
            "late_from": self.late_from,
            "late_to": self.late_to,
            "end_threshold": self.end_threshold,
            "end_from": self.end_from,
            "check_every": self.check_every,
            "replay": self.replay,
            "mix": self.mix,
            "stretch": self.stretch,
            "stretch_reach": self.stretch_reach,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        n = int(state.get("n_lessons", len(self.lessons)))
        if n != len(self.lessons):
            raise ValueError(
                f"curriculum state has {n} lessons, this curriculum {len(self.lessons)}"
            )
        position = int(state["position"])
        if not 0 <= position < len(self.lessons):
            raise ValueError(f"curriculum state position {position} is out of range")
        # Only the position is state; threshold, cadence, replay, mix, stretch and reach come
        # from the run's configuration, which a resumed run may change.
        self._state[0] = position
        self._state[1] = int(bool(state.get("completed", False)))

    def __repr__(self) -> str:
        return (
            f"Curriculum(lesson {self.lesson.index} of {len(self.lessons)}, "
            f"threshold={self.threshold}, check_every={self.check_every}, replay={self.replay}, "
            f"mix={self.mix}, stretch={self.stretch}, stretch_reach={self.stretch_reach})"
        )
