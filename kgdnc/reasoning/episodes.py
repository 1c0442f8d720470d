"""A user's query on a user's graph as an episode, laid out exactly as in training.

Per episode (one "label draw"): the graph — a query-focused sub-graph when it is
too big — gets random node and relation labels (:func:`relabel_for_episode`),
its triples are described in random order, then come the query, the planning
steps and the answer steps of the task (``docs/tasks.md``). The label maps are
kept so that decoded labels map back to the graph's ids.

Sub-graphs: the whole graph is used when it has at most ``max_triples`` triples
and 999 nodes. Otherwise :func:`sample_subgraph` keeps the query's own nodes —
shortest path: the endpoints and a shortest path between them (so the distance
is the graph's); traversal: the walk; inference: every node on a path of the
composition (one path if those alone are too many) — and grows breadth-first
around them up to ``max_triples``. Inference can name at most 10 relations per
episode (edge labels 0–9): on a graph with more, the sub-graph keeps the
query's relations and the most frequent others.

Non-unique relations (a person with several sons): the episode's answer targets
are one walk that follows the relations (the first in name order); the verdict
(:mod:`kgdnc.reasoning.verify`) accepts any walk along the relations, and for
inference any node of the reachable set.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from kgdnc.errors import UserError
from kgdnc.reasoning.query import Query
from kgdnc.reasoning.verify import follow_sets, one_walk, shortest_distance
from kgdnc.tasks.codec import LABEL_SPACE, TERMINATION
from kgdnc.tasks.episode import Episode, EpisodeBuilder
from kgdnc.tasks.graphs import graph_triples, relabel_for_episode, relation_of, sample_subgraph
from kgdnc.tasks.inference import (
    EDGE_LABELS,
    PLANNING_STEPS,
    Relation,
    fits_table,
    match_relation,
)
from kgdnc.tasks.shortest_path import ShortestPathEpisode, shortest_path_episode

__all__ = [
    "DEFAULT_LENGTHS",
    "DEFAULT_MAX_TRIPLES",
    "SHORTEST_PATH_MAX_STEPS",
    "Focus",
    "QueryEpisode",
    "build_episode",
    "description_budget",
    "reachable_in",
    "sample_query",
]

# query lengths (walk, composition, distance) sampled when none are asked:
# traversal up to the London Underground test's 7-step walks; inference: family-tree 2-4
DEFAULT_LENGTHS: dict[str, tuple[int, int]] = {
    "traversal": (1, 7),
    "shortest-path": (2, 5),
    "inference": (2, 4),
}
DEFAULT_MAX_TRIPLES = 256  # about the largest training graphs (traversal: 40 nodes x 6 edges)
SHORTEST_PATH_MAX_STEPS = 64  # the greedy walk stops here at the latest
INFERENCE_RELATIONS = len(EDGE_LABELS)  # 10


@dataclass(frozen=True)
class Focus:
    """The sub-graph an episode used instead of the whole graph.

    Attributes:
        nodes, triples: size of the sub-graph.
        graph_nodes, graph_triples: size of the whole graph.
        relations_dropped: relations left out (inference keeps at most 10).
    """

    nodes: int
    triples: int
    graph_nodes: int
    graph_triples: int
    relations_dropped: int = 0

    def describe(self) -> str:
        text = (
            f"query-focused sub-graph of {self.triples} of {self.graph_triples} triples "
            f"({self.nodes} of {self.graph_nodes} nodes)"
        )
        if self.relations_dropped:
            text += f", {self.relations_dropped} relations left out (at most 10 per episode)"
        return text

    def to_dict(self) -> dict[str, int]:
        return {
            "nodes": self.nodes,
            "triples": self.triples,
            "graph_nodes": self.graph_nodes,
            "graph_triples": self.graph_triples,
            "relations_dropped": self.relations_dropped,
        }


@dataclass
class QueryEpisode:
    """One label draw of a query.

    Attributes:
        query: the query (ids).
        episode: ``Episode`` (traversal, inference) or ``ShortestPathEpisode``.
        graph: the episode's graph in label space (integer nodes and relations).
        node_labels: graph node id -> label; relation_labels: relation id -> label.
        focus: the sub-graph used, None when the whole graph was.
        table_relation: inference: the relation of the table standing for the
            composition (its fixed label is the query's relation label).
        max_steps: shortest path: the most answer steps the walk may take.
    """

    query: Query
    episode: Episode | ShortestPathEpisode
    graph: nx.MultiDiGraph
    node_labels: dict[Hashable, int]
    relation_labels: dict[Hashable, int]
    focus: Focus | None
    table_relation: Relation | None = None
    max_steps: int = 0

    @property
    def node_of(self) -> dict[int, Hashable]:
        """Label -> graph node id."""
        return {v: k for k, v in self.node_labels.items()}

    @property
    def relation_of(self) -> dict[int, Hashable]:
        """Label -> graph relation id."""
        return {v: k for k, v in self.relation_labels.items()}

    @property
    def n_triples(self) -> int:
        """Triples in the description."""
        return int(self.meta["n_triples"])

    @property
    def meta(self) -> dict[str, Any]:
        return self.episode.meta

    @property
    def inputs_length(self) -> int:
        """Input steps before any interactive answer step (T of the inputs)."""
        ep = self.episode.prefix if isinstance(self.episode, ShortestPathEpisode) else self.episode
        return len(ep)

    @property
    def total_steps(self) -> int:
        """Every step the network runs, answer steps included (what memory is sized by)."""
        return self.inputs_length + self.max_steps


def description_budget(query: Query, memory_size: int) -> int:
    """Triples a memory of ``memory_size`` slots can hold besides the query and
    planning steps (one slot per input step, as the memory is sized in training)."""
    if query.task == "traversal":
        other = len(query.relations)
    else:
        other = 1 + PLANNING_STEPS
    return memory_size - other


# ------------------------------------------------------------------ sub-graphs


def _limit_relations(graph: nx.MultiDiGraph, keep: Sequence[Hashable], limit: int) -> tuple[
    nx.MultiDiGraph, int
]:
    """A view with the edges of at most ``limit`` relations: ``keep`` first, then the
    most frequent others; and the number of relations dropped."""
    counts = Counter(relation_of(k, d) for _, _, k, d in graph.edges(keys=True, data=True))
    if len(counts) <= limit:
        return graph, 0
    chosen = list(dict.fromkeys(keep))
    for rel, _ in sorted(counts.items(), key=lambda item: (-item[1], str(item[0]))):
        if len(chosen) >= limit:
            break
        if rel not in chosen:
            chosen.append(rel)
    allowed = set(chosen)

    def edge_ok(u: Hashable, v: Hashable, k: Hashable) -> bool:
        return relation_of(k, graph[u][v][k]) in allowed

    return nx.subgraph_view(graph, filter_edge=edge_ok), len(counts) - len(allowed)


def _focus(
    graph: nx.MultiDiGraph,
    around: Sequence[Hashable],
    fallback: Sequence[Hashable] | None,
    max_triples: int,
    rng: random.Random,
    *,
    connect: bool,
    whole: nx.MultiDiGraph,
    dropped: int = 0,
) -> tuple[nx.MultiDiGraph, Focus | None]:
    """The graph itself when it fits, else a sub-graph around ``around`` (``fallback``
    when the nodes of ``around`` alone are over budget)."""
    fits = graph.number_of_nodes() <= LABEL_SPACE and graph.number_of_edges() <= max_triples
    if fits and not dropped:
        return graph, None
    if fits:
        sub = graph.copy()
    else:
        try:
            sub = sample_subgraph(graph, max_triples, around, rng, connect=connect)
        except UserError:
            if fallback is None:
                raise _over_budget(max_triples) from None
            try:
                sub = sample_subgraph(graph, max_triples, fallback, rng, connect=connect)
            except UserError:
                raise _over_budget(max_triples) from None
    focus = Focus(
        nodes=sub.number_of_nodes(),
        triples=sub.number_of_edges(),
        graph_nodes=whole.number_of_nodes(),
        graph_triples=whole.number_of_edges(),
        relations_dropped=dropped,
    )
    return sub, focus


def _over_budget(max_triples: int) -> UserError:
    return UserError(
        f"the query's own nodes alone have more than {max_triples} triples; "
        "raise --max-triples (or --memory-size)"
    )


# ------------------------------------------------------------------ episodes


def _traversal_episode(
    graph: nx.MultiDiGraph, walk: Sequence[tuple[int, int, int]], rng: random.Random
) -> Episode:
    """As :func:`kgdnc.tasks.traversal.traversal_episode` (no planning steps), with
    the answer targets given (a walk along the relations, needed when a node has
    several edges of one relation)."""
    description = graph_triples(graph)
    rng.shuffle(description)
    b = EpisodeBuilder()
    b.describe(description)
    query = [(walk[0][0] if i == 0 else None, t[1], None) for i, t in enumerate(walk)]
    for q in query:
        b.add(q, phase=True)
    answers = [*walk, TERMINATION]
    for i, triple in enumerate(answers):
        b.add(phase=i == 0, answer=True, target=triple)
    meta = {
        "task": "traversal", "lesson": 0, "seed": None, "answers": answers, "path": list(walk),
        "query": query, "length": len(walk), "n_triples": len(description),
        "node_names": {n: d["name"] for n, d in graph.nodes(data=True) if "name" in d},
    }
    return b.build(meta)


def _inference_episode(
    graph: nx.MultiDiGraph, start: int, relation: Relation, end: int, rng: random.Random
) -> Episode:
    """As :func:`kgdnc.tasks.inference.inference_episode` for one query, with the
    completed triple's end given (one node of the reachable set)."""
    description = graph_triples(graph)
    rng.shuffle(description)
    b = EpisodeBuilder()
    b.describe(description)
    b.add((start, relation.label, None), phase=True)
    b.plan(PLANNING_STEPS)
    answer = (start, relation.label, end)
    b.add(phase=True, answer=True, target=answer)
    meta = {
        "task": "inference", "lesson": 0, "seed": None, "answers": [answer],
        "relations": [relation.edges], "lengths": [len(relation.edges)],
        "length": len(relation.edges), "n_triples": len(description),
        "node_names": {n: d["name"] for n, d in graph.nodes(data=True) if "name" in d},
    }
    return b.build(meta)


def _no_answer(query: Query, graph: nx.MultiDiGraph) -> UserError:
    label = graph.nodes[query.start].get("label", query.start)
    rels = "/".join(str(r) for r in query.relations)
    flag = "--via" if query.task == "traversal" else "--relation"
    return UserError(
        f"nothing is reached from {label!r} by {rels}: the graph has no such path; "
        f"check {flag} against `kgdnc graphs show`"
    )


def build_episode(
    graph: nx.MultiDiGraph,
    query: Query,
    rng: random.Random,
    *,
    max_triples: int = DEFAULT_MAX_TRIPLES,
) -> QueryEpisode:
    """The episode of ``query`` on ``graph`` (``KnowledgeGraph.to_networkx()``) for one
    label draw made with ``rng``.

    Raises:
        UserError: the query has no exact answer (no path, nothing reached), or its
            own nodes do not fit in ``max_triples``.
    """
    if max_triples < 1:
        raise UserError(f"the sub-graph limit must be at least 1 triple, got {max_triples}")
    for node in (query.start, query.destination):
        if node is not None and node not in graph:
            raise UserError(f"node {node!r} is not in the graph; check the node name")
    if query.task == "shortest-path":
        return _shortest_path(graph, query, rng, max_triples)
    if query.task == "traversal":
        return _traversal(graph, query, rng, max_triples)
    if query.task == "inference":
        return _inference(graph, query, rng, max_triples)
    raise UserError(f"unknown query task {query.task!r}; use traversal, shortest-path or inference")


def _shortest_path(
    graph: nx.MultiDiGraph, query: Query, rng: random.Random, max_triples: int
) -> QueryEpisode:
    s, d = query.start, query.destination
    assert d is not None
    if s == d:
        raise UserError("--from and --to name the same node; pick two different nodes")
    if shortest_distance(graph, s, d) is None:
        names = graph.nodes[s].get("label", s), graph.nodes[d].get("label", d)
        raise UserError(f"{names[1]!r} cannot be reached from {names[0]!r} in this graph")
    sub, focus = _focus(graph, [s, d], None, max_triples, rng, connect=True, whole=graph)
    relab = relabel_for_episode(sub, rng, require_unique=False)
    episode = shortest_path_episode(relab.graph, relab.nodes[s], relab.nodes[d], rng)
    max_steps = max(1, min(SHORTEST_PATH_MAX_STEPS, relab.graph.number_of_nodes() - 1))
    return QueryEpisode(query, episode, relab.graph, relab.nodes, relab.relations, focus,
                        max_steps=max_steps)


def _traversal(
    graph: nx.MultiDiGraph, query: Query, rng: random.Random, max_triples: int
) -> QueryEpisode:
    walk = one_walk(graph, query.start, query.relations)
    if walk is None:
        raise _no_answer(query, graph)
    around = [query.start, *(t[2] for t in walk)]
    sub, focus = _focus(graph, around, None, max_triples, rng, connect=False, whole=graph)
    relab = relabel_for_episode(sub, rng, require_unique=False)
    n, r = relab.nodes, relab.relations
    labelled = [(n[u], r[rel], n[v]) for u, rel, v in walk]
    episode = _traversal_episode(relab.graph, labelled, rng)
    return QueryEpisode(query, episode, relab.graph, n, r, focus)


def _inference(
    graph: nx.MultiDiGraph, query: Query, rng: random.Random, max_triples: int
) -> QueryEpisode:
    frontiers = follow_sets(graph, query.start, query.relations)
    walk = one_walk(graph, query.start, query.relations)
    if walk is None:
        raise _no_answer(query, graph)
    relation, pinned = match_relation(list(query.relations), rng)
    limited, dropped = _limit_relations(graph, query.relations, INFERENCE_RELATIONS)
    # every node on a path of the composition (backwards from the reachable set)
    alive = set(frontiers[-1])
    on_paths = set(alive)
    for i in range(len(query.relations) - 1, -1, -1):
        alive = {u for u in frontiers[i]
                 if any(v in alive for _, v, k, dd in graph.out_edges(u, keys=True, data=True)
                        if dd.get("relation_id", k) == query.relations[i])}
        on_paths |= alive
    around = [query.start, *sorted((n for n in on_paths if n != query.start), key=str)]
    one = [query.start, *(t[2] for t in walk)]
    sub, focus = _focus(limited, around, one, max_triples, rng, connect=False, whole=graph,
                        dropped=dropped)
    relab = relabel_for_episode(
        sub, rng, edge_labels=EDGE_LABELS, require_unique=False, fixed_relations=pinned
    )
    ends = reachable_in(relab.graph, relab.nodes[query.start],
                        [relab.relations[r] for r in query.relations])
    if not ends:  # pragma: no cover - the sub-graph keeps a path of the composition
        raise _no_answer(query, graph)
    end = min(ends, key=lambda label: str(relab.graph.nodes[label].get("name", label)))
    episode = _inference_episode(relab.graph, relab.nodes[query.start], relation, end, rng)
    return QueryEpisode(query, episode, relab.graph, relab.nodes, relab.relations, focus,
                        table_relation=relation)


def reachable_in(graph: nx.MultiDiGraph, start: int, labels: Sequence[int]) -> set[int]:
    """Nodes of a label-space graph reached from ``start`` along edge labels ``labels``."""
    frontier = {start}
    for label in labels:
        frontier = {v for u in frontier for _, v, d in graph.out_edges(u, data="relation")
                    if d == label}
    return frontier


# ------------------------------------------------------------------ sampling queries


def sample_query(
    graph: nx.MultiDiGraph,
    task: str,
    rng: random.Random,
    lengths: tuple[int, int],
    *,
    exclude: set[tuple[str, ...]] | frozenset[tuple[str, ...]] = frozenset(),
    prefer_unique: bool = False,
    tries: int = 200,
) -> Query:
    """A random query on ``graph`` whose length (walk, composition or shortest path)
    is drawn from ``lengths``, not in ``exclude`` (by :meth:`Query.key`).

    Traversal and inference: a random walk, its relations the query (with
    ``prefer_unique``, walks whose answer is unique are preferred, so training
    targets are unambiguous); inference keeps only compositions some relation of
    the table can stand for (:func:`kgdnc.tasks.inference.fits_table`). Shortest
    path: a random source and a node at that distance. Raises ``UserError`` when no
    such query is found.
    """
    lo, hi = lengths
    if task == "inference":
        lo = max(lo, 2)
        hi = min(max(hi, lo), 5)
    nodes = list(graph.nodes)
    starts = [n for n in nodes if graph.out_degree(n) > 0]
    best: Query | None = None
    for attempt in range(tries):
        if not starts:
            break
        length = rng.randint(lo, hi)
        if task == "shortest-path":
            s = rng.choice(starts)
            dist = nx.single_source_shortest_path_length(graph, s, cutoff=length)
            far = sorted((n for n, k in dist.items() if k == length), key=str)
            if not far:
                continue
            q = Query(task, s, destination=rng.choice(far))
            if q.key() not in exclude:
                return q
            continue
        start = rng.choice(starts)
        node = start
        rels: list[Hashable] = []
        unique = True
        for _ in range(length):
            edges = sorted(
                (
                    (relation_of(k, d), v)
                    for _, v, k, d in graph.out_edges(node, keys=True, data=True)
                ),
                key=repr,
            )
            if not edges:
                break
            rel, node = rng.choice(edges)
            unique = unique and sum(1 for r, _ in edges if r == rel) == 1
            rels.append(rel)
        if len(rels) != length:
            continue
        text = "/".join(str(r) for r in rels) if task == "inference" else None
        q = Query(task, start, relations=tuple(rels), relation_text=text)
        if q.key() in exclude:
            continue
        if task == "inference":
            if not fits_table(rels):
                continue  # no table relation has this composition's shape
            unique = len(follow_sets(graph, q.start, rels)[-1]) == 1
        if unique or not prefer_unique or attempt == tries - 1:
            return q
        best = best or q
    if best is not None:
        return best
    raise UserError(
        f"found no {task} query of length {lo}-{hi} in the graph; choose other lengths"
    )
