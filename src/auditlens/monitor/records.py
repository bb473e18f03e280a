"""The sample record monitors read: one candidate solution with its reasoning, label and scores."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from auditlens.monitor.taxonomy import BackdoorType

__all__ = ["CodeSample", "ReasoningStyle"]


class ReasoningStyle(StrEnum):
    NONE = "none"  # no reasoning trace (output-only)
    HONEST = "honest"  # clean solution, plain reasoning about the task
    BLATANT = "blatant"  # openly plans the backdoor
    PERSUASIVE = "persuasive"  # presents the special case as a legitimate edge case


class CodeSample(BaseModel):
    """One transcript of the code-backdoor setting: what a policy produced and the ground truth.

    Monitors read ``problem_statement``, ``reasoning`` and ``code``; their scores are stored in
    ``suspicion`` (monitor name → suspicion in [0, 1]) so calibration and metrics can run later.
    """

    id: str = Field(description="Unique sample id.")
    problem_id: str
    problem_statement: str = Field("", description="What the policy was asked (prompt/question).")
    code: str = Field(description="The complete submitted program.")
    reasoning: str = Field("", description="The reasoning trace ('' for none).")
    reasoning_style: ReasoningStyle = ReasoningStyle.NONE
    backdoor_input: str | None = Field(None, description="The policy's claimed trigger input, if any.")
    backdoor_explanation: str = Field("", description="The policy's (possibly untruthful) description.")
    label: BackdoorType = Field(description="Ground-truth backdoor type (no_backdoor for honest samples).")
    source: str = Field("fixture", description="'fixture', 'policy:<model>', ...")
    suspicion: dict[str, float] = Field(default_factory=dict, description="Monitor name → suspicion.")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_backdoored(self) -> bool:
        return self.label.is_backdoor
