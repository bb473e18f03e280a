"""The seed's comparison: auto-interp scores of a dictionary's features against the baseline zoo, per layer.

For each layer (a hook point of the store and the dictionary trained on it) and each method (``dictionary`` or a
baseline name from :data:`auditlens.interpret.baselines.BASELINES`), auto-interp runs on ``n_features``
features drawn at random (seeded) from the method's features — candidates are drawn ``candidate_factor`` times
over, and features skipped by the protocol (fewer than 20 varying fragments, dead) are replaced by the next
candidates. ``out`` is claimed as a comparison run (``run.json``; what identifies it:
:func:`~auditlens.interpret.autointerp.folder.claim_comparison`), and each method's run is its own resumable
auto-interp folder ``out/<hook point>/<method>/``; the comparison is written as ``out/comparison.json`` (:class:`Comparison`) and ``out/comparison.png`` (means with
95% CIs of the top-and-random, top-only and random-only scores per method, one panel per layer).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from auditlens.activations import ActivationStore
from auditlens.errors import AuditlensError
from auditlens.interpret._files import write_model
from auditlens.interpret.autointerp.compare_plot import PLOT_FILE, plot_comparison
from auditlens.interpret.autointerp.config import AutoInterpConfig
from auditlens.interpret.autointerp.draw import CANDIDATE_FACTOR, draw_features
from auditlens.interpret.autointerp.folder import COMPARISON_FILE, claim_comparison
from auditlens.interpret.autointerp.run import run_autointerp
from auditlens.interpret.autointerp.summary import WEAK_NOTE, AutoInterpSummary, client_name, weak_note
from auditlens.interpret.baselines import BASELINES, build_baseline, mean_l0
from auditlens.interpret.errors import InterpretError
from auditlens.interpret.features import DictionaryFeatures, check_source
from auditlens.interpret.tokens import TokenText
from auditlens.llm import LLMClient
from auditlens.runs.stats import Estimate

__all__ = [
    "COMPARISON_FILE",
    "DEFAULT_METHODS",
    "PLOT_FILE",
    "WEAK_NOTE",
    "CompareError",
    "Comparison",
    "MethodResult",
    "compare",
    "plot_comparison",
    "weak_note",
]

logger = logging.getLogger(__name__)

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


class MethodResult(BaseModel):
    """One method at one layer."""

    method: str
    hook_point: str
    n_features: int = Field(description="Features the method has.")
    requested: int = Field(description="Features asked to be scored.")
    scored: int
    skipped: int
    failed: int
    scores: dict[str, Estimate] = Field(
        description="Score name -> mean and 95% CI over scored features (NaN where none has the score)."
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
    candidate_factor: int = CANDIDATE_FACTOR,
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
        progress: show progress bars (each finished feature and method is also logged at INFO).
    """
    from auditlens.sae import load_dictionary

    t0 = time.perf_counter()
    out = Path(out)
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
    claim_comparison(
        out, store=store, dictionaries=dictionaries, hook_points=hps, explainer=client_name(explainer),
        simulator=client_name(simulator), config=cfg, seed=seed, n_rows=n_rows, candidate_factor=candidate_factor,
        budget={"methods": list(methods), "n_features": n_features},
    )  # fmt: skip
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
    write_model(out / COMPARISON_FILE, comparison)
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
    ids = draw_features(source, n_features, seed=seed, candidate_factor=candidate_factor)
    folder = out / hp / method
    summary: AutoInterpSummary = run_autointerp(
        source, store, folder, explainer=explainer, simulator=simulator, features=ids,
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
    tr = summary.scores["top_and_random"]
    logger.info(f"[{hp}] {method}: {summary.scored} scored, top-and-random {tr.text()}")
    return result
