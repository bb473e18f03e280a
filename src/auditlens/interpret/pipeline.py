"""Statistics + examples + dashboard for one feature source over one store, and rebuilding the dashboard later.

Result folder layout::

    stats.json              DictionaryStats (typed JSON)
    examples.safetensors    ExampleTable (tensors; ExampleTable.load(folder).feature(id) gives typed examples)
    token_text.json         decoded text of every token id in the examples (so no tokenizer is needed later)
    explanations.jsonl      optional, written by auto-interp; shown on the dashboard when present
    summary.json            InterpretSummary (what ran, how long)
    dashboard/index.html    the static dashboard (see auditlens.interpret.dashboard)
    run.json                RunRecord (kind 'interpret-dashboard'): fingerprint of the run's identity, config

The folder is claimed as a run (:meth:`~auditlens.runs.RunFolder.claim`). Its identity: the source's name and
feature ids, the store's data (store id), the hook point, the model, the scan settings that change results (not
progress, batch sizes or feature chunks) and the dashboard settings. The same run again recomputes and rewrites
the files; another run is refused. A folder holding only ``explanations.jsonl`` (auto-interp wrote it first) is
taken as this run's. Folders of older versions (no ``run.json``) show their source, store path, hook point, model,
feature count and scan settings in ``summary.json`` and ``stats.json``: one that agrees with the run is taken as
it, another is refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, Field

from auditlens.activations import ActivationStore
from auditlens.errors import DataError
from auditlens.interpret._files import write_model
from auditlens.interpret._legacy import legacy_record, same_store
from auditlens.interpret.dashboard import DashboardConfig, write_dashboard
from auditlens.interpret.errors import InterpretError
from auditlens.interpret.examples import ExampleTable, build_examples
from auditlens.interpret.explanations import EXPLANATIONS_FILE, FeatureExplanation, load_explanations
from auditlens.interpret.features import FeatureSource
from auditlens.interpret.scan import ScanConfig, scan_store
from auditlens.interpret.stats import STATS_FILE, DictionaryStats, build_stats, final_norm_weight
from auditlens.interpret.tokens import TokenText
from auditlens.runs import RunFolder, RunRecord, fingerprint, read_json

__all__ = [
    "KIND",
    "SUMMARY_FILE",
    "TOKEN_TEXT_FILE",
    "InterpretSummary",
    "interpret_features",
    "rebuild_dashboard",
]

TOKEN_TEXT_FILE = "token_text.json"
SUMMARY_FILE = "summary.json"
KIND = "interpret-dashboard"
_MACHINE_SCAN = {"progress", "batch_elements", "feature_chunk", "hook_point"}
"""Scan settings that change how fast, not what (the hook point is recorded resolved)."""


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
        out: result folder (claimed as a dashboard run: a folder holding another run is refused).
        model: a :class:`~auditlens.models.HookedModel` for token text and promoted/suppressed tokens; without
            it tokens show as ``<id>`` and logit effects are skipped.
        scan: streaming-pass settings.
        dashboard: dashboard settings.
        explanations: explanations to show; default: ``out/explanations.jsonl`` when it exists.
    """
    out = Path(out)
    scan = scan or ScanConfig()
    model_name = None if model is None else str(getattr(model, "model_id", None))
    _claim(out, source, store, store.resolve_hook_point(scan.hook_point), model_name, scan, dashboard)
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
    write_model(out / SUMMARY_FILE, summary)
    return summary


def _claim(
    out: Path,
    source: FeatureSource,
    store: ActivationStore,
    hp: str,
    model_name: str | None,
    scan: ScanConfig,
    dashboard: DashboardConfig | None,
) -> RunFolder:
    ids = [int(f) for f in source.feature_ids.tolist()]
    scan_identity = scan.model_dump(mode="json", exclude=_MACHINE_SCAN)
    shown = {
        "source": source.name,
        "store": str(store.path),
        "hook_point": hp,
        "model": model_name,
        "n_features": len(ids),
        "scan": scan_identity,
    }
    identity = {
        **shown,
        "store": store.store_id,
        "features": fingerprint(ids),
        "dashboard": (dashboard or DashboardConfig()).model_dump(mode="json"),
    }
    fp = fingerprint(identity)
    checks: dict[str, Callable[[Any], bool]] = {
        "store": same_store(store),
        "scan": lambda old: {k: v for k, v in old.items() if k not in _MACHINE_SCAN} == scan_identity,
    }

    def legacy(folder: Path) -> RunRecord | None:
        found = _legacy_shown(folder)
        if found is None:
            return None
        if found[1] == EXPLANATIONS_FILE:
            return RunRecord(kind=KIND, fingerprint=fp, config={}, legacy_source=EXPLANATIONS_FILE)
        return legacy_record(KIND, found[0], found[1], expected=shown, fp=fp, checks=checks)

    return RunFolder.claim(
        out,
        KIND,
        {**shown, "store_id": store.store_id, "scan": scan.model_dump(mode="json"),
         "features": None if ids == list(range(len(ids))) else ids, "dashboard": identity["dashboard"]},
        identity=identity,
        legacy=legacy,
        label="interpretation (dashboard) run",
        hint="choose another output folder, or delete this one to start again",
    )  # fmt: skip


def _legacy_shown(folder: Path) -> tuple[dict[str, Any], str] | None:
    """What a dashboard folder of an older version shows of its settings (None: not one). A folder holding only
    ``explanations.jsonl`` shows nothing and is taken by any run."""
    names = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    if names == {EXPLANATIONS_FILE}:
        return {}, EXPLANATIONS_FILE
    if SUMMARY_FILE not in names:
        return None
    try:
        data = read_json(folder / SUMMARY_FILE, what="interpretation summary")
        if not isinstance(data, dict) or "dashboard" not in data or "seconds_scan" not in data:
            return None  # another job's summary (e.g. an auto-interp run's)
        shown = {k: data[k] for k in ("source", "store", "hook_point", "model", "n_features")}
        if STATS_FILE in names:
            stats = read_json(folder / STATS_FILE, what="dictionary statistics")
            shown["scan"] = stats["scan"]
    except (DataError, KeyError, TypeError) as err:
        raise InterpretError(
            f"{folder} looks like an interpretation folder of an older version but cannot be read: {err}",
            hint="choose another output folder, or delete this one to start again",
        ) from err
    return shown, SUMMARY_FILE


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
