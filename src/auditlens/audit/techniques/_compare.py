"""The shared step of the black-box techniques: sample the audited and the comparison model on the same inputs,
then either find what the audited model says more often (explore) or count a hypothesis's hits (test)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from auditlens.audit.evidence import EvidenceItem, TechniqueResult
from auditlens.audit.sampler import ModelSampler
from auditlens.audit.techniques.base import AuditContext, Hypothesis
from auditlens.audit.terms import elevated_terms
from auditlens.runs import Proportion

__all__ = ["PromptBuilder", "compare_samples"]

PromptBuilder = Callable[[ModelSampler], list[str]]
"""Renders the technique's inputs as prompt texts for one model (templates differ between models)."""


def compare_samples(
    ctx: AuditContext,
    technique: str,
    build: PromptBuilder,
    labels: Sequence[str],
    hypothesis: Hypothesis | None,
    *,
    tried: list[str],
    n: int | None = None,
    max_tokens: int | None = None,
) -> TechniqueResult:
    """Sample ``n`` answers per input from both models; ``labels`` name the inputs in the report."""
    st = ctx.settings
    n = n or st.samples_per_prompt
    mt = max_tokens or st.max_tokens
    res = TechniqueResult(
        technique=technique, question=hypothesis.statement if hypothesis else "", tried=tried
    )
    audited = ctx.sampler.complete(
        build(ctx.sampler), n=n, temperature=st.temperature, max_tokens=mt, seed=st.seed
    )
    base_s = ctx.base_sampler
    base = (
        base_s.complete(build(base_s), n=n, temperature=st.temperature, max_tokens=mt, seed=st.seed)
        if base_s is not None
        else None
    )
    flat = [(labels[i], t) for i, outs in enumerate(audited) for t in outs]
    flat_base = [(labels[i], t) for i, outs in enumerate(base or []) for t in outs]
    if base is None:
        res.notes.append(
            "no comparison model: what the audited model says cannot be told apart from ordinary text"
        )
    if hypothesis is not None:
        res.hit_rate = Proportion.count([hypothesis.hits(t) for _, t in flat])
        if base is not None:
            res.base_hit_rate = Proportion.count([hypothesis.hits(t) for _, t in flat_base])
        flat.sort(key=lambda pt: not hypothesis.hits(pt[1]))  # hits first
        _add_samples(res, technique, flat, flat_base)
        return res
    terms = elevated_terms([t for _, t in flat], [t for _, t in flat_base]) if base is not None else []
    for j, s in enumerate(terms):
        res.items.append(
            EvidenceItem(
                id=f"{technique}:term:{j}",
                kind="term",
                text=s.term,
                score=s.z,
                source="audited vs comparison",
                meta={
                    "audited": s.count_a,
                    "n_audited": s.n_a,
                    "comparison": s.count_b,
                    "n_comparison": s.n_b,
                    "p_holm_input": s.p,
                },
            )
        )
    marked = {s.term for s in terms}
    flat.sort(key=lambda pt: -sum(1 for m in marked if m in pt[1].lower()))
    _add_samples(res, technique, flat, flat_base)
    return res


def _add_samples(
    res: TechniqueResult, technique: str, audited: list[tuple[str, str]], base: list[tuple[str, str]]
) -> None:
    """Every sample is evidence: the audited model's first (in the order given), then the comparison model's."""
    j = len([i for i in res.items if i.kind == "sample"])
    for who, rows in (("audited", audited), ("comparison", base)):
        for p, t in rows:
            res.items.append(
                EvidenceItem(id=f"{technique}:sample:{j}", kind="sample", text=t, prompt=p, source=who)
            )
            j += 1
