"""Inference: complete ``(start, relation, _)`` for relations never shown (PAPER.md §2).

Edge labels are 0–9. A relation is a fixed sequence of 2–5 edge labels; the 400
relations (100 of each length) come from a table drawn once with a fixed seed
(:data:`RELATION_TABLE_SEED`) and keep their labels 10–409 in every episode, so
the network can learn what each relation label means from the error signal.

Episode layout: the description (all triples, random order), then for each of the
lesson's queries (3) its own block:

- query: ``(start, relation, _)``, flag 0 on;
- planning: 10 blank steps, flag 0 on the first;
- answer: one blank step with flags 0 and 1 on; target the completed triple
  ``(start, relation, end)``.

With ``plan_targets`` (training only, a lever: not in the paper) planning step k
of a query whose relation has L >= k edges also gets a loss-only target (never
scored): the k-th hop of the relation, the description triple that leaves the
node reached after k - 1 edges along the k-th edge label, so the planning steps
name the look-ups one hop a step.

In training, ``aux_recall`` recall blocks may end the episode (none by default):
``(s, e, _)`` with flag 0 on, then a blank step with flags 0 and 1 on whose
loss-only target (``Episode.aux``, never scored) is a description triple
``(s, e, d)`` (the auxiliary recall loss, Park et al. 2020).

Only (start, relation) pairs that can be followed in the graph are asked; the
queries of an episode are distinct when the graph allows it.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import networkx as nx

from kgdnc.errors import UserError
from kgdnc.tasks.curriculum import Lesson
from kgdnc.tasks.episode import Episode, EpisodeBuilder, episode_rng
from kgdnc.tasks.graphs import episode_graph, graph_triples, lesson_graph
from kgdnc.tasks.walks import one_walk

__all__ = [
    "EDGE_LABELS",
    "PLANNING_STEPS",
    "RELATIONS",
    "RELATION_LABEL_OFFSET",
    "RELATION_LENGTHS",
    "RELATION_TABLE_SEED",
    "Relation",
    "fits_table",
    "follow_relation",
    "match_relation",
    "inference_episode",
    "make_episode",
    "relation_table",
]

EDGE_LABELS = range(10)
RELATION_LENGTHS = (2, 3, 4, 5)
RELATIONS_PER_LENGTH = 100
RELATION_LABEL_OFFSET = 10
RELATION_TABLE_SEED = 20161012  # the paper's publication date
PLANNING_STEPS = 10
_TRIES = 200


@dataclass(frozen=True)
class Relation:
    """A relation: its fixed label and the edge labels it composes, in order."""

    label: int
    edges: tuple[int, ...]


def relation_table(seed: int = RELATION_TABLE_SEED) -> tuple[Relation, ...]:
    """The 400 relations: for each length 2–5 in turn, 100 distinct sequences of edge
    labels 0–9 drawn uniformly without repeats (for length 2 that is every pair,
    in random order); labels 10, 11, ... in table order."""
    rng = random.Random(seed)
    out: list[Relation] = []
    for length in RELATION_LENGTHS:
        for code in rng.sample(range(10**length), RELATIONS_PER_LENGTH):
            edges = tuple(int(c) for c in f"{code:0{length}d}")
            out.append(Relation(RELATION_LABEL_OFFSET + len(out), edges))
    return tuple(out)


RELATIONS: tuple[Relation, ...] = relation_table()


def _fitting(
    names: Sequence[Hashable], relations: Sequence[Relation]
) -> list[tuple[Relation, dict[Hashable, int]]]:
    fits = []
    for rel in relations:
        if len(rel.edges) != len(names):
            continue
        pairs = set(zip(names, rel.edges, strict=True))
        if len(pairs) == len({n for n, _ in pairs}) == len({e for _, e in pairs}):
            fits.append((rel, dict(pairs)))
    return fits


def fits_table(names: Sequence[Hashable], relations: Sequence[Relation] = RELATIONS) -> bool:
    """Whether some table relation can stand for the sequence of relation names
    (see :func:`match_relation`); e.g. only some 4-step patterns such as
    ``brother/brother/sister/brother`` have a table relation of the same shape."""
    return bool(_fitting(names, relations))


def match_relation(
    names: Sequence[Hashable],
    rng: random.Random,
    relations: Sequence[Relation] = RELATIONS,
) -> tuple[Relation, dict[Hashable, int]]:
    """A table relation that can stand for a user's sequence of relation names.

    A relation fits when the names can be given edge labels one-to-one so that
    the sequence becomes its edge sequence (e.g. ``mother/mother/brother`` fits
    ``(3, 3, 7)``); one fitting relation is drawn uniformly.

    Returns:
        The relation and the name -> edge label map to pin with
        ``relabel_for_episode(..., fixed_relations=...)``.

    Raises:
        UserError: no relation of the table fits (lengths 2–5 only).
    """
    fits = _fitting(names, relations)
    if not fits:
        raise UserError(
            f"no relation of {len(names)} steps in the relation table fits "
            f"{'/'.join(map(str, names))}; use 2-5 steps or another composition"
        )
    return rng.choice(fits)


def follow_relation(graph: nx.MultiDiGraph, start: int, edges: Sequence[int]) -> int | None:
    """The node reached from ``start`` along the edge labels ``edges`` (the end of
    :func:`kgdnc.tasks.walks.one_walk`), or None."""
    walk = one_walk(graph, start, edges)
    return walk[-1][2] if walk else None


def _followable(
    graph: nx.MultiDiGraph, relations: Sequence[Relation]
) -> dict[int, list[tuple[int, Relation, int]]]:
    """By relation length: every (start, relation, end) that can be followed."""
    step = {(u, d): v for u, v, d in graph.edges(data="relation")}
    # Where each prefix of edge labels leads from every start that can follow it
    # (starts in sorted order); relations share prefixes, so each is walked once.
    ends: dict[tuple[int, ...], dict[int, int]] = {(): {s: s for s in sorted(graph.nodes)}}

    def reach(edges: tuple[int, ...]) -> dict[int, int]:
        known = len(edges)
        while edges[:known] not in ends:
            known -= 1
        found = ends[edges[:known]]
        for i in range(known, len(edges)):
            label = edges[i]
            found = {s: v for s, n in found.items() if (v := step.get((n, label))) is not None}
            ends[edges[: i + 1]] = found
        return found

    out: dict[int, list[tuple[int, Relation, int]]] = {}
    for rel in relations:
        found = reach(tuple(rel.edges))
        if found:
            out.setdefault(len(rel.edges), []).extend((s, rel, v) for s, v in found.items())
    return out


def _choose_queries(
    graph: nx.MultiDiGraph, lesson: Lesson, rng: random.Random, relations: Sequence[Relation]
) -> list[tuple[int, Relation, int]] | None:
    """Pick ``lesson.queries`` followable queries: per query a relation length drawn
    from ``lesson.length`` (another length in range when none of it can be
    followed), then a pair uniformly among those not yet asked. None: nothing in
    range can be followed."""
    lengths = range(lesson.length[0], lesson.length[1] + 1)
    by_length = _followable(graph, [r for r in relations if len(r.edges) in lengths])
    if not by_length:
        return None
    chosen: list[tuple[int, Relation, int]] = []
    for _ in range(lesson.queries):
        order = [rng.randint(*lesson.length)]
        order += rng.sample([n for n in lengths if n != order[0]], len(lengths) - 1)
        pool: list[tuple[int, Relation, int]] = []
        for n in order:
            pool = by_length.get(n, [])
            if pool:
                break
        fresh = [q for q in pool if q not in chosen] or pool
        # The relation first, uniformly among those followable here, then its
        # start: every relation gets its share, however many starts it has.
        relation = rng.choice(sorted({q[1].label for q in fresh}))
        chosen.append(rng.choice([q for q in fresh if q[1].label == relation]))
    return chosen


def inference_episode(
    graph: nx.MultiDiGraph,
    queries: Sequence[tuple[int, Relation]],
    rng: random.Random,
    *,
    lesson: int = 0,
    seed: int | None = None,
    planning_steps: int = PLANNING_STEPS,
    ends: Sequence[int] | None = None,
    aux_recall: int = 0,
    plan_targets: bool = False,
) -> Episode:
    """The episode for given (start, relation) queries on a graph in label space.
    The completed triples end at ``ends`` when given (one node of each query's
    reachable set), else where :func:`follow_relation` leads. ``aux_recall``
    recall blocks (drawn with ``rng``) end the episode; ``plan_targets`` gives the
    planning steps the relation's hops as loss-only targets (a query whose end
    is given elsewhere than the walk's gets none)."""
    description = graph_triples(graph)
    rng.shuffle(description)
    b = EpisodeBuilder()
    b.describe(description)
    answers = []
    for i, (start, rel) in enumerate(queries):
        end = ends[i] if ends is not None else follow_relation(graph, start, rel.edges)
        if end is None:
            raise UserError(f"relation {rel.label} cannot be followed from node {start}")
        b.add((start, rel.label, None), phase=True)
        hops = one_walk(graph, start, rel.edges) if plan_targets else []
        b.plan(planning_steps, hops if hops and hops[-1][2] == end else ())
        answer = (start, rel.label, end)
        b.add(phase=True, answer=True, target=answer)
        answers.append(answer)
    recalled = b.recall(description, aux_recall, rng)
    lengths = [len(rel.edges) for _, rel in queries]
    meta = {
        "task": "inference",
        "lesson": lesson,
        "seed": seed,
        "answers": answers,
        "relations": [rel.edges for _, rel in queries],
        "lengths": lengths,
        "length": max(lengths),
        "n_triples": len(description),
    }
    if recalled:
        meta["recall"] = recalled
    names = {n: d["name"] for n, d in graph.nodes(data=True) if "name" in d}
    if names:
        meta["node_names"] = names
    return b.build(meta)


def make_episode(
    lesson: Lesson,
    rng: random.Random | int,
    graph: nx.MultiDiGraph | None = None,
    *,
    max_triples: int | None = None,
    planning_steps: int = PLANNING_STEPS,
    relations: Sequence[Relation] = RELATIONS,
    aux_recall: int = 0,
    plan_targets: bool = False,
) -> Episode:
    """An inference episode with ``lesson.queries`` queries.

    Random graphs use edge labels 0–9 (all ten, distinct per source node); a
    graph with no followable relation in the lesson's range is drawn
    again. A user ``graph`` (at most 10 relations, distinct per source node) is
    relabelled with edge labels 0–9, a sub-graph around a random node when it is
    too big. ``aux_recall``: recall blocks at the end (training's auxiliary
    recall loss); ``plan_targets``: the relations' hops as the planning steps'
    loss-only targets (training's plan loss).
    """
    rng, seed = episode_rng(rng)
    for _ in range(_TRIES):
        if graph is None:
            g = lesson_graph(lesson, rng, edge_labels=EDGE_LABELS, label_count=len(EDGE_LABELS))
        else:
            g = episode_graph(graph, rng, max_triples=max_triples, edge_labels=EDGE_LABELS).graph
        queries = _choose_queries(g, lesson, rng, relations)
        if queries is not None:
            return inference_episode(
                g,
                [(s, rel) for s, rel, _ in queries],
                rng,
                lesson=lesson.index,
                seed=seed,
                planning_steps=planning_steps,
                aux_recall=aux_recall,
                plan_targets=plan_targets,
            )
    raise UserError(
        f"no relation of length {lesson.length[0]}-{lesson.length[1]} from the relation "
        "table can be followed in the graph; use shorter relations or a denser graph"
    )
