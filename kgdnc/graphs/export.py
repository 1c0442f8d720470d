"""Write a :class:`KnowledgeGraph` out as a triples TSV or as Turtle.

TSV: headerless ``head<TAB>relation<TAB>tail`` (PyKEEN's format), ids or labels.
Turtle: ids that are IRIs stay IRIs, blank-node ids (``_:b…``) stay blank nodes,
other ids become ``<namespace><percent-encoded id>``; every node and relation
gets an ``rdfs:label``, node attributes become literals, so ``kgdnc ingest``
reads the file back with the same labels.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kgdnc.errors import UserError
from kgdnc.graphs.graph import KnowledgeGraph

DEFAULT_NAMESPACE = "urn:kgdnc:"
EXPORT_FORMATS = ("tsv", "ttl")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")


def to_tsv(graph: KnowledgeGraph, labels: bool = False) -> str:
    """Headerless triples, one per line, as ids (default) or display labels."""
    rows = graph.labelled_triples() if labels else graph.triples
    return "".join("\t".join(row) + "\n" for row in rows)


def to_turtle(
    graph: KnowledgeGraph,
    namespace: str = DEFAULT_NAMESPACE,
    prefix: str = "kg",
    relation_namespace: str | None = None,
) -> str:
    """The graph as Turtle (see the module docstring for how ids map to IRIs)."""
    import rdflib
    from rdflib.namespace import RDFS

    rel_ns = relation_namespace or namespace
    rdf = rdflib.Graph()
    rdf.bind(prefix, rdflib.Namespace(namespace))
    if rel_ns != namespace:
        rdf.bind(prefix + "r", rdflib.Namespace(rel_ns))

    def term(identifier: str, base: str) -> Any:
        if identifier.startswith("_:"):
            return rdflib.BNode(identifier[2:])
        if _IRI.match(identifier) and not identifier.startswith(base):
            return rdflib.URIRef(identifier)
        return rdflib.URIRef(base + quote(identifier, safe=""))

    for node in graph.nodes.values():
        subject = term(node.id, namespace)
        rdf.add((subject, RDFS.label, rdflib.Literal(node.label)))
        for key, value in node.attributes.items():
            predicate = rdflib.URIRef(rel_ns + quote(key, safe=""))
            values = value if isinstance(value, list) else [value]
            for item in values:
                rdf.add((subject, predicate, rdflib.Literal(item)))
    for rel in graph.relations.values():
        rdf.add((term(rel.id, rel_ns), RDFS.label, rdflib.Literal(rel.label)))
    for h, r, t in graph.triples:
        rdf.add((term(h, namespace), term(r, rel_ns), term(t, namespace)))
    return rdf.serialize(format="turtle")


def check_out_path(path: str | Path) -> Path:
    """``path`` if a file can be written there (its folder exists, it is no folder)."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise UserError(f"{target} is a folder; give a file name to write")
    if not target.parent.exists():
        raise UserError(f"folder {target.parent} does not exist; create it or write elsewhere")
    return target


def export_text(graph: KnowledgeGraph, fmt: str, labels: bool = False) -> str:
    """The graph as ``tsv`` (ids, or display labels with ``labels``) or ``ttl`` text."""
    fmt = fmt.lower().strip()
    fmt = {"turtle": "ttl"}.get(fmt, fmt)
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"unknown export format {fmt!r}; use one of: {', '.join(EXPORT_FORMATS)}")
    return to_tsv(graph, labels=labels) if fmt == "tsv" else to_turtle(graph)
