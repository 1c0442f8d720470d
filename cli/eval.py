"""``kgdnc eval``: accuracy of a trained checkpoint on fresh episodes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kgdnc.cli.main import app, user_errors


@app.command(name="eval")
@user_errors
def eval_(
    model: Annotated[Path, typer.Option(help="Checkpoint (.ckpt) written by kgdnc train.")],
    task: Annotated[
        str | None, typer.Option(help="Task to test (default: the checkpoint's).")
    ] = None,
    lesson: Annotated[
        int | None, typer.Option(help="Curriculum lesson (1-based) (default: the checkpoint's).")
    ] = None,
    graph: Annotated[
        str | None, typer.Option(help="Stored or bundled graph to draw episodes from.")
    ] = None,
    episodes: Annotated[int, typer.Option(help="Number of episodes.")] = 200,
    memory_size: Annotated[
        int | None, typer.Option(help="Memory slots N at test time (default: as trained).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the test episodes.")] = 1234,
    batch_size: Annotated[int, typer.Option(help="Episodes per forward pass.")] = 32,
    threads: Annotated[
        int, typer.Option(help="torch CPU threads (the DNC's small operations prefer 1).")
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Episode accuracy, per-step accuracy and accuracy by path length."""
    import torch

    from kgdnc.training.evaluate import evaluate

    if threads < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--threads")
    torch.set_num_threads(threads)

    report = evaluate(
        model, task=task, lesson=lesson, graph=graph, episodes=episodes,
        memory_size=memory_size, seed=seed, batch_size=batch_size,
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    from rich.console import Console

    Console().print(report.table())
