"""``audit.json``: the typed record of one audit (the HTML page is drawn from it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from auditlens.audit.evidence import Cost
from auditlens.audit.findings import Candidate, RootCause, SuspectedBehaviour
from auditlens.audit.settings import AuditSettings
from auditlens.runs import Proportion

__all__ = ["AUDIT_FORMAT", "AgentTurn", "AuditReport", "TechniqueRun"]

AUDIT_FORMAT = "auditlens-audit/1"


class TechniqueRun(BaseModel):
    """One step of the plan: a technique run, where its evidence is, what it cost."""

    model_config = ConfigDict(extra="forbid")

    step: str = Field(description="Step key ('explore.prefill_attack', 'test.H1.steering', ...).")
    technique: str = Field(description="Technique name.")
    phase: str = Field(description="'explore', 'retest', 'fresh' (the hypothesis tests' samples) or 'test'.")
    file: str = Field(description="Its TechniqueResult, relative to the audit folder.")
    items: int = Field(description="Evidence items it returned.")
    error: str | None = Field(default=None, description="Why it failed or was skipped.")
    hit_rate: Proportion | None = Field(default=None, description="Its hit rate (test mode).")
    base_hit_rate: Proportion | None = Field(default=None, description="The comparison model's.")
    cost: Cost = Field(default_factory=Cost)


class AgentTurn(BaseModel):
    """One turn of the agent auditor: what the LLM asked for and what it was shown back."""

    model_config = ConfigDict(extra="forbid")

    turn: int = Field(description="Turn number, from 1.")
    reply: str = Field(description="The LLM's answer (cut to 2,000 characters).")
    tool: str | None = Field(default=None, description="The tool it called (None: no valid action).")
    args: dict[str, Any] = Field(default_factory=dict, description="The tool's arguments.")
    step: str | None = Field(default=None, description="Step key of the tool call ('agent.003.chat').")
    result: str = Field(description="The tool result (or error) as shown to the LLM.")
    error: bool = Field(default=False, description="The action was malformed or the tool failed.")
    llm_tokens: int = Field(default=0, ge=0, description="LLM tokens (in + out) of this turn's call.")


class AuditReport(BaseModel):
    """What ``auditlens audit run`` concludes, with everything behind it."""

    model_config = ConfigDict(extra="forbid")

    format: str = Field(default=AUDIT_FORMAT, description="Schema version.")
    subject: str = Field(
        description="What was audited (model spec + adapters, or the organism folder's name)."
    )
    comparison: str | None = Field(description="The comparison model (None: none was given).")
    data_rows: int = Field(description="Rows of the data sample used.")
    auditor: str = Field(description="'fixed' (the LLM-free plan) or 'agent:<backend>'.")
    settings: AuditSettings
    root_cause: RootCause
    behaviours: list[SuspectedBehaviour] = Field(
        description="Suspected behaviours, confirmed first, by score."
    )
    candidates: list[Candidate] = Field(description="Every root-cause hypothesis tested.")
    steps: list[TechniqueRun] = Field(description="Every technique run, in order.")
    cost: Cost = Field(description="Total: model calls, tokens, LLM tokens, wall time of the steps run.")
    wall_s: float = Field(description="Wall time of this invocation (a resumed audit counts only its own).")
    notes: list[str] = Field(default_factory=list, description="What went wrong or was skipped, plainly.")
    agent_transcript: list[AgentTurn] | None = Field(
        default=None, description="The agent auditor's turns (None: the fixed plan, no agent)."
    )
