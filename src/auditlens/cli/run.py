"""``auditlens run``: the main job on the embedded default (the README's first command)."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli import app
from auditlens.cli.harvest import print_store_summary


@app.command()
def run(
    out: Path = typer.Option(Path("runs/default"), "--out", "-o", help="Run folder."),
    model: str = typer.Option("smollm2-135m-instruct", help="Model spec (default: the embedded SmolLM2)."),
    hook_point: str = typer.Option("blocks.9.resid_post", help="Hook point to harvest."),
    tokens: int = typer.Option(262_144, help="Tokens to harvest."),
    context_length: int = typer.Option(128, help="Tokens per context."),
    overwrite: bool = typer.Option(False, help="Replace a run folder that holds a different run."),
) -> None:
    """Harvest the default model's activations into OUT/activations and print a summary.

    Interrupt it at any time and run it again: it resumes.
    """
    from auditlens.activations import HarvestConfig, harvest

    cfg = HarvestConfig(
        model=model,
        hook_points=[hook_point],
        tokens=tokens,
        context_length=context_length,
        out=out / "activations",
    )
    manifest = harvest(cfg, overwrite=overwrite)
    print_store_summary(manifest, cfg.out)
