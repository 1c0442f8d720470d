"""The in-memory knowledge graph every other part of kgdnc works on.

A :class:`KnowledgeGraph` holds nodes (a stable id, a display label and free
attributes), relations (an id and a display label) and directed triples
``(head_id, relation_id, tail_id)``. Ids never change; labels are what people
type and read. The class is plain Python (no torch, no rdflib, no pandas):
``to_networkx`` is the bridge to graph algorithms.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from kgdnc.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

_SPACE = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Collapse every run of whitespace (tabs and newlines included) to one space."""
    return _SPACE.sub(" ", str(text)).strip()


@dataclass(frozen=True)
class Node:
    """A node: ``id`` is stable and unique, ``label`` is for people."""

    id: str
    label: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Relation:
    """A relation (edge type): ``id`` is stable and unique, ``label`` is for people."""

    id: str
    label: str


class Triple(NamedTuple):
    """One directed edge, by ids: ``head --relation--> tail``."""

    head: str
    relation: str
    tail: str


@dataclass(frozen=True)
class GraphSummary:
    """Counts and degree statistics of a graph (what ``kgdnc graphs show`` prints)."""

    nodes: int
    triples: int
    relations: int
    components: int
    isolated: int
    self_loops: int
    out_degree_min: int
    out_degree_mean: float
    out_degree_max: int
    in_degree_max: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "triples": self.triples,
            "relations": self.relations,
            "components": self.components,
            "isolated": self.isolated,
            "self_loops": self.self_loops,
            "out_degree": {
                "min": self.out_degree_min,
                "mean": round(self.out_degree_mean, 3),
                "max": self.out_degree_max,
            },
            "in_degree_max": self.in_degree_max,
        }


class KnowledgeGraph:
    """Nodes, relations and directed triples, with labels and attributes.

    Build one with :meth:`add_node`, :meth:`add_relation` and :meth:`add_triple`
    (a triple's endpoints and relation are created on the fly when unknown,
    labelled with their ids), or with :meth:`from_triples`.

    ``meta`` is a JSON-serialisable dict (source file, format, what ingestion
    skipped); the store saves it beside the graph.
    """

    def __init__(self, name: str = "graph") -> None:
        self.name = name
        self.meta: dict[str, Any] = {}
        self._nodes: dict[str, Node] = {}
        self._relations: dict[str, Relation] = {}
        self._triples: dict[Triple, dict[str, Any]] = {}
        self._out: dict[str, list[Triple]] = defaultdict(list)
        self._in: dict[str, list[Triple]] = defaultdict(list)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_triples(
        cls, triples: Iterable[tuple[str, str, str]], name: str = "graph"
    ) -> KnowledgeGraph:
        """A graph whose node and relation labels are their ids."""
        graph = cls(name)
        for head, relation, tail in triples:
            graph.add_triple(head, relation, tail)
        return graph

    def add_node(
        self, node_id: str, label: str | None = None, attributes: Mapping[str, Any] | None = None
    ) -> Node:
        """Add or update a node; a new label or new attributes replace/extend the old."""
        node_id = str(node_id)
        if not node_id or "\t" in node_id or "\n" in node_id or "\r" in node_id:
            raise UserError(
                f"invalid node id {node_id!r}: ids must be non-empty, one line, no tabs"
            )
        old = self._nodes.get(node_id)
        attrs = dict(old.attributes) if old else {}
        if attributes:
            attrs.update(attributes)
        if label is None:
            label = old.label if old else node_id
        node = Node(node_id, clean_text(label) or node_id, attrs)
        self._nodes[node_id] = node
        return node

    def add_relation(self, relation_id: str, label: str | None = None) -> Relation:
        """Add or relabel a relation."""
        relation_id = str(relation_id)
        if not relation_id or "\t" in relation_id or "\n" in relation_id or "\r" in relation_id:
            raise UserError(
                f"invalid relation id {relation_id!r}: ids must be non-empty, one line, no tabs"
            )
        old = self._relations.get(relation_id)
        if label is None:
            label = old.label if old else relation_id
        relation = Relation(relation_id, clean_text(label) or relation_id)
        self._relations[relation_id] = relation
        return relation

    def add_triple(
        self,
        head: str,
        relation: str,
        tail: str,
        attributes: Mapping[str, Any] | None = None,
    ) -> bool:
        """Add ``head --relation--> tail``; returns False (and changes nothing) for a duplicate."""
        triple = Triple(str(head), str(relation), str(tail))
        if triple in self._triples:
            return False
        for node_id in (triple.head, triple.tail):
            if node_id not in self._nodes:
                self.add_node(node_id)
        if triple.relation not in self._relations:
            self.add_relation(triple.relation)
        self._triples[triple] = dict(attributes or {})
        self._out[triple.head].append(triple)
        self._in[triple.tail].append(triple)
        return True

    # ------------------------------------------------------------------ reading
    @property
    def nodes(self) -> Mapping[str, Node]:
        """Nodes by id, in insertion order."""
        return self._nodes

    @property
    def relations(self) -> Mapping[str, Relation]:
        """Relations by id, in insertion order."""
        return self._relations

    @property
    def triples(self) -> list[Triple]:
        """Every triple, in insertion order."""
        return list(self._triples)

    def __len__(self) -> int:
        return len(self._triples)

    def __contains__(self, triple: object) -> bool:
        return triple in self._triples

    def __iter__(self) -> Iterator[Triple]:
        return iter(self._triples)

    def __repr__(self) -> str:
        return (
            f"KnowledgeGraph({self.name!r}, nodes={len(self._nodes)}, "
            f"relations={len(self._relations)}, triples={len(self._triples)})"
        )

    def edge_attributes(self, triple: tuple[str, str, str]) -> Mapping[str, Any]:
        """The attributes of one triple (empty when it has none)."""
        return self._triples[Triple(*triple)]

    def set_edge_attributes(
        self, triple: tuple[str, str, str], attributes: Mapping[str, Any]
    ) -> None:
        """Replace the attributes of an existing triple."""
        key = Triple(*triple)
        if key not in self._triples:
            raise KeyError(f"no triple {key}")
        self._triples[key] = dict(attributes)

    def out_edges(self, node_id: str) -> list[Triple]:
        """Triples leaving ``node_id``."""
        return list(self._out.get(node_id, ()))

    def in_edges(self, node_id: str) -> list[Triple]:
        """Triples arriving at ``node_id``."""
        return list(self._in.get(node_id, ()))

    def label(self, node_id: str) -> str:
        """The display label of a node."""
        return self._nodes[node_id].label

    def relation_label(self, relation_id: str) -> str:
        """The display label of a relation."""
        return self._relations[relation_id].label

    def labelled_triples(self) -> list[tuple[str, str, str]]:
        """Every triple as display labels ``(head_label, relation_label, tail_label)``."""
        n, r = self._nodes, self._relations
        return [(n[h].label, r[p].label, n[t].label) for h, p, t in self._triples]

    # ------------------------------------------------------------------ lookup
    def find_node(self, name: str) -> Node:
        """Resolve a user's name for a node: an exact id, else a case-insensitive label.

        Raises ``UserError`` listing the candidates when the label is ambiguous,
        or the closest names when nothing matches.
        """
        return self._find(name, self._nodes, "node")

    def find_relation(self, name: str) -> Relation:
        """Resolve a relation by exact id, else case-insensitive label (see :meth:`find_node`)."""
        return self._find(name, self._relations, "relation")

    def _find(self, name: str, items: Mapping[str, Any], kind: str) -> Any:
        if name in items:
            return items[name]
        wanted = clean_text(name).casefold()
        hits = [item for item in items.values() if item.label.casefold() == wanted]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            ids = ", ".join(repr(item.id) for item in hits[:10])
            more = f" and {len(hits) - 10} more" if len(hits) > 10 else ""
            raise UserError(
                f"{kind} name {name!r} is ambiguous in graph {self.name!r}: "
                f"it labels {ids}{more}; give the id instead"
            )
        labels = {item.label.casefold(): item.label for item in items.values()}
        close = difflib.get_close_matches(wanted, list(labels), n=5, cutoff=0.6)
        hint = (
            "did you mean " + ", ".join(repr(labels[c]) for c in close) + "?"
            if close
            else f"`kgdnc graphs show {self.name}` lists the graph"
        )
        raise UserError(f"no {kind} named {name!r} in graph {self.name!r}; {hint}")

    def follow(self, start: str, relations: Sequence[str]) -> list[str]:
        """Node ids reached from ``start`` by following ``relations`` (ids or labels) in order.

        The set of all endpoints of all matching paths, sorted; empty when none.
        """
        frontier = {self.find_node(start).id}
        for name in relations:
            rel = self.find_relation(name).id
            frontier = {
                t.tail for node in frontier for t in self._out.get(node, ()) if t.relation == rel
            }
        return sorted(frontier)

    # ------------------------------------------------------------------ derived graphs
    def subgraph(self, node_ids: Iterable[str], name: str | None = None) -> KnowledgeGraph:
        """The induced subgraph on ``node_ids`` (labels, attributes and meta kept)."""
        keep = [n for n in dict.fromkeys(node_ids) if n in self._nodes]
        keep_set = set(keep)
        sub = KnowledgeGraph(name or self.name)
        sub.meta = dict(self.meta)
        for node_id in keep:
            node = self._nodes[node_id]
            sub.add_node(node.id, node.label, node.attributes)
        for triple, attrs in self._triples.items():
            if triple.head in keep_set and triple.tail in keep_set:
                rel = self._relations[triple.relation]
                if rel.id not in sub._relations:
                    sub.add_relation(rel.id, rel.label)
                sub.add_triple(*triple, attributes=attrs)
        return sub

    def copy(self, name: str | None = None) -> KnowledgeGraph:
        """An independent copy."""
        return self.subgraph(self._nodes, name=name)

    def to_networkx(self) -> nx.MultiDiGraph:
        """A ``networkx.MultiDiGraph``: nodes keyed by id with a ``label`` attribute (plus
        the node's attributes), edges keyed by relation id with ``relation`` = the
        relation's display label, ``relation_id``, plus the edge's attributes."""
        import networkx as nx

        out = nx.MultiDiGraph(name=self.name)
        for node in self._nodes.values():
            attrs = {k: v for k, v in node.attributes.items() if k != "label"}
            out.add_node(node.id, **attrs, label=node.label)
        for triple, attrs in self._triples.items():
            extra = {k: v for k, v in attrs.items() if k not in ("relation", "relation_id")}
            out.add_edge(
                triple.head,
                triple.tail,
                key=triple.relation,
                **extra,
                relation=self._relations[triple.relation].label,
                relation_id=triple.relation,
            )
        return out

    # ------------------------------------------------------------------ statistics
    def summary(self) -> GraphSummary:
        """Counts, weakly connected components and degree statistics."""
        parent = {n: n for n in self._nodes}

        def root(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for h, _, t in self._triples:
            rh, rt = root(h), root(t)
            if rh != rt:
                parent[rh] = rt
        components = len({root(n) for n in self._nodes})
        outs = [len(self._out.get(n, ())) for n in self._nodes]
        ins = [len(self._in.get(n, ())) for n in self._nodes]
        isolated = sum(1 for o, i in zip(outs, ins, strict=True) if o == 0 and i == 0)
        return GraphSummary(
            nodes=len(self._nodes),
            triples=len(self._triples),
            relations=len(self._relations),
            components=components,
            isolated=isolated,
            self_loops=sum(1 for h, _, t in self._triples if h == t),
            out_degree_min=min(outs, default=0),
            out_degree_mean=(sum(outs) / len(outs)) if outs else 0.0,
            out_degree_max=max(outs, default=0),
            in_degree_max=max(ins, default=0),
        )
