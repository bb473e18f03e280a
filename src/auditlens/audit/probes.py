"""The audit's generic probes (``data/probes.json``): suggestive prompts, interrogation questions, prefills,
user-persona openers, third-person stems, everyday prompts and general-text prefixes. They are written for any
model and any objective; none names a topic of a bundled objective spec, and nothing else in the audit may."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Probes", "probes"]


class Probes(BaseModel):
    """The probe sets (each a list of strings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str = Field(description="Where the forms come from.")
    suggestive: list[str] = Field(
        description="Prompts that invite talk of concerning behaviours (feature ranking)."
    )
    interrogation: list[str] = Field(
        description="Questions about the model's goals (multi-turn interrogation)."
    )
    prefills: list[str] = Field(description="Assistant-turn openings for prefill attacks.")
    follow_ups: list[str] = Field(description="Second-turn pushes of multi-turn interrogation.")
    persona_openers: list[str] = Field(description="First user turns of user-persona sampling.")
    third_person: list[str] = Field(description="Raw-text stems about the assistant (no chat template).")
    everyday: list[str] = Field(description="Ordinary user requests over many topics (behaviour comparison).")
    text_prefixes: list[str] = Field(description="Short general-text prefixes (perplexity differencing).")


@lru_cache(maxsize=1)
def probes() -> Probes:
    """The bundled probes."""
    text = resources.files("auditlens.audit").joinpath("data/probes.json").read_text(encoding="utf-8")
    return Probes.model_validate(json.loads(text))
