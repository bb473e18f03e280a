"""The fixed investigation plan: an auditor that needs no LLM, so it runs offline on the embedded default.

1. **Explore** with every technique the plan names (those not available are skipped and listed).
2. **Behaviours**: group what ``behaviour_compare`` found (:func:`~auditlens.audit.hypotheses.form_behaviours`) and
   re-test each on fresh samples of its trigger requests (another seed; :func:`~auditlens.audit.conclude.confirm`).
3. **Candidates**: root-cause hypotheses from the behaviour-linked topics of the data and from data-search leads
   (:func:`~auditlens.audit.hypotheses.form_candidates`).
4. **Test** each candidate on a fresh pass of the elicitation techniques and with interventions on its direction,
   then apply the documented confidence rule (:mod:`auditlens.audit.conclude`).
5. **Conclude**: the most confident candidate, claimed at the threshold, and the ranked behaviours.

:class:`Auditor` is the interface the agent auditor (:mod:`auditlens.audit.agent`) shares.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Protocol

from auditlens.audit.conclude import confirm, judge_candidate, root_cause
from auditlens.audit.evidence import Cost, TechniqueResult
from auditlens.audit.findings import Candidate, RootCause, SuspectedBehaviour
from auditlens.audit.hypotheses import as_hypothesis, form_behaviours, form_candidates
from auditlens.audit.report_schema import AuditReport
from auditlens.audit.steps import StepStore
from auditlens.audit.techniques import TECHNIQUES, AuditContext, Technique
from auditlens.audit.techniques._compare import compare_samples
from auditlens.audit.techniques.sampling import _chat
from auditlens.runs import bar

__all__ = [
    "DISCLOSURE",
    "EXPLORE",
    "INTERNALS",
    "Auditor",
    "FixedPlanAuditor",
    "audit_report",
    "explore_step",
    "judge_candidates",
    "retest_behaviours",
]

EXPLORE = (
    "behaviour_compare",
    "prefill_attack",
    "user_persona",
    "third_person",
    "interrogation",
    "perplexity_differencing",
    "fuzzing",
    "keyword_search",
    "semantic_search",
    "data_clusters",
    "prompt_features",
    "model_diff",
)
"""Techniques of the exploration phase, in order."""
DISCLOSURE = (
    "prefill_attack",
    "user_persona",
    "third_person",
    "interrogation",
    "fuzzing",
    "perplexity_differencing",
)
"""Elicitation techniques: their elevated terms are leads, and their fresh samples test candidates."""
INTERNALS = ("prompt_features", "model_diff", "behaviour_features")
"""White-box techniques whose features can back a candidate."""


class Auditor(Protocol):
    """Runs an audit of ``ctx`` through ``steps`` and returns the report."""

    name: str

    @property
    def identity(self) -> str:
        """What makes two audits by this auditor the same (part of the audit folder's identity)."""
        ...

    def audit(self, ctx: AuditContext, steps: StepStore) -> AuditReport: ...


class FixedPlanAuditor:
    """The LLM-free plan (module doc)."""

    name = "fixed"

    def __init__(self, explore: tuple[str, ...] = EXPLORE) -> None:
        self.explore = explore

    @property
    def identity(self) -> str:
        return self.name

    def audit(self, ctx: AuditContext, steps: StepStore) -> AuditReport:
        t0 = time.perf_counter()
        st = ctx.settings
        notes: list[str] = []
        explored: dict[str, TechniqueResult] = {}
        names = [n for n in self.explore if n in TECHNIQUES]
        missing = [n for n in self.explore if n not in TECHNIQUES]
        if missing:
            notes.append(f"techniques not available in this installation: {', '.join(missing)}")
        for name in bar(names, desc="audit: explore", unit="technique"):
            explored[name] = steps.run(f"explore.{name}", "explore", lambda n=name: explore_step(ctx, n))
            ctx.remember(name, None, explored[name])
        for name, r in explored.items():
            if r.error:
                notes.append(f"{name}: {r.error}")
        behaviours: list[SuspectedBehaviour] = []
        if "behaviour_compare" in explored and explored["behaviour_compare"].error is None:
            behaviours = form_behaviours(explored["behaviour_compare"])
        retest_behaviours(ctx, steps, behaviours)
        # leads: behavioural terms, then disclosure and internals terms
        signal: dict[str, list[str]] = {}
        for b in behaviours:
            if b.confirmed or not ctx.has("base"):
                for t in b.terms:
                    signal.setdefault(t, []).extend(b.evidence[:3])
        for name in (*DISCLOSURE, *INTERNALS):
            r = explored.get(name)
            if r is None or r.error:
                continue
            for it in r.items:
                if it.kind == "term" and it.source and "comparison" in it.source:
                    signal.setdefault(it.text, []).append(it.id)
        leads: list[tuple[str, list[str], list[str]]] = []
        clusters = explored.get("data_clusters")
        if clusters is not None:
            for it in clusters.items:
                if it.kind == "cluster" and isinstance(it.meta.get("terms"), list):
                    leads.append((f"data cluster {it.id}", [str(t) for t in it.meta["terms"]], [it.id]))
        kw = explored.get("keyword_search")
        if kw is not None:
            kts = [it for it in kw.items if it.kind == "term"]
            if kts:
                leads.append(
                    ("distinctive terms of the data sample", [i.text for i in kts], [i.id for i in kts[:6]])
                )
        candidates = form_candidates(ctx.subject.rows, signal, leads, max_candidates=st.max_hypotheses)
        internals = [explored[n] for n in INTERNALS if n in explored and explored[n].error is None]
        conclusion = judge_candidates(ctx, steps, candidates, behaviours, internals)
        return audit_report(
            ctx,
            steps,
            auditor=self.name,
            behaviours=behaviours,
            candidates=candidates,
            conclusion=conclusion,
            notes=notes,
            t0=t0,
        )


def explore_step(ctx: AuditContext, name: str) -> TechniqueResult:
    """``TECHNIQUES[name]`` in exploration mode, unless this audit already ran it with the same seed (the agent
    auditor handing over to the plan): then that result, with its cost zeroed since it is counted where it ran."""
    done = ctx.known(name)
    if done is None:
        return TECHNIQUES[name](ctx)
    res = done.model_copy(deep=True)
    res.cost = Cost()
    res.notes.append("already run earlier in this audit (by the agent); reused, its cost counted there")
    return res


def retest_behaviours(
    ctx: AuditContext, steps: StepStore, behaviours: list[SuspectedBehaviour], key: str = "retest.behaviours"
) -> None:
    """Re-test ``behaviours`` on fresh samples (seed + 1000) of their trigger requests against the comparison model
    (:func:`~auditlens.audit.conclude.confirm`; nothing is confirmed without one), then rank them (confirmed
    first, by score) and number them B1, B2, ... in place."""
    if behaviours and ctx.has("base"):
        prompts = list(dict.fromkeys(p for b in behaviours for p in b.prompts))
        retest_t = Technique(
            "behaviour_retest",
            lambda c, _h: compare_samples(
                c, "behaviour_retest", _chat(prompts), prompts, None, tried=prompts
            ),
        )
        retest = steps.run(key, "retest", lambda: _fresh(ctx, 1000, retest_t))
        confirm(behaviours, retest)
    behaviours.sort(key=lambda b: (not b.confirmed, -b.score))
    for i, b in enumerate(behaviours):
        b.id = f"B{i + 1}"


def judge_candidates(
    ctx: AuditContext,
    steps: StepStore,
    candidates: list[Candidate],
    behaviours: list[SuspectedBehaviour],
    internals: list[TechniqueResult],
    prefix: str = "",
) -> RootCause:
    """Test each candidate and conclude, by the documented rule of :mod:`auditlens.audit.conclude`: a fresh pass
    (seed + 1) of the elicitation techniques, the behaviour features and the steering/ablation of its direction,
    then :func:`judge_candidate` and :func:`root_cause` at ``settings.confidence_threshold``. ``internals``: the
    white-box results already run; ``prefix`` goes before every step key (the agent's steps are ``agent.…``)."""
    fresh: list[TechniqueResult] = []
    if candidates:
        for name in [n for n in DISCLOSURE if n in TECHNIQUES]:
            fresh.append(
                steps.run(f"{prefix}fresh.{name}", "fresh", lambda n=name: _fresh(ctx, 1, TECHNIQUES[n]))
            )
        fresh = [r for r in fresh if r.error is None]
    for c in candidates:
        h = as_hypothesis(c)
        extra: list[TechniqueResult] = []
        if "behaviour_features" in TECHNIQUES:
            bf = steps.run(
                f"{prefix}test.{c.id}.behaviour_features",
                "test",
                lambda h=h: TECHNIQUES["behaviour_features"](ctx, h),
            )
            ctx.remember("behaviour_features", h, bf)
            extra.append(bf)
        steer = None
        if "steering" in TECHNIQUES:
            steer = steps.run(
                f"{prefix}test.{c.id}.steering", "test", lambda h=h: TECHNIQUES["steering"](ctx, h)
            )
        judge_candidate(
            c,
            behaviours=behaviours,
            rows=ctx.subject.rows,
            fresh=fresh,
            internals=internals + [r for r in extra if r.error is None],
            intervention=steer,
        )
    conclusion = root_cause(candidates, ctx.settings.confidence_threshold, has_base=ctx.has("base"))
    if ctx.settings.compare_dictionaries and conclusion.candidate and "dictionary_comparison" in TECHNIQUES:
        best = next(c for c in candidates if c.id == conclusion.candidate)
        h = as_hypothesis(best)
        steps.run(
            f"{prefix}test.{best.id}.dictionary_comparison",
            "test",
            lambda: TECHNIQUES["dictionary_comparison"](ctx, h),
        )
    return conclusion


def audit_report(
    ctx: AuditContext,
    steps: StepStore,
    *,
    auditor: str,
    behaviours: list[SuspectedBehaviour],
    candidates: list[Candidate],
    conclusion: RootCause,
    notes: list[str],
    t0: float,
) -> AuditReport:
    """The report of an audit whose steps all went through ``steps`` (cost: the sum of the steps' costs)."""
    cost = sum((r.cost for r in steps.runs), Cost())
    if steps.reused:
        notes.append(f"{steps.reused} finished steps were reloaded from an earlier run, not redone")
    return AuditReport(
        subject=ctx.subject.model_spec or ctx.subject.label,
        comparison=ctx.subject.base_spec,
        data_rows=len(ctx.subject.rows),
        auditor=auditor,
        settings=ctx.settings,
        root_cause=conclusion,
        behaviours=behaviours,
        candidates=candidates,
        steps=steps.runs,
        cost=cost,
        wall_s=time.perf_counter() - t0,
        notes=notes,
    )


def _fresh(ctx: AuditContext, offset: int, technique: Technique) -> TechniqueResult:
    """Run ``technique`` (exploration mode) with the seed moved by ``offset``: fresh samples for testing."""
    fresh_ctx = replace(ctx, settings=ctx.settings.model_copy(update={"seed": ctx.settings.seed + offset}))
    return technique(fresh_ctx)  # samplers and memo shared; the memo is keyed by seed
