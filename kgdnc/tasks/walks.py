"""Following relations through a graph: the one set of helpers that tasks, episodes
and the verification of answers share.

They work on any ``networkx.MultiDiGraph`` of this package: a user's whole graph
(``KnowledgeGraph.to_networkx()``, relation ids in ``relation_id``) and a graph
in label space (integer labels in ``relation``) alike, an edge's relation being
:func:`relation_of`. Where several edges of one relation leave a node, every
branch is followed (:func:`follow_sets`) and the walk shown is the first in name
order that completes (:func:`one_walk`).
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from typing import Any

import networkx as nx

from kgdnc.errors import UserError

__all__ = [
    "Triple",
    "follow_sets",
    "on_walks",
    "one_walk",
    "random_walk",
    "reachable",
    "relation_of",
    "successors",
    "walk_from",
]

Triple = tuple[Any, Any, Any]  # (source, relation, destination)


def relation_of(key: Hashable, data: dict[str, Any]) -> Hashable:
    """An edge's relation identity: ``relation_id`` if present, else ``relation``, else
    the edge key."""
    if "relation_id" in data:
        return data["relation_id"]
    return data.get("relation", key)


def successors(graph: nx.MultiDiGraph, node: Hashable, relation: Hashable) -> list[Hashable]:
    """Nodes reached from ``node`` by one ``relation`` edge, sorted by name."""
    out = {v for _, v, k, d in graph.out_edges(node, keys=True, data=True)
           if relation_of(k, d) == relation}
    return sorted(out, key=str)


def follow_sets(
    graph: nx.MultiDiGraph, start: Hashable, relations: Sequence[Hashable]
) -> list[set[Hashable]]:
    """The frontier after each step: ``[{start}, F_1, …, F_L]``."""
    frontiers = [{start}]
    for rel in relations:
        frontiers.append({v for u in frontiers[-1] for v in successors(graph, u, rel)})
    return frontiers


def reachable(graph: nx.MultiDiGraph, start: Hashable, relations: Sequence[Hashable]) -> set:
    """Every node the composition of ``relations`` reaches from ``start``."""
    return follow_sets(graph, start, relations)[-1]


def on_walks(
    graph: nx.MultiDiGraph, start: Hashable, relations: Sequence[Hashable]
) -> list[set[Hashable]]:
    """Per step ``i`` (0…L) the nodes at step ``i`` of some complete walk along
    ``relations`` from ``start``: the frontiers pruned of dead ends. All empty when
    no walk completes."""
    frontiers = follow_sets(graph, start, relations)
    alive = [set() for _ in frontiers]
    alive[-1] = set(frontiers[-1])
    for i in range(len(relations) - 1, -1, -1):
        alive[i] = {u for u in frontiers[i]
                    if any(v in alive[i + 1] for v in successors(graph, u, relations[i]))}
    return alive


def one_walk(
    graph: nx.MultiDiGraph, start: Hashable, relations: Sequence[Hashable]
) -> list[Triple] | None:
    """A walk along ``relations`` from ``start`` (the unique one when relations are
    distinct per node; else the first in name order that completes), or None."""
    alive = on_walks(graph, start, relations)
    if not alive[-1]:
        return None
    walk: list[Triple] = []
    node = start
    for i, rel in enumerate(relations):
        nxt = next(v for v in successors(graph, node, rel) if v in alive[i + 1])
        walk.append((node, rel, nxt))
        node = nxt
    return walk


def walk_from(
    graph: nx.MultiDiGraph, start: Hashable, length: int, rng: random.Random
) -> list[Triple] | None:
    """A random walk of ``length`` edges from ``start``, each step a uniform choice
    among the edges leaving the node (nodes may repeat); None at a dead end."""
    walk: list[Triple] = []
    node = start
    for _ in range(length):
        edges = sorted(
            ((relation_of(k, d), v) for _, v, k, d in graph.out_edges(node, keys=True, data=True)),
            key=repr,
        )
        if not edges:
            return None
        rel, nxt = rng.choice(edges)
        walk.append((node, rel, nxt))
        node = nxt
    return walk


def random_walk(
    graph: nx.MultiDiGraph, length: int, rng: random.Random, *, tries: int = 100
) -> list[Triple]:
    """A random walk of ``length`` edges: a uniform start among nodes with outgoing
    edges, then :func:`walk_from`; another start after a dead end.

    Raises:
        UserError: no walk found in ``tries`` starts.
    """
    starts = [n for n in graph.nodes if graph.out_degree(n) > 0]
    for _ in range(tries):
        if not starts:
            break
        walk = walk_from(graph, rng.choice(starts), length, rng)
        if walk is not None:
            return walk
    raise UserError(
        f"found no walk of {length} steps in the graph (too many dead ends); "
        "use shorter walks or a graph with more outgoing edges"
    )
