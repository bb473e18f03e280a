"""``auditlens interpret …``: feature statistics, examples and dashboards (auto-interp and baselines add verbs here)."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli import app
from auditlens.cli.config_file import CONFIG

interpret_app = typer.Typer(
    help="Interpret dictionary features: statistics, examples, dashboards.", no_args_is_help=True
)
app.add_typer(interpret_app, name="interpret")


@interpret_app.command("dashboard")
def dashboard(
    checkpoint: Path = typer.Argument(..., help="Dictionary folder (ours, SAELens or sparsify layout)."),
    store: Path = typer.Option(..., "--store", "-s", help="Activation store the dictionary reads."),
    out: Path = typer.Option(..., "--out", "-o", help="Result folder (stats.json, examples, dashboard/)."),
    features: int = typer.Option(None, "--features", "-n", help="Only the first N features (default: all)."),
    model: str = typer.Option(
        None, help="Model spec for token text and promoted/suppressed tokens (default: the store's; 'none')."
    ),
    hook_point: str = typer.Option(None, help="Hook point in the store (needed when it holds several)."),
    max_contexts: int = typer.Option(None, help="Read at most this many contexts of the store."),
    top_k: int = typer.Option(20, help="Max-activating contexts kept per feature."),
    random_k: int = typer.Option(20, help="Random firing contexts kept per feature."),
    window: int = typer.Option(16, help="Tokens kept on each side of an example's max token."),
    seed: int = typer.Option(0, help="Seed of the random and quantile example draws."),
    device: str = typer.Option("cpu", help="Device to encode on (cpu, cuda)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
    config: Path | None = CONFIG,
) -> None:
    """Statistics, examples and a static HTML dashboard for one dictionary over a stored run."""
    from auditlens.interpret import ScanConfig
    from auditlens.interpret.workflows import dictionary_dashboard
    from auditlens.runs import cli_logging

    cli_logging()
    scan = ScanConfig(
        top_k=top_k, random_k=random_k, window=window, seed=seed, hook_point=hook_point,
        max_contexts=max_contexts, progress=progress,
    )  # fmt: skip
    summary = dictionary_dashboard(
        checkpoint, store, out, n_features=features, model=model, scan=scan, device=device
    )
    typer.echo(
        f"{summary.n_features} features over {summary.tokens} tokens ({summary.dead_features} dead) in "
        f"{summary.seconds_scan + summary.seconds_stats + summary.seconds_dashboard:.1f}s "
        f"({summary.features_per_second:.0f} features/s)"
    )
    typer.echo(f"wrote {out / 'stats.json'}, {out / 'examples.safetensors'}")
    typer.echo(f"dashboard: {Path(summary.dashboard).resolve().as_uri()}")


@interpret_app.command("rebuild-dashboard")
def rebuild(
    folder: Path = typer.Argument(..., help="Result folder of `auditlens interpret dashboard`."),
    config: Path | None = CONFIG,
) -> None:
    """Re-write the dashboard from saved results (e.g. after auto-interp wrote explanations.jsonl)."""
    from auditlens.interpret import rebuild_dashboard

    index = rebuild_dashboard(folder)
    typer.echo(f"dashboard: {index.resolve().as_uri()}")
