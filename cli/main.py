"""The typer app behind the ``kgdnc`` console script.

The CLI holds no logic: each command parses its options and calls one function
of the library. Heavy imports (torch, rdflib, pandas) happen inside the
commands, so ``kgdnc --help`` stays instant.

The process ends with its command, so at exit the heap is frozen
(``gc.freeze``): the interpreter's last garbage collections then skip the
objects torch and networkx made, which the operating system takes back anyway
(about a second of a query's wall time on a loaded 2-core machine; see
docs/architecture.md). Everything else of the exit runs as usual.
"""

from __future__ import annotations

import atexit
import functools
import gc
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from kgdnc import __version__
from kgdnc.errors import KgdncError

F = TypeVar("F", bound=Callable[..., Any])

atexit.register(gc.freeze)

# --decode, shared by ``kgdnc query`` and ``kgdnc eval`` (they read answers alike)
Decode = Annotated[
    str,
    typer.Option(help="digits (each digit's mode, the paper's) or nodes (traversal, "
                 "inference: sources and destinations the most probable described node)."),
]

app = typer.Typer(
    name="kgdnc",
    help="Knowledge-graph question answering with the Differentiable Neural Computer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 2) -> None:
    """Print one line on stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def user_errors(func: F) -> F:
    """Turn a ``KgdncError`` raised by the library into one line and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KgdncError as exc:
            message = str(exc).strip().replace("\n", " ")
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kgdnc {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Knowledge-graph question answering with the Differentiable Neural Computer."""


def _register() -> None:
    """Attach the command modules (each imports only typer and the library lazily)."""
    from kgdnc.cli import commands  # noqa: F401  (registers on import)


_register()


def run() -> None:  # pragma: no cover - console entry point alias
    sys.exit(app())
