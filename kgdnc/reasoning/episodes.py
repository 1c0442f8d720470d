"""A user's query on a user's graph as an episode: what every task shares.

Per episode (one "label draw"): the graph — a query-focused sub-graph when it is
too big — gets random node and relation labels, its triples are described in
random order, then come the query, the planning steps and the answer steps of
the task, laid out by :mod:`kgdnc.tasks` exactly as in training. The label maps
are kept so that decoded labels map back to the graph's ids. What differs per
task (which nodes to keep, the episode, the verdict) is in
:mod:`kgdnc.reasoning.kinds`.

Sub-graphs: the whole graph is used when it has at most ``max_triples`` triples
and 999 nodes. Otherwise :func:`focus_on` keeps the query's own nodes and grows
breadth-first around them up to ``max_triples``. Inference can name at most 10
relations per episode (edge labels 0–9): on a graph with more, the sub-graph
keeps the query's relations and the most frequent others
(:func:`limit_relations`).
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
from kgdnc.reasoning.verify import AnswerTriple
from kgdnc.tasks.codec import LABEL_SPACE
from kgdnc.tasks.episode import Episode
from kgdnc.tasks.graphs import relation_of, sample_subgraph
from kgdnc.tasks.inference import Relation
from kgdnc.tasks.shortest_path import ShortestPathEpisode

__all__ = [
    "DEFAULT_LENGTHS",
    "DEFAULT_MAX_TRIPLES",
    "SHORTEST_PATH_MAX_STEPS",
    "Draw",
    "Focus",
    "LabelTriple",
    "QueryEpisode",
    "focus_on",
    "limit_relations",
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
LabelTriple = tuple[int, int, int]


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

    def ids(self, labels: Sequence[LabelTriple]) -> list[AnswerTriple]:
        """Label triples mapped back to graph ids (None for a label this draw never used)."""
        node_of, rel_of = self.node_of, self.relation_of
        return [(node_of.get(s), rel_of.get(r), node_of.get(t)) for s, r, t in labels]

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

    @property
    def answer_start(self) -> int:
        """The first answer step (after the description, query and planning steps)."""
        if isinstance(self.episode, ShortestPathEpisode):
            return len(self.episode.prefix)
        return int(self.episode.mask.nonzero()[0])


# ------------------------------------------------------------------ sub-graphs


def limit_relations(graph: nx.MultiDiGraph, keep: Sequence[Hashable], limit: int) -> tuple[
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


def focus_on(
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
    when the nodes of ``around`` alone are over budget).

    Raises:
        UserError: the query's own nodes do not fit in ``max_triples``.
    """
    fits = graph.number_of_nodes() <= LABEL_SPACE and graph.number_of_edges() <= max_triples
    if fits and not dropped:
        return graph, None
    sub = graph.copy() if fits else None
    for nodes in [] if fits else [n for n in (around, fallback) if n is not None]:
        try:
            sub = sample_subgraph(graph, max_triples, nodes, rng, connect=connect)
            break
        except UserError:
            continue
    if sub is None:
        raise UserError(
            f"the query's own nodes alone have more than {max_triples} triples; "
            "raise the triple limit (max_triples) or the memory size"
        )
    focus = Focus(sub.number_of_nodes(), sub.number_of_edges(), whole.number_of_nodes(),
                  whole.number_of_edges(), dropped)
    return sub, focus


@dataclass
class Draw:
    """One label draw's answer.

    Attributes:
        episode: the draw's episode and label maps.
        labels: the decoded triples in label space (traversal: every answer step,
            termination included; shortest path: the walk; inference: one).
        answer: the answer as graph ids (``None`` for a label the draw never used);
            inference: ``(start, relation text, end)``.
        terminated: traversal: the answer ended with the termination triple where
            it should.
        correct: the verdict.
    """

    episode: QueryEpisode
    labels: list[LabelTriple]
    answer: list[AnswerTriple]
    terminated: bool = True
    correct: bool = False
