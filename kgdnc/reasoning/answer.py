"""Answer a query with a trained DNC and check the answer against the exact one.

For each label draw (``votes`` of them, seeded), the query becomes an episode
exactly as in training (:mod:`kgdnc.reasoning.episodes`); the network runs on it
with a memory sized to the episode (or the size asked for); its decoded triples
are mapped back to the graph's ids through the draw's label maps. Shortest path
answers interactively, as in training: each answer step scores only the triples
leaving the current node (renormalised over them) and the network's own
previous choice is its next input; the walk stops at the destination, at a node
with no way out, or after ``SHORTEST_PATH_MAX_STEPS`` (64) steps (or as many as
the episode's graph has nodes), whichever comes first.

Every answer — the majority one when voting — is checked with
:mod:`kgdnc.reasoning.verify` on the whole graph and reported with an exact
answer beside it. Nothing is ever replaced by the exact answer.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections import Counter
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import torch
from torch import Tensor

from kgdnc.errors import UserError
from kgdnc.graphs import KnowledgeGraph
from kgdnc.reasoning.episodes import (
    DEFAULT_MAX_TRIPLES,
    Focus,
    QueryEpisode,
    build_episode,
    description_budget,
)
from kgdnc.reasoning.models import ModelEntry, load_model, resolve_model
from kgdnc.reasoning.query import Query, parse_query
from kgdnc.reasoning.verify import (
    AnswerTriple,
    is_shortest_path,
    is_walk,
    one_shortest_path,
    one_walk,
    reachable,
    shortest_distance,
)
from kgdnc.tasks.codec import TERMINATION, decode_logits
from kgdnc.tasks.episode import collate
from kgdnc.tasks.shortest_path import ShortestPathEpisode, ShortestPathRollout, candidate_log_probs

__all__ = [
    "Answer",
    "Draw",
    "answer_query",
    "ask",
    "choose_memory_size",
    "draw_rng",
    "run_draws",
    "torch_threads",
    "verify_draw",
]

LabelTriple = tuple[int, int, int]


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run with ``torch.set_num_threads(threads)``, restoring the setting after."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def draw_rng(seed: int, draw: int) -> random.Random:
    """The generator of label draw ``draw`` of a query asked with ``seed``."""
    return random.Random(f"kgdnc-query/{seed}/{draw}")


def _round_up(value: int, multiple: int = 8) -> int:
    return -(-value // multiple) * multiple


def choose_memory_size(trained_memory: int, steps: int) -> int:
    """N for an episode of ``steps`` steps: one slot per step (rounded up to a
    multiple of 8), never fewer than the model was trained with."""
    return max(int(trained_memory), _round_up(int(steps)))


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
        reachable_ends: inference: every node the composition reaches.
        shortest_length: shortest path: triples on a shortest path.
        model_time_s: time spent in the network, all draws.
        load_time_s: time to load the model (0 when cached).
        trace: ``MemoryTrace`` (B = 1) when asked for with ``trace=True``.
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
    names: dict[str, str] = field(default_factory=dict)
    relation_names: dict[str, str] = field(default_factory=dict)
    reachable_ends: list[str] = field(default_factory=list)
    shortest_length: int | None = None
    terminated: bool = True
    model_time_s: float = 0.0
    load_time_s: float = 0.0
    seed: int = 0
    n_triples: int = 0
    trace: Any = None

    # -------------------------------------------------------------- display
    def _node(self, node: Any) -> str | None:
        return None if node is None else self.names.get(node, str(node))

    def _relation(self, rel: Any) -> str | None:
        if rel is None:
            return None
        return self.relation_names.get(rel, str(rel))

    def labelled(self, triples: Sequence[AnswerTriple]) -> list[list[str | None]]:
        """Triples in the graph's display labels."""
        return [[self._node(s), self._relation(r), self._node(t)] for s, r, t in triples]

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object."""
        q = self.query
        out: dict[str, Any] = {
            "task": q.task,
            "graph": self.graph,
            "from": self._node(q.start),
        }
        if q.task == "shortest-path":
            out["to"] = self._node(q.destination)
        elif q.task == "traversal":
            out["via"] = [self._relation(r) for r in q.relations]
        else:
            out["relation"] = q.relation_text
            out["relations"] = [self._relation(r) for r in q.relations]
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
            }
        )
        if q.task == "inference":
            out["reachable"] = [self._node(n) for n in self.reachable_ends]
        if q.task == "shortest-path":
            out["shortest_length"] = self.shortest_length
        if q.task == "traversal":
            out["terminated"] = self.terminated
        return out

    def text(self) -> str:
        """A few lines for people."""
        q = self.query
        lines = []
        if q.task == "shortest-path":
            lines.append(f"shortest path {self._node(q.start)} -> {self._node(q.destination)}")
        elif q.task == "traversal":
            rels = ", ".join(str(self._relation(r)) for r in q.relations)
            lines.append(f"traversal from {self._node(q.start)} via {rels}")
        else:
            lines.append(f"inference: {q.relation_text} of {self._node(q.start)}")

        def show(triples: Sequence[AnswerTriple]) -> list[str]:
            return [f"  {s or '?'} --{r or '?'}--> {t or '?'}"
                    for s, r, t in self.labelled(triples)] or ["  (nothing)"]

        verdict = "correct" if self.correct else "WRONG"
        lines.append(f"answer ({verdict}):")
        lines += show(self.answer)
        if q.task == "traversal" and not self.terminated:
            lines.append("  (the answer did not end with the termination triple)")
        if not self.correct:
            lines.append("exact answer:")
            lines += show(self.expected)
        if q.task == "inference" and len(self.reachable_ends) > 1:
            ends = ", ".join(str(self._node(n)) for n in self.reachable_ends)
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


# ------------------------------------------------------------------ running


def run_draws(
    network: torch.nn.Module,
    episodes: Sequence[QueryEpisode],
    memory_size: int,
    *,
    trace: bool = False,
) -> tuple[list[list[LabelTriple]], Any]:
    """Run label draws as one batch; their decoded triples in label space.

    Args:
        network: ``DNC`` or ``LSTMBaseline`` in eval mode.
        episodes: draws of one task.
        memory_size: N for every draw.
        trace: also return the ``MemoryTrace`` of the batch (a DNC only), with
            every step including the interactive ones, (B, T, …).

    Returns:
        per draw the decoded triples (traversal: L + 1 answer steps; inference: 1;
        shortest path: the walk), and the trace or None.
    """
    b = len(episodes)
    first = episodes[0].episode
    state = network.initial_state(b, memory_size)
    traces: list[Any] = []

    def forward(x: Tensor, st: Any) -> tuple[Tensor, Any]:
        if trace:
            y, st, tr = network.trace(x, st)
            traces.append(tr)
            return y, st
        return network(x, st)

    with torch.no_grad():
        if isinstance(first, ShortestPathEpisode):
            sp = [e.episode for e in episodes]
            assert all(isinstance(e, ShortestPathEpisode) for e in sp)
            roll = ShortestPathRollout(sp, beta=None, max_steps=[e.max_steps for e in episodes])
            _, state = forward(roll.prefix.inputs, state)
            while not roll.done:
                y, state = forward(roll.inputs()[:, None], state)
                digits, mask, _ = roll.candidates()
                logp = candidate_log_probs(y[:, 0], digits, mask)
                roll.advance(logp.argmax(-1))
            decoded = [[tuple(t) for t in walk] for walk in roll.walks]
        else:
            batch = collate([e.episode for e in episodes])
            y, _ = forward(batch.inputs, state)
            labels = decode_logits(y)  # (B, T, 3)
            decoded = [
                [tuple(int(v) for v in row) for row in labels[i][batch.mask[i]]]
                for i in range(b)
            ]
    joined = None
    if trace and traces:
        joined = type(traces[0])(*(torch.cat(parts, dim=1) for parts in zip(*traces,
                                                                             strict=True)))
    return decoded, joined  # type: ignore[return-value]


def verify_draw(graph: nx.MultiDiGraph, qe: QueryEpisode, labels: list[LabelTriple]) -> Draw:
    """Map a draw's decoded labels back to the graph and check them."""
    q = qe.query
    node_of, rel_of = qe.node_of, qe.relation_of
    if q.task == "inference":
        assert qe.table_relation is not None
        s, r, e = labels[0]
        start = node_of.get(s)
        end = node_of.get(e)
        rel = q.relation_text if r == qe.table_relation.label else None
        ok = start == q.start and rel is not None and end in reachable(graph, q.start,
                                                                        q.relations)
        return Draw(qe, labels, [(start, rel, end)], True, bool(ok))
    if q.task == "traversal":
        path: list[LabelTriple] = []
        terminated = False
        for triple in labels:
            if tuple(triple) == TERMINATION:
                terminated = True
                break
            path.append(triple)
        answer = [(node_of.get(s), rel_of.get(r), node_of.get(t)) for s, r, t in path]
        terminated = terminated and len(path) == len(q.relations)
        ok = terminated and is_walk(graph, q.start, q.relations, answer)
        return Draw(qe, labels, answer, terminated, bool(ok))
    answer = [(node_of.get(s), rel_of.get(r), node_of.get(t)) for s, r, t in labels]
    assert q.destination is not None
    ok = is_shortest_path(graph, q.start, q.destination, answer)
    return Draw(qe, labels, answer, True, bool(ok))


def _expected(graph: nx.MultiDiGraph, q: Query) -> list[AnswerTriple]:
    if q.task == "shortest-path":
        assert q.destination is not None
        return one_shortest_path(graph, q.start, q.destination) or []
    walk = one_walk(graph, q.start, q.relations) or []
    if q.task == "traversal":
        return walk
    return [(q.start, q.relation_text, walk[-1][2])] if walk else []


def answer_query(
    graph: KnowledgeGraph,
    query: Query,
    *,
    model: str | ModelEntry | None = None,
    memory_size: int | None = None,
    max_triples: int | None = None,
    seed: int = 0,
    votes: int = 1,
    nx_graph: nx.MultiDiGraph | None = None,
    threads: int | None = 1,
    trace: bool = False,
) -> Answer:
    """Answer ``query`` on ``graph`` with a trained model.

    Args:
        graph: the whole graph.
        query: from :func:`kgdnc.reasoning.query.parse_query`.
        model: a name, path or :class:`ModelEntry` (None: the bundled model of the
            query's task).
        memory_size: N (default: one slot per episode step, at least the trained N).
            Given, the description is limited to what it can hold besides the
            query (a sub-graph when the graph is bigger).
        max_triples: the most triples to describe (default 256, or what
            ``memory_size`` can hold); a bigger graph gives a query-focused sub-graph.
        seed: seed of the label draws.
        votes: label draws; the majority answer is reported with its agreement.
        nx_graph: ``graph.to_networkx()`` when the caller has it already.
        threads: torch CPU threads while the network runs (one is fastest for one
            query's small step-by-step tensors; None: leave torch's setting).
        trace: keep what the memory did (``Answer.trace``, a DNC and one vote only).

    Raises:
        UserError: bad options, a model trained on another task, a query with no
            exact answer.
    """
    if votes < 1:
        raise UserError(f"--votes must be at least 1, got {votes}")
    if trace and votes != 1:
        raise UserError("a memory picture shows one label draw; drop --votes")
    if memory_size is not None and memory_size < 1:
        raise UserError(f"--memory-size must be at least 1, got {memory_size}")
    if max_triples is not None and max_triples < 1:
        raise UserError(f"--max-triples must be at least 1, got {max_triples}")
    entry = model if isinstance(model, ModelEntry) else resolve_model(model, query.task)
    t0 = time.perf_counter()
    trained = load_model(entry)
    load_time = time.perf_counter() - t0
    if trained.task != query.task:
        raise UserError(
            f"model {entry.label()!r} was trained on {trained.task}; a {query.task} query "
            f"needs a {query.task} model (--model)"
        )
    limit = max_triples if max_triples is not None else DEFAULT_MAX_TRIPLES
    if memory_size is not None:
        budget = description_budget(query, memory_size)
        if budget < 1:
            raise UserError(
                f"--memory-size {memory_size} cannot hold this query; give at least "
                f"{memory_size - budget + 1} slots"
            )
        limit = budget if max_triples is None else min(max_triples, budget)
    g = nx_graph if nx_graph is not None else graph.to_networkx()
    episodes = [build_episode(g, query, draw_rng(seed, k), max_triples=limit)
                for k in range(votes)]
    is_dnc = trained.has_memory
    if trace and not is_dnc:
        raise UserError(
            f"model {entry.label()!r} is an LSTM baseline with no memory to picture; "
            "pass a DNC model"
        )
    n = memory_size or choose_memory_size(
        trained.model_config.memory_size, max(e.total_steps for e in episodes)
    )
    t1 = time.perf_counter()
    with torch_threads(threads):
        decoded, memory_trace = run_draws(trained.network, episodes, n, trace=trace)
    model_time = time.perf_counter() - t1
    draws = [verify_draw(g, qe, labels) for qe, labels in zip(episodes, decoded, strict=True)]
    answer = _collect(graph, g, query, entry, draws, n if is_dnc else None, seed, model_time,
                      load_time)
    answer.trace = memory_trace
    return answer


def _collect(
    graph: KnowledgeGraph,
    g: nx.MultiDiGraph,
    query: Query,
    entry: ModelEntry,
    draws: list[Draw],
    memory_size: int | None,
    seed: int,
    model_time: float,
    load_time: float,
) -> Answer:
    def key(d: Draw) -> tuple[Hashable, ...]:
        return (tuple(d.answer), d.terminated)

    counts = Counter(key(d) for d in draws)
    best_key, best_count = counts.most_common(1)[0]
    chosen = next(d for d in draws if key(d) == best_key)  # ties: the earliest draw
    expected = _expected(g, query)
    names = {}
    rel_names = {}
    used_nodes = {query.start, query.destination}
    for d in draws:
        for s, _, t in d.answer:
            used_nodes.update((s, t))
    for s, _, t in expected:
        used_nodes.update((s, t))
    ends: list[str] = []
    if query.task == "inference":
        ends = sorted(reachable(g, query.start, query.relations),
                      key=lambda n: graph.label(n))
        used_nodes.update(ends)
    for node in used_nodes:
        if node is not None and node in graph.nodes:
            names[node] = graph.label(node)
    for rel in graph.relations.values():
        rel_names[rel.id] = rel.label
    distance = (shortest_distance(g, query.start, query.destination)
                if query.task == "shortest-path" else None)
    return Answer(
        query=query,
        graph=graph.name,
        model=entry.label(),
        answer=chosen.answer,
        expected=expected,
        correct=chosen.correct,
        memory_size=memory_size,
        votes=len(draws),
        agreement=best_count / len(draws),
        draws=draws,
        focus=draws[0].episode.focus,
        names=names,
        relation_names=rel_names,
        reachable_ends=ends,
        shortest_length=distance,
        terminated=chosen.terminated,
        model_time_s=model_time,
        load_time_s=load_time,
        seed=seed,
        n_triples=draws[0].episode.n_triples,
    )


def ask(
    start: str,
    *,
    to: str | None = None,
    via: str | None = None,
    relation: str | None = None,
    graph: str | KnowledgeGraph | None = None,
    model: str | None = None,
    memory_size: int | None = None,
    max_triples: int | None = None,
    seed: int = 0,
    votes: int = 1,
    threads: int | None = 1,
    trace: bool = False,
) -> Answer:
    """The Python face of ``kgdnc query``: resolve the names, answer, verify.

    ``graph``: a stored or bundled graph's name, a ``KnowledgeGraph``, or None for
    the default graph. See :func:`answer_query` for the rest.
    """
    from kgdnc.graphs import load

    kg = graph if isinstance(graph, KnowledgeGraph) else load(graph)
    query = parse_query(kg, start, to=to, via=via, relation=relation)
    return answer_query(kg, query, model=model, memory_size=memory_size,
                        max_triples=max_triples, seed=seed, votes=votes, threads=threads,
                        trace=trace)

