"""Load a trained checkpoint and measure it on fresh episodes (``kgdnc eval``).

Episode ``i`` of an evaluation is made from ``random.Random(mix_seed(seed, i))``
at the chosen lesson, so the same command gives the same figures (a real
graph's queries are measured by :mod:`kgdnc.reasoning.accuracy`). Reported:
episode accuracy (every answer step right; shortest path: a minimal-length
walk), per-step accuracy, and both by path length
(traversal, shortest path), relation length (inference) or sequence length (copy).
"""

from __future__ import annotations

import os
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from kgdnc.errors import UserError
from kgdnc.tasks.codec import check_decode
from kgdnc.training.trained import Trained, load_trained

if TYPE_CHECKING:
    from kgdnc.training.module import GraphTaskModule

__all__ = ["EvalReport", "Trained", "check_sizes", "evaluate", "lesson_module", "load_trained"]


def lesson_module(trained: Trained) -> GraphTaskModule:
    """A ``GraphTaskModule`` (Lightning) around a trained network, for lesson
    evaluation, which runs batches as training does."""
    from kgdnc.training.module import GraphTaskModule

    module = GraphTaskModule(trained.config.to_dict(), trained.model_config.to_dict())
    module.network.load_state_dict(trained.network.state_dict())
    module.examples_seen = int(trained.meta.get("examples_seen", 0))
    module.lesson = int(trained.meta.get("lesson", 0))
    module.eval()
    return module


def check_sizes(episodes: int, batch_size: int, memory_size: int | None) -> None:
    """UserError unless an evaluation's episodes, batch and memory are at least 1."""
    if episodes < 1:
        raise UserError(f"episodes must be at least 1, got {episodes}")
    if batch_size < 1:
        raise UserError(f"the batch size must be at least 1, got {batch_size}")
    if memory_size is not None and memory_size < 1:
        raise UserError(f"the memory size must be at least 1 slot, got {memory_size}")


@dataclass
class EvalReport:
    """Accuracy of a checkpoint on one evaluation set."""

    model_path: str
    task: str
    trained_task: str
    lesson: int | None
    graph: str | None
    episodes: int
    accuracy: float
    step_accuracy: float | None
    memory_size: int | None
    seed: int
    by_length: dict[int, dict[str, float]] = field(default_factory=dict)
    by_query_length: dict[int, dict[str, float]] = field(default_factory=dict)
    detail: str | None = None
    first_move: dict[str, Any] | None = None
    no_plan: float | None = None
    decode: str = "digits"

    @property
    def question_accuracy(self) -> float:
        """Share of questions answered right, the unit of a curriculum check: each
        query for inference (its per-step accuracy), else whole episodes."""
        from kgdnc.tasks import get_task

        if get_task(self.task).per_answer and self.step_accuracy is not None:
            return self.step_accuracy
        return self.accuracy

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_path,
            "task": self.task,
            "trained_task": self.trained_task,
            "lesson": self.lesson,
            "graph": self.graph,
            "episodes": self.episodes,
            "accuracy": self.accuracy,
            "step_accuracy": self.step_accuracy,
            "memory_size": self.memory_size,
            "seed": self.seed,
            "by_length": {str(k): v for k, v in sorted(self.by_length.items())},
            "by_query_length": {str(k): v for k, v in sorted(self.by_query_length.items())},
            "detail": self.detail,
            "first_move": self.first_move,
            "no_plan": self.no_plan,
            "decode": self.decode,
        }

    def table(self) -> Any:
        """A rich table: overall figures, then one row per length."""
        from rich.table import Table

        where = f"graph {self.graph}" if self.graph else f"lesson {self.lesson}"
        steps = self.step_accuracy is not None
        caption = self.detail
        if self.by_query_length:  # several queries per episode, each of its own length
            queries = "; ".join(f"length {n}: {row['accuracy']:.1%} of {int(row['queries'])}"
                                for n, row in sorted(self.by_query_length.items()))
            caption = f"queries by their own length: {queries}" + (
                f"; {caption}" if caption else "")
        if self.decode != "digits":
            caption = f"answers decoded among the described {self.decode}" + (
                f"; {caption}" if caption else "")
        table = Table(
            title=f"{self.task} — {where} — {self.episodes} episodes",
            caption=caption,
        )
        table.add_column("length", justify="right")
        table.add_column("episodes", justify="right")
        table.add_column("episode accuracy", justify="right")
        if steps:
            from kgdnc.tasks import get_task

            per_query = get_task(self.task).per_answer  # each answer step is a query
            table.add_column("query accuracy" if per_query else "per-step accuracy",
                             justify="right")
        for length, row in sorted(self.by_length.items()):
            cells = [str(length), str(int(row["episodes"])), f"{row['accuracy']:.1%}"]
            if steps:
                cells.append(f"{row['step_accuracy']:.1%}")
            table.add_row(*cells)
        total = ["all", str(self.episodes), f"{self.accuracy:.1%}"]
        if steps:
            total.append(f"{self.step_accuracy:.1%}")
        table.add_row(*total, style="bold")
        return table


def evaluate(
    model_path: str | os.PathLike[str],
    task: str | None = None,
    lesson: int | None = None,
    episodes: int = 200,
    memory_size: int | None = None,
    seed: int = 1234,
    batch_size: int = 32,
    decode: str = "digits",
) -> EvalReport:
    """Measure a checkpoint on ``episodes`` fresh episodes.

    Args:
        model_path: a checkpoint written by ``kgdnc train``.
        task: the task to test (default: the one it was trained on).
        lesson: 1-based lesson of the task's curriculum (default: the run's
            current lesson for its own task, else lesson 1).
        episodes: number of episodes.
        memory_size: N at test time (default: as in training).
        seed: seed of the episodes.
        batch_size: episodes per forward pass.
        decode: ``digits`` (each digit's mode, the paper's) or ``nodes``
            (:func:`~kgdnc.tasks.codec.check_decode`).

    Raises:
        UserError: bad arguments or checkpoint.
    """
    from kgdnc.tasks import get_task
    from kgdnc.tasks.shortest_path import no_plan_success
    from kgdnc.training.data import batch_of, mix_seed
    from kgdnc.training.presets import TASKS

    check_sizes(episodes, batch_size, memory_size)
    if task is not None and task not in TASKS:
        raise UserError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    trained = load_trained(model_path)
    name = task or trained.task
    if (name == "copy") != (trained.task == "copy"):
        raise UserError(
            f"a model trained on {trained.task} cannot be tested on {name} (different encodings)"
        )
    check_decode(decode, name)
    spec = get_task(name)
    lessons = spec.lessons
    if lesson is None:
        lesson = min(trained.lesson, len(lessons)) if name == trained.task else 1
    if not 1 <= lesson <= len(lessons):
        raise UserError(f"lesson {lesson} is outside 1-{len(lessons)} for {name}")

    module = lesson_module(trained)
    if name != trained.task:
        module.task = spec
    module.memory_size_override = memory_size
    chosen = lessons[lesson - 1]
    rng = random.Random(mix_seed(seed, 0xD1CE))
    module._rng = rng
    totals: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    # per-answer tasks (inference): each query by its own length, [right, asked]
    per_query: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    right_all = steps_right_all = steps_all = 0.0
    # shortest path, by shortest length: first moves with a choice, right, chance
    first: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    # shortest path: the accuracy follows the model's pass rule (one-longer: a step more)
    slack = trained.config.slack
    no_plan = 0.0  # shortest path: summed chance of an exact answer with no plan
    with torch.no_grad():
        for start in range(0, episodes, batch_size):
            count = min(batch_size, episodes - start)
            made = [
                spec.make_episode(chosen, random.Random(mix_seed(seed, start + i)))
                for i in range(count)
            ]
            if decode == "nodes":
                scores = _node_scores(module, batch_of(spec, made), made)
            else:
                scores = module.run_batch(batch_of(spec, made), explore=False).scores
            for i, ep in enumerate(made):
                length = int(ep.meta.get("length", 0))
                row = totals[length]
                row[0] += 1
                row[1] += float(scores.episode_correct[i])
                row[2] += float(scores.step_correct[i].sum())
                row[3] += float(scores.answer_steps[i])
                lengths = ep.meta.get("lengths")
                if spec.per_answer and lengths is not None:
                    answered = scores.step_correct[i][ep.mask.nonzero().flatten()]
                    for n, ok in zip(lengths, answered.tolist(), strict=True):
                        per_query[int(n)][0] += float(ok)
                        per_query[int(n)][1] += 1
            if spec.interactive:
                _tally_first_moves(first, made, scores.step_correct)
                no_plan += sum(no_plan_success(e.graph, e.start, e.destination,
                                               e.shortest_length + slack) for e in made)
            right_all += float(scores.episode_correct.float().sum())
            steps_right_all += float(scores.step_correct.float().sum())
            steps_all += float(scores.answer_steps.float().sum())
    by_length = {
        length: {
            "episodes": row[0],
            "accuracy": row[1] / row[0],
            "step_accuracy": row[2] / row[3] if row[3] else 0.0,
        }
        for length, row in totals.items()
    }
    first_move = detail = baseline = None
    if spec.interactive:
        baseline = no_plan / episodes
        detail = (f"a walk with no plan: {baseline:.1%} of episodes"
                  + (" (one step longer allowed, as the accuracy)" if slack else ""))
    if spec.interactive and first:
        first_move = _first_move_report(first)
        lengths = "".join(f", {m['accuracy']:.1%} / {m['chance']:.1%} at length {n}"
                          for n, m in first_move["by_length"].items()) if len(first) > 1 else ""
        detail = (f"first moves with a choice: {first_move['accuracy']:.1%} right in "
                  f"{int(first_move['episodes'])} episodes (a uniform choice: "
                  f"{first_move['chance']:.1%}{lengths}); " + detail)
    return EvalReport(
        model_path=str(model_path),
        task=name,
        trained_task=trained.task,
        lesson=lesson,
        graph=None,
        episodes=episodes,
        accuracy=right_all / episodes,
        step_accuracy=steps_right_all / steps_all if steps_all else 0.0,
        memory_size=memory_size,
        seed=seed,
        by_length=by_length,
        by_query_length={n: {"queries": row[1], "accuracy": row[0] / row[1]}
                         for n, row in per_query.items()},
        detail=detail,
        first_move=first_move,
        no_plan=baseline,
        decode=decode,
    )


def _node_scores(module: GraphTaskModule, batch: Any, made: list[Any]) -> Any:
    """Greedy scores with each answer's source and destination decoded among the
    episode's described nodes (``decode="nodes"``)."""
    from kgdnc.tasks.codec import digits_to_triple
    from kgdnc.tasks.episode import decode_answers
    from kgdnc.training.losses import greedy_scores

    y, _ = module(batch.inputs)
    decoded = decode_answers(y, made, "nodes")
    right = (decoded == digits_to_triple(batch.targets)).all(dim=-1)
    return greedy_scores(y, batch.targets, batch.mask, step_correct=lambda *_: right)


def _tally_first_moves(
    first: dict[Any, list[float]], made: list[Any], step_correct: Any,
    key: Callable[[Any], Any] = lambda ep: ep.shortest_length,
) -> None:
    """Shortest path: count, by ``key`` of the episode (its shortest length), the
    episodes whose source offers a real choice (some triple leaving it begins a
    shortest path, some does not), whether the first move began a shortest path,
    and the share a uniform choice would get. The first move is where the plan
    shows: the last one only has to name the destination."""
    for i, ep in enumerate(made):
        triples, _ = ep.candidates(ep.start)
        optimal = ep.optimal(ep.start)
        if 0 < len(optimal) < len(triples) and step_correct.shape[1]:
            row = first[key(ep)]
            row[0] += 1
            row[1] += float(step_correct[i, 0])
            row[2] += len(optimal) / len(triples)


def _first_move_report(first: dict[int, list[float]]) -> dict[str, Any]:
    """The tallies of :func:`_tally_first_moves` as shares: over all episodes with a
    choice (``episodes``, ``accuracy``, ``chance``) and per shortest length
    (``by_length``)."""

    def shares(n: float, right: float, chance: float) -> dict[str, float]:
        return {"episodes": n, "accuracy": right / n, "chance": chance / n}

    total = [sum(row[k] for row in first.values()) for k in range(3)]
    return {**shares(*total),
            "by_length": {n: shares(*first[n]) for n in sorted(first)}}
