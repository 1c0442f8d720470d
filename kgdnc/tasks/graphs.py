"""Graphs for episodes: the paper's random graphs, user graphs in label space, sub-graphs.

Every graph here is a ``networkx.MultiDiGraph`` whose nodes carry a ``label``
attribute and whose edges carry a ``relation`` attribute (what
``KnowledgeGraph.to_networkx()`` returns). A graph *in label space* has integer
nodes equal to their ``label`` (0–998) and integer ``relation`` labels, also used
as edge keys; its original names, when it came from a user graph, are in the
``name`` attributes.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import networkx as nx

from kgdnc.errors import UserError
from kgdnc.tasks.codec import LABEL_SPACE
from kgdnc.tasks.curriculum import Lesson
from kgdnc.tasks.walks import random_walk, relation_of  # re-exported: their old home

__all__ = [
    "DEFAULT_MAX_TRIPLES",
    "Relabelling",
    "check_unique_relations",
    "episode_graph",
    "graph_triples",
    "lesson_graph",
    "random_graph",
    "random_walk",
    "relabel_for_episode",
    "relation_of",
    "sample_subgraph",
]

LABELS = range(LABEL_SPACE)  # node and edge labels 0-998; 999 is the termination label
DEFAULT_MAX_TRIPLES = 512  # sub-graph size for user graphs that exceed the label space


def random_graph(
    rng: random.Random,
    n_nodes: int,
    out_degree: tuple[int, int],
    *,
    node_labels: Sequence[int] = LABELS,
    edge_labels: Sequence[int] = LABELS,
    label_count: int | None = None,
) -> nx.MultiDiGraph:
    """A random graph as the paper makes them (Methods).

    Nodes are uniform points in the unit square (``pos``) with labels drawn
    uniformly without repeats from ``node_labels``. Each node links to its K
    nearest neighbours, K drawn uniformly per node from ``out_degree`` (capped at
    ``n_nodes - 1``). A set of ``label_count`` unique edge labels is drawn from
    ``edge_labels`` — by default ``n_nodes`` of them, the paper's rule, capped at
    the number of edge labels and never fewer than ``out_degree[1]`` — and each
    node's outgoing edges get distinct labels from that set (unique per source
    node, repeated across the graph).
    """
    lo, hi = out_degree
    if n_nodes < 1 or n_nodes > len(node_labels):
        raise ValueError(f"n_nodes {n_nodes} is outside 1-{len(node_labels)}")
    if not 0 <= lo <= hi or hi > len(edge_labels):
        raise ValueError(f"out-degree range {out_degree} does not fit {len(edge_labels)} labels")
    labels = rng.sample(node_labels, n_nodes)
    pos = [(rng.random(), rng.random()) for _ in range(n_nodes)]
    count = n_nodes if label_count is None else label_count
    label_set = rng.sample(edge_labels, max(hi, min(count, len(edge_labels))))
    g = nx.MultiDiGraph()
    for label, p in zip(labels, pos, strict=True):
        g.add_node(label, label=label, pos=p)
    for i, u in enumerate(labels):
        k = min(rng.randint(lo, hi), n_nodes - 1)
        nearest = sorted(
            (j for j in range(n_nodes) if j != i), key=lambda j: math.dist(pos[i], pos[j])
        )[:k]
        for j, rel in zip(nearest, rng.sample(label_set, k), strict=True):
            g.add_edge(u, labels[j], key=rel, relation=rel)
    return g


def lesson_graph(
    lesson: Lesson,
    rng: random.Random,
    *,
    edge_labels: Sequence[int] = LABELS,
    label_count: int | None = None,
) -> nx.MultiDiGraph:
    """A random graph with the node count drawn uniformly from ``lesson.nodes``."""
    return random_graph(
        rng, rng.randint(*lesson.nodes), lesson.out_degree,
        edge_labels=edge_labels, label_count=label_count,
    )


def graph_triples(graph: nx.MultiDiGraph) -> list[tuple[Any, Any, Any]]:
    """The graph's distinct (source, relation, destination) triples, sorted.

    For a graph in label space these are the label triples of its description.
    """
    out = {(u, relation_of(k, d), v) for u, v, k, d in graph.edges(keys=True, data=True)}
    try:
        return sorted(out)
    except TypeError:
        return sorted(out, key=repr)


def check_unique_relations(graph: nx.MultiDiGraph) -> None:
    """Raise :class:`UserError` unless each node's outgoing relations are distinct
    (needed so that a (source, relation) pair names one destination)."""
    for u in graph.nodes:
        seen: dict[Hashable, Hashable] = {}
        for _, v, k, d in graph.out_edges(u, keys=True, data=True):
            rel = relation_of(k, d)
            if rel in seen and seen[rel] != v:
                name = graph.nodes[u].get("label", u)
                raise UserError(
                    f"node {name!r} has several outgoing {d.get('relation', rel)!r} edges; "
                    "this task needs each node's outgoing relations to be distinct "
                    "(split or rename that relation)"
                )
            seen[rel] = v


class Relabelling(NamedTuple):
    """A graph moved to label space, with the maps used.

    Attributes:
        graph: the graph in label space (integer nodes and relations; ``name``
            attributes hold the original labels).
        nodes: original node -> label.
        relations: original relation identity (see :func:`relation_of`) -> label.
    """

    graph: nx.MultiDiGraph
    nodes: dict[Hashable, int]
    relations: dict[Hashable, int]


def relabel_for_episode(
    graph: nx.MultiDiGraph,
    rng: random.Random,
    *,
    edge_labels: Sequence[int] = LABELS,
    node_labels: Sequence[int] = LABELS,
    require_unique: bool = True,
    fixed_relations: Mapping[Hashable, int] | None = None,
) -> Relabelling:
    """Give a graph's nodes and relations random labels for one episode.

    Node labels are drawn uniformly without repeats from ``node_labels``; each
    distinct relation gets its own label drawn without repeats from
    ``edge_labels`` (the same relation keeps its label across the graph, so labels
    stay distinct per source node when the relations are). Repeated triples
    collapse into one. ``fixed_relations`` pins the labels of some relations
    (e.g. to ask an inference query whose relation sequence is in the table); the
    others are drawn from the rest of ``edge_labels``.

    Raises:
        UserError: more nodes or relations than labels, or (``require_unique``) a
            node with two outgoing edges of the same relation.
    """
    if require_unique:
        check_unique_relations(graph)
    nodes = list(graph.nodes)
    relations: list[Hashable] = []
    seen: set[Hashable] = set()
    for _, _, k, d in graph.edges(keys=True, data=True):
        rel = relation_of(k, d)
        if rel not in seen:
            seen.add(rel)
            relations.append(rel)
    if len(nodes) > len(node_labels):
        raise UserError(
            f"the graph has {len(nodes)} nodes, more than the {len(node_labels)} labels "
            "an episode can use; sample a sub-graph (max_triples) first"
        )
    if len(relations) > len(edge_labels):
        raise UserError(
            f"the graph has {len(relations)} relations, more than the {len(edge_labels)} "
            "edge labels this task can use; merge relations or pick a smaller sub-graph"
        )
    node_map = dict(zip(nodes, rng.sample(node_labels, len(nodes)), strict=True))
    fixed = dict(fixed_relations or {})
    free_rel = [r for r in relations if r not in fixed]
    free_labels = [x for x in edge_labels if x not in set(fixed.values())]
    rel_map = dict(zip(free_rel, rng.sample(free_labels, len(free_rel)), strict=True))
    rel_map.update({r: x for r, x in fixed.items() if r in seen})
    out = nx.MultiDiGraph()
    for n in nodes:
        label = node_map[n]
        out.add_node(label, label=label, name=graph.nodes[n].get("label", n))
    for u, v, k, d in graph.edges(keys=True, data=True):
        rel = relation_of(k, d)
        label = rel_map[rel]
        out.add_edge(
            node_map[u], node_map[v], key=label, relation=label, name=d.get("relation", rel)
        )
    return Relabelling(out, node_map, rel_map)


def _induced_edges(graph: nx.MultiDiGraph, v: Hashable, kept: set[Hashable]) -> int:
    """Edges that node ``v`` adds when joined to ``kept`` (both directions, loops)."""
    n = sum(len(graph[v][w]) for w in graph.succ[v] if w in kept or w == v)
    n += sum(len(graph[w][v]) for w in graph.pred[v] if w in kept and w != v)
    return n


def sample_subgraph(
    graph: nx.MultiDiGraph,
    max_triples: int,
    around: Iterable[Hashable] = (),
    rng: random.Random | None = None,
    *,
    connect: bool = True,
    max_nodes: int = LABEL_SPACE,
) -> nx.MultiDiGraph:
    """A connected neighbourhood of ``around`` with at most ``max_triples`` edges.

    The core is the nodes in ``around`` and, with ``connect``, a shortest directed
    path from each node of ``around`` to the next (so for ``around=[s, d]`` the
    sub-graph keeps a shortest s->d path and its s->d distance equals the
    graph's). From the core it grows breadth-first over edges in either
    direction, in random order, adding each node whose edges to the kept nodes
    still fit in ``max_triples`` (and ``max_nodes``). The result is the induced
    sub-graph (every edge between kept nodes), a copy. With ``around`` empty it
    grows from one random node.

    Raises:
        UserError: a node of ``around`` is not in the graph, or the core alone
            exceeds the limits.
    """
    rng = rng or random.Random()
    around = list(around)
    for n in around:
        if n not in graph:
            raise UserError(f"node {n!r} is not in the graph; check the node name")
    if not around:
        if graph.number_of_nodes() == 0:
            raise UserError("the graph is empty; ingest a graph with triples")
        around = [rng.choice(list(graph.nodes))]
    core: list[Hashable] = []
    for n in around:
        if n not in core:
            core.append(n)
    if connect:
        for a, b in zip(around, around[1:], strict=False):
            try:
                path = nx.shortest_path(graph, a, b)
            except nx.NetworkXNoPath:
                continue
            core.extend(n for n in path if n not in core)
    kept: set[Hashable] = set()
    count = 0
    for n in core:
        count += _induced_edges(graph, n, kept)
        kept.add(n)
    if count > max_triples or len(kept) > max_nodes:
        raise UserError(
            f"the nodes to keep already have {count} triples and {len(kept)} nodes, more "
            f"than the limit of {max_triples} triples / {max_nodes} nodes; raise max_triples"
        )
    visited = set(kept)
    frontier = deque(core)
    while frontier and count < max_triples and len(kept) < max_nodes:
        u = frontier.popleft()
        neighbours = [
            w for w in dict.fromkeys([*graph.succ[u], *graph.pred[u]]) if w not in visited
        ]
        rng.shuffle(neighbours)
        for w in neighbours:
            visited.add(w)
            cost = _induced_edges(graph, w, kept)
            if count + cost <= max_triples and len(kept) < max_nodes:
                kept.add(w)
                count += cost
                frontier.append(w)
    return _induced_copy(graph, kept)


def _induced_copy(graph: nx.MultiDiGraph, kept: set[Hashable]) -> nx.MultiDiGraph:
    """The sub-graph induced by ``kept``, built in the graph's own node and edge
    order (``graph.subgraph`` iterates a small node set in set order, which
    varies between processes), so an episode is reproducible from its seed."""
    sub = graph.__class__()
    sub.graph.update(graph.graph)
    sub.add_nodes_from((n, d) for n, d in graph.nodes(data=True) if n in kept)
    sub.add_edges_from(
        (u, v, k, d) for u, v, k, d in graph.edges(keys=True, data=True) if u in kept and v in kept
    )
    return sub


def episode_graph(
    graph: nx.MultiDiGraph,
    rng: random.Random,
    around: Iterable[Hashable] = (),
    *,
    max_triples: int | None = None,
    connect: bool = False,
    edge_labels: Sequence[int] = LABELS,
    require_unique: bool = True,
    fixed_relations: Mapping[Hashable, int] | None = None,
) -> Relabelling:
    """A user graph ready for one episode: a sub-graph when it is too big, relabelled.

    The whole graph is used when it fits the label space (999 nodes) and
    ``max_triples`` (when given); otherwise :func:`sample_subgraph` keeps a
    neighbourhood of ``around`` with at most ``max_triples`` (default
    ``DEFAULT_MAX_TRIPLES``) triples. Then :func:`relabel_for_episode`.
    """
    too_many_nodes = graph.number_of_nodes() > LABEL_SPACE
    too_many_triples = max_triples is not None and graph.number_of_edges() > max_triples
    if too_many_nodes or too_many_triples:
        graph = sample_subgraph(
            graph, max_triples or DEFAULT_MAX_TRIPLES, around, rng, connect=connect
        )
    return relabel_for_episode(
        graph,
        rng,
        edge_labels=edge_labels,
        require_unique=require_unique,
        fixed_relations=fixed_relations,
    )
