"""Dictionary features over texts: per-text activation statistics, top activating examples, promoted tokens.

The feature techniques (:mod:`auditlens.audit.techniques.features`) share these pieces:

- :func:`encode_texts` runs a model over texts (batched, right-padded, truncated to the sampler's window), reads
  the activations at the hook point, encodes them with the dictionary and keeps, per text and feature, the
  maximum, its token position, the mean and the share of positions where the feature is active, over a span of
  tokens per text (default: every token but the first, whose activation is an attention-sink outlier). Only
  these (texts × features) statistics are kept, never the (tokens × features) codes, so thousands of texts fit.
- :func:`example_pool` is the text pool top examples come from: the data sample's rows and general documents of
  the default corpus (Bricken et al. 2023 show a feature by its top activating contexts).
- :func:`top_examples` marks each example's maximally activating token ``⟦like this⟧``.
- :func:`promoted_tokens` reads a feature's decoder direction through the final norm's gain and the unembedding
  (the "logit lens" of a direction: Bricken et al. 2023, "Towards Monosemanticity", logit weights).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from auditlens.audit.sampler import ModelSampler
from auditlens.intervene.basis import DictionaryBasis
from auditlens.runs import bar

if TYPE_CHECKING:
    from auditlens.audit.techniques.base import AuditContext

__all__ = ["TextCodes", "encode_texts", "example_pool", "promoted_tokens", "top_examples"]

Span = tuple[int, int]


@dataclass
class TextCodes:
    """Per-text feature statistics: each (n_texts, n_features)."""

    ids: list[list[int]]
    max: Tensor
    argmax: Tensor
    mean: Tensor
    active: Tensor  # share of the span's positions where the feature is > 0


@torch.no_grad()
def encode_texts(
    sampler: ModelSampler,
    basis: DictionaryBasis,
    hook_point: str,
    texts: Sequence[str],
    *,
    spans: Sequence[Span | None] | None = None,
    batch_size: int = 16,
    desc: str = "features",
) -> TextCodes:
    """Feature statistics of ``texts`` on ``sampler``'s model; ``spans[i]`` = (start, end) token range of text
    ``i`` the statistics are taken over (None: all but the first token). Cost is added to ``sampler.cost``."""
    hm = sampler.hm
    ids = [sampler._ids(t) or [sampler.pad] for t in texts]
    n, f = len(ids), basis.n_features
    out = TextCodes(
        ids, torch.zeros(n, f), torch.zeros(n, f, dtype=torch.long), torch.zeros(n, f), torch.zeros(n, f)
    )
    device = next(hm.model.parameters()).device
    for s in bar(range(0, n, batch_size), desc=desc, enabled=n > 4 * batch_size, leave=False):
        chunk = ids[s : s + batch_size]
        width = max(len(r) for r in chunk)
        x = torch.full((len(chunk), width), sampler.pad, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for b, r in enumerate(chunk):
            x[b, : len(r)] = torch.tensor(r)
            mask[b, : len(r)] = 1
        acts = hm.capture(x.to(device), [hook_point], attention_mask=mask.to(device))[hook_point]
        codes = basis.encode(acts.float()).cpu()  # (b, seq, F)
        sampler.cost.model_calls += 1
        sampler.cost.tokens_scored += int(mask.sum())
        for b, r in enumerate(chunk):
            i = s + b
            span = spans[i] if spans is not None else None
            lo, hi = span if span is not None else ((1 if len(r) > 1 else 0), len(r))
            lo, hi = max(0, min(lo, len(r) - 1)), max(min(hi, len(r)), 1)
            hi = max(hi, lo + 1)
            c = codes[b, lo:hi]
            m, a = c.max(0)
            out.max[i], out.argmax[i] = m, a + lo
            out.mean[i] = c.mean(0)
            out.active[i] = (c > 0).float().mean(0)
    return out


@dataclass
class Pool:
    """The texts top examples come from, with their feature statistics."""

    texts: list[str]
    sources: list[str]
    codes: TextCodes


_POOLS: dict[tuple[object, ...], Pool] = {}
_MAX_POOLS = 4
"""Pools kept in memory (the most recent; an audit uses one or two dictionaries)."""


def _dictionary_stamp(ctx: AuditContext, basis: DictionaryBasis) -> object:
    """What identifies the dictionary's weights: its folder and the weights file's modification time (every feature
    technique loads its own copy of the same folder, so the object's id would miss), else the object."""
    if ctx.dictionary is not None:
        w = Path(ctx.dictionary) / "sae_weights.safetensors"
        if w.is_file():
            return (str(Path(ctx.dictionary).resolve()), w.stat().st_mtime_ns)
    return id(basis.dictionary)


def example_pool(
    ctx: AuditContext, basis: DictionaryBasis, *, max_rows: int = 160, corpus_docs: int = 80, chars: int = 600
) -> Pool:
    """Data-sample rows (up to ``max_rows``) and default-corpus documents (``corpus_docs``, cut to ``chars``),
    encoded on the audited model; memoised per model, dictionary and sample (the feature techniques of one audit
    share it; it was re-encoded by each before, ~40 s a time on SmolLM2)."""
    from auditlens.data import open_source

    rows_key = hashlib.sha256("\x00".join(r.text for r in ctx.subject.rows[:max_rows]).encode()).hexdigest()
    key = (
        ctx.subject.model.model_id,
        id(ctx.subject.model),
        _dictionary_stamp(ctx, basis),
        rows_key,
        max_rows,
    )
    if key in _POOLS:
        return _POOLS[key]
    rows = ctx.subject.rows[:max_rows]
    texts = [r.text[:chars] for r in rows]
    sources = [f"data:{r.id}" for r in rows]
    try:
        for i, doc in enumerate(open_source("default")):
            if i >= corpus_docs:
                break
            texts.append(doc[:chars])
            sources.append(f"corpus:{i}")
    except Exception:  # the corpus is optional here: examples then come from the sample only
        pass
    pool = Pool(
        texts, sources, encode_texts(ctx.sampler, basis, ctx.hook_point(), texts, desc="example pool")
    )
    while len(_POOLS) >= _MAX_POOLS:
        _POOLS.pop(next(iter(_POOLS)))
    _POOLS[key] = pool
    return pool


def _marked(sampler: ModelSampler, ids: list[int], pos: int, window: int = 16) -> str:
    lo, hi = max(0, pos - window), min(len(ids), pos + window // 2 + 1)
    dec = sampler.tok.decode
    left, tok, right = dec(ids[lo:pos]), dec(ids[pos : pos + 1]), dec(ids[pos + 1 : hi])
    return ("…" if lo > 0 else "") + f"{left}⟦{tok}⟧{right}" + ("…" if hi < len(ids) else "")


def top_examples(sampler: ModelSampler, pool: Pool, feature: int, k: int = 3) -> list[dict[str, object]]:
    """The ``k`` pool texts where ``feature`` peaks highest (only those where it is active), each with its
    maximal token marked, the activation, the source and the full text (for hit counting)."""
    col = pool.codes.max[:, feature]
    order = torch.argsort(col, descending=True)[:k]
    out: list[dict[str, object]] = []
    for i in order.tolist():
        if float(col[i]) <= 0:
            break
        pos = int(pool.codes.argmax[i, feature])
        out.append(
            {
                "marked": _marked(sampler, pool.codes.ids[i], pos),
                "activation": round(float(col[i]), 4),
                "source": pool.sources[i],
                "text": pool.texts[i],
            }
        )
    return out


@torch.no_grad()
def promoted_tokens(sampler: ModelSampler, basis: DictionaryBasis, feature: int, k: int = 8) -> list[str]:
    """Tokens whose logits the feature's decoder direction raises most (through the final norm's gain and the
    unembedding)."""
    hm = sampler.hm
    d = basis.directions()[feature].float().cpu()
    gain = getattr(hm.final_norm(), "weight", None)
    if isinstance(gain, Tensor) and gain.shape == d.shape:
        d = d * gain.detach().float().cpu()
    logits = hm.unembed().detach().float().cpu() @ d
    top = torch.topk(logits, min(k, logits.shape[0])).indices.tolist()
    return [sampler.tok.decode([t]) for t in top]
