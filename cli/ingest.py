"""``kgdnc ingest``: read an RDF or CSV/TSV file into the workspace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kgdnc.cli.main import app, user_errors


def print_summary(summary: dict[str, Any], as_json: bool) -> None:
    """Print a graph summary as aligned text or as one JSON object."""
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, sort_keys=True))
        return
    degree = summary.get("out_degree", {})
    rows = [
        ("graph", summary["name"]),
        ("nodes", summary["nodes"]),
        ("triples", summary["triples"]),
        ("relations", summary["relations"]),
        ("weakly connected components", summary["components"]),
        ("isolated nodes", summary["isolated"]),
        ("out-degree min/mean/max", f"{degree['min']} / {degree['mean']} / {degree['max']}"),
        ("in-degree max", summary["in_degree_max"]),
    ]
    for key in ("format", "source", "stored", "created"):
        if summary.get(key):
            rows.append((key, summary[key]))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        typer.echo(f"{key:<{width}}  {value}")
    for reason, count in summary.get("report", {}).items():
        typer.echo(f"  note: {count} {reason}")
    if summary.get("default"):
        typer.echo(f"{summary['name']!r} is now the default graph.")


@app.command()
@user_errors
def ingest(
    path: Annotated[
        Path,
        typer.Argument(help="RDF (ttl, nt, n3, rdf/xml, json-ld, trig, nq, trix) or CSV/TSV file."),
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="Graph name (default: the file name).")
    ] = None,
    format_: Annotated[
        str | None, typer.Option("--format", help="File format (default: from the suffix).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a stored graph of the same name.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    include_types: Annotated[
        bool,
        typer.Option(
            "--include-types", help="RDF: keep rdf:type as edges (default: node attributes)."
        ),
    ] = False,
    context: Annotated[
        Path | None,
        typer.Option(
            "--context", help="JSON-LD: a local context file used instead of remote ones."
        ),
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="CSV: the source column.")] = None,
    relation: Annotated[
        str | None, typer.Option("--relation", help="CSV: the relation column.")
    ] = None,
    target: Annotated[str | None, typer.Option("--target", help="CSV: the target column.")] = None,
    default_relation: Annotated[
        str | None,
        typer.Option(
            "--default-relation", help="CSV: relation label when the file has no relation column."
        ),
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help="CSV: delimiter (default: sniffed).")
    ] = None,
    undirected: Annotated[
        bool, typer.Option("--undirected", help="Add the reverse of every triple.")
    ] = False,
    skip_bad_rows: Annotated[
        bool,
        typer.Option("--skip-bad-rows", help="CSV: skip and count bad rows instead of failing."),
    ] = False,
) -> None:
    """Read a graph file, store it in the workspace, and make it the default graph."""
    from kgdnc.graphs.store import ingest_to_store

    summary = ingest_to_store(
        path,
        name,
        force=force,
        format=format_,
        include_types=include_types,
        context=str(context) if context else None,
        source=source,
        relation=relation,
        target=target,
        default_relation=default_relation,
        delimiter=delimiter,
        undirected=undirected,
        skip_bad_rows=skip_bad_rows,
    )
    print_summary(summary, json_)
