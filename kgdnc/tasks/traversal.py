"""Traversal: follow a sequence of edge labels from a source node (PAPER.md §2).

Episode layout (T = triples + L + planning + L + 1 steps, L the path length):

- description: every triple of the graph, random order, no flags;
- query: ``(source, e1, _)`` then ``(_, e_i, _)`` for each further step, flag 0 on;
- planning: ``planning_steps`` blank steps (none by default), flag 0 on the first;
- answer: L + 1 blank steps with flag 1 on (flag 0 also on the first); targets are
  the path's triples ``(u_i, e_i, u_{i+1})`` in order, then the termination
  triple ``(999, 999, 999)``;
- recall (training only, ``aux_recall`` blocks, none by default): per block
  ``(s, e, _)`` with flag 0 on, then a blank step with flags 0 and 1 on whose
  loss-only target (``Episode.aux``, never scored) is a description triple
  ``(s, e, d)`` (the auxiliary recall loss, Park et al. 2020).
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence

import networkx as nx

from kgdnc.errors import KgdncError
from kgdnc.tasks.codec import TERMINATION
from kgdnc.tasks.curriculum import Lesson
from kgdnc.tasks.episode import Episode, EpisodeBuilder, episode_rng
from kgdnc.tasks.graphs import episode_graph, graph_triples, lesson_graph
from kgdnc.tasks.walks import one_walk, random_walk

__all__ = ["follow", "make_episode", "traversal_episode"]

LabelTriple = tuple[int, int, int]


def follow(graph: nx.MultiDiGraph, source: Hashable, relations: Sequence[Hashable]) -> list:
    """Follow ``relations`` from ``source``; the triples of the path, in order
    (:func:`kgdnc.tasks.walks.one_walk`).

    Raises:
        KeyError: no walk along ``relations`` leaves ``source``.
    """
    path = one_walk(graph, source, relations)
    if path is None:
        raise KeyError(f"no walk along {list(relations)!r} leaves {source!r}")
    return path


def traversal_episode(
    graph: nx.MultiDiGraph,
    source: int,
    relations: Sequence[int],
    rng: random.Random,
    *,
    lesson: int = 0,
    seed: int | None = None,
    planning_steps: int = 0,
    path: Sequence[LabelTriple] | None = None,
    aux_recall: int = 0,
) -> Episode:
    """The episode for one query on a graph in label space (description shuffled by
    ``rng``). The answer is ``path`` when given (one walk along ``relations`` where a
    node has several edges of one relation), else the walk :func:`follow` finds.
    ``aux_recall`` recall blocks (drawn with ``rng``) end the episode."""
    path = list(path) if path is not None else follow(graph, source, relations)
    description = graph_triples(graph)
    rng.shuffle(description)
    b = EpisodeBuilder()
    b.describe(description)
    query: list[tuple[int | None, int, None]] = [
        (source if i == 0 else None, rel, None) for i, rel in enumerate(relations)
    ]
    for q in query:
        b.add(q, phase=True)
    b.plan(planning_steps)
    answers = [*path, TERMINATION]
    for i, triple in enumerate(answers):
        b.add(phase=i == 0, answer=True, target=triple)
    recalled = b.recall(description, aux_recall, rng)
    names = {n: d["name"] for n, d in graph.nodes(data=True) if "name" in d}
    meta = {
        "task": "traversal",
        "lesson": lesson,
        "seed": seed,
        "answers": answers,
        "path": path,
        "query": query,
        "length": len(path),
        "n_triples": len(description),
    }
    if recalled:
        meta["recall"] = recalled
    if names:
        meta["node_names"] = names
    return b.build(meta)


def make_episode(
    lesson: Lesson,
    rng: random.Random | int,
    graph: nx.MultiDiGraph | None = None,
    *,
    max_triples: int | None = None,
    planning_steps: int = 0,
    aux_recall: int = 0,
) -> Episode:
    """A traversal episode: a random walk of length drawn from ``lesson.length``.

    Args:
        lesson: its ``nodes`` and ``out_degree`` shape the random graph (unused with
            ``graph``), its ``length`` the walk.
        rng: a ``random.Random``, or an int seed (recorded in ``meta["seed"]``).
        graph: a user graph (see :mod:`kgdnc.tasks.graphs`); the walk is drawn on
            it, then the graph (a sub-graph around the walk when it is too big) is
            relabelled for the episode.
        max_triples: sub-graph size limit for ``graph``.
        planning_steps: blank steps between query and answer (the paper: none).
        aux_recall: recall blocks at the end (training's auxiliary recall loss).
    """
    rng, seed = episode_rng(rng)
    length = rng.randint(*lesson.length)
    if graph is None:
        g = lesson_graph(lesson, rng)
        walk = random_walk(g, length, rng)
    else:
        walk0 = random_walk(graph, length, rng)
        around = [walk0[0][0], *(t[2] for t in walk0)]
        relabelled = episode_graph(graph, rng, around, max_triples=max_triples)
        g = relabelled.graph
        walk = [
            (relabelled.nodes[u], relabelled.relations[r], relabelled.nodes[v]) for u, r, v in walk0
        ]
    episode = traversal_episode(
        g,
        walk[0][0],
        [t[1] for t in walk],
        rng,
        lesson=lesson.index,
        seed=seed,
        planning_steps=planning_steps,
        aux_recall=aux_recall,
    )
    if episode.meta["path"] != walk:  # relations are unique per source, so never
        raise KgdncError("traversal answer differs from the sampled walk")
    return episode
