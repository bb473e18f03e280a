"""A run's summary: means with 95% CIs of every score over the scored features (``summary.json``), the caveat
for weak local models, and the explanations in the form dashboards read (``explanations.jsonl``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from auditlens.interpret.autointerp.results import SCORE_NAMES, FeatureResult
from auditlens.interpret.explanations import FeatureExplanation, load_explanations, save_explanations
from auditlens.llm import LLMClient
from auditlens.runs.stats import Estimate, mean_ci

__all__ = [
    "WEAK_NOTE",
    "AutoInterpSummary",
    "client_name",
    "publish_explanations",
    "summarise",
    "weak_note",
]

WEAK_NOTE = (
    "explainer/simulator is a small local model ({name}): its explanations and simulations are weak, so these "
    "scores are low and not comparable to the seed's GPT-4 explainer / GPT-3.5 simulator numbers; rerun the same "
    "command with a remote backend spec for meaningful scores"
)


class AutoInterpSummary(BaseModel):
    """A run's results: means with 95% CIs (1.96·SD/√n over scored features) per score."""

    source: str
    store: str
    hook_point: str
    explainer: str
    simulator: str
    requested: int = Field(description="Features asked for.")
    scored: int
    skipped: int
    failed: int
    scores: dict[str, Estimate] = Field(
        description="Score name -> mean and 95% CI over the features that have it (undefined, NaN, when none "
        "has it). Summaries of older versions (fields 'mean', null) load too."
    )
    fragments: int = Field(description="Fragments cut from the store (one per document).")
    documents: int = Field(description="Documents read.")
    dropped_replacement: int = Field(description="Fragments dropped for the replacement character.")
    llm_usage: dict[str, Any] = Field(description="Usage of the explainer and simulator clients in this run.")
    seconds: float
    note: str | None = Field(default=None, description="Caveats (e.g. a small local explainer: weak scores).")


def client_name(client: LLMClient) -> str:
    """``<backend identity>/<default model>``: how results name an explainer or simulator."""
    b = client.backend
    return f"{getattr(b, 'identity', type(b).__name__)}/{getattr(b, 'default_model', '?')}"


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


def summarise(results: Sequence[FeatureResult]) -> dict[str, Estimate]:
    """Mean and 95% CI (1.96·SD/√n, SD with ddof=1) of each score over the scored features that have it."""
    out: dict[str, Estimate] = {}
    for name in SCORE_NAMES:
        vals = [v for r in results if r.status == "scored" and (v := r.score(name)) is not None]
        out[name] = mean_ci([float(v) for v in vals if not math.isnan(v)])
    return out


def publish_explanations(out: Path, results: Sequence[FeatureResult], extra: str | Path | None) -> None:
    """Merge the explanations of ``results`` into ``out/explanations.jsonl`` (and ``extra``'s, e.g. a dashboard
    folder), keeping the other features' records."""
    new = {
        r.feature: FeatureExplanation(
            feature=r.feature,
            explanation=r.explanation or "",
            score=r.score("top_and_random"),
            scores={n: r.score(n) for n in SCORE_NAMES},
            explainer=r.explainer,
        )
        for r in results
        if r.explanation
    }
    for folder in [out] + ([Path(extra)] if extra is not None else []):
        folder.mkdir(parents=True, exist_ok=True)
        merged = {**load_explanations(folder), **new}
        save_explanations(merged.values(), folder)
