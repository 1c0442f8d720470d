"""``kgdnc eval``: accuracy of a trained checkpoint on fresh episodes."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from kgdnc.cli.main import Decode, app, user_errors


@app.command(name="eval")
@user_errors
def eval_(
    model: Annotated[
        str,
        typer.Option(help="Checkpoint (.ckpt) of kgdnc train, or a workspace or bundled "
                     "model's name."),
    ],
    task: Annotated[
        str | None, typer.Option(help="Task to test (default: the checkpoint's).")
    ] = None,
    lesson: Annotated[
        int | None, typer.Option(help="Curriculum lesson (1-based) (default: the checkpoint's).")
    ] = None,
    graph: Annotated[
        str | None,
        typer.Option(help="Stored or bundled graph: test on random queries of it instead."),
    ] = None,
    length: Annotated[
        str | None,
        typer.Option(
            help="With --graph: walk, relation or shortest-path length, N or A-B "
            "(default: traversal 1-7, shortest path 2-5, inference 2-4)."
        ),
    ] = None,
    episodes: Annotated[
        int, typer.Option(help="Number of episodes (with --graph: distinct queries).")
    ] = 200,
    memory_size: Annotated[
        int | None, typer.Option(help="Memory slots N at test time (default: as trained).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the test episodes.")] = 1234,
    batch_size: Annotated[int, typer.Option(help="Episodes per forward pass.")] = 32,
    threads: Annotated[
        int, typer.Option(help="torch CPU threads (the DNC's small operations prefer 1).")
    ] = 1,
    decode: Decode = "digits",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Accuracy by path length on a lesson's random graphs, or on a real graph's queries."""
    import torch

    from kgdnc.reasoning.accuracy import evaluate, parse_lengths

    if threads < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--threads")
    torch.set_num_threads(threads)

    report = evaluate(
        model, task=task, lesson=lesson, graph=graph, lengths=parse_lengths(length),
        episodes=episodes, memory_size=memory_size, seed=seed, batch_size=batch_size,
        decode=decode,
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    from rich.console import Console

    Console().print(report.table())
