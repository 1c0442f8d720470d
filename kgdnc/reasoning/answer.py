"""Answer a query with a trained DNC and check the answer against the exact one.

For each label draw (``votes`` of them, seeded), the query becomes an episode
exactly as in training (:mod:`kgdnc.reasoning.kinds`); the network runs on it
with a memory sized to the episode (or the size asked for); its decoded triples
are mapped back to the graph's ids through the draw's label maps. Shortest path
answers interactively, as in training (:func:`kgdnc.training.rollout.play`):
each answer step scores only the triples leaving the current node
(renormalised over them) and the network's own previous choice is its next
input; the walk stops at the destination, at a node with no way out, or after
``SHORTEST_PATH_MAX_STEPS`` (64) steps (or as many as the episode's graph has
nodes), whichever comes first.

Every answer — the majority one when voting — is checked on the whole graph
and reported with an exact answer beside it (:class:`Answer`). Nothing is ever
replaced by the exact answer.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections import Counter
from collections.abc import Hashable, Iterator, Sequence

import networkx as nx
import torch
from torch import Tensor

from kgdnc.dnc import MemoryTrace
from kgdnc.errors import UserError
from kgdnc.graphs import KnowledgeGraph
from kgdnc.reasoning.episodes import DEFAULT_MAX_TRIPLES, Draw, LabelTriple, QueryEpisode
from kgdnc.reasoning.kinds import QueryKind, build_episode, kind_of
from kgdnc.reasoning.models import ModelEntry, load_model, resolve_model
from kgdnc.reasoning.query import Query, parse_query
from kgdnc.reasoning.result import Answer
from kgdnc.tasks.codec import check_decode
from kgdnc.tasks.episode import collate, decode_answers
from kgdnc.tasks.shortest_path import ShortestPathEpisode, ShortestPathRollout
from kgdnc.training.rollout import play
from kgdnc.training.trained import Network, description_budget

__all__ = [
    "Answer",
    "Draw",
    "answer_query",
    "ask",
    "draw_rng",
    "run_draws",
    "torch_threads",
    "verify_draw",
]


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


def run_draws(
    network: Network,
    episodes: Sequence[QueryEpisode],
    memory_size: int,
    *,
    trace: bool = False,
    decode: str = "digits",
) -> tuple[list[list[LabelTriple]], MemoryTrace | None]:
    """Run label draws as one batch; their decoded triples in label space.

    Args:
        network: ``DNC`` or ``LSTMBaseline`` in eval mode.
        episodes: draws of one task.
        memory_size: N for every draw.
        trace: also return the ``MemoryTrace`` of the batch (a DNC only), with
            every step including the interactive ones, (B, T, …).
        decode: ``digits`` (each digit's mode, the paper's) or ``nodes`` (sources
            and destinations the most probable of the described nodes; see
            :func:`~kgdnc.tasks.codec.check_decode`). Shortest path's moves are chosen among the
            node's triples either way.

    Returns:
        per draw the decoded triples (traversal: L + 1 answer steps; inference: 1;
        shortest path: the walk), and the trace or None.
    """
    state = network.initial_state(len(episodes), memory_size)
    traces: list[MemoryTrace] = []

    def forward(x: Tensor, st: object) -> tuple[Tensor, object]:
        if trace:
            y, st, tr = network.trace(x, st)  # type: ignore[union-attr]
            traces.append(tr)
            return y, st
        return network(x, st)

    with torch.inference_mode():  # no autograd at all: cheaper than no_grad per step
        made = [e.episode for e in episodes]
        if all(isinstance(e, ShortestPathEpisode) for e in made):
            roll = ShortestPathRollout(made, max_steps=[e.max_steps for e in episodes])  # type: ignore[arg-type]
            play(roll, forward, state, score=False)  # the walks are the answer
            decoded = [[tuple(t) for t in walk] for walk in roll.walks]
        else:
            batch = collate(made)  # type: ignore[arg-type]
            y, _ = forward(batch.inputs, state)
            labels = decode_answers(y, made, decode)  # (B, T, 3)
            decoded = [[tuple(int(v) for v in row) for row in labels[i][batch.mask[i]]]
                       for i in range(len(made))]
    joined = None
    if traces:
        joined = MemoryTrace(*(torch.cat(parts, dim=1) for parts in zip(*traces, strict=True)))
    return decoded, joined  # type: ignore[return-value]


def verify_draw(graph: nx.MultiDiGraph, qe: QueryEpisode, labels: list[LabelTriple]) -> Draw:
    """Map a draw's decoded labels back to the graph and check them."""
    return kind_of(qe.query.task).check(graph, qe, labels)


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
    decode: str = "digits",
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
        decode: ``digits`` (the paper's) or ``nodes`` (:func:`~kgdnc.tasks.codec.check_decode`).

    Raises:
        UserError: bad options, a model trained on another task, a query with no
            exact answer.
    """
    if votes < 1:
        raise UserError(f"votes must be at least 1, got {votes}")
    check_decode(decode, query.task)
    if trace and votes != 1:
        raise UserError("a memory picture shows one label draw; ask with one vote")
    if memory_size is not None and memory_size < 1:
        raise UserError(f"the memory size must be at least 1 slot, got {memory_size}")
    if max_triples is not None and max_triples < 1:
        raise UserError(f"max_triples must be at least 1, got {max_triples}")
    entry = model if isinstance(model, ModelEntry) else resolve_model(model, query.task)
    t0 = time.perf_counter()
    trained = load_model(entry)
    load_time = time.perf_counter() - t0
    if trained.task != query.task:
        raise UserError(
            f"model {entry.label()!r} was trained on {trained.task}; a {query.task} query "
            f"needs a {query.task} model"
        )
    if trace and not trained.has_memory:
        raise UserError(
            f"model {entry.label()!r} is an LSTM baseline with no memory to picture; "
            "pass a DNC model"
        )
    kind = kind_of(query.task)
    planning = trained.config.planning_steps
    limit = max_triples if max_triples is not None else DEFAULT_MAX_TRIPLES
    if memory_size is not None:
        budget = description_budget(memory_size, kind.other_steps(query, planning))
        if budget < 1:
            raise UserError(
                f"a memory of {memory_size} slots cannot hold this query; give at least "
                f"{memory_size - budget + 1} slots"
            )
        limit = min(limit, budget) if max_triples is not None else budget
    g = nx_graph if nx_graph is not None else graph.to_networkx()
    episodes = [build_episode(g, query, draw_rng(seed, k), max_triples=limit,
                              planning_steps=planning) for k in range(votes)]
    n = memory_size or trained.memory_size_for(max(e.total_steps for e in episodes))
    t1 = time.perf_counter()
    with torch_threads(threads):
        decoded, memory_trace = run_draws(trained.network, episodes, n, trace=trace,
                                          decode=decode)
    model_time = time.perf_counter() - t1
    draws = [kind.check(g, qe, labels) for qe, labels in zip(episodes, decoded, strict=True)]
    answer = _collect(graph, g, kind, query, entry, draws, n if trained.has_memory else None)
    answer.seed, answer.model_time_s, answer.load_time_s = seed, model_time, load_time
    answer.trace = memory_trace
    return answer


def _collect(
    graph: KnowledgeGraph,
    g: nx.MultiDiGraph,
    kind: QueryKind,
    query: Query,
    entry: ModelEntry,
    draws: list[Draw],
    memory_size: int | None,
) -> Answer:
    """The majority answer of ``draws`` (ties: the earliest draw) beside the exact one."""

    def key(d: Draw) -> tuple[Hashable, ...]:
        return (tuple(d.answer), d.terminated)

    best_key, best_count = Counter(key(d) for d in draws).most_common(1)[0]
    chosen = next(d for d in draws if key(d) == best_key)
    expected = kind.expected(g, query)
    ends = kind.ends(g, query)
    named = {query.start, query.destination, *ends}
    for triple in [*expected, *(t for d in draws for t in d.answer)]:
        named.update((triple[0], triple[2]))
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
        names={n: graph.label(n) for n in named if n is not None and n in graph.nodes},
        relation_names={rel.id: rel.label for rel in graph.relations.values()},
        reachable_ends=ends,
        shortest_length=kind.distance(g, query),
        terminated=chosen.terminated,
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
    decode: str = "digits",
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
                        trace=trace, decode=decode)

