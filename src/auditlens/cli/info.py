"""``auditlens info``: versions, cache location, and what is installed."""

from __future__ import annotations

import platform

import typer

from auditlens import __version__
from auditlens.cli import app
from auditlens.paths import cache_dir


@app.command()
def info() -> None:
    """Print the auditlens version, Python/torch versions and the cache directory."""
    import torch

    typer.echo(f"auditlens {__version__}")
    typer.echo(f"python    {platform.python_version()}")
    typer.echo(f"torch     {torch.__version__} (threads: {torch.get_num_threads()})")
    typer.echo(f"cache     {cache_dir()}")
