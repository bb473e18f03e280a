"""What auto-interp keeps per feature: the result of explain → simulate → score (``features/<id>.json``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from auditlens.interpret.autointerp.scorers import ClassifierScores, EmbeddingScore, SimulationScores

__all__ = ["SCORE_NAMES", "FeatureResult", "ScoredFragment", "StepFailure"]

SCORE_NAMES = (
    "top_and_random",
    "top_only",
    "random_only",
    "detection_balanced_accuracy",
    "fuzzing_balanced_accuracy",
    "embedding_auroc",
)
"""Scores averaged in the summary (``top_and_random`` is the seed's headline)."""


class StepFailure(BaseModel):
    """One failed step of one feature (the run went on)."""

    step: str = Field(description="explain, simulate, detection, fuzzing or embedding.")
    kind: str = Field(description="Failure class: timeout, malformed, refusal, server, ... (auditlens.llm).")
    message: str


class ScoredFragment(BaseModel):
    """A fragment the simulator scored: its tokens, real and simulated activations."""

    kind: str
    context: int
    start: int
    tokens: list[str]
    real: list[float]
    simulated: list[float]


class FeatureResult(BaseModel):
    """Auto-interp of one feature."""

    feature: int = Field(description="Feature id in the source.")
    source: str = Field(description="Feature source name.")
    status: Literal["scored", "skipped", "failed"] = Field(
        description="scored: explanation and simulation done; skipped: fewer varying fragments than asked (or "
        "dead); failed: an LLM step failed (see failures; a re-run retries it)."
    )
    reason: str | None = Field(default=None, description="Why skipped or failed.")
    varying_fragments: int = Field(description="Fragments whose maximum activation is > 0.")
    max_activation: float = Field(description="Maximum activation over all fragments.")
    explanation: str | None = None
    simulation: SimulationScores | None = None
    detection: ClassifierScores | None = None
    fuzzing: ClassifierScores | None = None
    embedding: EmbeddingScore | None = None
    failures: list[StepFailure] = Field(default_factory=list)
    attempts: int = Field(default=1, description="Runs that tried this feature (a failed one is retried).")
    explainer: str | None = Field(default=None, description="Explainer backend and model.")
    simulator: str | None = Field(default=None, description="Simulator/scorer backend and model.")
    scored_fragments: list[ScoredFragment] = Field(default_factory=list)

    def score(self, name: str) -> float | None:
        """A score by name (one of :data:`SCORE_NAMES`)."""
        if name in ("top_and_random", "top_only", "random_only"):
            return None if self.simulation is None else getattr(self.simulation, name)
        if name == "detection_balanced_accuracy":
            return None if self.detection is None else self.detection.balanced_accuracy
        if name == "fuzzing_balanced_accuracy":
            return None if self.fuzzing is None else self.fuzzing.balanced_accuracy
        if name == "embedding_auroc":
            return None if self.embedding is None else self.embedding.auroc
        raise KeyError(name)
