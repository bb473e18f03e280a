"""``auditlens interpret autointerp`` and ``auditlens interpret compare``: auto-interp of a dictionary, and the
seed's comparison of a dictionary with the baseline zoo."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli.interpret import interpret_app

_LLM_HELP = "LLM spec: 'stub', 'local' (embedded SmolLM2-135M-Instruct), 'openai:<model>[@<url>]', 'anthropic:<model>'."


def _setup(store: Path, model: str | None, fragment_length: int, max_documents: int, seed: int, scorers: str):  # type: ignore[no-untyped-def]
    from auditlens.activations import ActivationStore
    from auditlens.interpret import TokenText
    from auditlens.interpret.autointerp import AutoInterpConfig, FragmentConfig

    st = ActivationStore.open(store)
    spec = model or st.manifest.model.source or st.manifest.model.id
    tokenizer = None
    if spec != "none":
        from auditlens.models import load_model

        tokenizer = load_model(spec).tokenizer
    cfg = AutoInterpConfig(
        fragments=FragmentConfig(length=fragment_length, max_documents=max_documents or None, seed=seed),
        scorers=[s.strip() for s in scorers.split(",") if s.strip()],  # type: ignore[misc]
        seed=seed,
    )
    return st, TokenText(tokenizer), cfg


def _clients(explainer: str, simulator: str | None, cache_dir: Path | None, concurrency: int | None):  # type: ignore[no-untyped-def]
    from auditlens.llm import make_client

    opts = {} if concurrency is None else {"concurrency": concurrency}
    e = make_client(explainer, cache_dir=cache_dir, **opts)
    s = (
        e
        if simulator is None or simulator == explainer
        else make_client(simulator, cache_dir=cache_dir, **opts)
    )
    return e, s


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
) -> None:
    """Explain and score dictionary features with the seed's auto-interp protocol (+ delphi's scorers)."""
    import torch

    from auditlens.interpret import DictionaryFeatures
    from auditlens.interpret.autointerp import run_autointerp
    from auditlens.interpret.autointerp.compare import weak_note

    st, text, cfg = _setup(store, model, fragment_length, max_documents, seed, scorers)
    cfg.fragments.hook_point = hook_point
    source = DictionaryFeatures.load(checkpoint, device=device)
    if features:
        ids = [int(f) for f in features.split(",")]
        n = None
    else:
        perm = torch.randperm(source.n_features, generator=torch.Generator().manual_seed(seed))
        ids = perm[: 4 * n_features].tolist()
        n = n_features
    e, s = _clients(explainer, simulator, cache_dir, concurrency)
    summary = run_autointerp(
        source, st, out, explainer=e, simulator=s, features=ids, n_scored=n, text=text, config=cfg,
        explanations_dir=dashboard_dir, note=weak_note(e, s), progress=True,
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
) -> None:
    """The seed's comparison: auto-interp scores of the dictionary vs neurons, random, PCA, ICA, NMF, top-K."""
    from auditlens.interpret.autointerp.compare import compare

    st, text, cfg = _setup(store, model, fragment_length, max_documents, seed, scorers)
    e, s = _clients(explainer, simulator, cache_dir, concurrency)
    result = compare(
        st, dictionary, out, explainer=e, simulator=s, hook_points=hook_point or None,
        methods=[m.strip() for m in methods.split(",") if m.strip()], n_features=n_features, text=text,
        config=cfg, seed=seed, n_rows=ica_rows, progress=True,
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
