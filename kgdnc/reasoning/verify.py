"""Exact answers, computed with networkx, that every model answer is checked against.

All functions work on the whole graph (``KnowledgeGraph.to_networkx()``: nodes
keyed by id, edges keyed by relation id), never on the sub-graph the model saw,
so a sub-graph cannot make a wrong answer look right.

Following relations is :mod:`kgdnc.tasks.walks`' (re-exported here).

- traversal: the walk that follows the relations in order. When every node's
  outgoing relations are distinct it is unique (the paper's deterministic walk);
  otherwise any walk along those relations is right and one of them is shown.
- shortest path: right when the answer is a path of the graph's edges from the
  source to the destination with as many triples as a shortest path (so every
  one of several shortest paths counts).
- inference: the set of nodes the composition reaches from the start (all
  paths); an answer is right when its end lies in that set.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import networkx as nx

from kgdnc.tasks.walks import follow_sets, one_walk, reachable, relation_of

__all__ = [
    "AnswerTriple",
    "edge_relations",
    "follow_sets",
    "is_shortest_path",
    "is_walk",
    "one_shortest_path",
    "one_walk",
    "reachable",
    "shortest_distance",
]

AnswerTriple = tuple[Any, Any, Any]  # (source id, relation id, target id); None where unknown


def edge_relations(graph: nx.MultiDiGraph, u: Hashable, v: Hashable) -> set[Hashable]:
    """Relation ids of the edges u -> v (empty when there is none)."""
    if u is None or v is None or u not in graph or v not in graph.succ[u]:
        return set()
    return {relation_of(k, d) for k, d in graph[u][v].items()}


def is_walk(
    graph: nx.MultiDiGraph,
    start: Hashable,
    relations: Sequence[Hashable],
    answer: Sequence[AnswerTriple],
) -> bool:
    """Whether ``answer`` follows ``relations`` from ``start`` along the graph's edges."""
    if len(answer) != len(relations):
        return False
    node = start
    for (u, r, v), rel in zip(answer, relations, strict=True):
        if u != node or r != rel or rel not in edge_relations(graph, u, v):
            return False
        node = v
    return True


def shortest_distance(graph: nx.MultiDiGraph, source: Hashable, target: Hashable) -> int | None:
    """Edges on a shortest directed path, None when the target cannot be reached."""
    try:
        return int(nx.shortest_path_length(graph, source, target))
    except nx.NetworkXNoPath:
        return None


def one_shortest_path(
    graph: nx.MultiDiGraph, source: Hashable, target: Hashable
) -> list[AnswerTriple] | None:
    """A shortest path as triples (networkx's node path; per hop the relation first in
    name order), or None when there is none."""
    try:
        nodes = nx.shortest_path(graph, source, target)
    except nx.NetworkXNoPath:
        return None
    return [
        (u, sorted(edge_relations(graph, u, v), key=str)[0], v)
        for u, v in zip(nodes, nodes[1:], strict=False)
    ]


def is_shortest_path(
    graph: nx.MultiDiGraph,
    source: Hashable,
    target: Hashable,
    answer: Sequence[AnswerTriple],
    distance: int | None = None,
) -> bool:
    """Whether ``answer`` goes from ``source`` to ``target`` along the graph's edges in
    exactly a shortest path's number of triples (any of several shortest paths)."""
    if distance is None:
        distance = shortest_distance(graph, source, target)
    if distance is None or len(answer) != distance:
        return False
    node = source
    for u, r, v in answer:
        if u != node or r not in edge_relations(graph, u, v):
            return False
        node = v
    return node == target
