"""``kgdnc query``: answer a shortest-path, traversal or relation query with the DNC."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from kgdnc.cli.main import Decode, app, user_errors


@app.command()
@user_errors
def query(
    from_: Annotated[str, typer.Option("--from", help="Node the query starts from (id or label).")],
    to: Annotated[
        str | None, typer.Option(help="Destination: ask for a shortest path.")
    ] = None,
    via: Annotated[
        str | None, typer.Option(help="Relations to follow in order, 'e1,e2,...' (traversal).")
    ] = None,
    relation: Annotated[
        str | None,
        typer.Option(help="Composition 'r1/r2/...' of 2-5 relations, or a kinship word."),
    ] = None,
    graph: Annotated[
        str | None, typer.Option(help="Graph name [default: the last ingested graph].")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Model name or .ckpt path [default: the bundled one].")
    ] = None,
    memory_size: Annotated[
        int | None, typer.Option(help="Memory slots N [default: from the graph's size].")
    ] = None,
    max_triples: Annotated[
        int | None,
        typer.Option(help="Most triples to describe; bigger graphs give a sub-graph [256]."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random label draws.")] = 0,
    votes: Annotated[
        int, typer.Option(help="Label draws; report the majority answer and its agreement.")
    ] = 1,
    decode: Decode = "digits",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Answer a query with the DNC and check it against the exact answer."""
    from kgdnc.reasoning import ask

    answer = ask(
        from_, to=to, via=via, relation=relation, graph=graph, model=model,
        memory_size=memory_size, max_triples=max_triples, seed=seed, votes=votes,
        decode=decode,
    )
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(answer.text())
