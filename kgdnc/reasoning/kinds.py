"""The three kinds of query, one entry per task: what reasoning knows of each task.

A :class:`QueryKind` says, for its task, which nodes a query's sub-graph keeps
and how the episode is laid out (by :mod:`kgdnc.tasks`, with the answer given),
how many steps besides the description it takes (the memory budget), how a
draw's decoded triples map back to the graph and are checked against the exact
answer (:mod:`kgdnc.reasoning.verify`), the exact answer itself, and how a
random query of the task is drawn. Everything else looks the task up in
:data:`KINDS` instead of branching on its name.

Non-unique relations (a person with several sons): the episode's answer targets
are one walk that follows the relations (the first in name order); the verdict
accepts any walk along the relations, and for inference any node of the
reachable set.
"""

from __future__ import annotations

import random
from collections.abc import Hashable
from itertools import takewhile

import networkx as nx

from kgdnc.errors import UserError
from kgdnc.reasoning.episodes import (
    DEFAULT_MAX_TRIPLES,
    SHORTEST_PATH_MAX_STEPS,
    Draw,
    LabelTriple,
    QueryEpisode,
    focus_on,
    limit_relations,
)
from kgdnc.reasoning.query import Query
from kgdnc.reasoning.verify import (
    AnswerTriple,
    is_shortest_path,
    is_walk,
    one_shortest_path,
    shortest_distance,
)
from kgdnc.tasks import inference as inference_task
from kgdnc.tasks import shortest_path as shortest_path_task
from kgdnc.tasks.codec import TERMINATION
from kgdnc.tasks.graphs import relabel_for_episode
from kgdnc.tasks.traversal import traversal_episode
from kgdnc.tasks.walks import on_walks, one_walk, reachable, successors, walk_from

__all__ = ["EXHAUSTIVE_NODES", "KINDS", "QueryKind", "build_episode", "kind_of", "sample_query"]

EXHAUSTIVE_NODES = 2000  # shortest-path pairs are enumerated on graphs up to this size


class QueryKind:
    """One task's entry; the base holds what traversal and inference share."""

    task: str = ""
    planning: int = 0  # the task's default planning steps

    def query_steps(self, query: Query) -> int:
        """Steps the query itself takes (one triple, or one per relation)."""
        return 1

    def other_steps(self, query: Query, planning_steps: int | None = None) -> int:
        """Input steps besides the description: the query and the planning steps."""
        return self.query_steps(query) + _planning(planning_steps, self.planning)

    def episode(
        self, graph: nx.MultiDiGraph, query: Query, rng: random.Random, max_triples: int,
        planning_steps: int | None = None,
    ) -> QueryEpisode:
        """The query's episode on ``graph`` (the whole graph) for one label draw."""
        raise NotImplementedError

    def check(self, graph: nx.MultiDiGraph, qe: QueryEpisode, labels: list[LabelTriple]) -> Draw:
        """A draw's decoded ``labels`` mapped back to the graph and checked."""
        raise NotImplementedError

    def expected(self, graph: nx.MultiDiGraph, query: Query) -> list[AnswerTriple]:
        """An exact answer (empty when there is none)."""
        raise NotImplementedError

    def length(self, graph: nx.MultiDiGraph, query: Query) -> int:
        """The query's length: relations followed (shortest path: its distance)."""
        return len(query.relations)

    def ends(self, graph: nx.MultiDiGraph, query: Query) -> list[Hashable]:
        """Inference: every right end, by label; the other tasks have none."""
        return []

    def distance(self, graph: nx.MultiDiGraph, query: Query) -> int | None:
        """Shortest path: triples on a shortest path; the other tasks have none."""
        return None

    def lengths(self, lo: int, hi: int) -> tuple[int, int]:
        """The range of lengths this task can ask, within ``lo``-``hi``."""
        return lo, hi

    def every_query(
        self, graph: nx.MultiDiGraph, lengths: tuple[int, int], rng: random.Random
    ) -> list[Query] | None:
        """Every query of these lengths in random order, where they can be enumerated
        (None: draw them at random instead)."""
        return None

    def draw_query(
        self, graph: nx.MultiDiGraph, rng: random.Random, length: int, starts: list[Hashable]
    ) -> tuple[Query, bool] | None:
        """A random query of ``length`` and whether its answer is unique; None when the
        draw failed (a dead end). Traversal and inference: a random walk's relations."""
        walk = walk_from(graph, rng.choice(starts), length, rng)
        if walk is None:
            return None
        relations = tuple(rel for _, rel, _ in walk)
        unique = all(len(successors(graph, u, rel)) == 1 for u, rel, _ in walk)
        return Query(self.task, walk[0][0], relations=relations), unique

    def _walk(self, graph: nx.MultiDiGraph, query: Query) -> list[AnswerTriple]:
        walk = one_walk(graph, query.start, query.relations)
        if walk is None:
            label = graph.nodes[query.start].get("label", query.start)
            rels = "/".join(str(r) for r in query.relations)
            raise UserError(
                f"nothing is reached from {label!r} by {rels}: the graph has no such path; "
                "check the relation names against the graph's"
            )
        return walk


class ShortestPath(QueryKind):
    task = "shortest-path"
    planning = shortest_path_task.PLANNING_STEPS

    def episode(
        self, graph: nx.MultiDiGraph, query: Query, rng: random.Random, max_triples: int,
        planning_steps: int | None = None,
    ) -> QueryEpisode:
        s, d = query.start, query.destination
        assert d is not None
        if s == d:
            raise UserError("the start and the destination are the same node; pick two others")
        if shortest_distance(graph, s, d) is None:
            names = graph.nodes[s].get("label", s), graph.nodes[d].get("label", d)
            raise UserError(f"{names[1]!r} cannot be reached from {names[0]!r} in this graph")
        sub, focus = focus_on(graph, [s, d], None, max_triples, rng, connect=True, whole=graph)
        relab = relabel_for_episode(sub, rng, require_unique=False)
        episode = shortest_path_task.shortest_path_episode(
            relab.graph, relab.nodes[s], relab.nodes[d], rng,
            planning_steps=_planning(planning_steps, self.planning),
        )
        max_steps = max(1, min(SHORTEST_PATH_MAX_STEPS, relab.graph.number_of_nodes() - 1))
        return QueryEpisode(query, episode, relab.graph, relab.nodes, relab.relations, focus,
                            max_steps=max_steps)

    def check(self, graph: nx.MultiDiGraph, qe: QueryEpisode, labels: list[LabelTriple]) -> Draw:
        answer = qe.ids(labels)
        assert qe.query.destination is not None
        ok = is_shortest_path(graph, qe.query.start, qe.query.destination, answer)
        return Draw(qe, labels, answer, True, ok)

    def expected(self, graph: nx.MultiDiGraph, query: Query) -> list[AnswerTriple]:
        return one_shortest_path(graph, query.start, query.destination) or []

    def length(self, graph: nx.MultiDiGraph, query: Query) -> int:
        return int(nx.shortest_path_length(graph, query.start, query.destination))

    def distance(self, graph: nx.MultiDiGraph, query: Query) -> int | None:
        return shortest_distance(graph, query.start, query.destination)

    def every_query(
        self, graph: nx.MultiDiGraph, lengths: tuple[int, int], rng: random.Random
    ) -> list[Query] | None:
        """Every pair at a distance in ``lengths`` on graphs of up to 2,000 nodes (the
        paper's London test: all pairs 4 steps apart), in random order."""
        if graph.number_of_nodes() > EXHAUSTIVE_NODES:
            return None
        lo, hi = lengths
        out = [
            Query(self.task, s, destination=d)
            for s in sorted(graph.nodes, key=str)
            for d, k in sorted(nx.single_source_shortest_path_length(graph, s, cutoff=hi).items(),
                               key=lambda item: str(item[0]))
            if lo <= k <= hi and d != s
        ]
        rng.shuffle(out)
        return out

    def draw_query(
        self, graph: nx.MultiDiGraph, rng: random.Random, length: int, starts: list[Hashable]
    ) -> tuple[Query, bool] | None:
        """A random source and, uniformly, a node at distance ``length`` from it."""
        s = rng.choice(starts)
        dist = nx.single_source_shortest_path_length(graph, s, cutoff=length)
        far = sorted((n for n, k in dist.items() if k == length), key=str)
        return (Query(self.task, s, destination=rng.choice(far)), True) if far else None


class Traversal(QueryKind):
    task = "traversal"

    def query_steps(self, query: Query) -> int:
        return len(query.relations)

    def other_steps(self, query: Query, planning_steps: int | None = None) -> int:
        return self.query_steps(query)  # traversal plans nothing (the paper's layout)

    def episode(
        self, graph: nx.MultiDiGraph, query: Query, rng: random.Random, max_triples: int,
        planning_steps: int | None = None,
    ) -> QueryEpisode:
        walk = self._walk(graph, query)
        around = [query.start, *(t[2] for t in walk)]
        sub, focus = focus_on(graph, around, None, max_triples, rng, connect=False, whole=graph)
        relab = relabel_for_episode(sub, rng, require_unique=False)
        n, r = relab.nodes, relab.relations
        path = [(n[u], r[rel], n[v]) for u, rel, v in walk]
        episode = traversal_episode(relab.graph, path[0][0], [t[1] for t in path], rng, path=path)
        return QueryEpisode(query, episode, relab.graph, n, r, focus)

    def check(self, graph: nx.MultiDiGraph, qe: QueryEpisode, labels: list[LabelTriple]) -> Draw:
        q = qe.query
        path = list(takewhile(lambda t: tuple(t) != TERMINATION, labels))
        terminated = len(path) < len(labels) and len(path) == len(q.relations)
        answer = qe.ids(path)
        return Draw(qe, labels, answer, terminated,
                    terminated and is_walk(graph, q.start, q.relations, answer))

    def expected(self, graph: nx.MultiDiGraph, query: Query) -> list[AnswerTriple]:
        return one_walk(graph, query.start, query.relations) or []


class Inference(QueryKind):
    task = "inference"
    planning = inference_task.PLANNING_STEPS

    def episode(
        self, graph: nx.MultiDiGraph, query: Query, rng: random.Random, max_triples: int,
        planning_steps: int | None = None,
    ) -> QueryEpisode:
        """Keeps every node on a walk of the composition (one walk's when those are too
        many) and at most 10 relations; the table relation standing for the
        composition is drawn, and the answer is the reachable end first by name."""
        start, relations = query.start, query.relations
        walk = self._walk(graph, query)
        relation, pinned = inference_task.match_relation(list(relations), rng)
        limited, dropped = limit_relations(graph, relations, len(inference_task.EDGE_LABELS))
        on_paths = set().union(*on_walks(graph, start, relations)) - {start}
        around = [start, *sorted(on_paths, key=str)]
        one = [start, *(t[2] for t in walk)]
        sub, focus = focus_on(limited, around, one, max_triples, rng, connect=False, whole=graph,
                              dropped=dropped)
        relab = relabel_for_episode(sub, rng, edge_labels=inference_task.EDGE_LABELS,
                                    require_unique=False, fixed_relations=pinned)
        ends = reachable(relab.graph, relab.nodes[start], [relab.relations[r] for r in relations])
        end = min(ends, key=lambda label: str(relab.graph.nodes[label].get("name", label)))
        episode = inference_task.inference_episode(
            relab.graph, [(relab.nodes[start], relation)], rng, ends=[end],
            planning_steps=_planning(planning_steps, self.planning),
        )
        return QueryEpisode(query, episode, relab.graph, relab.nodes, relab.relations, focus,
                            table_relation=relation)

    def check(self, graph: nx.MultiDiGraph, qe: QueryEpisode, labels: list[LabelTriple]) -> Draw:
        q = qe.query
        assert qe.table_relation is not None
        s, r, e = labels[0]
        start, _, end = qe.ids([(s, r, e)])[0]
        rel = q.relation_text if r == qe.table_relation.label else None
        ok = start == q.start and rel is not None and end in reachable(graph, q.start,
                                                                        q.relations)
        return Draw(qe, labels, [(start, rel, end)], True, ok)

    def expected(self, graph: nx.MultiDiGraph, query: Query) -> list[AnswerTriple]:
        walk = one_walk(graph, query.start, query.relations)
        return [(query.start, query.relation_text, walk[-1][2])] if walk else []

    def ends(self, graph: nx.MultiDiGraph, query: Query) -> list[Hashable]:
        found = reachable(graph, query.start, query.relations)
        return sorted(found, key=lambda n: str(graph.nodes[n].get("label", n)))

    def lengths(self, lo: int, hi: int) -> tuple[int, int]:
        lo = max(lo, 2)  # the relation table composes 2-5 relations
        return lo, min(max(hi, lo), 5)

    def draw_query(
        self, graph: nx.MultiDiGraph, rng: random.Random, length: int, starts: list[Hashable]
    ) -> tuple[Query, bool] | None:
        """A random walk's relations, when some table relation has their shape
        (:func:`kgdnc.tasks.inference.fits_table`)."""
        drawn = super().draw_query(graph, rng, length, starts)
        if drawn is None or not inference_task.fits_table(drawn[0].relations):
            return None
        q = drawn[0]
        q = Query(self.task, q.start, relations=q.relations,
                  relation_text="/".join(str(r) for r in q.relations))
        return q, len(reachable(graph, q.start, q.relations)) == 1


def _planning(asked: int | None, default: int) -> int:
    return default if asked is None else asked


KINDS: dict[str, QueryKind] = {k.task: k for k in (ShortestPath(), Traversal(), Inference())}


def kind_of(task: str) -> QueryKind:
    """The kind of ``task``'s queries; UserError naming the three otherwise."""
    try:
        return KINDS[task]
    except KeyError:
        raise UserError(
            f"unknown query task {task!r}; use traversal, shortest-path or inference"
        ) from None


def build_episode(
    graph: nx.MultiDiGraph,
    query: Query,
    rng: random.Random,
    *,
    max_triples: int = DEFAULT_MAX_TRIPLES,
    planning_steps: int | None = None,
) -> QueryEpisode:
    """The episode of ``query`` on ``graph`` (``KnowledgeGraph.to_networkx()``) for one
    label draw made with ``rng``, laid out as in training (``planning_steps``: the
    model's, None for the task's default).

    Raises:
        UserError: the query has no exact answer (no path, nothing reached), or its
            own nodes do not fit in ``max_triples``.
    """
    if max_triples < 1:
        raise UserError(f"the sub-graph limit must be at least 1 triple, got {max_triples}")
    for node in (query.start, query.destination):
        if node is not None and node not in graph:
            raise UserError(f"node {node!r} is not in the graph; check the node name")
    return kind_of(query.task).episode(graph, query, rng, max_triples, planning_steps)


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

    With ``prefer_unique``, queries whose answer is unique are preferred (so
    training targets are unambiguous). Raises ``UserError`` when no such query
    is found.
    """
    kind = kind_of(task)
    lo, hi = kind.lengths(*lengths)
    starts = [n for n in graph.nodes if graph.out_degree(n) > 0]
    best: Query | None = None
    for attempt in range(tries if starts else 0):
        drawn = kind.draw_query(graph, rng, rng.randint(lo, hi), starts)
        if drawn is None or drawn[0].key() in exclude:
            continue
        query, unique = drawn
        if unique or not prefer_unique or attempt == tries - 1:
            return query
        best = best or query
    if best is not None:
        return best
    raise UserError(
        f"found no {task} query of length {lo}-{hi} in the graph; choose other lengths"
    )
