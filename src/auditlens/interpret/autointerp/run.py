"""Auto-interp of a feature source over a store: explain -> simulate -> score, per feature, resumable.

The run, step by step: claim the result folder (:mod:`~auditlens.interpret.autointerp.folder`: layout, identity,
resume, folders of older versions), cut or reuse the fragment table, plan each feature and send the LLM requests
of ``feature_batch`` features together (:mod:`~auditlens.interpret.autointerp.steps`: the protocol), write each
feature's result as soon as it is done, and last the summary and the explanations
(:mod:`~auditlens.interpret.autointerp.summary`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from auditlens.activations import ActivationStore
from auditlens.interpret._files import write_model
from auditlens.interpret.autointerp.config import AutoInterpConfig, Scorer
from auditlens.interpret.autointerp.folder import (
    FEATURES_DIR,
    SUMMARY_FILE,
    RunKey,
    claim_run,
    fragment_table,
    load_results,
    write_result,
)
from auditlens.interpret.autointerp.results import SCORE_NAMES, FeatureResult, ScoredFragment, StepFailure
from auditlens.interpret.autointerp.scorers import default_embedder
from auditlens.interpret.autointerp.steps import Plan, plan_feature, run_chunk
from auditlens.interpret.autointerp.summary import (
    AutoInterpSummary,
    client_name,
    publish_explanations,
    summarise,
)
from auditlens.interpret.errors import InterpretError
from auditlens.interpret.features import FeatureSource
from auditlens.interpret.tokens import TokenText
from auditlens.llm import LLMClient
from auditlens.runs import bar

__all__ = [
    "FEATURES_DIR",
    "SCORE_NAMES",
    "SUMMARY_FILE",
    "AutoInterpConfig",
    "AutoInterpSummary",
    "FeatureResult",
    "ScoredFragment",
    "Scorer",
    "StepFailure",
    "client_name",
    "load_results",
    "run_autointerp",
    "summarise",
]

logger = logging.getLogger(__name__)


def run_autointerp(
    source: FeatureSource,
    store: ActivationStore,
    out: str | Path,
    *,
    explainer: LLMClient,
    simulator: LLMClient | None = None,
    features: Sequence[int] | None = None,
    n_scored: int | None = None,
    text: TokenText | None = None,
    config: AutoInterpConfig | None = None,
    embedder: Any | None = None,
    explanations_dir: str | Path | None = None,
    note: str | None = None,
    progress: bool = False,
) -> AutoInterpSummary:
    """Explain and score features of ``source`` over ``store``, writing results into ``out`` as they come.

    Args:
        source: the features (dictionary or baseline).
        store: the activation store (its token ids make the fragments).
        out: result folder (claimed as an auto-interp run: a folder holding another run is refused).
        explainer: client that writes explanations.
        simulator: client that simulates activations and answers the detection/fuzzing prompts (default:
            ``explainer``).
        features: feature ids to consider, in order (default: all of the source's).
        n_scored: stop once this many features are scored or failed (skipped ones do not count); None: all.
        text: decodes token ids (a :class:`TokenText` with the store model's tokenizer); without a tokenizer
            tokens read ``<id>`` and the replacement-character rule cannot apply.
        config: protocol settings.
        embedder: sentence embedder of the embedding scorer (default: the packaged all-MiniLM-L6-v2).
        explanations_dir: also merge the explanations into this folder's ``explanations.jsonl`` (e.g. the
            result folder of ``auditlens interpret dashboard``, then ``rebuild_dashboard`` shows them).
        note: caveat recorded in the summary (e.g. "local 135M explainer: scores are weak").
        progress: show a progress bar over the features (each finished feature is also logged at INFO).
    """
    cfg = config or AutoInterpConfig()
    simulator = simulator or explainer
    text = text or TokenText()
    out = Path(out)
    t0 = time.perf_counter()
    hp = store.resolve_hook_point(cfg.fragments.hook_point)
    ids = (
        source.feature_ids.clone() if features is None else torch.as_tensor(list(features), dtype=torch.long)
    )
    if ids.numel() == 0:
        raise InterpretError("no features to interpret", hint="pass at least one feature id")
    e_name, s_name = client_name(explainer), client_name(simulator)
    key = RunKey(source.name, store, hp, e_name, s_name, cfg)
    recorded = {"features": None if features is None else ids.tolist(), "n_scored": n_scored}
    claim_run(out, key, {"config": cfg.model_dump(mode="json"), **recorded})
    table = fragment_table(source, store, out, text, cfg.fragments, ids)
    done = load_results(out)
    explainer.reset_usage()
    if simulator is not explainer:
        simulator.reset_usage()
    results: dict[int, FeatureResult] = {}
    counted = 0
    queue = [int(f) for f in ids.tolist()]
    need_embed = "embedding" in cfg.scorers
    goal = n_scored if n_scored is not None else len(queue)
    with bar(total=goal, desc=f"auto-interp {source.name}", unit="feature", enabled=progress) as pbar:
        while queue and (n_scored is None or counted < n_scored):
            chunk: list[Plan] = []
            while (
                queue
                and len(chunk) < cfg.feature_batch
                and (n_scored is None or counted + len(chunk) < n_scored)
            ):
                f = queue.pop(0)
                prev = done.get(f)
                if prev is not None and prev.status != "failed":
                    results[f] = prev
                    counted += prev.status == "scored"
                    pbar.update(1 if prev.status == "scored" or n_scored is None else 0)
                    continue
                plan = plan_feature(table, f, source.name, cfg, text)
                if prev is not None:
                    plan.result.attempts = prev.attempts + 1
                    plan.reseed = {x.step for x in prev.failures if x.kind in ("malformed", "refusal")}
                if plan.result.status == "skipped":
                    write_result(out, plan.result)
                    results[f] = plan.result
                    pbar.update(0 if n_scored is not None else 1)
                    continue
                plan.result.explainer, plan.result.simulator = e_name, s_name
                chunk.append(plan)
            if not chunk:
                continue
            run_chunk(
                chunk,
                cfg,
                explainer,
                simulator,
                embedder if not need_embed else (embedder or default_embedder()),
            )
            for plan in chunk:
                r = plan.result
                write_result(out, r)
                results[r.feature] = r
                counted += 1
                pbar.update(1)
                sc = r.score("top_and_random")
                logger.info(f"[{source.name}] feature {r.feature}: {r.status} score={sc} {r.explanation!r}")
    ordered = [results[f] for f in ids.tolist() if f in results]
    publish_explanations(out, ordered, explanations_dir)
    usage = {"explainer": explainer.usage.model_dump()}
    if simulator is not explainer:
        usage["simulator"] = simulator.usage.model_dump()
    summary = AutoInterpSummary(
        source=source.name,
        store=str(store.path),
        hook_point=hp,
        explainer=e_name,
        simulator=s_name,
        requested=len(ordered),
        scored=sum(r.status == "scored" for r in ordered),
        skipped=sum(r.status == "skipped" for r in ordered),
        failed=sum(r.status == "failed" for r in ordered),
        scores=summarise(ordered),
        fragments=table.index.n,
        documents=table.index.documents,
        dropped_replacement=table.index.dropped_replacement,
        llm_usage=usage,
        seconds=time.perf_counter() - t0,
        note=note,
    )
    write_model(out / SUMMARY_FILE, summary)
    return summary
