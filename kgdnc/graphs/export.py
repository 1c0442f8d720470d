"""Write a :class:`KnowledgeGraph` out as a triples TSV or as Turtle.

TSV: headerless ``head<TAB>relation<TAB>tail`` (PyKEEN's format), ids or labels.
Turtle: ids that are IRIs stay IRIs, blank-node ids (``_:b…``) stay blank nodes,
other ids become ``<namespace><percent-encoded id>``; every node and relation
gets an ``rdfs:label``, node attributes become literals, so ``kgdnc ingest``
reads the file back with the same labels.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kgdnc.atomic import current_umask
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


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise UserError(f"{path} is a folder; give a file name for --out")
    if not path.parent.exists():
        raise UserError(f"folder {path.parent} does not exist; create it or change --out")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes files private; use the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_graph(
    name: str | None, fmt: str, out: str | Path | None = None, labels: bool = False
) -> str | None:
    """Export a stored or bundled graph; returns the text when ``out`` is None."""
    from kgdnc.graphs.store import load

    fmt = fmt.lower().strip()
    fmt = {"turtle": "ttl"}.get(fmt, fmt)
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"unknown export format {fmt!r}; use one of: {', '.join(EXPORT_FORMATS)}")
    graph = load(name)
    text = to_tsv(graph, labels=labels) if fmt == "tsv" else to_turtle(graph)
    if out is None:
        return text
    write_text_atomic(Path(out), text)
    return None
