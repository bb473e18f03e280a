"""The ``auditlens`` command: one verb per stage, each a thin call into the library.

Sub-command modules register themselves on :data:`app` when imported below; they parse options and call
library functions, nothing more. Every verb takes ``--config FILE`` (:mod:`auditlens.cli.config_file`), and
library messages reach the terminal through :func:`auditlens.runs.cli_logging`, installed here for every verb.
"""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from auditlens.errors import AuditlensError

app = typer.Typer(
    name="auditlens",
    help="Audit language models for hidden misalignment: activations, sparse dictionaries, monitors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """auditlens: audit language models for hidden misalignment, offline-first."""
    from auditlens.runs.progress import cli_logging

    cli_logging()  # library messages (logging) go to stderr, above any progress bar


def main() -> None:
    """Console-script entry point: runs the app, printing :class:`AuditlensError` without a traceback."""
    from auditlens.cli import commands  # noqa: F401  (registers the verbs)
    from auditlens.cpu_memory import keep_freed_memory

    keep_freed_memory()  # every command's CPU work reuses freed memory instead of faulting in fresh pages

    try:
        app()
    except ValidationError as err:
        typer.secho(f"error: invalid configuration:\n{err}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except AuditlensError as err:
        typer.secho(f"error: {err.message}", fg=typer.colors.RED, err=True)
        if err.hint:
            typer.secho(f"  hint: {err.hint}", err=True)
        sys.exit(2)
