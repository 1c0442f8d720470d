"""What a query gets back (:class:`Answer`) and how it reads: a few lines for people,
or the ``kgdnc query --json`` object. Display only: answering is
:mod:`kgdnc.reasoning.answer`."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kgdnc.dnc import MemoryTrace
from kgdnc.reasoning.episodes import Draw, Focus
from kgdnc.reasoning.query import Query
from kgdnc.reasoning.verify import AnswerTriple

__all__ = ["Answer"]


@dataclass
class Answer:
    """A query's answer, verdict and exact answer.

    Attributes:
        query: the query (ids).
        graph: the graph's name.
        model: how the model was named (``bundled:shortest-path``, a workspace
            name, a path).
        answer: the (majority) answer as graph ids.
        expected: an exact answer in the same form.
        correct: whether ``answer`` is right (see :mod:`kgdnc.reasoning.verify`).
        memory_size: N used (None for the LSTM baseline).
        votes, agreement: label draws, and the share that gave ``answer``.
        draws: every draw.
        focus: the sub-graph of the first draw, None when the whole graph was used.
        names, relation_names: display labels of the nodes the answer, the query and
            the exact answer name, and of every relation.
        reachable_ends: inference: every node the composition reaches.
        shortest_length: shortest path: triples on a shortest path.
        terminated: traversal: the answer ended with the termination triple.
        model_time_s: time spent in the network, all draws.
        load_time_s: time to load the model (0 when cached).
        trace: what the memory did (B = 1, every step) when asked with ``trace=True``.
    """

    query: Query
    graph: str
    model: str
    answer: list[AnswerTriple]
    expected: list[AnswerTriple]
    correct: bool
    memory_size: int | None
    votes: int
    agreement: float
    draws: list[Draw]
    focus: Focus | None
    names: dict[Hashable, str] = field(default_factory=dict)
    relation_names: dict[Hashable, str] = field(default_factory=dict)
    reachable_ends: list[Hashable] = field(default_factory=list)
    shortest_length: int | None = None
    terminated: bool = True
    model_time_s: float = 0.0
    load_time_s: float = 0.0
    seed: int = 0
    n_triples: int = 0
    trace: MemoryTrace | None = None

    def node_name(self, node: Hashable | None) -> str | None:
        """A node's display label (its id when unnamed; None for an unknown node)."""
        return None if node is None else self.names.get(node, str(node))

    def relation_name(self, relation: Hashable | None) -> str | None:
        """A relation's display label (None for an unknown relation)."""
        return None if relation is None else self.relation_names.get(relation, str(relation))

    def labelled(self, triples: Sequence[AnswerTriple]) -> list[list[str | None]]:
        """Triples in the graph's display labels."""
        return [[self.node_name(s), self.relation_name(r), self.node_name(t)]
                for s, r, t in triples]

    def headline(self) -> str:
        """The query in words: ``shortest path Bank -> Oxford Circus``."""
        return _HEADLINE[self.query.task](self, self.query)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object."""
        q = self.query
        out: dict[str, Any] = {"task": q.task, "graph": self.graph,
                               "from": self.node_name(q.start), **_QUERY_FIELDS[q.task](self, q)}
        out.update(
            {
                "answer": self.labelled(self.answer),
                "expected": self.labelled(self.expected),
                "correct": self.correct,
                "model": self.model,
                "memory_size": self.memory_size,
                "triples": self.n_triples,
                "subgraph": self.focus.to_dict() if self.focus else None,
                "seed": self.seed,
                "votes": self.votes,
                "agreement": round(self.agreement, 4),
                "votes_correct": sum(d.correct for d in self.draws),
                "model_time_s": round(self.model_time_s, 4),
                **_ANSWER_FIELDS[q.task](self),
            }
        )
        return out

    def text(self) -> str:
        """A few lines for people."""

        def show(triples: Sequence[AnswerTriple]) -> list[str]:
            return [f"  {s or '?'} --{r or '?'}--> {t or '?'}"
                    for s, r, t in self.labelled(triples)] or ["  (nothing)"]

        lines = [self.headline(), f"answer ({'correct' if self.correct else 'WRONG'}):"]
        lines += show(self.answer)
        if not self.terminated:
            lines.append("  (the answer did not end with the termination triple)")
        if not self.correct:
            lines += ["exact answer:", *show(self.expected)]
        if len(self.reachable_ends) > 1:
            ends = ", ".join(str(self.node_name(n)) for n in self.reachable_ends)
            lines.append(f"every right end: {ends}")
        if self.votes > 1:
            lines.append(
                f"votes: {self.votes} label draws, {self.agreement:.0%} agree on this answer, "
                f"{sum(d.correct for d in self.draws)} of {self.votes} right"
            )
        where = self.focus.describe() if self.focus else f"whole graph, {self.n_triples} triples"
        memory = f"memory {self.memory_size} slots" if self.memory_size else "no memory (LSTM)"
        lines.append(
            f"model {self.model} | {memory} | {where} | model time {self.model_time_s:.3f} s"
        )
        return "\n".join(lines)


# How each task's query reads, in text and in the JSON object.
_HEADLINE: dict[str, Callable[[Answer, Query], str]] = {
    "shortest-path": lambda a, q: (
        f"shortest path {a.node_name(q.start)} -> {a.node_name(q.destination)}"),
    "traversal": lambda a, q: (
        f"traversal from {a.node_name(q.start)} via "
        + ", ".join(str(a.relation_name(r)) for r in q.relations)),
    "inference": lambda a, q: f"inference: {q.relation_text} of {a.node_name(q.start)}",
}
_QUERY_FIELDS: dict[str, Callable[[Answer, Query], dict[str, Any]]] = {
    "shortest-path": lambda a, q: {"to": a.node_name(q.destination)},
    "traversal": lambda a, q: {"via": [a.relation_name(r) for r in q.relations]},
    "inference": lambda a, q: {"relation": q.relation_text,
                               "relations": [a.relation_name(r) for r in q.relations]},
}
_ANSWER_FIELDS: dict[str, Callable[[Answer], dict[str, Any]]] = {
    "shortest-path": lambda a: {"shortest_length": a.shortest_length},
    "traversal": lambda a: {"terminated": a.terminated},
    "inference": lambda a: {"reachable": [a.node_name(n) for n in a.reachable_ends]},
}
