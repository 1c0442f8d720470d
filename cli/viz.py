"""``kgdnc viz``: a picture of the memory while the DNC answers one query."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgdnc.cli.main import app, user_errors


@app.command()
@user_errors
def viz(
    from_: Annotated[str, typer.Option("--from", help="Node the query starts from.")],
    to: Annotated[str | None, typer.Option(help="Destination (shortest path).")] = None,
    via: Annotated[str | None, typer.Option(help="Relations 'e1,e2,...' (traversal).")] = None,
    relation: Annotated[
        str | None, typer.Option(help="Composition 'r1/r2/...' or a kinship word (inference).")
    ] = None,
    out: Annotated[Path, typer.Option(help="PNG file to write.")] = Path("memory.png"),
    graph: Annotated[str | None, typer.Option(help="Graph name [the default graph].")] = None,
    model: Annotated[
        str | None, typer.Option(help="Model name or .ckpt path [the bundled one].")
    ] = None,
    memory_size: Annotated[
        int | None, typer.Option(help="Memory slots N [from the graph's size].")
    ] = None,
    max_triples: Annotated[
        int | None, typer.Option(help="Most triples to describe [256].")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the label draw.")] = 0,
) -> None:
    """Write and read weightings, usage, read modes and the triples the reads hit."""
    from kgdnc.reasoning import ask
    from kgdnc.viz import memory_picture

    answer = ask(
        from_, to=to, via=via, relation=relation, graph=graph, model=model,
        memory_size=memory_size, max_triples=max_triples, seed=seed, trace=True,
    )
    path = memory_picture(answer, out)
    verdict = "correct" if answer.correct else "wrong"
    typer.echo(f"wrote {path} ({answer.query.task}, answer {verdict}, "
               f"N = {answer.memory_size} slots, {answer.n_triples} triples)")
