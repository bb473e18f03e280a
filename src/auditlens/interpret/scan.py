"""One streaming pass over an activation store, keeping per-feature accumulators for statistics and examples.

Nothing proportional to the store is held: per feature the pass keeps counters, a histogram, and three small
*reservoirs* of example contexts (each with the feature's activations over a token window):

- **top**: the ``top_k`` contexts with the largest per-context maximum (one example per context, as in the seed's
  auto-interp protocol), merged chunk by chunk with ``torch.topk``;
- **random**: ``random_k`` contexts drawn uniformly among those where the feature fires, by keeping the largest
  pseudo-random keys (a hash of seed, feature id and context index, so the draw does not depend on chunking);
- **strata**: the same random-key sampling inside each of ``STRATA`` activation levels, from which the
  quantile-binned examples are drawn at the end.

Histograms and strata are laid over ``[0, 2^e)`` where ``2^e`` is the smallest power of two above the running
maximum. When a later chunk raises the maximum, bins (and strata) are merged pairwise until the range fits — so
one pass suffices, and the final histogram over ``[0, max]`` is exact up to ``1/HIST_LEVELS`` of that range.
Features are processed in chunks of ``feature_chunk`` columns so temporaries stay bounded for 16k+ features.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor

from auditlens.activations import ActivationStore
from auditlens.interpret.errors import InterpretError
from auditlens.interpret.features import FeatureSource, check_source
from auditlens.runs import bar

HIST_LEVELS = 256
"""Internal histogram bins over ``[0, 2^e)`` (a power of two, so bins merge pairwise)."""
STRATA = 16
"""Activation levels the quantile reservoirs are stratified into (a power of two, for the same reason)."""
_NO_EXP = -10_000
_M31 = (1 << 31) - 1


class ScanConfig(BaseModel):
    """Settings of the streaming pass (what is kept per feature and how the store is read)."""

    model_config = ConfigDict(extra="forbid")

    top_k: int = Field(default=20, ge=1, description="Max-activating contexts kept per feature.")
    random_k: int = Field(default=20, ge=0, description="Random firing contexts kept per feature.")
    quantile_bins: int = Field(
        default=5, ge=1, description="Activation bins (equal fractions of the feature's max) for examples."
    )
    per_quantile: int = Field(default=4, ge=0, description="Examples drawn per activation bin.")
    window: int = Field(
        default=16,
        ge=0,
        description="Tokens kept on each side of an example's max token (clipped to the context, so every "
        "window has min(2*window+1, context_length) tokens).",
    )
    seed: int = Field(
        default=0, description="Seed of the random and quantile draws (results are deterministic)."
    )
    exclude_special: bool = Field(
        default=True, description="Treat context-start/separator tokens as not firing (they are outliers)."
    )
    hook_point: str | None = Field(
        default=None, description="Hook point (needed when the store holds several)."
    )
    max_contexts: int | None = Field(default=None, ge=1, description="Read at most this many contexts.")
    feature_chunk: int = Field(default=16384, ge=1, description="Features processed together per batch.")
    batch_elements: int = Field(
        default=1 << 26,
        ge=1,
        description="Bound on rows per batch × n_features (one encoded batch is 4 bytes × this); larger batches "
        "mean fewer reservoir merges.",
    )
    progress: bool = Field(default=False, description="Show a progress bar.")


@dataclass
class Reservoir:
    """Example contexts kept for each feature: ``(F, S, R)`` slots in ``S`` strata; empty slots have key -inf."""

    key: Tensor
    """(F, S, R) float64 ranking key (activation for top, a random number otherwise)."""
    value: Tensor
    """(F, S, R) float32 maximum activation of the feature in the context."""
    ctx: Tensor
    """(F, S, R) int64 context index in store order."""
    pos: Tensor
    """(F, S, R) int64 token position of that maximum within the context."""
    acts: Tensor
    """(F, S, R, W) float32 the feature's activations over the window of the example."""

    @classmethod
    def empty(cls, f: int, s: int, r: int, w: int) -> Reservoir:
        return cls(
            key=torch.full((f, s, r), -math.inf, dtype=torch.float64),
            value=torch.zeros(f, s, r),
            ctx=torch.full((f, s, r), -1, dtype=torch.long),
            pos=torch.zeros(f, s, r, dtype=torch.long),
            acts=torch.zeros(f, s, r, w),
        )

    @property
    def valid(self) -> Tensor:
        return torch.isfinite(self.key)

    def _fields(self) -> tuple[str, ...]:
        return ("key", "value", "ctx", "pos", "acts")

    def merge(self, rows: Tensor, cand: _Candidates) -> None:
        """Keep, per feature and stratum, the ``R`` largest keys among the kept slots and ``cand``.

        Only (feature, stratum) pairs where some candidate beats the smallest kept key are touched, so the cost
        falls as the reservoirs fill up (late in a pass, few candidates enter).
        """
        r = self.key.shape[-1]
        need = (cand.key > self.key[rows].amin(-1, keepdim=True)).any(-1)
        fi, si = torch.nonzero(need, as_tuple=True)
        if not len(fi):
            return
        gi = rows[fi]
        new = {
            "key": cand.key[fi, si],
            "value": cand.value[fi, si],
            "ctx": cand.ctx[fi, si],
            "pos": cand.pos[fi, si],
        }
        top = torch.cat([self.key[gi, si], new["key"]], -1).topk(r, dim=-1).indices
        for name, values in new.items():
            cur = torch.cat([getattr(self, name)[gi, si], values], 1)
            getattr(self, name)[gi, si] = cur.gather(1, top)
        # Windows: kept ones are moved, and only the candidates that entered are cut from the batch.
        kept = self.acts[gi, si].gather(
            1, top.clamp(max=r - 1)[..., None].expand(-1, -1, self.acts.shape[-1])
        )
        pe, re_ = torch.nonzero(top >= r, as_tuple=True)
        if len(pe):
            kept[pe, re_] = cand.windows(fi[pe], si[pe], top[pe, re_] - r)
        self.acts[gi, si] = kept

    def collapse(self, index: Tensor, shift: int) -> None:
        """Merge strata pairwise ``shift`` times for the features in ``index`` (their range doubled)."""
        _, s, r = self.key.shape
        groups = max(s >> shift, 1)
        keys = self.key[index].reshape(len(index), groups, -1)
        top = keys.topk(r, dim=-1).indices
        for name in self._fields():
            cur = getattr(self, name)[index]
            tail = cur.shape[3:]
            cur = cur.reshape(len(index), groups, -1, *tail)
            idx = top if not tail else top[..., None].expand(-1, -1, -1, *tail)
            merged = cur.gather(2, idx)
            fill = Reservoir.empty(len(index), s - groups, r, self.acts.shape[-1])
            getattr(self, name)[index] = torch.cat([merged, getattr(fill, name)], 1)


@dataclass
class _Candidates:
    """Candidate contexts of one batch for a chunk of features: ``(Fc, S, k)`` each."""

    key: Tensor
    value: Tensor
    ctx: Tensor
    pos: Tensor
    acts: Tensor
    """(n, T, Fc) the batch's feature activations (windows are cut from it on demand)."""
    cols: Tensor
    """(Fs,) column of ``acts`` of each candidate row."""
    c0: int
    window: int
    width: int

    def windows(self, fi: Tensor, si: Tensor, j: Tensor) -> Tensor:
        """(E, W) activation windows of candidates ``(fi, si, j)`` (feature row, stratum, candidate slot)."""
        pos = self.pos[fi, si, j]
        start = (pos - self.window).clamp(min=0).clamp(max=self.acts.shape[1] - self.width)
        tpos = start[:, None] + torch.arange(self.width)
        local = (self.ctx[fi, si, j] - self.c0)[:, None]
        return self.acts[local, tpos, self.cols[fi][:, None]]


@dataclass
class ScanResult:
    """Everything the pass accumulated (features in the source's column order)."""

    source_name: str
    feature_ids: Tensor
    hook_point: str
    context_length: int
    window_tokens: int
    tokens: int
    """Tokens read, not counting excluded special tokens (the firing-rate denominator)."""
    contexts: int
    fires: Tensor
    """(F,) int64 firing tokens."""
    context_fires: Tensor
    """(F,) int64 contexts in which the feature fires at least once."""
    act_sum: Tensor
    """(F,) float64 sum of positive activations."""
    act_max: Tensor
    """(F,) float32 maximum activation (0 when the feature never fires)."""
    exp: Tensor
    """(F,) int64 histogram range exponent: bins cover [0, 2^exp)."""
    hist: Tensor
    """(F, HIST_LEVELS) int64 firing-token counts."""
    top: Reservoir
    random: Reservoir
    strata: Reservoir
    config: ScanConfig
    store_path: str
    shard_contexts: list[int] = field(default_factory=list)
    """Contexts per shard, in store order (to map a context index back to its shard)."""

    @property
    def n_features(self) -> int:
        return int(self.feature_ids.numel())


def hash_keys(seed: int, salt: int, feature_ids: Tensor, contexts: Tensor) -> Tensor:
    """Deterministic pseudo-random keys in [0, 1) for (feature id, context index) pairs (broadcastable tensors)."""
    offset = (seed * 0x9E3779B1 + salt * 0x85EBCA77) & _M31
    x = ((feature_ids & _M31) * 0x27D4EB2F + (contexts & _M31) * 0x165667B1 + offset) & _M31
    for mult in (0x2C1B3C6D, 0x297A2D39, 0x6B5F13E5):
        x = x ^ (x >> 15)
        x = (x * mult) & _M31
    x = x ^ (x >> 13)
    return x.to(torch.float64) / float(1 << 31)


class _Scanner:
    def __init__(self, source: FeatureSource, config: ScanConfig, context_length: int) -> None:
        f = source.n_features
        self.source, self.cfg, self.T = source, config, context_length
        self.W = min(2 * config.window + 1, context_length)
        self.fid = source.feature_ids.to(torch.long)
        self.fires = torch.zeros(f, dtype=torch.long)
        self.ctx_fires = torch.zeros(f, dtype=torch.long)
        self.act_sum = torch.zeros(f, dtype=torch.float64)
        self.act_max = torch.zeros(f)
        self.exp = torch.full((f,), _NO_EXP, dtype=torch.long)
        self.hist = torch.zeros(f, HIST_LEVELS, dtype=torch.long)
        self.top = Reservoir.empty(f, 1, config.top_k, self.W)
        self.random = Reservoir.empty(f, 1, max(config.random_k, 1), self.W)
        self.strata = Reservoir.empty(f, STRATA, max(config.per_quantile, 1), self.W)

    def update(self, acts: Tensor, c0: int) -> None:
        """``acts`` (n, T, F) float32 on CPU, contexts ``c0 .. c0 + n``."""
        step = self.cfg.feature_chunk
        for a in range(0, acts.shape[2], step):
            self._update_chunk(acts[:, :, a : a + step], c0, slice(a, min(a + step, acts.shape[2])))

    def _candidates(
        self, a: Tensor, cols: Tensor, key: Tensor, cmax: Tensor, cpos: Tensor, k: int, c0: int
    ) -> _Candidates:
        """Top-``k`` contexts by ``key`` (Fs, S, n) for the chunk columns ``cols``; windows are gathered later,
        only for the candidates that enter a reservoir."""
        k = min(k, key.shape[-1])
        idx = key.topk(k, dim=-1).indices  # (Fc, S, k)
        fc, s = key.shape[:2]
        return _Candidates(
            key=key.gather(2, idx),
            value=cmax.expand(fc, s, -1).gather(2, idx),
            ctx=idx + c0,
            pos=cpos.expand(fc, s, -1).gather(2, idx),
            acts=a,
            cols=cols,
            c0=c0,
            window=self.cfg.window,
            width=self.W,
        )

    def _update_chunk(self, a: Tensor, c0: int, rows: slice) -> None:
        n, t, fc = a.shape
        flat = a.reshape(n * t, fc)
        # Everything below works on the firing entries only (cheap for sparse codes, fine for dense ones).
        r_idx, f_idx = torch.nonzero(flat > 0, as_tuple=True)
        vals = flat[r_idx, f_idx]
        self.fires[rows] += torch.bincount(f_idx, minlength=fc)
        self.act_sum[rows] += torch.bincount(f_idx, weights=vals.double(), minlength=fc)
        m = torch.zeros(fc).scatter_reduce(0, f_idx, vals, "amax")
        self.act_max[rows] = torch.maximum(self.act_max[rows], m)
        # Range exponents: merge bins/strata of features whose maximum outgrew 2^exp.
        old = self.exp[rows]
        new_e = torch.where(m > 0, torch.frexp(m).exponent.long(), torch.full_like(old, _NO_EXP))
        new = torch.maximum(old, new_e)
        shift = torch.where(old > _NO_EXP, new - old, torch.zeros_like(old))
        for s in shift[shift > 0].unique().tolist():
            index = torch.nonzero(shift == s).squeeze(1) + rows.start
            self._collapse_hist(index, int(s))
            self.strata.collapse(index, int(s))
        self.exp[rows] = new
        if not len(vals):
            return
        scale = torch.ldexp(torch.ones(fc), new.float().clamp(min=-126)).clamp_min(1e-30)
        # Histogram of firing tokens over [0, 2^exp).
        bins = (vals / scale[f_idx] * HIST_LEVELS).long().clamp(0, HIST_LEVELS - 1)
        counts = torch.bincount(f_idx * HIST_LEVELS + bins, minlength=fc * HIST_LEVELS)
        self.hist[rows] += counts.view(fc, HIST_LEVELS)
        # Per-context maxima (and the first position reaching it), features that fired in this batch only.
        cols = torch.nonzero(m > 0).squeeze(1)
        remap = torch.full((fc,), -1, dtype=torch.long)
        remap[cols] = torch.arange(len(cols))
        fs = len(cols)
        key_fc = remap[f_idx] * n + torch.div(r_idx, t, rounding_mode="floor")
        cmax = torch.zeros(fs * n).scatter_reduce(0, key_fc, vals, "amax")
        at_max = vals == cmax[key_fc]
        cpos = torch.full((fs * n,), t - 1, dtype=torch.long)
        cpos = cpos.scatter_reduce(0, key_fc[at_max], r_idx[at_max] % t, "amin")
        cmax, cpos = cmax.view(fs, 1, n), cpos.view(fs, 1, n)
        fired = cmax > 0
        gids = cols + rows.start
        self.ctx_fires[gids] += fired[:, 0].sum(-1)
        neg = torch.tensor(-math.inf, dtype=torch.float64)
        top_key = torch.where(fired, cmax.double(), neg)
        self.top.merge(gids, self._candidates(a, cols, top_key, cmax, cpos, self.cfg.top_k, c0))
        if self.cfg.random_k == 0 and self.cfg.per_quantile == 0:
            return
        fi, ci = torch.nonzero(fired[:, 0], as_tuple=True)
        fid = self.fid[gids]
        if self.cfg.random_k > 0:
            rkey = torch.full((fs, 1, n), -math.inf, dtype=torch.float64)
            rkey[fi, 0, ci] = hash_keys(self.cfg.seed, 1, fid[fi], ci + c0)
            self.random.merge(gids, self._candidates(a, cols, rkey, cmax, cpos, self.cfg.random_k, c0))
        if self.cfg.per_quantile > 0:
            level = (cmax[fi, 0, ci] / scale[cols[fi]] * STRATA).long().clamp(0, STRATA - 1)
            skey = torch.full((fs, STRATA, n), -math.inf, dtype=torch.float64)
            skey[fi, level, ci] = hash_keys(self.cfg.seed, 2, fid[fi], ci + c0)
            self.strata.merge(gids, self._candidates(a, cols, skey, cmax, cpos, self.cfg.per_quantile, c0))

    def _collapse_hist(self, index: Tensor, shift: int) -> None:
        h = self.hist[index]
        groups = max(HIST_LEVELS >> shift, 1)
        merged = h.reshape(len(index), groups, -1).sum(-1)
        self.hist[index] = torch.cat([merged, h.new_zeros(len(index), HIST_LEVELS - groups)], 1)


def scan_store(source: FeatureSource, store: ActivationStore, config: ScanConfig | None = None) -> ScanResult:
    """Read ``store`` once in order, encode every batch with ``source`` and accumulate per-feature state."""
    cfg = config or ScanConfig()
    hp = store.resolve_hook_point(cfg.hook_point)
    check_source(source, store.d_in(hp))
    T = store.manifest.context_length
    scanner = _Scanner(source, cfg, T)
    special = (
        torch.tensor(store.manifest.special_token_ids, dtype=torch.int32)
        if cfg.exclude_special and store.manifest.special_token_ids
        else None
    )
    per_batch = max(1, cfg.batch_elements // max(source.n_features, 1) // T)
    limit = cfg.max_contexts or store.manifest.contexts
    pbar = bar(total=limit, unit="ctx", desc=f"scan {source.name}", enabled=cfg.progress)
    c0, counted, shard_contexts = 0, 0, []
    for tokens, acts in store.contexts(hp):
        if c0 >= limit:
            break
        take = min(tokens.shape[0], limit - c0)
        shard_contexts.append(take)
        for b in range(0, take, per_batch):
            tok = tokens[b : min(b + per_batch, take)]
            n = tok.shape[0]
            codes = source.encode(acts[b : b + n].reshape(n * T, -1)).float().cpu().reshape(n, T, -1)
            counted += n * T
            if special is not None:
                is_special = torch.isin(tok, special)
                codes[is_special] = 0
                counted -= int(is_special.sum())
            scanner.update(codes, c0 + b)
            pbar.update(n)
        c0 += take
    pbar.close()
    if c0 == 0:
        raise InterpretError(f"the store at {store.path} holds no contexts", hint="harvest a store first")
    return ScanResult(
        source_name=source.name,
        feature_ids=scanner.fid.clone(),
        hook_point=hp,
        context_length=T,
        window_tokens=scanner.W,
        tokens=counted,
        contexts=c0,
        fires=scanner.fires,
        context_fires=scanner.ctx_fires,
        act_sum=scanner.act_sum,
        act_max=scanner.act_max,
        exp=scanner.exp,
        hist=scanner.hist,
        top=scanner.top,
        random=scanner.random,
        strata=scanner.strata,
        config=cfg,
        store_path=str(store.path),
        shard_contexts=shard_contexts,
    )
