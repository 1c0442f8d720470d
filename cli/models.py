"""``kgdnc models``: list, show and remove trained models (bundled and workspace)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from kgdnc.cli.main import app, user_errors

models_app = typer.Typer(help="List, show and remove trained models.", no_args_is_help=True)
app.add_typer(models_app, name="models")


def _pct(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) else "-"


@models_app.command("list")
@user_errors
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Workspace models (from kgdnc finetune) and the bundled ones."""
    from kgdnc.reasoning.models import list_models

    rows = list_models()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no models: train one with `kgdnc train` or fine-tune with `kgdnc finetune`")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for column in ("name", "kind", "task", "graph", "held-out before", "after", "MB"):
        table.add_column(column)
    for row in rows:
        card = row.get("card") or {}
        table.add_row(
            row["name"], row["kind"], str(row.get("task") or "-"), str(card.get("graph", "-")),
            _pct(card.get("accuracy_before")), _pct(card.get("accuracy_after")),
            f"{row.get('size_mb', 0):.2f}",
        )
    Console().print(table)


@models_app.command("show")
@user_errors
def show(
    name: Annotated[str, typer.Argument(help="Model name, or a .ckpt path.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A model's task, sizes, training record and fine-tuning card."""
    from kgdnc.reasoning.models import model_info, resolve_model

    info = model_info(resolve_model(name, task=""))
    if as_json:
        typer.echo(json.dumps(info, indent=2, default=str))
        return
    card = info.pop("card", None)
    last = info.pop("last_check", None)
    width = max(len(k) for k in info)
    for key, value in info.items():
        typer.echo(f"{key:<{width}}  {value}")
    if last:
        typer.echo(f"{'last check':<{width}}  lesson {last.get('lesson')}, accuracy "
                   f"{_pct(last.get('accuracy'))}, step {last.get('step')}")
    if card:
        typer.echo("fine-tuning:")
        for key, value in card.items():
            typer.echo(f"  {key:<{width - 2}}  {value}")


@models_app.command("remove")
@user_errors
def remove(name: Annotated[str, typer.Argument(help="Workspace model name.")]) -> None:
    """Delete a workspace model."""
    from kgdnc.reasoning.models import remove_model

    remove_model(name)
    typer.echo(f"removed model {name!r}")
