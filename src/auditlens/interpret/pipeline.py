"""Statistics + examples + dashboard for one feature source over one store, and rebuilding the dashboard later.

Result folder layout::

    stats.json              DictionaryStats (typed JSON)
    examples.safetensors    ExampleTable (tensors; ExampleTable.load(folder).feature(id) gives typed examples)
    token_text.json         decoded text of every token id in the examples (so no tokenizer is needed later)
    explanations.jsonl      optional, written by auto-interp; shown on the dashboard when present
    summary.json            InterpretSummary (what ran, how long)
    dashboard/index.html    the static dashboard (see auditlens.interpret.dashboard)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, Field

from auditlens.activations import ActivationStore
from auditlens.interpret.dashboard import DashboardConfig, write_dashboard
from auditlens.interpret.examples import ExampleTable, build_examples
from auditlens.interpret.explanations import FeatureExplanation, load_explanations
from auditlens.interpret.features import FeatureSource
from auditlens.interpret.scan import ScanConfig, scan_store
from auditlens.interpret.stats import DictionaryStats, build_stats, final_norm_weight
from auditlens.interpret.tokens import TokenText

TOKEN_TEXT_FILE = "token_text.json"
SUMMARY_FILE = "summary.json"


class InterpretSummary(BaseModel):
    """What :func:`interpret_features` did."""

    source: str
    store: str
    hook_point: str
    model: str | None
    n_features: int
    tokens: int
    contexts: int
    dead_features: int
    seconds_scan: float = Field(description="Streaming pass over the store (encode + accumulators).")
    seconds_stats: float = Field(description="Examples, token decoding, statistics, unembedding effects.")
    seconds_dashboard: float = Field(description="Writing the dashboard files.")
    features_per_second: float = Field(description="n_features / total seconds.")
    dashboard: str = Field(description="Path of dashboard/index.html.")


def interpret_features(
    source: FeatureSource,
    store: ActivationStore,
    out: str | Path,
    *,
    model: Any | None = None,
    scan: ScanConfig | None = None,
    dashboard: DashboardConfig | None = None,
    explanations: dict[int, FeatureExplanation] | None = None,
) -> InterpretSummary:
    """Scan ``store`` with ``source``, write statistics, examples and the dashboard into ``out``.

    Args:
        source: the features (a dictionary via :class:`~auditlens.interpret.features.DictionaryFeatures`, or a
            baseline).
        store: the activation store to read (its token ids give the examples).
        out: result folder (created).
        model: a :class:`~auditlens.models.HookedModel` for token text and promoted/suppressed tokens; without
            it tokens show as ``<id>`` and logit effects are skipped.
        scan: streaming-pass settings.
        dashboard: dashboard settings.
        explanations: explanations to show; default: ``out/explanations.jsonl`` when it exists.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result = scan_store(source, store, scan)
    t1 = time.perf_counter()
    table = build_examples(result, store)
    text = TokenText(getattr(model, "tokenizer", None))
    counts = sum(torch.bincount(s.tokens.flatten().long()) for s in (table.top, table.quantile, table.random))
    for t in torch.nonzero(counts).flatten().tolist():  # decode every id the examples hold, once
        text(t)
    directions = unembed = norm_w = None
    if model is not None and source.d_in == int(model.unembed().shape[1]):
        directions, unembed, norm_w = source.directions(), model.unembed(), final_norm_weight(model)
    model_name = None if model is None else str(getattr(model, "model_id", None))
    stats = build_stats(
        result,
        table,
        text=text,
        directions=directions,
        unembed=unembed,
        norm_weight=norm_w,
        model_name=model_name,
    )
    stats.save(out)
    table.save(out)
    text.save(out / TOKEN_TEXT_FILE)
    t2 = time.perf_counter()
    index = write_dashboard(
        out / "dashboard",
        stats,
        table,
        text,
        explanations if explanations is not None else load_explanations(out),
        dashboard,
        special_token_ids=list(store.manifest.special_token_ids),
    )
    t3 = time.perf_counter()
    summary = InterpretSummary(
        source=source.name,
        store=str(store.path),
        hook_point=result.hook_point,
        model=model_name,
        n_features=result.n_features,
        tokens=result.tokens,
        contexts=result.contexts,
        dead_features=stats.dead_features,
        seconds_scan=t1 - t0,
        seconds_stats=t2 - t1,
        seconds_dashboard=t3 - t2,
        features_per_second=result.n_features / max(t3 - t0, 1e-9),
        dashboard=str(index),
    )
    (out / SUMMARY_FILE).write_text(summary.model_dump_json(indent=1))
    return summary


def rebuild_dashboard(
    folder: str | Path,
    *,
    explanations: dict[int, FeatureExplanation] | None = None,
    config: DashboardConfig | None = None,
    special_token_ids: list[int] | None = None,
) -> Path:
    """Re-write ``folder/dashboard`` from the saved results (e.g. after auto-interp wrote explanations.jsonl)."""
    folder = Path(folder)
    stats = DictionaryStats.load(folder)
    table = ExampleTable.load(folder)
    tt = folder / TOKEN_TEXT_FILE
    text = TokenText.load(tt) if tt.exists() else TokenText()
    if special_token_ids is None:
        try:
            special_token_ids = list(ActivationStore.open(stats.store).manifest.special_token_ids)
        except Exception:
            special_token_ids = []
    return write_dashboard(
        folder / "dashboard",
        stats,
        table,
        text,
        explanations if explanations is not None else load_explanations(folder),
        config,
        special_token_ids=special_token_ids,
    )
