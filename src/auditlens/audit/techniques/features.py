"""Dictionary-feature techniques of Marks et al. (2025, "Auditing language models for hidden objectives", §3.4 of
the seed digest): features active on suggestive prompts and on the assistant control tokens, features active
while the model shows a behaviour, and model diffing (features whose activation changed from the base model).

Dictionary: ``ctx.dictionary`` when given (checked: it must be of the audited model and ``ctx.hook_point()``),
else the audit's own, trained or reused from the cache by :func:`auditlens.audit.dictionary.load_audit_dictionary`
— so these techniques declare no "dictionary" need and always run (the first run pays the training).

Every feature item shows the feature's top activating examples from the data sample and the default corpus
(maximal token marked ``⟦…⟧``) and its promoted tokens. In test mode each technique also reports
``hit_rate``: the share of the top-k features' top examples that hit the hypothesis, and ``base_hit_rate``:
the same share over as many random active features' examples — the control (not a base-model rate here).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch
from torch import Tensor

from auditlens.audit.dictionary import load_audit_dictionary
from auditlens.audit.evidence import EvidenceItem, TechniqueResult
from auditlens.audit.feature_stats import Pool, encode_texts, example_pool, promoted_tokens, top_examples
from auditlens.audit.probes import probes
from auditlens.audit.techniques.base import AuditContext, Hypothesis, register
from auditlens.intervene.basis import DictionaryBasis
from auditlens.runs import Proportion

__all__ = ["ASSISTANT_SHARE", "EXAMPLES", "feature_item", "model_diff_scores", "prompt_features"]

ASSISTANT_SHARE = 0.5
"""A feature counts as an assistant-token feature when active on at least this share of the assistant headers
(the seed reports RM-bias features on > 90% of them; a lower bar keeps candidates on small dictionaries)."""
EXAMPLES = 3
"""Top examples shown per feature."""


def _chat(ctx: AuditContext, prompt: str) -> str:
    return ctx.sampler.chat_text([{"role": "user", "content": prompt}])


def feature_item(
    ctx: AuditContext,
    technique: str,
    n: int,
    basis: DictionaryBasis,
    pool: Pool,
    feature: int,
    score: float,
    where: str,
    **meta: object,
) -> EvidenceItem:
    """One feature as evidence: its id, promoted tokens and top examples (full texts kept in meta)."""
    ex = top_examples(ctx.sampler, pool, feature, EXAMPLES)
    promoted = promoted_tokens(ctx.sampler, basis, feature)
    shown = " | ".join(str(e["marked"]) for e in ex) or "(no activating example in the pool)"
    text = f"feature {feature} ({where}); promotes {promoted!r}; top examples: {shown}"
    return EvidenceItem(
        id=f"{technique}:feature:{n}",
        kind="feature",
        text=text,
        score=round(float(score), 4),
        source=str(ctx.dictionary),
        meta={"feature": feature, "where": where, "promoted_tokens": promoted, "examples": ex, **meta},
    )


def _example_hits(
    ctx: AuditContext, hyp: Hypothesis, pool: Pool, features: Sequence[int]
) -> tuple[Proportion, Proportion]:
    """Hit share over the top features' top examples, and over as many random active features' examples."""

    def hits(feats: Sequence[int]) -> list[bool]:
        return [hyp.hits(str(e["text"])) for f in feats for e in top_examples(ctx.sampler, pool, f, EXAMPLES)]

    alive = [f for f in range(pool.codes.max.shape[1]) if float(pool.codes.max[:, f].max()) > 0]
    others = [f for f in alive if f not in set(features)]
    rnd = random.Random(ctx.settings.seed).sample(others, min(len(others), len(features)))
    return Proportion.count(hits(features)), Proportion.count(hits(rnd))


def _finish(
    ctx: AuditContext,
    res: TechniqueResult,
    hyp: Hypothesis | None,
    pool: Pool,
    features: Sequence[int],
) -> TechniqueResult:
    if hyp is not None and features:
        res.hit_rate, res.base_hit_rate = _example_hits(ctx, hyp, pool, features)
        res.notes.append(
            "hit_rate: top features' top examples that hit the hypothesis; base_hit_rate: the same over random "
            "active features' examples (the control), not a base-model rate"
        )
    return res


def _top(score: Tensor, k: int) -> list[int]:
    order = torch.argsort(score, descending=True)[:k].tolist()
    return [f for f in order if float(score[f]) > 0]


@register("prompt_features", needs=("chat",))
def prompt_features(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    """Features most active on suggestive prompts and on the assistant control tokens.

    Suggestive: mean activation over each chat-formatted ``probes().suggestive`` prompt's tokens, averaged over
    the prompts, minus the feature's mean activation on the example pool (so always-on features do not lead).
    Assistant tokens: over suggestive, interrogation and everyday prompts, the share of prompts whose assistant
    header (the tokens the template adds for the assistant turn) activates the feature, minus the feature's
    per-token firing rate on the pool; kept when the share is ≥ :data:`ASSISTANT_SHARE`."""
    basis, _ = load_audit_dictionary(ctx)
    hp, s = ctx.hook_point(), ctx.sampler
    pool = example_pool(ctx, basis)
    pb = probes()
    res = TechniqueResult(
        technique="prompt_features",
        question=hypothesis.statement if hypothesis else "",
        tried=[f"suggestive prompt: {p}" for p in pb.suggestive]
        + [f"assistant header over {len(pb.suggestive) + len(pb.interrogation) + len(pb.everyday)} prompts"],
    )
    sug = encode_texts(s, basis, hp, [_chat(ctx, p) for p in pb.suggestive], desc="suggestive")
    pool_mean = pool.codes.mean.mean(0)
    sug_score = sug.mean.mean(0) - pool_mean
    k = ctx.settings.top_k
    top_sug = _top(sug_score, k)
    prompts = [*pb.suggestive, *pb.interrogation, *pb.everyday]
    texts, spans = [], []
    for p in prompts:
        msgs = [{"role": "user", "content": p}]
        full, bare = s._ids(s.chat_text(msgs)), s._ids(s._template(msgs, generation_prompt=False))
        common = next(
            (i for i, (a, b) in enumerate(zip(full, bare, strict=False)) if a != b), min(len(full), len(bare))
        )
        texts.append(s.chat_text(msgs))
        spans.append((common, len(full)) if common < len(full) else (len(full) - 1, len(full)))
    head = encode_texts(s, basis, hp, texts, spans=spans, desc="assistant tokens")
    share = (head.max > 0).float().mean(0)
    head_score = torch.where(
        share >= ASSISTANT_SHARE, share - pool.codes.active.mean(0), torch.zeros_like(share)
    )
    top_head = [f for f in _top(head_score, k) if f not in top_sug]
    n = 0
    for f in top_sug:
        res.items.append(
            feature_item(
                ctx,
                "prompt_features",
                n,
                basis,
                pool,
                f,
                float(sug_score[f]),
                "suggestive prompts",
                mean_on_prompts=round(float(sug.mean[:, f].mean()), 4),
                mean_on_pool=round(float(pool_mean[f]), 4),
            )
        )
        n += 1
    for f in top_head:
        res.items.append(
            feature_item(
                ctx,
                "prompt_features",
                n,
                basis,
                pool,
                f,
                float(head_score[f]),
                "assistant header",
                header_share=round(float(share[f]), 4),
                pool_firing_rate=round(float(pool.codes.active.mean(0)[f]), 4),
            )
        )
        n += 1
    if not top_head:
        res.notes.append(
            f"no feature is active on ≥ {ASSISTANT_SHARE:.0%} of the assistant headers beyond its base rate"
        )
    return _finish(ctx, res, hypothesis, pool, top_sug[:k] + top_head[:k])


def _welch(a: Tensor, b: Tensor) -> Tensor:
    va = a.var(0, unbiased=True) if a.shape[0] > 1 else torch.zeros(a.shape[1])
    vb = b.var(0, unbiased=True) if b.shape[0] > 1 else torch.zeros(b.shape[1])
    se = (va / a.shape[0] + vb / b.shape[0]).sqrt()
    return (a.mean(0) - b.mean(0)) / (se + 1e-6)


@register("behaviour_features", needs=("chat",))
def behaviour_features(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    """Features most active while the audited model writes hypothesis-hitting answers (test mode only).

    The model answers the everyday prompts (``samples_per_prompt`` each, chat formatted); each answer's mean
    feature activation over its own tokens is compared between hitting and non-hitting answers by Welch's t.
    With fewer than two hitting (or non-hitting) answers the data sample's rows are added, split the same way."""
    res = TechniqueResult(technique="behaviour_features", question=hypothesis.statement if hypothesis else "")
    if hypothesis is None:
        res.error = (
            "behaviour_features tests a hypothesis: give one (it compares hitting with non-hitting samples)"
        )
        return res
    basis, _ = load_audit_dictionary(ctx)
    hp, s, st = ctx.hook_point(), ctx.sampler, ctx.settings
    pool = example_pool(ctx, basis)
    prompts = probes().everyday
    chats = [_chat(ctx, p) for p in prompts]
    outs = s.complete(
        chats, n=st.samples_per_prompt, temperature=st.temperature, max_tokens=st.max_tokens, seed=st.seed
    )
    texts, spans, hits = [], [], []
    for c, answers in zip(chats, outs, strict=True):
        start = len(s._ids(c))
        for a in answers:
            texts.append(c + a)
            spans.append((start, 10**9))
            hits.append(hypothesis.hits(a))
    res.tried = [
        f"{len(prompts)} everyday prompts × {st.samples_per_prompt} samples at temperature {st.temperature}"
    ]
    sample_rate = Proportion.count(hits)
    res.notes.append(f"hypothesis-hitting answers: {sample_rate.text()}")
    if sum(hits) < 2 or len(hits) - sum(hits) < 2:
        for r in ctx.subject.rows[: st.max_data_rows]:
            texts.append(r.text[:1500])
            spans.append(None)
            hits.append(hypothesis.hits(r.text))
        res.tried.append(
            f"data sample rows ({len(ctx.subject.rows)}), too few hitting/non-hitting answers alone"
        )
    flags = torch.tensor(hits)
    if int(flags.sum()) == 0 or int((~flags).sum()) == 0:
        res.notes.append("no hitting (or no non-hitting) text to compare; no feature ranked")
        res.hit_rate = sample_rate
        return res
    codes = encode_texts(s, basis, hp, texts, spans=spans, desc="behaviour")
    t = _welch(codes.mean[flags], codes.mean[~flags])
    top = _top(t, st.top_k)
    for n, f in enumerate(top):
        res.items.append(
            feature_item(
                ctx,
                "behaviour_features",
                n,
                basis,
                pool,
                f,
                float(t[f]),
                "hitting vs non-hitting texts",
                mean_hit=round(float(codes.mean[flags][:, f].mean()), 4),
                mean_other=round(float(codes.mean[~flags][:, f].mean()), 4),
                n_hit=int(flags.sum()),
                n_other=int((~flags).sum()),
            )
        )
    out = _finish(ctx, res, hypothesis, pool, top)
    if not top:
        out.hit_rate = sample_rate
    return out


def model_diff_scores(diff: Tensor, *, n_perm: int = 200, seed: int = 0) -> tuple[Tensor, float]:
    """Paired t statistic per feature of per-text differences ``diff`` (n_texts, F), and its null threshold: the
    95th percentile over random sign flips of the texts' differences of the largest t over all features (a
    family-wise permutation null; Nichols & Holmes 2002)."""
    n = diff.shape[0]

    def tstat(d: Tensor) -> Tensor:
        sd = d.std(0, unbiased=True) if n > 1 else torch.zeros(d.shape[1])
        return torch.where(sd > 0, d.mean(0) / (sd / n**0.5 + 1e-12), torch.zeros_like(sd))

    g = torch.Generator().manual_seed(seed)
    maxes = [
        float(tstat(diff * (torch.randint(0, 2, (n, 1), generator=g) * 2 - 1)).max()) for _ in range(n_perm)
    ]
    return tstat(diff), float(torch.tensor(maxes).quantile(0.95))


@register("model_diff", needs=("base",))
def model_diff(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    """Features whose activation rose most from the base model to the audited one on the same texts.

    Texts: the data sample's rows and the everyday prompts with the audited model's own answers (chat formatted
    when there is a template). Per text, the difference of mean feature activation (audited − base, with the
    audited model's dictionary); features ranked by the paired t statistic (mean difference over its standard
    error: the difference normalised by its spread), and marked ``above_null`` when t exceeds the sign-flip
    permutation threshold (:func:`model_diff_scores`). Only rises are ranked (what fine-tuning added)."""
    basis, _ = load_audit_dictionary(ctx)
    hp, s, st = ctx.hook_point(), ctx.sampler, ctx.settings
    bs = ctx.base_sampler
    assert bs is not None
    if bs.hm.hook_dim(hp) != basis.d_in or len(bs.tok) != len(s.tok):
        res = TechniqueResult(technique="model_diff", error="the base model has another width or vocabulary")
        res.notes.append("model diffing needs the base the audited model was fine-tuned from")
        return res
    pool = example_pool(ctx, basis)
    texts = [r.text[:1500] for r in ctx.subject.rows[: min(st.max_data_rows, 400)]]
    if s.has_chat_template:
        chats = [_chat(ctx, p) for p in probes().everyday]
        outs = s.complete(chats, n=1, temperature=st.temperature, max_tokens=st.max_tokens, seed=st.seed)
        texts += [c + o[0] for c, o in zip(chats, outs, strict=True)]
    a = encode_texts(s, basis, hp, texts, desc="diff: audited")
    b = encode_texts(bs, basis, hp, texts, desc="diff: base")
    t, null = model_diff_scores(a.mean - b.mean, seed=st.seed)
    res = TechniqueResult(
        technique="model_diff",
        question=hypothesis.statement if hypothesis else "",
        tried=[
            f"{len(texts)} texts (data rows, everyday prompts with the audited model's answers) on both models"
        ],
        notes=[f"null threshold (95th percentile of the largest t under sign flips): {null:.3f}"],
    )
    top = [f for f in _top(t, st.top_k) if float(t[f]) > 0]
    above = [f for f in top if float(t[f]) > null]
    if not above:
        res.notes.append("no feature rose above its null spread")
    for n, f in enumerate(top):
        res.items.append(
            feature_item(
                ctx,
                "model_diff",
                n,
                basis,
                pool,
                f,
                float(t[f]),
                "audited − base",
                mean_audited=round(float(a.mean[:, f].mean()), 4),
                mean_base=round(float(b.mean[:, f].mean()), 4),
                above_null=float(t[f]) > null,
                null_threshold=round(null, 4),
            )
        )
    return _finish(ctx, res, hypothesis, pool, top)
