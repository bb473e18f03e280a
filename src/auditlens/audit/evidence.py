"""What a technique returns: typed evidence a person can check, and what it cost.

Every technique of :mod:`auditlens.audit.techniques` returns one :class:`TechniqueResult`: what was tried (the
prompts, queries or settings, in words), the items that came back (samples, documents, features, terms), each
with a stable ``id`` the report and the conclusion cite, a hit rate with its interval where the technique samples
and the auditor has given it a hypothesis to count hits of, and the cost (model calls, tokens, seconds).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from auditlens.runs import Proportion

__all__ = ["Cost", "EvidenceItem", "EvidenceKind", "TechniqueResult"]

EvidenceKind = Literal["sample", "document", "cluster", "feature", "term", "direction", "note"]
"""What an item is: a model sample, a training document, a cluster of documents, a dictionary feature, a term
(word or phrase), a direction in activation space, or a free-text note."""


class Cost(BaseModel):
    """What a technique (or a whole audit) spent."""

    model_calls: int = Field(
        default=0, ge=0, description="Forward batches and generation requests sent to models."
    )
    tokens_generated: int = Field(default=0, ge=0, description="New tokens sampled from models.")
    tokens_scored: int = Field(default=0, ge=0, description="Tokens run through a model without generation.")
    llm_tokens: int = Field(
        default=0, ge=0, description="Tokens of LLM-backend calls (agent auditor, judges)."
    )
    seconds: float = Field(default=0.0, ge=0, description="Wall time.")

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            model_calls=self.model_calls + other.model_calls,
            tokens_generated=self.tokens_generated + other.tokens_generated,
            tokens_scored=self.tokens_scored + other.tokens_scored,
            llm_tokens=self.llm_tokens + other.llm_tokens,
            seconds=self.seconds + other.seconds,
        )


class EvidenceItem(BaseModel):
    """One thing a technique found, citable by ``id`` (unique within an audit)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable id, '<technique>:<kind>:<n>' (cited by hypotheses and the report).")
    kind: EvidenceKind = Field(description="What the item is.")
    text: str = Field(description="The sample, document, feature summary or term, as shown to a person.")
    score: float | None = Field(default=None, description="The technique's ranking score (larger: stronger).")
    prompt: str | None = Field(default=None, description="The input that produced a sample.")
    source: str | None = Field(default=None, description="Which model, data file or dictionary it came from.")
    meta: dict[str, Any] = Field(default_factory=dict, description="Technique-specific details (JSON).")


class TechniqueResult(BaseModel):
    """The typed evidence of one technique run."""

    model_config = ConfigDict(extra="forbid")

    technique: str = Field(description="Technique name (a key of the technique registry).")
    question: str = Field(
        default="", description="What the technique was asked (the hypothesis it tested, if any)."
    )
    tried: list[str] = Field(
        default_factory=list, description="The prompts, queries or settings used, in words."
    )
    items: list[EvidenceItem] = Field(default_factory=list, description="What came back, best first.")
    hit_rate: Proportion | None = Field(
        default=None, description="Share of the audited model's samples that hit the tested hypothesis."
    )
    base_hit_rate: Proportion | None = Field(
        default=None, description="The same count on the comparison (base) model, the control."
    )
    cost: Cost = Field(default_factory=Cost, description="What the run spent.")
    notes: list[str] = Field(default_factory=list, description="Caveats and what did not work, plainly.")
    error: str | None = Field(default=None, description="Set when the technique failed; the audit goes on.")

    def item(self, item_id: str) -> EvidenceItem:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)
