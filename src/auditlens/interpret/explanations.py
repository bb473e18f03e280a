"""Explanations and interpretability scores of features, as auto-interp writes them and dashboards read them.

Auto-interp (or a person) writes one :class:`FeatureExplanation` per line to ``explanations.jsonl`` in a result
folder; :func:`auditlens.interpret.dashboard.write_dashboard` shows the explanation and the scores on each
feature's panel and makes the index sortable by ``score`` and searchable by explanation text.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field

from auditlens.errors import DataError
from auditlens.interpret.errors import InterpretError
from auditlens.runs.io import read_jsonl, write_jsonl

EXPLANATIONS_FILE = "explanations.jsonl"


class FeatureExplanation(BaseModel):
    """One feature's explanation and its scores."""

    feature: int = Field(description="Feature id in the source.")
    explanation: str = Field(description="One-line natural-language explanation.")
    score: float | None = Field(
        default=None, description="Headline score the dashboard sorts by (e.g. top-and-random correlation)."
    )
    scores: dict[str, float | None] = Field(
        default_factory=dict, description="Every score by name (e.g. top_only, random_only, detection)."
    )
    explainer: str | None = Field(default=None, description="Which model/method wrote the explanation.")


def save_explanations(items: Iterable[FeatureExplanation], folder: str | Path) -> Path:
    """Write ``explanations.jsonl`` in ``folder`` (atomically), one record per line, ordered by feature."""
    path = Path(folder) / EXPLANATIONS_FILE
    write_jsonl(path, sorted(items, key=lambda e: e.feature))
    return path


def load_explanations(path: str | Path) -> dict[int, FeatureExplanation]:
    """Read ``explanations.jsonl`` (a folder holding it, or the file); a missing file gives ``{}``."""
    path = Path(path)
    if path.is_dir():
        path = path / EXPLANATIONS_FILE
    if not path.exists():
        return {}
    try:
        records = read_jsonl(path, FeatureExplanation, what="explanations file")
    except DataError as err:
        raise InterpretError(
            f"{err.message}: not a valid explanation record",
            hint='each line must be {"feature": int, "explanation": str, "score": float|null, ...}',
        ) from err
    return {e.feature: e for e in records}
