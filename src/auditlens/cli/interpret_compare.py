"""``auditlens interpret autointerp`` and ``auditlens interpret compare``: auto-interp of a dictionary, and the
seed's comparison of a dictionary with the baseline zoo."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli.config_file import CONFIG
from auditlens.cli.interpret import interpret_app

_LLM_HELP = "LLM spec: 'stub', 'local' (embedded SmolLM2-135M-Instruct), 'openai:<model>[@<url>]', 'anthropic:<model>'."


@interpret_app.command("autointerp")
def autointerp(
    checkpoint: Path = typer.Argument(..., help="Dictionary folder (ours, SAELens or sparsify layout)."),
    store: Path = typer.Option(..., "--store", "-s", help="Activation store the dictionary reads."),
    out: Path = typer.Option(..., "--out", "-o", help="Result folder (features/<id>.json, summary.json)."),
    n_features: int = typer.Option(
        20, "--n-features", "-n", help="Features to score (skipped ones are replaced)."
    ),
    features: str = typer.Option(None, help="Comma-separated feature ids instead of a random draw."),
    explainer: str = typer.Option("local", help=_LLM_HELP),
    simulator: str = typer.Option(None, help="Simulator/scorer LLM spec (default: the explainer)."),
    hook_point: str = typer.Option(None, help="Hook point in the store (needed when it holds several)."),
    fragment_length: int = typer.Option(64, help="Tokens per fragment (the seed: 64)."),
    max_documents: int = typer.Option(50_000, help="Documents read, one fragment each (0: all)."),
    scorers: str = typer.Option("simulation,detection,fuzzing,embedding", help="Scorers to run."),
    dashboard_dir: Path = typer.Option(
        None,
        help="Also write explanations.jsonl into this `interpret dashboard` folder (then rebuild-dashboard).",
    ),
    model: str = typer.Option(None, help="Model spec for the tokenizer (default: the store's; 'none')."),
    cache_dir: Path = typer.Option(None, help="LLM response cache (default: the auditlens cache)."),
    concurrency: int = typer.Option(None, help="LLM calls in flight."),
    seed: int = typer.Option(0, help="Seed of fragments and draws."),
    device: str = typer.Option("cpu", help="Device to encode on."),
    config: Path | None = CONFIG,
) -> None:
    """Explain and score dictionary features with the seed's auto-interp protocol (+ delphi's scorers)."""
    from auditlens.interpret.autointerp.draw import parse_ids
    from auditlens.interpret.autointerp.workflows import autointerp_dictionary, protocol_config
    from auditlens.runs import cli_logging

    cli_logging()
    cfg = protocol_config(
        fragment_length=fragment_length, max_documents=max_documents, seed=seed, scorers=scorers,
        hook_point=hook_point,
    )  # fmt: skip
    summary = autointerp_dictionary(
        checkpoint, store, out, n_features=n_features, features=parse_ids(features), explainer=explainer,
        simulator=simulator, config=cfg, dashboard_dir=dashboard_dir, model=model, cache_dir=cache_dir,
        concurrency=concurrency, seed=seed, device=device,
    )  # fmt: skip
    for name, est in summary.scores.items():
        typer.echo(f"{name:>28}: {est.text()}")
    typer.echo(
        f"{summary.scored} scored, {summary.skipped} skipped, {summary.failed} failed -> {out / 'summary.json'}"
    )
    if summary.note:
        typer.echo(f"note: {summary.note}")


@interpret_app.command("compare")
def compare_cmd(
    dictionary: list[Path] = typer.Option(
        ..., "--dictionary", "-d", help="Dictionary folder (repeat per layer)."
    ),
    store: Path = typer.Option(
        ..., "--store", "-s", help="Activation store holding every layer's hook point."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Result folder (comparison.json, comparison.png)."),
    hook_point: list[str] = typer.Option(
        None, help="Hook point of each dictionary (repeat; default: the store's)."
    ),
    methods: str = typer.Option(
        "dictionary,neurons_relu,random_relu,random_bias,pca,ica,topk_pca,topk_ica",
        help="Comma-separated methods: dictionary and baseline names (see auditlens.interpret.baselines).",
    ),
    n_features: int = typer.Option(
        150, "--n-features", "-n", help="Features scored per method (the seed: 150)."
    ),
    explainer: str = typer.Option("local", help=_LLM_HELP),
    simulator: str = typer.Option(None, help="Simulator/scorer LLM spec (default: the explainer)."),
    fragment_length: int = typer.Option(64, help="Tokens per fragment (the seed: 64)."),
    max_documents: int = typer.Option(50_000, help="Documents read, one fragment each (0: all)."),
    scorers: str = typer.Option("simulation,detection,fuzzing,embedding", help="Scorers to run."),
    ica_rows: int = typer.Option(20_000, help="Subsample rows for ICA/NMF fits."),
    model: str = typer.Option(None, help="Model spec for the tokenizer (default: the store's; 'none')."),
    cache_dir: Path = typer.Option(None, help="LLM response cache (default: the auditlens cache)."),
    concurrency: int = typer.Option(None, help="LLM calls in flight."),
    seed: int = typer.Option(0, help="Seed of feature draws, random directions, subsamples and fragments."),
    config: Path | None = CONFIG,
) -> None:
    """The seed's comparison: auto-interp scores of the dictionary vs neurons, random, PCA, ICA, NMF, top-K."""
    from auditlens.interpret.autointerp.workflows import compare_dictionaries, protocol_config
    from auditlens.runs import cli_logging

    cli_logging()
    cfg = protocol_config(
        fragment_length=fragment_length, max_documents=max_documents, seed=seed, scorers=scorers
    )
    result = compare_dictionaries(
        dictionary, store, out, hook_points=hook_point, methods=methods, n_features=n_features,
        explainer=explainer, simulator=simulator, config=cfg, n_rows=ica_rows, model=model, cache_dir=cache_dir,
        concurrency=concurrency, seed=seed,
    )  # fmt: skip
    for r in result.results:
        tr = r.scores["top_and_random"]
        typer.echo(
            f"{r.hook_point} {r.method:>14}: top-and-random {tr.text()}; {r.scored} scored, {r.skipped} skipped, "
            f"{r.failed} failed"
        )
    typer.echo(f"wrote {out / 'comparison.json'} and {out / 'comparison.png'}")
    if result.note:
        typer.echo(f"note: {result.note}")
