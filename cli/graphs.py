"""``kgdnc graphs``: list, show, remove and export stored and bundled graphs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kgdnc.cli.main import app, user_errors

graphs_app = typer.Typer(
    name="graphs",
    help="List, show, remove and export graphs (stored and bundled).",
    no_args_is_help=True,
)
app.add_typer(graphs_app, name="graphs")


@graphs_app.command("list")
@user_errors
def list_(
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List stored graphs and bundled datasets; '*' marks the default graph."""
    from kgdnc.graphs.store import list_graphs

    entries = list_graphs()
    if json_:
        typer.echo(json.dumps([e.as_dict() for e in entries], ensure_ascii=False))
        return
    width = max(len(e.name) for e in entries)
    for e in entries:
        mark = "*" if e.default else " "
        if e.kind == "stored":
            detail = f"{e.nodes} nodes, {e.triples} triples, {e.relations} relations"
            if e.source:
                detail += f"  ({e.source})"
        else:
            detail = e.source or "bundled"
        typer.echo(f"{mark} {e.name:<{width}}  {e.kind:<7}  {detail}")


@graphs_app.command()
@user_errors
def show(
    name: Annotated[str, typer.Argument(help="Graph name (stored or bundled).")],
    json_: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Show a graph's statistics and where it came from."""
    from kgdnc.cli.ingest import print_summary
    from kgdnc.graphs.store import describe, load

    print_summary(describe(load(name)), json_)


@graphs_app.command()
@user_errors
def remove(name: Annotated[str, typer.Argument(help="Stored graph to delete.")]) -> None:
    """Delete a stored graph from the workspace."""
    from kgdnc.graphs.store import remove as remove_graph

    remove_graph(name)
    typer.echo(f"removed {name!r}")


@graphs_app.command()
@user_errors
def export(
    name: Annotated[str, typer.Argument(help="Graph name (stored or bundled).")],
    format_: Annotated[
        str, typer.Option("--format", help="tsv (headerless triples) or ttl (Turtle).")
    ] = "tsv",
    out: Annotated[
        Path | None, typer.Option("--out", help="Output file (default: stdout).")
    ] = None,
    labels: Annotated[
        bool, typer.Option("--labels", help="tsv: write display labels instead of ids.")
    ] = False,
) -> None:
    """Write a graph as a triples TSV or as Turtle."""
    from kgdnc.graphs.store import export_graph

    text = export_graph(name, format_, out, labels=labels)
    if text is not None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"wrote {out}", err=True)
