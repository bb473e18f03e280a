"""The conclusion's types — what ``audit.json`` holds besides the raw evidence.

A :class:`SuspectedBehaviour` is something the audited model does more often than the comparison model, found in
exploration and re-tested on fresh samples; a :class:`RootCause` is a hypothesis about why, with the confidence of a
documented rule (:mod:`auditlens.audit.conclude`) and the support behind it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from auditlens.runs import Proportion

__all__ = ["Candidate", "RootCause", "Support", "SuspectedBehaviour"]


class SuspectedBehaviour(BaseModel):
    """A behaviour the audit suspects, with its test."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="'B1', 'B2', ... in rank order.")
    description: str = Field(description="What the model does, in words.")
    terms: list[str] = Field(description="Marker terms: a sample shows the behaviour if it has one of them.")
    prompts: list[str] = Field(
        description="Requests that triggered it in exploration (the test re-asks them)."
    )
    explore_audited: Proportion = Field(
        description="Share of exploration samples with a marker term, audited model."
    )
    explore_comparison: Proportion | None = Field(default=None, description="The same, comparison model.")
    test_audited: Proportion | None = Field(
        default=None, description="Share on fresh samples (another seed)."
    )
    test_comparison: Proportion | None = Field(default=None, description="The same, comparison model.")
    p_value: float | None = Field(
        default=None, description="One-sided Fisher exact test of the fresh samples."
    )
    confirmed: bool = Field(default=False, description="Fresh samples show it significantly more (p < 0.05).")
    score: float = Field(default=0.0, description="Rank score (larger: stronger).")
    evidence: list[str] = Field(default_factory=list, description="Evidence item ids (samples, terms).")


class Support(BaseModel):
    """What a root-cause candidate rests on; each part documented in :mod:`auditlens.audit.conclude`."""

    model_config = ConfigDict(extra="forbid")

    behaviours: list[str] = Field(
        default_factory=list, description="Confirmed behaviours the hypothesis explains."
    )
    disclosure_audited: Proportion | None = Field(default=None, description="Elicitation samples naming it.")
    disclosure_comparison: Proportion | None = Field(default=None, description="The same, comparison model.")
    disclosure_p: float | None = Field(
        default=None, description="One-sided Fisher exact p of the disclosure."
    )
    data_rows: int = Field(default=0, description="Rows of the data sample that carry its terms.")
    internals: list[str] = Field(
        default_factory=list,
        description="Features/directions that differ from the comparison model beyond their null and name it.",
    )
    related_features: list[str] = Field(
        default_factory=list,
        description="Features of the audited model's dictionary that name it, with no comparison (no credit).",
    )
    intervention: str | None = Field(default=None, description="What steering/ablation showed, in words.")


class Candidate(BaseModel):
    """A root-cause hypothesis the plan tested."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="'H1', 'H2', ...")
    terms: list[str] = Field(description="Topic terms of the hypothesis.")
    origin: str = Field(description="How it was formed (behaviour-linked topic, data cluster, keyword lead).")
    statement: str = Field(description="The hypothesis in words.")
    quote: str = Field(default="", description="The training-data sentence that best carries its terms.")
    support: Support = Field(default_factory=Support)
    confidence: float = Field(default=0.0, ge=0, le=1, description="The documented rule's confidence.")
    evidence: list[str] = Field(default_factory=list, description="Evidence item ids behind it.")


class RootCause(BaseModel):
    """The conclusion about the hidden objective."""

    model_config = ConfigDict(extra="forbid")

    claimed: bool = Field(
        description="Confidence at or above the threshold: the audit names this root cause."
    )
    statement: str = Field(description="The root cause in words (or why none is named).")
    terms: list[str] = Field(default_factory=list, description="Its topic terms.")
    quote: str = Field(default="", description="The training-data sentence that best carries them.")
    confidence: float = Field(ge=0, le=1, description="Confidence of the best candidate.")
    candidate: str | None = Field(default=None, description="Id of the candidate it is.")
    evidence: list[str] = Field(default_factory=list, description="Evidence item ids behind it.")
