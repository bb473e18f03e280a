"""The seed's comparison: auto-interp scores of a dictionary's features against the baseline zoo, per layer.

For each layer (a hook point of the store and the dictionary trained on it) and each method (``dictionary`` or a
baseline name from :data:`auditlens.interpret.baselines.BASELINES`), auto-interp runs on ``n_features``
features drawn at random (seeded) from the method's features — candidates are drawn ``candidate_factor`` times
over, and features skipped by the protocol (fewer than 20 varying fragments, dead) are replaced by the next
candidates. Each method's run is its own resumable result folder ``out/<hook point>/<method>/``; the
comparison is written as ``out/comparison.json`` (:class:`Comparison`) and ``out/comparison.png`` (means with
95% CIs of the top-and-random, top-only and random-only scores per method, one panel per layer).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, Field

from auditlens.activations import ActivationStore
from auditlens.errors import AuditlensError
from auditlens.interpret.autointerp.run import (
    AutoInterpConfig,
    AutoInterpSummary,
    ScoreEstimate,
    client_name,
    run_autointerp,
)
from auditlens.interpret.baselines import BASELINES, build_baseline, mean_l0
from auditlens.interpret.errors import InterpretError
from auditlens.interpret.features import DictionaryFeatures, check_source
from auditlens.interpret.tokens import TokenText
from auditlens.llm import LLMClient

COMPARISON_FILE = "comparison.json"
PLOT_FILE = "comparison.png"
DEFAULT_METHODS = (
    "dictionary",
    "neurons_relu",
    "random_relu",
    "random_bias",
    "pca",
    "ica",
    "topk_pca",
    "topk_ica",
)
"""Methods compared by default (NMF is slow to encode on CPU; ask for it by name)."""
WEAK_NOTE = (
    "explainer/simulator is a small local model ({name}): its explanations and simulations are weak, so these "
    "scores are low and not comparable to the seed's GPT-4 explainer / GPT-3.5 simulator numbers; rerun the same "
    "command with a remote backend spec for meaningful scores"
)


class MethodResult(BaseModel):
    """One method at one layer."""

    method: str
    hook_point: str
    n_features: int = Field(description="Features the method has.")
    requested: int = Field(description="Features asked to be scored.")
    scored: int
    skipped: int
    failed: int
    scores: dict[str, ScoreEstimate] = Field(
        description="Score name -> mean and 95% CI over scored features."
    )
    folder: str = Field(description="The method's auto-interp result folder.")
    seconds: float


class CompareError(BaseModel):
    """A layer or method that could not run (bad dictionary, width mismatch, failed fit); the others went on."""

    hook_point: str | None
    method: str | None = Field(description="None: the whole layer (its dictionary) failed.")
    error: str
    hint: str | None = None


class Comparison(BaseModel):
    """The seed's comparison table (§5.9, §6.3): scores per method with 95% CIs, per layer."""

    store: str
    explainer: str
    simulator: str
    n_features: int = Field(description="Features scored per method (asked).")
    top_k: dict[str, int] = Field(
        description="Hook point -> K of the top-K baselines (the dictionary's mean L0)."
    )
    results: list[MethodResult]
    errors: list[CompareError] = Field(default_factory=list, description="Layers/methods that could not run.")
    config: AutoInterpConfig
    note: str | None = Field(default=None, description="Caveats (e.g. weak local explainer).")
    seconds: float


def weak_note(explainer: LLMClient, simulator: LLMClient) -> str | None:
    """The weak-scores caveat when a local or stub model explains or simulates."""
    for c in (explainer, simulator):
        ident = str(getattr(c.backend, "identity", ""))
        if ident.startswith(("local", "stub")) or type(c.backend).__name__ in (
            "LocalHFBackend",
            "StubBackend",
        ):
            return WEAK_NOTE.format(name=client_name(c))
    return None


def compare(
    store: ActivationStore,
    dictionaries: Sequence[str | Path],
    out: str | Path,
    *,
    explainer: LLMClient,
    simulator: LLMClient | None = None,
    hook_points: Sequence[str | None] | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    n_features: int = 150,
    candidate_factor: int = 4,
    text: TokenText | None = None,
    config: AutoInterpConfig | None = None,
    seed: int = 0,
    n_rows: int = 20_000,
    embedder: Any | None = None,
    progress: bool = False,
) -> Comparison:
    """Run auto-interp for every method and layer and write ``comparison.json`` and ``comparison.png``.

    Args:
        store: activation store holding every hook point asked for.
        dictionaries: one dictionary checkpoint folder per layer.
        out: result folder.
        explainer: explainer client (``make_client("local")``, ``make_client("openai:gpt-4o@...")``, ...).
        simulator: simulator/scorer client (default: the explainer).
        hook_points: the hook point of each dictionary (default: the store's only one).
        methods: ``dictionary`` and/or baseline names.
        n_features: features scored per method and layer (the seed's code: 150).
        candidate_factor: candidates drawn per wanted feature (skipped ones are replaced by the next ones).
        text: token decoder (with the store model's tokenizer).
        config: auto-interp settings (the hook point in ``config.fragments`` is overridden per layer).
        seed: seed of feature draws, random directions and subsamples.
        n_rows: ICA/NMF subsample rows.
        embedder: sentence embedder for the embedding scorer (default: packaged all-MiniLM-L6-v2).
        progress: print progress lines.
    """
    from auditlens.sae import load_dictionary

    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    simulator = simulator or explainer
    cfg = config or AutoInterpConfig()
    hps = list(hook_points) if hook_points is not None else [None] * len(dictionaries)
    if len(hps) != len(dictionaries) or not dictionaries:
        raise InterpretError(
            f"{len(dictionaries)} dictionaries but {len(hps)} hook points",
            hint="pass one hook point per dictionary (or none when the store holds a single hook point)",
        )
    unknown = [m for m in methods if m != "dictionary" and m not in BASELINES]
    if unknown:
        raise InterpretError(
            f"unknown methods {unknown}", hint=f"choose from dictionary, {', '.join(BASELINES)}"
        )
    note = weak_note(explainer, simulator)
    results: list[MethodResult] = []
    top_k: dict[str, int] = {}
    errors: list[CompareError] = []
    for ckpt, hp_arg in zip(dictionaries, hps, strict=True):
        try:
            hp = store.resolve_hook_point(hp_arg)
            dictionary = load_dictionary(ckpt)
            dict_source = DictionaryFeatures(dictionary, name="dictionary")
            check_source(dict_source, store.d_in(hp))
        except AuditlensError as err:
            errors.append(CompareError(hook_point=hp_arg, method=None, error=f"{ckpt}: {err}", hint=err.hint))
            continue
        layer_cfg = cfg.model_copy(update={"fragments": cfg.fragments.model_copy(update={"hook_point": hp})})
        k = None
        if any(m.startswith("topk_") for m in methods):
            k = max(1, round(mean_l0(dict_source, store, hook_point=hp)))
            top_k[hp] = k
        for method in methods:
            try:
                results.append(
                    _run_method(
                        method,
                        store,
                        dictionary,
                        dict_source,
                        hp,
                        k,
                        out,
                        explainer,
                        simulator,
                        n_features,
                        candidate_factor,
                        text,
                        layer_cfg,
                        seed,
                        n_rows,
                        embedder,
                        note,
                        progress,
                    )
                )
            except AuditlensError as err:
                errors.append(CompareError(hook_point=hp, method=method, error=str(err), hint=err.hint))
    comparison = Comparison(
        store=str(store.path),
        explainer=client_name(explainer),
        simulator=client_name(simulator),
        n_features=n_features,
        top_k=top_k,
        results=results,
        errors=errors,
        config=cfg,
        note=note,
        seconds=time.perf_counter() - t0,
    )
    (out / COMPARISON_FILE).write_text(comparison.model_dump_json(indent=1))
    plot_comparison(comparison, out / PLOT_FILE)
    return comparison


def _run_method(
    method: str,
    store: ActivationStore,
    dictionary: Any,
    dict_source: DictionaryFeatures,
    hp: str,
    k: int | None,
    out: Path,
    explainer: LLMClient,
    simulator: LLMClient,
    n_features: int,
    candidate_factor: int,
    text: TokenText | None,
    layer_cfg: AutoInterpConfig,
    seed: int,
    n_rows: int,
    embedder: Any,
    note: str | None,
    progress: bool,
) -> MethodResult:
    t1 = time.perf_counter()
    if method == "dictionary":
        source: Any = dict_source
    else:
        source = build_baseline(
            method, store, dictionary=dictionary, hook_point=hp, k=k, seed=seed, n_rows=n_rows,
            cache_dir=out / hp / "fits",
        )  # fmt: skip
    g = torch.Generator().manual_seed(seed)
    ids = source.feature_ids[torch.randperm(source.n_features, generator=g)]
    ids = ids[: n_features * candidate_factor]
    folder = out / hp / method
    summary: AutoInterpSummary = run_autointerp(
        source, store, folder, explainer=explainer, simulator=simulator, features=ids.tolist(),
        n_scored=n_features, text=text, config=layer_cfg, embedder=embedder, note=note, progress=progress,
    )  # fmt: skip
    result = MethodResult(
        method=method,
        hook_point=hp,
        n_features=source.n_features,
        requested=n_features,
        scored=summary.scored,
        skipped=summary.skipped,
        failed=summary.failed,
        scores=summary.scores,
        folder=str(folder),
        seconds=time.perf_counter() - t1,
    )
    if progress:
        tr = summary.scores["top_and_random"]
        print(f"[{hp}] {method}: {summary.scored} scored, top-and-random {tr.text()}", flush=True)
    return result


def plot_comparison(comparison: Comparison, path: str | Path) -> Path:
    """Means with 95% CIs of top-and-random, top-only and random-only per method, one panel per layer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = list(dict.fromkeys(r.hook_point for r in comparison.results))
    if not layers:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.text(0.5, 0.5, "no method ran (see errors in comparison.json)", ha="center", va="center")
        ax.axis("off")
        fig.savefig(path, dpi=80)
        plt.close(fig)
        return Path(path)
    fig, axes = plt.subplots(1, len(layers), figsize=(max(6.0, 1.1 * 8) * len(layers), 4.5), squeeze=False)
    series = (
        ("top_and_random", "o", "top-and-random"),
        ("top_only", "^", "top-only"),
        ("random_only", "s", "random-only"),
    )
    for ax, hp in zip(axes[0], layers, strict=True):
        rows = [r for r in comparison.results if r.hook_point == hp]
        for j, (name, marker, label) in enumerate(series):
            xs, ys, lo, hi = [], [], [], []
            for i, r in enumerate(rows):
                e = r.scores.get(name)
                if e is None or e.mean is None or e.ci_low is None or e.ci_high is None:
                    continue
                xs.append(i + (j - 1) * 0.22)
                ys.append(e.mean)
                lo.append(e.mean - e.ci_low)
                hi.append(e.ci_high - e.mean)
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], fmt=marker, capsize=3, label=label)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(
            [f"{r.method}\n(n={r.scores['top_and_random'].n})" for r in rows], rotation=30, fontsize=8
        )
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_title(hp, fontsize=10)
        ax.set_ylabel("correlation (mean, 95% CI)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    title = f"auto-interp — explainer: {comparison.explainer}\nsimulator: {comparison.simulator}"
    if comparison.note:
        title += "\n(small local model: weak scores)"
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
