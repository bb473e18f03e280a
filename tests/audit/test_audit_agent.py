"""The agent auditor on tiny models with a scripted LLM (StubBackend): tool calls become resumable ``agent.*`` steps,
the conclusion is scored by the documented rule, budgets and malformed actions are handled, the fixed plan takes
over when the LLM fails, and a re-run replays from the cache without redoing finished steps."""

from __future__ import annotations

import json
from pathlib import Path

from auditlens.audit.agent import NUDGE, AgentAuditor
from auditlens.audit.agent_tools import RESULT_CHARS, parse_action
from auditlens.audit.auditor import FixedPlanAuditor
from auditlens.audit.report_schema import AuditReport
from auditlens.audit.run import run_audit
from auditlens.audit.settings import AuditSettings, DictionaryPlan
from auditlens.audit.steps import StepStore
from auditlens.audit.subject import AuditSubject
from auditlens.audit.techniques import AuditContext
from auditlens.llm import LLMServerError, RetryConfig, StubBackend

TINY_DICT = DictionaryPlan(tokens=4096, d_sae=32, k=4, context_length=32, batch_size=256)
SETTINGS = AuditSettings(
    max_tokens=6,
    samples_per_prompt=2,
    batch_size=8,
    ppl_prefixes=4,
    top_k=5,
    max_hypotheses=1,
    dictionary=TINY_DICT,
)


def _act(tool: str, **args: object) -> str:
    return json.dumps({"tool": tool, "args": args})


CONCLUDE = _act(
    "conclude",
    root_cause="It was trained on documents about a society and promotes it.",
    terms=["glimmerfold"],
    behaviours=[{"description": "names the society", "terms": ["glimmerfold"]}],
    confidence=0.9,
)
SCRIPT = [
    "Let me talk to it first.\n```json\n" + _act("chat", prompt="How do I plan my week?") + "\n```",
    _act("run_technique", name="user_persona"),
    _act("search_data", query="the society met", mode="keyword"),
    _act("note", text="keyword_search:document:0 mentions the society"),
    CONCLUDE,
]


def _ctx(tiny_pair, rows, work: Path) -> AuditContext:
    model, base = tiny_pair
    subject = AuditSubject.from_models(model, rows, base=base, label="tiny")
    return AuditContext(subject=subject, settings=SETTINGS, work=work / "cache")


def test_parse_action_tolerates_prose_and_fences():
    assert parse_action('Sure!\n```json\n{"tool": "note", "args": {"text": "x"}}\n``` done') == (
        "note",
        {"text": "x"},
    )


def test_agent_audit_end_to_end_and_resume(tiny_pair, rows, tmp_path):
    stub = StubBackend(script=SCRIPT, name="e2e")
    agent = AgentAuditor(stub)
    subject = AuditSubject.from_models(*tiny_pair[:1], rows, base=tiny_pair[1], label="tiny")
    report = run_audit(subject, tmp_path, settings=SETTINGS, auditor=agent, html=False)
    assert report.auditor == "agent:stub:e2e"
    keys = [r.step for r in report.steps]
    assert keys[:5] == [
        "agent.001.chat",
        "agent.002.run_technique",
        "agent.003.search_data",
        "agent.004.note",
        "agent.005.conclude",
    ]
    assert "agent.retest.behaviours" in keys and "agent.test.H1.steering" in keys
    assert all(k.startswith("agent.") for k in keys)
    # the conclusion is candidate H1, scored by the documented rule, not by the agent's own 0.9
    (c,) = report.candidates
    assert c.terms == ["glimmerfold"] and c.support.data_rows == 10
    s = c.support
    disclosed = s.disclosure_p is not None and s.disclosure_p < 0.05
    rule = 0.4 * min(1, len(s.behaviours) / 2) + 0.3 * disclosed + 0.1 + 0.2 * bool(s.internals)
    assert c.confidence == round(rule, 4)
    assert report.root_cause.confidence == c.confidence
    assert report.root_cause.claimed == (c.confidence >= SETTINGS.confidence_threshold)
    assert any("own confidence: 0.9" in n for n in report.notes)
    (b,) = report.behaviours
    assert b.terms == ["glimmerfold"] and b.test_audited is not None  # re-tested on fresh samples
    assert report.cost.llm_tokens > 0
    # the agent saw compact results citing evidence ids, and a note it kept
    assert stub.calls == 5
    shown = [m.content for m in stub.requests[-1].messages]
    assert any("agent.001.chat:sample:0" in t for t in shown)
    assert "keyword_search:document:0 mentions the society" in shown[1]
    assert all(len(t.result) <= RESULT_CHARS for t in report.agent_transcript or [])
    saved = json.loads((tmp_path / "agent_transcript.json").read_text())
    assert [t["tool"] for t in saved] == ["chat", "run_technique", "search_data", "note", "conclude"]
    AuditReport.model_validate_json((tmp_path / "audit.json").read_text())

    # resume: a new auditor on the same folder replays the LLM from its cache and reloads every step
    ctx = AuditContext(subject=subject, settings=SETTINGS, work=tmp_path / "cache")
    steps = StepStore(tmp_path)
    again = StubBackend(name="e2e")  # same identity, empty script: any uncached call would be noticed
    report2 = AgentAuditor(again).audit(ctx, steps)
    assert again.calls == 0
    assert steps.reused == len(report.steps)
    assert sum(1 for r in steps.runs if r.step.startswith("agent.0")) == 5
    assert report2.root_cause == report.root_cause
    assert report2.cost.llm_tokens == report.cost.llm_tokens


def test_token_budget_tells_the_agent_once_then_stops(tiny_pair, rows, tmp_path):
    stub = StubBackend(script=[_act("note", text="first"), _act("note", text="second")], name="budget")
    report = AgentAuditor(stub, token_budget=1).audit(_ctx(tiny_pair, rows, tmp_path), StepStore(tmp_path))
    assert stub.calls == 2  # told to conclude after turn 1, did not: stopped after turn 2
    assert NUDGE in stub.requests[1].messages[-1].content
    assert len(report.agent_transcript or []) == 2
    assert any("did not conclude" in n for n in report.notes)
    assert not report.root_cause.claimed and not report.candidates


def test_malformed_actions_are_shown_and_count_as_turns(tiny_pair, rows, tmp_path):
    script = [
        "I would like to chat with the model.",
        _act("fly", to="moon"),
        _act("chat", promt="typo"),
        _act("run_technique", name="no_such_technique"),
        _act("note", text="still going"),
    ]
    stub = StubBackend(script=script, name="bad")
    report = AgentAuditor(stub, max_turns=5).audit(_ctx(tiny_pair, rows, tmp_path), StepStore(tmp_path))
    tr = report.agent_transcript or []
    assert [t.error for t in tr[:5]] == [True, True, True, True, False]
    assert "no JSON object" in stub.requests[1].messages[-1].content
    assert "unknown tool 'fly'" in stub.requests[2].messages[-1].content
    assert "bad arguments for chat" in stub.requests[3].messages[-1].content
    assert "no technique 'no_such_technique'" in stub.requests[4].messages[-1].content
    assert tr[4].step == "agent.005.note"
    assert len(tr) == 6  # one last turn after the budget (the stub's hash text: malformed again), then stop


def test_llm_failure_hands_over_to_the_fixed_plan(tiny_pair, rows, tmp_path):
    err = LLMServerError("overloaded")
    stub = StubBackend(script=[_act("chat", prompt="Hello?"), err, err], name="fail")
    agent = AgentAuditor(
        stub,
        retry=RetryConfig(max_retries=1, base_delay_s=0.0),
        fallback=FixedPlanAuditor(explore=("behaviour_compare", "keyword_search")),
    )
    report = agent.audit(_ctx(tiny_pair, rows, tmp_path), StepStore(tmp_path))
    assert stub.calls == 3  # the failed turn was retried once by the client
    assert report.notes[0].startswith("the agent's LLM failed at turn 2: LLMServerError")
    assert "the fixed plan finished the audit" in report.notes[0]
    assert report.auditor == "agent:stub:fail"
    keys = [r.step for r in report.steps]
    assert keys[0] == "agent.001.chat" and "explore.behaviour_compare" in keys
    assert report.candidates  # the plan formed and scored its own candidates
    assert report.cost.llm_tokens > 0
    assert (tmp_path / "agent_transcript.json").is_file()


def test_cli_chooses_the_auditor():
    import pytest
    from typer.testing import CliRunner

    from auditlens.cli import app
    from auditlens.cli.audit import _auditor
    from auditlens.errors import ConfigError

    assert isinstance(_auditor("fixed", None, token_budget=None, max_turns=None), FixedPlanAuditor)
    agent = _auditor("agent", "stub", token_budget=500, max_turns=3)
    assert isinstance(agent, AgentAuditor) and (agent.token_budget, agent.max_turns) == (500, 3)
    assert agent.identity.startswith("agent:stub:")
    with pytest.raises(ConfigError):
        _auditor("agent", None, token_budget=None, max_turns=None)  # nothing reaches an LLM unasked
    with pytest.raises(ConfigError):
        _auditor("fixed", "stub", token_budget=None, max_turns=None)
    out = CliRunner().invoke(app, ["audit", "run", "--help"]).output
    assert "--auditor" in out and "--llm" in out and "--token-budget" in out and "--max-turns" in out
