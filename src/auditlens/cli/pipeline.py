"""``auditlens pipeline``: the dictionary pipeline on the embedded default (harvest → train → evaluate → report)."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli import app
from auditlens.cli.config_file import CONFIG


@app.command()
def pipeline(
    out: Path = typer.Option(Path("runs/default"), "--out", "-o", help="Run folder."),
    model: str = typer.Option("smollm2-135m-instruct", help="Model spec (default: the embedded SmolLM2)."),
    hook_point: str = typer.Option("blocks.15.resid_post", help="Hook point (default: a middle layer)."),
    tokens: int = typer.Option(300_000, help="Tokens to harvest and train on."),
    context_length: int = typer.Option(128, help="Tokens per context."),
    expansion: int = typer.Option(8, help="Dictionary width as a multiple of d_in."),
    k: int = typer.Option(32, help="Active latents of the TopK dictionary."),
    l1_coefficient: float = typer.Option(3e-3, help="Sparsity coefficient of the ReLU+L1 dictionary."),
    seed: int = typer.Option(0, help="Seed of data order and initialisation."),
    config: Path | None = CONFIG,
) -> None:
    """Harvest → train a TopK and a ReLU+L1 dictionary → evaluate → report, into OUT.

    Writes OUT/summary.json, OUT/report.html and plots. Interrupt it at any time and run it again: it resumes.
    """
    from auditlens.pipeline import PipelineConfig, run_pipeline
    from auditlens.pipeline.report import summary_table

    cfg = PipelineConfig(
        out=out,
        model=model,
        hook_point=hook_point,
        tokens=tokens,
        context_length=context_length,
        expansion=expansion,
        k=k,
        l1_coefficient=l1_coefficient,
        seed=seed,
    )
    summary = run_pipeline(cfg)
    typer.echo("")
    typer.echo(summary_table(summary.dictionaries))
    typer.echo(
        f"\nharvest {summary.harvest_seconds:.0f} s ({summary.harvest_forward_share:.0%} in forward), "
        f"training {summary.train_seconds:.0f} s, evaluation {summary.eval_seconds:.0f} s"
    )
    typer.echo(f"report: {out / 'report.html'}  ·  numbers: {out / 'summary.json'}")
