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
    out: Annotated[
        Path | None,
        typer.Option(help="PNG file to write (default memory.png, none when only --replay)."),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option(help="Replay the query on the graph's map, instead of the PNG (or beside "
                          "it with --out): .html (self-contained page), .gif, or .mp4 "
                          "(needs ffmpeg)."),
    ] = None,
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
    from kgdnc.graphs import load
    from kgdnc.reasoning import ask
    from kgdnc.viz import memory_picture
    from kgdnc.viz.replay import check_replay_path, write_replay

    if replay is not None:
        check_replay_path(replay)  # a bad suffix fails before the query runs
    kg = load(graph)
    answer = ask(
        from_, to=to, via=via, relation=relation, graph=kg, model=model,
        memory_size=memory_size, max_triples=max_triples, seed=seed, trace=True,
    )
    verdict = "correct" if answer.correct else "wrong"
    about = (f"({answer.query.task}, answer {verdict}, "
             f"N = {answer.memory_size} slots, {answer.n_triples} triples)")
    if replay is None or out is not None:
        path = memory_picture(answer, out or Path("memory.png"))
        typer.echo(f"wrote {path} {about}")
    if replay is not None:
        typer.echo(f"wrote {write_replay(answer, kg, replay)} {about}")
