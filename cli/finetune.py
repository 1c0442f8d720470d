"""``kgdnc finetune``: fine-tune a model on episodes drawn from the user's graph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgdnc.cli.main import app, user_errors


@app.command()
@user_errors
def finetune(
    task: Annotated[str, typer.Option(help="traversal, shortest-path or inference.")],
    name: Annotated[str, typer.Option(help="Name of the fine-tuned model in the workspace.")],
    graph: Annotated[
        str | None, typer.Option(help="Graph to train on [default: the last ingested graph].")
    ] = None,
    from_model: Annotated[
        str | None, typer.Option(help="Model to start from [default: the bundled one].")
    ] = None,
    steps: Annotated[
        int | None, typer.Option(help="Batches to train [200 unless --max-time is given].")
    ] = None,
    max_time: Annotated[str | None, typer.Option(help="Stop after HH:MM:SS.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Episodes per batch.")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate [the model's].")] = None,
    eval_queries: Annotated[
        int, typer.Option(help="Held-out queries measured before and after.")
    ] = 50,
    length: Annotated[
        str | None,
        typer.Option(help="Query lengths, N or A-B [traversal 1-7, shortest path 2-5, "
                          "inference 2-4]; as kgdnc eval --length."),
    ] = None,
    lengths: Annotated[
        str | None, typer.Option("--lengths", hidden=True, help="Old name of --length.")
    ] = None,
    max_triples: Annotated[int, typer.Option(help="Sub-graph limit per episode.")] = 256,
    seed: Annotated[int, typer.Option(help="Seed of queries and label draws.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Run folder for checkpoints and logs.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a model of that name.")] = False,
    accelerator: Annotated[str, typer.Option(help="auto, cpu or gpu.")] = "auto",
    progress: Annotated[bool, typer.Option(help="Rich progress bar.")] = True,
) -> None:
    """Fine-tune on the graph's own queries; held-out accuracy before and after."""
    from kgdnc.reasoning.accuracy import parse_lengths
    from kgdnc.reasoning.finetune import FinetuneOptions
    from kgdnc.reasoning.finetune import finetune as run

    if length is not None and lengths is not None:
        raise typer.BadParameter("give --length once", param_hint="--length")

    result = run(
        FinetuneOptions(
            task=task, name=name, graph=graph, from_model=from_model, steps=steps,
            max_time=max_time, batch_size=batch_size, lr=lr, eval_queries=eval_queries,
            lengths=parse_lengths(length or lengths), max_triples=max_triples, seed=seed, out=out,
            force=force, progress=progress, accelerator=accelerator,
        )
    )
    typer.echo(result.summary())
