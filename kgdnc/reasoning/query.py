"""A user's query, its names resolved against a graph.

Three kinds, one per task:

- shortest path: ``--from A --to B``;
- traversal: ``--from A --via "e1,e2,…"`` (follow those relations in order);
- inference: ``--from A --relation "r1/r2/…"`` (a composition of 2–5 of the
  graph's relations), or a named alias such as ``maternal great uncle`` on a
  graph that has the family-tree relations (:data:`kgdnc.graphs.KINSHIP_ALIASES`).

Names are resolved with :meth:`KnowledgeGraph.find_node` and
:meth:`KnowledgeGraph.find_relation`: an exact id, else a case-insensitive label;
an ambiguous or unknown name is a :class:`UserError` listing the candidates or
the closest names.
"""

from __future__ import annotations

from dataclasses import dataclass

from kgdnc.errors import UserError
from kgdnc.graphs import KINSHIP_ALIASES, KnowledgeGraph
from kgdnc.graphs.graph import clean_text

__all__ = [
    "MAX_COMPOSITION",
    "MIN_COMPOSITION",
    "QUERY_TASKS",
    "Query",
    "parse_query",
    "resolve_composition",
    "resolve_via",
]

QUERY_TASKS = ("traversal", "shortest-path", "inference")
MIN_COMPOSITION = 2  # the inference relation table holds compositions of 2-5 relations
MAX_COMPOSITION = 5


@dataclass(frozen=True)
class Query:
    """One query on a graph, by ids.

    Attributes:
        task: ``traversal``, ``shortest-path`` or ``inference``.
        start: id of the node the query starts from.
        destination: id of the destination node (shortest path only).
        relations: relation ids to follow (traversal) or compose (inference).
        relation_text: the relation as the user named it (inference; e.g. an alias).
    """

    task: str
    start: str
    destination: str | None = None
    relations: tuple[str, ...] = ()
    relation_text: str | None = None

    def key(self) -> tuple[str, ...]:
        """A hashable identity of the query (held-out sets, votes)."""
        return (self.task, self.start, self.destination or "", *self.relations)


def resolve_via(graph: KnowledgeGraph, via: str) -> tuple[str, ...]:
    """``"e1,e2,…"`` -> relation ids (each an exact id or a case-insensitive label)."""
    text = via.strip()
    if not text:
        raise UserError("the relations to follow are empty; name them, e.g. 'e1,e2'")
    try:  # a relation whose own name holds a comma
        return (graph.find_relation(text).id,)
    except UserError:
        pass
    parts = [p.strip() for p in text.split(",")]
    if any(not p for p in parts):
        raise UserError(f"relations {via!r} have an empty relation name; separate names with ','")
    return tuple(graph.find_relation(p).id for p in parts)


def resolve_composition(graph: KnowledgeGraph, relation: str) -> tuple[str, ...]:
    """``"r1/r2/…"`` or a named alias (a kinship word) -> relation ids, 2–5 of them."""
    text = clean_text(relation)
    if not text:
        raise UserError("the relation composition is empty; give one such as 'mother/brother'")
    alias = KINSHIP_ALIASES.get(text.lower())
    if alias is not None:
        names: list[str] = list(alias)
    else:
        names = [p.strip() for p in text.split("/")]
        if any(not p for p in names):
            raise UserError(
                f"composition {relation!r} has an empty relation name; separate names with '/'"
            )
    if len(names) == 1:
        # one name that is neither an alias nor a composition
        rel = graph.find_relation(names[0])
        raise UserError(
            f"{relation!r} is the single relation {rel.label!r}; a relation query composes "
            f"{MIN_COMPOSITION}-{MAX_COMPOSITION} relations (to follow one, ask a traversal)"
        )
    if len(names) > MAX_COMPOSITION:
        raise UserError(
            f"composition {relation!r} has {len(names)} relations; at most "
            f"{MAX_COMPOSITION} are supported"
        )
    return tuple(graph.find_relation(n).id for n in names)


def parse_query(
    graph: KnowledgeGraph,
    start: str,
    *,
    to: str | None = None,
    via: str | None = None,
    relation: str | None = None,
) -> Query:
    """Resolve a query's names; exactly one of ``to``, ``via`` and ``relation``.

    Raises:
        UserError: none or several kinds given, unknown or ambiguous names.
    """
    given = [name for name, v in (("a destination", to), ("relations to follow", via),
                                  ("a composition", relation)) if v]
    if len(given) != 1:
        what = "none" if not given else " and ".join(given)
        raise UserError(
            f"give exactly one of a destination (shortest path), relations to follow "
            f"(traversal) or a relation composition (inference), got {what}"
        )
    if not start or not start.strip():
        raise UserError("the start node is empty; name the node the query starts from")
    source = graph.find_node(start).id
    if to is not None:
        return Query("shortest-path", source, destination=graph.find_node(to).id)
    if via is not None:
        return Query("traversal", source, relations=resolve_via(graph, via))
    assert relation is not None
    return Query(
        "inference",
        source,
        relations=resolve_composition(graph, relation),
        relation_text=clean_text(relation),
    )
