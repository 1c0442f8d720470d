"""Accuracy of a trained model on a real graph's queries (``kgdnc eval --graph``).

A real graph is tested the way users ask it: distinct random queries of the
model's task (traversal: the relations of a random walk; inference: a random
composition of the graph's relations; shortest path: a random pair at the drawn
distance), each built with :func:`kgdnc.reasoning.build_episode` (one random
label draw, a query-focused sub-graph when the graph is big), answered by the
model and checked against the exact answer as ``kgdnc query`` checks it (any
valid walk; for inference any node of the reachable set). Shortest-path pairs
are enumerated on graphs of up to 2,000 nodes, so the paper's "all 4-step
paths" of the London Underground is ``--length 4`` with enough ``--episodes``.
The random-graph lessons are measured by
:func:`kgdnc.training.evaluate.evaluate`; :func:`evaluate` here dispatches
between the two.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence

import networkx as nx

from kgdnc.errors import UserError
from kgdnc.reasoning.answer import draw_rng, run_draws
from kgdnc.reasoning.episodes import DEFAULT_LENGTHS, DEFAULT_MAX_TRIPLES
from kgdnc.reasoning.kinds import build_episode, kind_of, sample_query
from kgdnc.reasoning.query import Query
from kgdnc.tasks.codec import check_decode
from kgdnc.tasks.shortest_path import no_plan_success
from kgdnc.training.evaluate import EvalReport, check_sizes
from kgdnc.training.trained import Network, load_trained, memory_size_for

__all__ = [
    "evaluate",
    "graph_accuracy",
    "parse_lengths",
    "query_results",
    "sample_queries",
]

def parse_lengths(text: str | None) -> tuple[int, int] | None:
    """``"7"`` -> (7, 7), ``"2-4"`` -> (2, 4), None -> None.

    Raises:
        UserError: not one positive length or an increasing range of them.
    """
    if text is None:
        return None
    parts = text.replace(" ", "").split("-")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values) < 1 or values[0] > values[-1]:
        raise UserError(f"query length {text!r} is not a length or a range; write e.g. 7 or 2-4")
    return values[0], values[-1]


def sample_queries(
    graph: nx.MultiDiGraph, task: str, count: int, lengths: tuple[int, int], rng: random.Random
) -> list[Query]:
    """Up to ``count`` distinct random queries of ``task`` with lengths in ``lengths``
    (fewer when the graph has fewer)."""
    out: list[Query] = []
    keys: set[tuple[str, ...]] = set()
    for _ in range(count):
        try:
            q = sample_query(graph, task, rng, lengths, exclude=keys, tries=100)
        except UserError:
            break
        if q.key() in keys:
            break
        keys.add(q.key())
        out.append(q)
    return out


def query_results(
    network: Network,
    trained_memory: int,
    graph: nx.MultiDiGraph,
    queries: Sequence[Query],
    *,
    max_triples: int = DEFAULT_MAX_TRIPLES,
    memory_size: int | None = None,
    seed: int = 0,
    batch_size: int = 16,
    planning_steps: int | None = None,
    decode: str = "digits",
) -> list[tuple[bool, int]]:
    """Per query: (answered right, triples described), one seeded label draw each.

    Args:
        network: a ``DNC`` or ``LSTMBaseline``.
        trained_memory: N the model was trained with (the least N used).
        graph: the whole graph (``KnowledgeGraph.to_networkx()``).
        queries: queries on ``graph`` of the model's task.
        max_triples: the most triples an episode describes (a query-focused
            sub-graph beyond it).
        memory_size: N for every episode (default: one slot per step).
        seed: seed of the label draws (query ``i`` uses draw ``i``).
        batch_size: queries per forward pass.
        planning_steps: the model's planning steps (None: the task's default).
        decode: ``digits`` (the paper's) or ``nodes`` (``kgdnc.tasks.codec.check_decode``).
    """
    out: list[tuple[bool, int]] = []
    was_training = network.training
    network.eval()
    try:
        for start in range(0, len(queries), batch_size):
            chunk = queries[start : start + batch_size]
            episodes = [
                build_episode(graph, q, draw_rng(seed, start + i), max_triples=max_triples,
                              planning_steps=planning_steps)
                for i, q in enumerate(chunk)
            ]
            n = memory_size or memory_size_for(max(e.total_steps for e in episodes),
                                               trained_memory)
            decoded, _ = run_draws(network, episodes, n, decode=decode)
            out.extend(
                (kind_of(qe.query.task).check(graph, qe, labels).correct, qe.n_triples)
                for qe, labels in zip(episodes, decoded, strict=True)
            )
    finally:
        network.train(was_training)
    return out


def graph_accuracy(
    model_path: str | os.PathLike[str],
    graph: str,
    *,
    lengths: tuple[int, int] | None = None,
    episodes: int = 200,
    memory_size: int | None = None,
    max_triples: int = DEFAULT_MAX_TRIPLES,
    seed: int = 1234,
    batch_size: int = 16,
    decode: str = "digits",
) -> EvalReport:
    """Accuracy of a checkpoint on ``episodes`` distinct random queries of ``graph``.

    Args:
        model_path: a checkpoint of kgdnc train or finetune.
        graph: a stored or bundled graph's name.
        lengths: walk, composition or shortest-path lengths (default: traversal
            1-7, shortest path 2-5, inference 2-4).
        episodes: number of queries (fewer when the graph has fewer of them). For
            shortest path on graphs of up to 2,000 nodes they are drawn from
            every pair at the asked distances, so a large enough number tests all.
        memory_size: N at test time (default: one slot per episode step).
        max_triples: the most triples described per episode.
        seed: seed of the queries and their label draws.
        batch_size: queries per forward pass.
        decode: ``digits`` (the paper's) or ``nodes`` (``kgdnc.tasks.codec.check_decode``).

    Raises:
        UserError: bad arguments, a copy model, a graph with no such query.
    """
    from kgdnc.graphs import load

    check_sizes(episodes, batch_size, memory_size)
    if max_triples < 1:
        raise UserError(f"max_triples must be at least 1, got {max_triples}")
    trained = load_trained(model_path)
    task = trained.task
    if task not in DEFAULT_LENGTHS:
        raise UserError(f"a {task} model has no queries on a graph; test it on a lesson")
    check_decode(decode, task)
    lengths = lengths or DEFAULT_LENGTHS[task]
    g = load(graph).to_networkx()
    rng = random.Random(f"kgdnc-eval/{seed}")
    every = kind_of(task).every_query(g, lengths, rng)
    queries = every[:episodes] if every is not None else sample_queries(g, task, episodes,
                                                                        lengths, rng)
    if not queries:
        raise UserError(
            f"graph {graph!r} has no {task} query of length {lengths[0]}-{lengths[1]}; "
            "choose other lengths"
        )
    results = query_results(
        trained.network, trained.model_config.memory_size, g, queries, max_triples=max_triples,
        memory_size=memory_size, seed=seed, batch_size=batch_size,
        planning_steps=trained.config.planning_steps, decode=decode,
    )
    lengths_asked = [kind_of(task).length(g, q) for q in queries]
    totals: dict[int, list[int]] = {}
    for length, (right, _) in zip(lengths_asked, results, strict=True):
        row = totals.setdefault(length, [0, 0])
        row[0] += 1
        row[1] += int(right)
    described = [n for _, n in results]
    whole = g.number_of_edges()
    detail = (
        f"{len(queries)} distinct queries; {whole} triples in the graph, "
        f"{min(described)}-{max(described)} described per episode"
        + (" (query-focused sub-graphs)" if max(described) < whole else "")
    )
    baseline = None
    if task == "shortest-path":
        baseline = sum(
            no_plan_success(g, q.start, q.destination, length)
            for q, length in zip(queries, lengths_asked, strict=True)
        ) / len(queries)
        detail += f"; a walk with no plan on the whole graph: {baseline:.1%}"
    return EvalReport(
        model_path=str(model_path),
        task=task,
        trained_task=task,
        lesson=None,
        graph=graph,
        episodes=len(queries),
        accuracy=sum(r for r, _ in results) / len(queries),
        step_accuracy=None,
        memory_size=memory_size,
        seed=seed,
        by_length={
            k: {"episodes": float(n), "accuracy": right / n} for k, (n, right) in totals.items()
        },
        detail=detail,
        no_plan=baseline,
        decode=decode,
    )


def evaluate(
    model_path: str | os.PathLike[str],
    *,
    task: str | None = None,
    lesson: int | None = None,
    graph: str | None = None,
    lengths: tuple[int, int] | None = None,
    episodes: int = 200,
    memory_size: int | None = None,
    seed: int = 1234,
    batch_size: int = 32,
    decode: str = "digits",
) -> EvalReport:
    """``kgdnc eval``: a curriculum lesson's random graphs, or a real graph's queries.

    ``model_path``: a checkpoint path, a workspace model's name or a bundled model's
    (``traversal``, ``shortest-path``, ``inference``).

    Raises:
        UserError: ``graph`` with ``lesson`` or ``task``; ``lengths`` without ``graph``.
    """
    from kgdnc.reasoning.models import resolve_model
    from kgdnc.training.evaluate import evaluate as evaluate_lesson

    # a given spec names its model whatever the task (the task picks only a default)
    model_path = resolve_model(str(model_path), "traversal").path
    if graph is None:
        if lengths is not None:
            raise UserError("query lengths need a graph; a lesson fixes its own lengths")
        return evaluate_lesson(
            model_path, task=task, lesson=lesson, episodes=episodes,
            memory_size=memory_size, seed=seed, batch_size=batch_size, decode=decode,
        )
    if lesson is not None:
        raise UserError("test on a lesson or on a graph, not both")
    if task is not None:
        raise UserError("a task applies to lessons; on a graph the model's own task is tested")
    return graph_accuracy(
        model_path, graph, lengths=lengths, episodes=episodes, memory_size=memory_size,
        seed=seed, batch_size=batch_size, decode=decode,
    )
