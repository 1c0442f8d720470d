"""The workspace: graphs stored on disk under ``$KGDNC_HOME/graphs`` (default ``~/.kgdnc``).

One folder per graph::

    graphs/<name>/triples.tsv      head<TAB>relation<TAB>tail, ids, no header (PyKEEN's)
    graphs/<name>/nodes.tsv        id<TAB>label<TAB>attributes (JSON), with a header
    graphs/<name>/relations.tsv    id<TAB>label, with a header
    graphs/<name>/edge_attributes.jsonl  [head, relation, tail, {attributes}] (when any)
    graphs/<name>/meta.json        source, sha256, format, counts, created, report
    graphs/.default                the name of the default graph

A graph is written into a temporary folder beside its final place and renamed
into place only when complete, so a crash or an error never leaves a partial
graph. Names are checked before anything is read.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgdnc import __version__
from kgdnc.atomic import remove_folder, replace_folder, write_text
from kgdnc.errors import KgdncError, UserError
from kgdnc.graphs.graph import KnowledgeGraph

STORE_FORMAT = 1
FALLBACK_GRAPH = "london-underground"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_DEFAULT_FILE = ".default"


def home() -> Path:
    """The workspace folder: ``$KGDNC_HOME``, else ``~/.kgdnc``."""
    value = os.environ.get("KGDNC_HOME")
    return Path(value).expanduser() if value else Path.home() / ".kgdnc"


def graphs_dir() -> Path:
    """The folder that holds one sub-folder per stored graph."""
    return home() / "graphs"


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid graph name, else raise ``UserError``."""
    if not isinstance(name, str) or not name.strip():
        raise UserError("graph name is empty; give the graph a name (the name option)")
    if "/" in name or "\\" in name or ".." in name or not _NAME.match(name):
        raise UserError(
            f"invalid graph name {name!r}: use letters, digits, '.', '_' or '-' "
            "(starting with a letter or digit, no '/', no '..', at most 100 characters)"
        )
    return name


def exists(name: str) -> bool:
    """Whether a graph of that name is stored."""
    return (graphs_dir() / validate_name(name) / "meta.json").is_file()


def stored_names() -> list[str]:
    """Names of the stored graphs, sorted."""
    folder = graphs_dir()
    if not folder.is_dir():
        return []
    return sorted(
        p.name for p in folder.iterdir() if _NAME.match(p.name) and (p / "meta.json").is_file()
    )


# ---------------------------------------------------------------- writing


def _tsv_line(*cells: str) -> str:
    return "\t".join(cells) + "\n"


def _write_triples(graph: KnowledgeGraph, folder: Path) -> None:
    with open(folder / "triples.tsv", "w", encoding="utf-8", newline="\n") as f:
        for h, r, t in graph.triples:
            f.write(_tsv_line(h, r, t))


def _write_nodes(graph: KnowledgeGraph, folder: Path) -> None:
    with open(folder / "nodes.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.write(_tsv_line("id", "label", "attributes"))
        for node in graph.nodes.values():
            attrs = json.dumps(dict(node.attributes), ensure_ascii=False, sort_keys=True)
            f.write(_tsv_line(node.id, node.label, attrs if node.attributes else ""))


def _write_relations(graph: KnowledgeGraph, folder: Path) -> None:
    with open(folder / "relations.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.write(_tsv_line("id", "label"))
        for rel in graph.relations.values():
            f.write(_tsv_line(rel.id, rel.label))


def _write_edge_attributes(graph: KnowledgeGraph, folder: Path) -> None:
    lines = [
        json.dumps([*t, dict(graph.edge_attributes(t))], ensure_ascii=False)
        for t in graph.triples
        if graph.edge_attributes(t)
    ]
    if lines:
        (folder / "edge_attributes.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_meta(meta: dict[str, Any], folder: Path) -> None:
    (folder / "meta.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def save(graph: KnowledgeGraph, name: str | None = None, *, force: bool = False) -> Path:
    """Store ``graph`` as ``name`` (default: ``graph.name``) atomically; returns its folder.

    An existing graph of that name is replaced only with ``force``.
    """
    name = validate_name(graph.name if name is None else name)
    root = graphs_dir()
    final = root / name
    if final.exists() and not force:
        raise UserError(f"a graph named {name!r} is already stored; replace it (the force "
                        "option) or choose another name")
    root.mkdir(parents=True, exist_ok=True)
    meta = {
        "name": name,
        "source": graph.meta.get("source"),
        "sha256": graph.meta.get("sha256"),
        "format": graph.meta.get("format"),
        "counts": {
            "nodes": len(graph.nodes),
            "triples": len(graph),
            "relations": len(graph.relations),
        },
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "options": graph.meta.get("options", {}),
        "report": graph.meta.get("report", {}),
        "kgdnc_version": __version__,
        "store_format": STORE_FORMAT,
    }
    with replace_folder(root, name) as tmp:
        _write_triples(graph, tmp)
        _write_nodes(graph, tmp)
        _write_relations(graph, tmp)
        _write_edge_attributes(graph, tmp)
        _write_meta(meta, tmp)
    return final


def remove(name: str) -> None:
    """Delete a stored graph (and the default pointer if it named it)."""
    from kgdnc.graphs.datasets import BUNDLED

    validate_name(name)
    if not exists(name):
        if name in BUNDLED:
            raise UserError(f"{name!r} is a bundled dataset and cannot be removed")
        raise UserError(_unknown_message(name))
    root = graphs_dir()
    remove_folder(root, name)
    if _pointer() == name:
        with contextlib.suppress(FileNotFoundError):
            (root / _DEFAULT_FILE).unlink()


# ---------------------------------------------------------------- default graph


def _pointer() -> str | None:
    try:
        value = (graphs_dir() / _DEFAULT_FILE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return value or None


def set_default(name: str) -> None:
    """Make ``name`` (a stored graph or a bundled dataset) the default graph."""
    from kgdnc.graphs.datasets import BUNDLED

    validate_name(name)
    if not exists(name) and name not in BUNDLED:
        raise UserError(_unknown_message(name))
    write_text(graphs_dir() / _DEFAULT_FILE, name + "\n")


def default_name() -> str:
    """The default graph: the last one ingested (if still there), else London Underground."""
    from kgdnc.graphs.datasets import BUNDLED

    name = _pointer()
    if name and _NAME.match(name) and (exists(name) or name in BUNDLED):
        return name
    return FALLBACK_GRAPH


# ---------------------------------------------------------------- reading


def read_meta(name: str) -> dict[str, Any]:
    """The ``meta.json`` of a stored graph."""
    path = graphs_dir() / validate_name(name) / "meta.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(_unknown_message(name)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KgdncError(
            f"stored graph {name!r} is damaged ({path}: {exc}); re-ingest it"
        ) from None


def load_stored(name: str) -> KnowledgeGraph:
    """Read a stored graph back, labels, attributes and meta included."""
    meta = read_meta(name)
    folder = graphs_dir() / name
    graph = KnowledgeGraph(name)
    try:
        for line in _lines(folder / "nodes.tsv", header=True):
            node_id, label, attrs = (line.split("\t") + ["", ""])[:3]
            graph.add_node(node_id, label, json.loads(attrs) if attrs else None)
        for line in _lines(folder / "relations.tsv", header=True):
            rel_id, label = (line.split("\t") + [""])[:2]
            graph.add_relation(rel_id, label or None)
        for line in _lines(folder / "triples.tsv", header=False):
            head, rel, tail = line.split("\t")
            graph.add_triple(head, rel, tail)
        edge_file = folder / "edge_attributes.jsonl"
        if edge_file.is_file():
            for line in _lines(edge_file, header=False):
                head, rel, tail, attrs = json.loads(line)
                graph.set_edge_attributes((head, rel, tail), attrs)
    except (ValueError, KeyError, IndexError, FileNotFoundError, UserError) as exc:
        raise KgdncError(
            f"stored graph {name!r} is damaged ({exc}); remove it and ingest it again"
        ) from None
    graph.meta = meta
    return graph


def _lines(path: Path, header: bool) -> list[str]:
    lines = path.read_text(encoding="utf-8").split("\n")
    body = lines[1:] if header else lines
    return [line for line in body if line]


def load(name: str | None = None) -> KnowledgeGraph:
    """A graph by name: a stored graph first, else a bundled dataset.

    With no name, the default graph: the last one ingested, else ``london-underground``.
    """
    from kgdnc.graphs.datasets import BUNDLED, load_bundled

    if name is None:
        name = default_name()
    validate_name(name)
    if exists(name):
        return load_stored(name)
    if name in BUNDLED:
        return load_bundled(name)
    raise UserError(_unknown_message(name))


def _unknown_message(name: str) -> str:
    import difflib

    from kgdnc.graphs.datasets import BUNDLED

    known = stored_names() + [b for b in BUNDLED if b not in stored_names()]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
    return f"no graph named {name!r}; {hint}`kgdnc graphs list` shows the graphs"


# ---------------------------------------------------------------- the ingest command


@dataclass(frozen=True)
class GraphEntry:
    """One line of ``kgdnc graphs list``."""

    name: str
    kind: str  # "stored" or "bundled"
    default: bool
    nodes: int | None
    triples: int | None
    relations: int | None
    source: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def list_graphs() -> list[GraphEntry]:
    """Stored graphs, then the bundled datasets not shadowed by a stored one."""
    from kgdnc.graphs.datasets import BUNDLED

    default = default_name()
    entries = []
    for name in stored_names():
        try:
            meta = read_meta(name)
        except KgdncError:
            meta = {}
        counts = meta.get("counts", {})
        entries.append(
            GraphEntry(
                name,
                "stored",
                name == default,
                counts.get("nodes"),
                counts.get("triples"),
                counts.get("relations"),
                meta.get("source"),
            )
        )
    stored = {e.name for e in entries}
    for name, description in BUNDLED.items():
        if name not in stored:
            entries.append(
                GraphEntry(name, "bundled", name == default, None, None, None, description)
            )
    return entries


def describe(graph: KnowledgeGraph) -> dict[str, Any]:
    """The summary printed by ``kgdnc ingest`` and ``kgdnc graphs show``."""
    out: dict[str, Any] = {"name": graph.name}
    out.update(graph.summary().as_dict())
    for key in ("source", "format", "sha256", "created"):
        if graph.meta.get(key):
            out[key] = graph.meta[key]
    report = graph.meta.get("report")
    if report:
        out["report"] = report
    return out


def ingest_to_store(
    path: str | Path,
    name: str | None = None,
    *,
    force: bool = False,
    make_default: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Ingest a file, store it, make it the default graph; returns :func:`describe`'s dict.

    The name is checked before the file is read; on any error nothing is stored.
    """
    from kgdnc.graphs.ingest import default_name as name_for
    from kgdnc.graphs.ingest import ingest

    name = validate_name(name if name is not None else name_for(Path(path)))
    if not force and exists(name):
        raise UserError(f"a graph named {name!r} is already stored; replace it (the force "
                        "option) or choose another name")
    graph = ingest(path, name=name, **options)
    folder = save(graph, name, force=force)
    if make_default:
        set_default(name)
    graph.meta = read_meta(name)
    summary = describe(graph)
    summary["stored"] = str(folder)
    summary["default"] = make_default
    return summary


def export_graph(
    name: str | None, fmt: str, out: str | Path | None = None, labels: bool = False
) -> str | None:
    """Export a stored or bundled graph (see :mod:`kgdnc.graphs.export`); returns the
    text when ``out`` is None, else writes it there atomically."""
    from kgdnc.graphs.export import check_out_path, export_text

    target = check_out_path(out) if out is not None else None
    text = export_text(load(name), fmt, labels=labels)
    if target is None:
        return text
    write_text(target, text)
    return None
