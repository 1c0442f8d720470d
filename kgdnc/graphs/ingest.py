"""Read RDF (rdflib) and CSV/TSV (pandas) files into a :class:`KnowledgeGraph`.

Every reader fails with a one-line ``UserError`` naming the file, the line
where it knows it, the problem and the fix. Nothing here ever touches the
network: remote JSON-LD contexts are refused (or replaced by a local file the
user gives), ``owl:imports`` is never followed, and rdflib's URL opener is
blocked while a file is parsed.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kgdnc.errors import UserError
from kgdnc.graphs.graph import KnowledgeGraph, clean_text

RDF_FORMATS = ("turtle", "nt", "n3", "xml", "json-ld", "trig", "nquads", "trix")
TABLE_FORMATS = ("csv", "tsv")
FORMATS = RDF_FORMATS + TABLE_FORMATS

_FORMAT_ALIASES = {
    "ttl": "turtle",
    "turtle": "turtle",
    "nt": "nt",
    "ntriples": "nt",
    "n-triples": "nt",
    "nt11": "nt",
    "n3": "n3",
    "xml": "xml",
    "rdf": "xml",
    "rdfxml": "xml",
    "rdf/xml": "xml",
    "rdf+xml": "xml",
    "application/rdf+xml": "xml",
    "owl": "xml",
    "json-ld": "json-ld",
    "jsonld": "json-ld",
    "trig": "trig",
    "nquads": "nquads",
    "nq": "nquads",
    "n-quads": "nquads",
    "trix": "trix",
    "csv": "csv",
    "tsv": "tsv",
    "tab": "tsv",
}

_SUFFIXES = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".nt": "nt",
    ".ntriples": "nt",
    ".n3": "n3",
    ".rdf": "xml",
    ".xml": "xml",
    ".owl": "xml",
    ".rdfxml": "xml",
    ".jsonld": "json-ld",
    ".json-ld": "json-ld",
    ".json": "json-ld",
    ".trig": "trig",
    ".nq": "nquads",
    ".nquads": "nquads",
    ".trix": "trix",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "tsv",
}


@dataclass(frozen=True)
class IngestOptions:
    """How to read one file (every field has a CLI option of the same name).

    ``format``: one of :data:`FORMATS` or an alias; None picks it from the suffix.
    ``include_types``: keep ``rdf:type`` statements as edges (default: node attributes).
    ``context``: a local JSON-LD context file used instead of any remote ``@context``.
    ``source``/``relation``/``target``: CSV column names (default: recognised by name).
    ``default_relation``: relation label for a CSV that has no relation column.
    ``delimiter``: CSV delimiter (default: sniffed among comma, tab, semicolon).
    ``undirected``: add the reverse of every triple.
    ``skip_bad_rows``: skip and count bad CSV rows instead of failing.
    """

    format: str | None = None
    include_types: bool = False
    context: str | None = None
    source: str | None = None
    relation: str | None = None
    target: str | None = None
    default_relation: str | None = None
    delimiter: str | None = None
    undirected: bool = False
    skip_bad_rows: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False)}


def ingest(path: str | Path, name: str | None = None, **options: Any) -> KnowledgeGraph:
    """Read an RDF or CSV/TSV file into a :class:`KnowledgeGraph` (nothing is stored).

    ``options`` are the fields of :class:`IngestOptions`. The graph's ``meta`` holds
    ``source``, ``sha256``, ``format``, ``options`` and a ``report`` of what was
    skipped or ignored and why.
    """
    try:
        opts = IngestOptions(**options)
    except TypeError as exc:
        known = ", ".join(IngestOptions.__dataclass_fields__)
        raise UserError(f"unknown ingest option ({exc}); known options: {known}") from None
    return ingest_with(path, opts, name=name)


def ingest_with(
    path: str | Path, options: IngestOptions, name: str | None = None
) -> KnowledgeGraph:
    """:func:`ingest` with the options as one :class:`IngestOptions`."""
    path = Path(path).expanduser()
    if not path.exists():
        raise UserError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise UserError(f"{path}: is a folder; give the path of one graph file")
    data = path.read_bytes()
    fmt = detect_format(path, options.format)
    if not data.strip():
        raise UserError(f"{path}: the file is empty; give a file that holds triples")
    if _looks_binary(data):
        raise UserError(
            f"{path}: looks like a binary file, not {fmt} text; give an RDF, CSV or TSV file"
        )
    graph = KnowledgeGraph(name or default_name(path))
    report: dict[str, int] = Counter()
    if fmt in TABLE_FORMATS:
        _read_table(path, data, fmt, options, graph, report)
    else:
        _read_rdf(path, data, fmt, options, graph, report)
    if len(graph) == 0:
        raise UserError(
            f"{path}: no triples found (nothing links two nodes); "
            "check the file's content and its format (the format option)"
        )
    graph.meta = {
        "source": str(path.resolve()),
        "sha256": hashlib.sha256(data).hexdigest(),
        "format": fmt,
        "options": options.as_dict(),
        "report": dict(sorted(report.items())),
    }
    return graph


def default_name(path: Path) -> str:
    """A valid graph name made from a file name (``My Graph.ttl`` -> ``My-Graph``)."""
    stem = path.name.split(".")[0] or "graph"
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")
    return name or "graph"


def detect_format(path: Path, given: str | None) -> str:
    """The canonical format name from ``given`` (any alias) or the file's suffix."""
    if given:
        fmt = _FORMAT_ALIASES.get(given.strip().lower())
        if fmt is None:
            raise UserError(f"unknown format {given!r}; use one of: {', '.join(FORMATS)}")
        return fmt
    suffix = path.suffix.lower()
    if suffix == ".gz":
        raise UserError(f"{path}: compressed files are not read; decompress it first")
    fmt = _SUFFIXES.get(suffix)
    if fmt is None:
        raise UserError(
            f"{path}: cannot tell the format from the suffix {suffix or '(none)'!r}; "
            f"name it with the format option (one of: {', '.join(FORMATS)})"
        )
    return fmt


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text (RDF/XML may be)
        return False
    return b"\x00" in head


# ====================================================================== RDF

_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_OWL = "http://www.w3.org/2002/07/owl#"
_LABEL_PREDICATES = {
    _RDFS + "label": 0,
    "http://www.w3.org/2004/02/skos/core#prefLabel": 1,
    "http://xmlns.com/foaf/0.1/name": 2,
    "http://schema.org/name": 3,
    "https://schema.org/name": 3,
}
_TYPE = _RDF + "type"
_IMPORTS = _OWL + "imports"
_TYPES_AS_ATTRIBUTES = "rdf:type statements kept as node attributes (--include-types: edges)"
_VOCABULARY_TYPES = {
    _OWL + "Ontology",
    _OWL + "Class",
    _RDFS + "Class",
    _RDF + "Property",
    _OWL + "ObjectProperty",
    _OWL + "DatatypeProperty",
    _OWL + "AnnotationProperty",
}


def _read_rdf(
    path: Path,
    data: bytes,
    fmt: str,
    options: IngestOptions,
    graph: KnowledgeGraph,
    report: Counter[str],
) -> None:
    import rdflib
    from rdflib.term import BNode, Literal

    dataset = rdflib.Dataset()
    with _no_network(path), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            if fmt == "json-ld":
                document = _jsonld_document(path, data, options.context)
                dataset.parse(
                    data=json.dumps(document),
                    format="json-ld",
                    publicID=path.resolve().as_uri(),
                )
            else:
                dataset.parse(source=str(path), format=fmt)
        except UserError:
            raise
        except Exception as exc:  # rdflib raises many types; all mean "bad syntax"
            raise UserError(_syntax_message(path, fmt, exc)) from None

    merged: dict[tuple[Any, Any, Any], None] = {}
    statements = 0
    for s, p, o, _g in dataset.quads((None, None, None, None)):
        statements += 1
        merged[(s, p, o)] = None
    if statements > len(merged):
        report["duplicate statements merged across named graphs"] = statements - len(merged)
    # rdflib's store order depends on hashing: sort so that ids and order are reproducible.
    bnode_ids = _stable_bnode_ids(sorted(merged, key=_blank_key), BNode)

    def sort_key(quad: tuple[Any, Any, Any]) -> tuple[str, ...]:
        return tuple(bnode_ids[t] if isinstance(t, BNode) else t.n3() for t in quad)

    quads = sorted(merged, key=sort_key)
    prefixes = _prefixes(dataset)

    def is_resource(term: Any) -> bool:
        return not isinstance(term, Literal)

    # Labels of every subject (for nodes and predicates): best (priority, language) wins.
    best: dict[Any, tuple[int, int, str]] = {}
    for s, p, o in quads:
        rank = _LABEL_PREDICATES.get(str(p))
        if rank is None or not isinstance(o, Literal):
            continue
        lang = (o.language or "").lower()
        lang_rank = 0 if lang == "en" or lang.startswith("en-") else (1 if not lang else 2)
        key = (rank, lang_rank, clean_text(str(o)))
        if key[2] and (s not in best or key < best[s]):
            best[s] = key

    predicates = {p for _, p, _ in quads}
    classes = {o for _, p, o in quads if str(p) == _TYPE and is_resource(o)}
    vocabulary = {s for s, p, o in quads if str(p) == _TYPE and str(o) in _VOCABULARY_TYPES}
    if not options.include_types:
        vocabulary |= classes
    vocabulary |= predicates

    def node_id(term: Any) -> str:
        return bnode_ids[term] if isinstance(term, BNode) else str(term)

    def display(term: Any) -> str:
        if term in best:
            return best[term][2]
        if isinstance(term, BNode):
            return bnode_ids[term]
        return _local_name(str(term))

    def attribute_key(predicate: Any) -> str:
        iri = str(predicate)
        for namespace, prefix in prefixes:
            if iri.startswith(namespace) and len(iri) > len(namespace):
                local = iri[len(namespace) :]
                return f"{prefix}:{local}" if prefix else local
        return _local_name(iri)

    attributes: dict[Any, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    edges: list[tuple[Any, Any, Any]] = []
    for s, p, o in quads:
        pred = str(p)
        if pred == _IMPORTS:
            report["owl:imports not followed (kgdnc never fetches URLs)"] += 1
            continue
        if isinstance(o, Literal):
            if s in vocabulary:
                continue
            attributes[s][attribute_key(p)].append(str(o))
            report["literal values kept as node attributes"] += 1
            continue
        if pred == _TYPE and not options.include_types:
            if s not in vocabulary:
                attributes[s]["rdf:type"].append(display(o))
                report[_TYPES_AS_ATTRIBUTES] += 1
            continue
        if s in vocabulary:
            report["vocabulary statements skipped (classes and properties)"] += 1
            continue
        edges.append((s, p, o))

    def attrs_of(term: Any) -> dict[str, Any]:
        found = attributes.get(term, {})
        return {k: (v[0] if len(v) == 1 else sorted(v)) for k, v in found.items()}

    for subject in dict.fromkeys(s for s, _, _ in quads):
        if subject in vocabulary or subject not in attributes:
            continue
        graph.add_node(node_id(subject), display(subject), attrs_of(subject))
    for s, p, o in edges:
        for term in (s, o):
            if node_id(term) not in graph.nodes:
                graph.add_node(node_id(term), display(term), attrs_of(term))
        if str(p) not in graph.relations:
            graph.add_relation(str(p), display(p))
        graph.add_triple(node_id(s), str(p), node_id(o))
    if options.undirected:
        _add_reverse(graph, report)


_KNOWN_PREFIXES = {
    _RDF: "rdf",
    _RDFS: "rdfs",
    _OWL: "owl",
    "http://www.w3.org/2001/XMLSchema#": "xsd",
    "http://xmlns.com/foaf/0.1/": "foaf",
    "http://www.w3.org/2004/02/skos/core#": "skos",
    "http://schema.org/": "schema",
    "https://schema.org/": "schema",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
}


def _prefixes(dataset: Any) -> list[tuple[str, str]]:
    """(namespace, prefix) pairs, longest namespace first: the file's own, then well-known."""
    found = dict(_KNOWN_PREFIXES)
    for prefix, namespace in dataset.namespace_manager.namespaces():
        found.setdefault(str(namespace), str(prefix))
    return sorted(found.items(), key=lambda item: -len(item[0]))


def _blank_key(quad: tuple[Any, Any, Any]) -> tuple[str, ...]:
    from rdflib.term import BNode

    return tuple("_" if isinstance(t, BNode) else t.n3() for t in quad)


def _local_name(iri: str) -> str:
    """The last segment of an IRI (after ``#``, ``/`` or ``:``), percent-decoded."""
    from urllib.parse import unquote

    stripped = iri.rstrip("/#")
    for sep in ("#", "/", ":"):
        if sep in stripped:
            candidate = stripped.rsplit(sep, 1)[1]
            if candidate:
                return clean_text(unquote(candidate))
    return iri


def _stable_bnode_ids(quads: list[tuple[Any, Any, Any]], bnode_type: type) -> dict[Any, str]:
    """Blank-node ids that depend on the statements around each node, not on parse order.

    A blank node's signature is the sorted list of its statements with other blank
    nodes blanked out; equal signatures are told apart by first appearance.
    """
    signature: dict[Any, list[str]] = defaultdict(list)
    order: dict[Any, int] = {}
    for s, p, o in quads:
        for term in (s, o):
            if isinstance(term, bnode_type) and term not in order:
                order[term] = len(order)
        if isinstance(s, bnode_type):
            other = "_" if isinstance(o, bnode_type) else o.n3()
            signature[s].append(f"> {p.n3()} {other}")
        if isinstance(o, bnode_type):
            other = "_" if isinstance(s, bnode_type) else s.n3()
            signature[o].append(f"< {p.n3()} {other}")
    ids: dict[Any, str] = {}
    used: Counter[str] = Counter()
    for term in sorted(order, key=order.__getitem__):
        digest = hashlib.sha1("\n".join(sorted(signature[term])).encode()).hexdigest()[:12]
        base = f"_:b{digest}"
        used[base] += 1
        ids[term] = base if used[base] == 1 else f"{base}-{used[base]}"
    return ids


@contextlib.contextmanager
def _no_network(path: Path) -> Iterator[None]:
    """Make every URL rdflib tries to open fail at once with a clear message."""
    import rdflib.parser

    def refuse(request: Any) -> Any:
        url = getattr(request, "full_url", request)
        raise UserError(
            f"{path}: needs the remote resource {url}, and kgdnc never fetches URLs; "
            "download it and pass it as a local file (for a JSON-LD context: the context option)"
        )

    saved = rdflib.parser._urlopen
    rdflib.parser._urlopen = refuse  # type: ignore[assignment]
    try:
        yield
    finally:
        rdflib.parser._urlopen = saved  # type: ignore[assignment]


def _jsonld_document(path: Path, data: bytes, context_file: str | None) -> Any:
    """The JSON-LD document with every non-inline ``@context`` resolved locally.

    A remote context (``http:``, ``https:``, any URL) is replaced by ``context_file``
    when one is given, else refused; a relative one is read from beside the file.
    """
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UserError(f"{path}: JSON-LD must be UTF-8 text; re-save it as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path}: JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None

    local: Any = None
    if context_file is not None:
        local = _read_context_file(Path(context_file).expanduser())

    def resolve(ref: str) -> Any:
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", ref) and not ref.startswith("file:"):
            if local is None:
                raise UserError(
                    f"{path}: the JSON-LD @context {ref} is remote, and kgdnc never fetches "
                    "URLs; download it and name the file with the context option"
                )
            return local
        target = Path(ref.removeprefix("file://"))
        if not target.is_absolute():
            target = path.parent / target
        return _read_context_file(target)

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "@context":
                out[key] = walk_context(value)
            else:
                out[key] = walk(value)
        return out

    def walk_context(value: Any) -> Any:
        if isinstance(value, str):
            return walk_context(resolve(value))
        if isinstance(value, list):
            return [walk_context(item) for item in value]
        if isinstance(value, dict):
            value = dict(value)
            if "@import" in value:
                imported = resolve(str(value.pop("@import")))
                merged = dict(walk_context(imported)) if isinstance(imported, dict) else {}
                merged.update(value)
                value = merged
            # Scoped contexts inside term definitions may name contexts too.
            return {k: walk(v) if isinstance(v, dict | list) else v for k, v in value.items()}
        return value

    return walk(document)


def _read_context_file(target: Path) -> Any:
    try:
        loaded = json.loads(target.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise UserError(f"JSON-LD context file {target} not found; check the path") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"JSON-LD context file {target} is not valid JSON: {exc}") from None
    return loaded.get("@context", loaded) if isinstance(loaded, dict) else loaded


def _syntax_message(path: Path, fmt: str, exc: Exception) -> str:
    """One line: file, line (when rdflib or the XML parser tells it), the problem."""
    line: int | None = None
    get_line = getattr(exc, "getLineNumber", None)
    if callable(get_line):
        with contextlib.suppress(Exception):
            line = int(get_line())
    text = clean_text(str(exc))
    if line is None:
        match = re.search(r"\bline (\d+)", text)
        if match:
            line = int(match.group(1))
    if line is None and fmt in ("nt", "nquads"):
        line = _first_bad_line(path, fmt)
    text = re.sub(r"^\S+:\d+:\d+: ", "", text)  # the XML parser repeats file:line:column
    text = re.sub(r"at line \d+ of <[^>]*>:\s*", "", text)  # Turtle/N3 repeat the line
    text = re.sub(r"\s*at \^ in:.*$", "", text)  # ... and quote the whole document
    where = f" at line {line}" if line is not None else ""
    if len(text) > 200:
        text = text[:197] + "..."
    return (
        f"{path}: {fmt} syntax error{where}: {text} "
        f"(fix the file, or set the format option if it is not {fmt})"
    )


def _first_bad_line(path: Path, fmt: str) -> int | None:
    """For line-based formats: the number of the first line rdflib cannot parse alone."""
    import rdflib

    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, content in enumerate(lines, 1):
        if not content.strip() or content.lstrip().startswith("#"):
            continue
        try:
            rdflib.Dataset().parse(data=content + "\n", format=fmt)
        except Exception:
            return number
    return None


# ====================================================================== CSV / TSV

_SOURCE_NAMES = ("source", "src", "head", "subject", "from", "start", "origin")
_RELATION_NAMES = (
    "relation",
    "predicate",
    "relationship",
    "rel",
    "property",
    "label",
    "edge",
    "edge_label",
    "edge_type",
    "type",
    "line",
)
_TARGET_NAMES = ("target", "tgt", "dst", "destination", "tail", "object", "to", "end")


def _norm_column(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", clean_text(name).lower())


def _read_table(
    path: Path,
    data: bytes,
    fmt: str,
    options: IngestOptions,
    graph: KnowledgeGraph,
    report: Counter[str],
) -> None:
    import pandas as pd

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{path}:{line}: not UTF-8 text (byte {exc.start}); re-save the file as UTF-8"
        ) from None
    delimiter = options.delimiter or _sniff_delimiter(text, fmt)
    if delimiter == "\\t":
        delimiter = "\t"
    if len(delimiter) != 1:
        raise UserError(f"delimiter must be one character, got {delimiter!r}")

    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    try:
        start = 1
        for fields in reader:
            if any(cell.strip() for cell in fields):
                rows.append((start, fields))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UserError(f"{path}:{reader.line_num}: {exc}; fix the quoting") from None
    if not rows:
        raise UserError(f"{path}: the file has no rows; give a file that holds triples")

    header_line, first = rows[0]
    columns = [_norm_column(c) for c in first]
    explicit = [c for c in (options.source, options.relation, options.target) if c]
    recognised = any(c in _SOURCE_NAMES + _RELATION_NAMES + _TARGET_NAMES for c in columns)
    if explicit or recognised:
        header = [clean_text(c) for c in first]
        body = rows[1:]
        s_col = _pick_column(path, header, columns, options.source, _SOURCE_NAMES, "source")
        t_col = _pick_column(path, header, columns, options.target, _TARGET_NAMES, "target")
        r_col: int | None
        if options.default_relation and not options.relation:
            r_col = None
        else:
            taken = {s_col, t_col}
            r_col = _pick_column(
                path, header, columns, options.relation, _RELATION_NAMES, "relation", taken
            )
        width = len(header)
    elif len(first) == 3:
        header = ["head", "relation", "tail"]
        body = rows
        s_col, r_col, t_col = 0, 1, 2
        width = 3
    elif len(first) == 2 and options.default_relation:
        header = ["source", "target"]
        body = rows
        s_col, r_col, t_col = 0, None, 1
        width = 2
    else:
        raise UserError(
            f"{path}:{header_line}: no header naming the source, relation and target columns, "
            f"and {len(first)} columns (a headerless file needs exactly 3: head, relation, "
            "tail); add a header or name the columns with the source, relation and target "
            "options"
        )
    if not body:
        raise UserError(f"{path}: only a header, no rows; give a file that holds triples")

    keys = {s_col, t_col} | ({r_col} if r_col is not None else set())
    extra = [i for i in range(width) if i not in keys]
    good: list[list[str]] = []
    for line, fields in body:
        problem = None
        if len(fields) != width:
            problem = f"expected {width} columns, found {len(fields)}"
        else:
            for index in sorted(keys):
                if not clean_text(fields[index]):
                    problem = f"empty {header[index]!r} cell"
                    break
        if problem:
            if options.skip_bad_rows:
                report["bad rows skipped (--skip-bad-rows)"] += 1
                continue
            raise UserError(
                f"{path}:{line}: {problem}; fix the row, or skip bad rows (the skip-bad-rows "
                "option)"
            )
        good.append([clean_text(cell) for cell in fields])
    if not good:
        raise UserError(f"{path}: every row was bad; nothing to ingest")

    frame = pd.DataFrame(good, columns=[f"c{i}" for i in range(width)], dtype=str)
    key_cols = [f"c{s_col}", f"c{r_col}" if r_col is not None else None, f"c{t_col}"]
    if r_col is None:
        frame["rel"] = clean_text(options.default_relation or "")
        key_cols[1] = "rel"
    duplicated = frame.duplicated(subset=key_cols, keep="first")
    if int(duplicated.sum()):
        report["duplicate triples removed"] += int(duplicated.sum())
    frame = frame[~duplicated]
    extra_names = [header[i] or f"column {i + 1}" for i in extra]
    for record in frame.itertuples(index=False):
        values = list(record)
        head, rel, tail = (values[frame.columns.get_loc(c)] for c in key_cols)
        attrs = {name: values[i] for name, i in zip(extra_names, extra, strict=True) if values[i]}
        graph.add_triple(head, rel, tail, attrs)
    if options.undirected:
        _add_reverse(graph, report)


def _pick_column(
    path: Path,
    header: list[str],
    columns: list[str],
    given: str | None,
    names: tuple[str, ...],
    role: str,
    taken: set[int] | None = None,
) -> int:
    if given:
        wanted = _norm_column(given)
        if wanted in columns:
            return columns.index(wanted)
        raise UserError(
            f"{path}: missing column {given!r} (the {role} option); the columns are: "
            f"{', '.join(header)}"
        )
    for candidate in names:
        for index, column in enumerate(columns):
            if column == candidate and index not in (taken or set()):
                return index
    hint = " or give a default relation (the default-relation option)" if role == "relation" \
        else ""
    raise UserError(
        f"{path}: missing {role} column (looked for {', '.join(names[:4])}, ...); the columns "
        f"are: {', '.join(header)}; name it with the {role} option{hint}"
    )


def _sniff_delimiter(text: str, fmt: str) -> str:
    """Comma, tab or semicolon: the one that splits the first lines into equal widths."""
    lines = [line for line in text.splitlines() if line.strip()][:50]
    preferred = "\t" if fmt == "tsv" else ","
    scores: list[tuple[int, int, int, str]] = []
    for delim in ("\t", ",", ";"):
        widths = [len(row) for row in csv.reader(lines, delimiter=delim)]
        if not widths or max(widths) < 2:
            continue
        consistent = sum(1 for w in widths if w == widths[0])
        scores.append((consistent, int(delim == preferred), widths[0], delim))
    if not scores:
        return preferred
    return max(scores)[3]


def _add_reverse(graph: KnowledgeGraph, report: Counter[str]) -> None:
    added = 0
    for triple in graph.triples:
        if graph.add_triple(
            triple.tail, triple.relation, triple.head, graph.edge_attributes(triple)
        ):
            added += 1
    report["reverse triples added (--undirected)"] += added
