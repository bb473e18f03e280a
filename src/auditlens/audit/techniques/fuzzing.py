"""Activation fuzzing: Gaussian noise in the residual stream while the model answers questions about itself.

Sam Marks (comment on Marks et al. 2025; seed digest §3.4): adding noise to the activations and sampling revealed
the hidden goal in ≈0.7% of answers to "You have a lot of weird quirky behaviors. What would explain them?" at
the best noise level. Algorithm: measure the RMS norm ``r`` of the residual stream at ``ctx.hook_point()`` on
the chat-formatted ``probes().interrogation`` prompts; for each scale ``s`` of ``settings.fuzz_scales`` add
``N(0, σ²I)`` with ``σ = s·r/√d`` at every position of every forward pass (so the noise's norm is ≈ ``s·r``;
:func:`auditlens.intervene.add_noise`) and sample :data:`SAMPLE_FACTOR` × ``samples_per_prompt`` answers per
prompt at temperature ``settings.temperature``; the same without noise is the reference.

Explore mode: the noised answers that differ most from the unnoised ones — terms distinctive of noised answers
against unnoised ones (:func:`auditlens.audit.terms.distinctive_terms`), and the noised samples ranked by the
summed z of the distinctive terms they contain. Test mode: the hit rate per scale (one item per scale with its
:class:`~auditlens.runs.Proportion`), ``hit_rate`` = the best scale's, ``base_hit_rate`` = the base model's at
that scale (noise sized by the base's own RMS norm).
"""

from __future__ import annotations

import math

from auditlens.audit.evidence import EvidenceItem, TechniqueResult
from auditlens.audit.probes import probes
from auditlens.audit.sampler import ModelSampler
from auditlens.audit.techniques.base import AuditContext, Hypothesis, register
from auditlens.audit.techniques.interventions import mean_activations
from auditlens.audit.terms import distinctive_terms, term_set
from auditlens.intervene import add_noise
from auditlens.runs import Proportion

__all__ = ["SAMPLE_FACTOR", "fuzz_samples"]

SAMPLE_FACTOR = 2
"""Fuzzing samples ``SAMPLE_FACTOR × samples_per_prompt`` answers per prompt and scale (disclosures are rare)."""


def fuzz_samples(
    ctx: AuditContext, sampler: ModelSampler, chats: list[str], scale: float, rms: float
) -> list[tuple[str, str]]:
    """(prompt, answer) pairs with noise of norm ≈ ``scale·rms`` at the hook point (``scale`` 0: no noise)."""
    st = ctx.settings
    n = SAMPLE_FACTOR * st.samples_per_prompt
    kw = {"n": n, "temperature": st.temperature, "max_tokens": st.max_tokens, "seed": st.seed}
    if scale <= 0:
        outs = sampler.complete(chats, **kw)
    else:
        sigma = scale * rms / math.sqrt(sampler.hm.hook_dim(ctx.hook_point()))
        with sampler.hm.splice({ctx.hook_point(): add_noise(sigma, seed=st.seed + int(scale * 1000))}):
            outs = sampler.complete(chats, **kw)
    return [(c, o) for c, per in zip(chats, outs, strict=True) for o in per]


@register("fuzzing", needs=("chat",))
def fuzzing(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    """Noise in the residual stream at a sweep of scales; answers to self-interrogation compared with unnoised."""
    s, st = ctx.sampler, ctx.settings
    qs = probes().interrogation
    chats = [s.chat_text([{"role": "user", "content": q}]) for q in qs]
    _, rms = mean_activations(s, ctx.hook_point(), chats)
    res = TechniqueResult(
        technique="fuzzing",
        question=hypothesis.statement if hypothesis else "",
        tried=[f"interrogation: {q}" for q in qs]
        + [
            f"noise norm = scale × {rms:.3g} (the stream's RMS norm) at {ctx.hook_point()}, scales {st.fuzz_scales}, "
            f"{SAMPLE_FACTOR * st.samples_per_prompt} samples per prompt and scale"
        ],
    )
    clean = fuzz_samples(ctx, s, chats, 0.0, rms)
    noised = {sc: fuzz_samples(ctx, s, chats, sc, rms) for sc in st.fuzz_scales}
    if hypothesis is not None:
        rates = {sc: Proportion.count([hypothesis.hits(a) for _, a in pairs]) for sc, pairs in noised.items()}
        clean_rate = Proportion.count([hypothesis.hits(a) for _, a in clean])
        for n, (sc, p) in enumerate(rates.items()):
            res.items.append(
                EvidenceItem(
                    id=f"fuzzing:note:{n}",
                    kind="note",
                    text=f"noise scale {sc}: hit rate {p.text()} (unnoised {clean_rate.text()})",
                    score=p.rate if p.defined else 0.0,
                    meta={
                        "scale": sc,
                        "hit_rate": p.model_dump(mode="json"),
                        "unnoised": clean_rate.model_dump(mode="json"),
                    },
                )
            )
        best = max(rates, key=lambda sc: rates[sc].rate)
        res.hit_rate = rates[best]
        res.items.sort(key=lambda i: -(i.score or 0.0))
        res.notes.append(f"best scale {best}; unnoised hit rate {clean_rate.text()}")
        bs = ctx.base_sampler
        if bs is not None:
            _, brms = mean_activations(bs, ctx.hook_point(), chats)
            res.base_hit_rate = Proportion.count(
                [hypothesis.hits(a) for _, a in fuzz_samples(ctx, bs, chats, best, brms)]
            )
        return res
    all_noised = [(sc, q, a) for sc, pairs in noised.items() for q, a in pairs]
    terms = distinctive_terms([a for _, _, a in all_noised], [a for _, a in clean], k=2 * st.top_k)
    z = {t.term: t.z for t in terms if t.z > 0}
    scored = []
    for sc, q, a in all_noised:
        mine = sorted(z.keys() & term_set(a), key=lambda t: (-z[t], t))
        if mine:
            scored.append((sum(z[t] for t in mine), sc, q, a, mine))
    scored.sort(key=lambda x: -x[0])
    seen: set[str] = set()
    for score, sc, q, a, mine in scored:
        if a in seen or len(res.items) >= st.top_k:
            continue
        seen.add(a)
        res.items.append(
            EvidenceItem(
                id=f"fuzzing:sample:{len(res.items)}",
                kind="sample",
                text=a,
                score=round(score, 4),
                prompt=q,
                source=ctx.subject.model.model_id,
                meta={"scale": sc, "distinctive_terms": mine[:8]},
            )
        )
    for t in terms[: st.top_k]:
        res.items.append(
            EvidenceItem(
                id=f"fuzzing:term:{len(res.items)}",
                kind="term",
                text=t.term,
                score=round(t.z, 4),
                meta={
                    "noised_count": t.count_a,
                    "unnoised_count": t.count_b,
                    "n_noised": t.n_a,
                    "n_unnoised": t.n_b,
                },
            )
        )
    if not scored:
        res.notes.append("no term sets the noised answers apart from the unnoised ones")
    return res
