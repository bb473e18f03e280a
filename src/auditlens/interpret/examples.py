"""Example contexts per feature, read back from the stored token ids.

:func:`build_examples` turns the reservoirs of a :class:`~auditlens.interpret.scan.ScanResult` into an
:class:`ExampleTable` — dense tensors ``(n_features, slots, window)`` saved as ``examples.safetensors`` (a JSON file
of 16k features × dozens of windows would be hundreds of MB). :meth:`ExampleTable.feature` gives one feature's
examples as a typed :class:`FeatureExamples` with decoded tokens, which is what dashboards and auto-interp read.

Three kinds of examples, one per context (a context appears at most once per kind):

- ``top``: contexts with the largest maximum activation, strongest first;
- ``quantiles``: ``quantile_bins`` bins of equal width over ``[0, max]`` by the context's maximum, up to
  ``per_quantile`` random contexts in each (drawn from strata of 1/16 of the range, so draws are spread over
  each bin rather than exactly uniform over its contexts), strongest first;
- ``random``: contexts drawn uniformly among those where the feature fires (the seed's "random non-zero").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from pydantic import BaseModel, Field
from torch import Tensor

from auditlens.activations import ActivationStore
from auditlens.interpret._files import load_tensors, save_tensors
from auditlens.interpret.errors import InterpretError
from auditlens.interpret.scan import Reservoir, ScanResult
from auditlens.interpret.tokens import TokenText

EXAMPLES_FILE = "examples.safetensors"
KINDS = ("top", "quantile", "random")
_FIELDS = ("ctx", "start", "pos", "value", "acts", "tokens")


class Example(BaseModel):
    """One context window with the feature's activation on every token."""

    context: int = Field(description="Context index in store order.")
    start: int = Field(description="Position of the window's first token within the context.")
    max_position: int = Field(description="Position of the feature's maximum within the context.")
    max_activation: float = Field(description="The feature's maximum activation in the context.")
    token_ids: list[int] = Field(description="Token ids of the window.")
    tokens: list[str] = Field(description="Each token decoded alone.")
    activations: list[float] = Field(description="The feature's activation on each token of the window.")


class QuantileBin(BaseModel):
    """Examples whose maximum lies in ``[low, high)`` (the last bin includes ``high``)."""

    low: float
    high: float
    examples: list[Example]


class FeatureExamples(BaseModel):
    """Examples of one feature."""

    feature: int = Field(description="Feature id in the source.")
    max_activation: float = Field(description="The feature's maximum activation over the store.")
    top: list[Example] = Field(description="Max-activating contexts, strongest first.")
    quantiles: list[QuantileBin] = Field(description="Examples binned by activation level, lowest bin first.")
    random: list[Example] = Field(description="Random contexts where the feature fires.")


@dataclass
class ExampleSlots:
    """One kind of examples for all features: ``(F, S, R)`` slots (``ctx == -1`` marks an empty slot)."""

    ctx: Tensor
    start: Tensor
    pos: Tensor
    value: Tensor
    acts: Tensor
    """(F, S, R, W) float32."""
    tokens: Tensor
    """(F, S, R, W) int32."""

    def examples(self, row: int, stratum: int, text: TokenText) -> list[Example]:
        out = []
        for j in range(self.ctx.shape[2]):
            c = int(self.ctx[row, stratum, j])
            if c < 0:
                continue
            ids = self.tokens[row, stratum, j].tolist()
            out.append(
                Example(
                    context=c,
                    start=int(self.start[row, stratum, j]),
                    max_position=int(self.pos[row, stratum, j]),
                    max_activation=float(self.value[row, stratum, j]),
                    token_ids=ids,
                    tokens=text.many(ids),
                    activations=self.acts[row, stratum, j].tolist(),
                )
            )
        return out


@dataclass
class ExampleTable:
    """Examples of every feature of a source, as tensors (see the module docstring)."""

    feature_ids: Tensor
    max_activation: Tensor
    top: ExampleSlots
    quantile: ExampleSlots
    random: ExampleSlots
    meta: dict[str, str]

    @property
    def n_features(self) -> int:
        return int(self.feature_ids.numel())

    def row_of(self, feature: int) -> int:
        hits = torch.nonzero(self.feature_ids == int(feature)).flatten()
        if not len(hits):
            raise InterpretError(
                f"feature {feature} is not in this example table",
                hint=f"it holds {self.n_features} features, e.g. {self.feature_ids[:5].tolist()}",
            )
        return int(hits[0])

    def feature(self, feature: int, text: TokenText | None = None) -> FeatureExamples:
        """Typed examples of feature id ``feature`` (decoded with ``text``; ``<id>`` without it)."""
        text = text or TokenText()
        row = self.row_of(feature)
        mx = float(self.max_activation[row])
        q = self.quantile.ctx.shape[1]
        bins = [
            QuantileBin(low=mx * b / q, high=mx * (b + 1) / q, examples=self.quantile.examples(row, b, text))
            for b in range(q)
        ]
        return FeatureExamples(
            feature=int(feature),
            max_activation=mx,
            top=self.top.examples(row, 0, text),
            quantiles=bins,
            random=self.random.examples(row, 0, text),
        )

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / EXAMPLES_FILE
        tensors = {"feature_ids": self.feature_ids, "max_activation": self.max_activation}
        for kind in KINDS:
            slots = getattr(self, kind)
            for name in _FIELDS:
                tensors[f"{kind}.{name}"] = getattr(slots, name).contiguous()
        return save_tensors(path, tensors, self.meta)

    @classmethod
    def load(cls, folder: str | Path) -> ExampleTable:
        path = Path(folder) / EXAMPLES_FILE
        if not path.exists():
            raise InterpretError(f"{path} does not exist", hint="run `auditlens interpret dashboard` first")
        t, meta = load_tensors(path)
        slots = {k: ExampleSlots(**{n: t[f"{k}.{n}"] for n in _FIELDS}) for k in KINDS}
        return cls(t["feature_ids"], t["max_activation"], meta=meta, **slots)


def _read_tokens(store: ActivationStore, shard_contexts: list[int]) -> Tensor:
    """Token ids of the contexts the scan read, ``(contexts, T)`` int32, in store order."""
    parts = []
    for shard, n in zip(store.manifest.shards, shard_contexts, strict=False):
        parts.append(store.read_tokens(shard.index)[:n])
    return torch.cat(parts)


def _slots(res: Reservoir, tokens: Tensor, window: int, t: int, w: int) -> ExampleSlots:
    valid = res.valid
    ctx = torch.where(valid, res.ctx, torch.full_like(res.ctx, -1))
    start = (res.pos - window).clamp(min=0).clamp(max=t - w)
    tpos = start[..., None] + torch.arange(w)
    tok = tokens[ctx.clamp(min=0)[..., None], tpos]
    return ExampleSlots(
        ctx=ctx,
        start=torch.where(valid, start, 0),
        pos=torch.where(valid, res.pos, 0),
        value=torch.where(valid, res.value, 0.0),
        acts=torch.where(valid[..., None], res.acts, 0.0),
        tokens=torch.where(valid[..., None], tok, 0).to(torch.int32),
    )


def _quantile_reservoir(scan: ScanResult) -> Reservoir:
    """Pick ``per_quantile`` strata samples per output bin (by random key), strongest first within a bin."""
    cfg = scan.config
    q, p = cfg.quantile_bins, max(cfg.per_quantile, 1)
    s = scan.strata
    f = s.key.shape[0]
    flat = Reservoir(*(getattr(s, n).reshape(f, 1, -1, *getattr(s, n).shape[3:]) for n in s._fields()))
    mx = scan.act_max.clamp_min(1e-30)[:, None, None]
    b = (flat.value / mx * q).long().clamp(0, q - 1)
    out = Reservoir.empty(f, q, p, scan.window_tokens)
    for k in range(q):
        key = torch.where(flat.valid & (b == k), flat.key, -torch.inf)
        k_eff = min(p, key.shape[-1])
        idx = key.topk(k_eff, dim=-1).indices
        # Within the bin, strongest first (invalid slots sink to the end).
        vals = torch.where(torch.isfinite(key.gather(2, idx)), flat.value.gather(2, idx), -torch.inf)
        idx = idx.gather(2, vals.argsort(dim=-1, descending=True))
        for name in s._fields():
            src = getattr(flat, name)
            ix = idx if src.dim() == 3 else idx[..., None].expand(-1, -1, -1, src.shape[-1])
            getattr(out, name)[:, k : k + 1, :k_eff] = src.gather(2, ix)
        out.key[:, k : k + 1, :k_eff] = key.gather(2, idx)  # masked: slots outside the bin stay empty
    if cfg.per_quantile == 0:
        out.key.fill_(-torch.inf)
    return out


def build_examples(scan: ScanResult, store: ActivationStore) -> ExampleTable:
    """Examples of every feature, with token ids read from ``store`` (the store the scan read)."""
    tokens = _read_tokens(store, scan.shard_contexts)
    t, w, window = scan.context_length, scan.window_tokens, scan.config.window
    random = scan.random
    if scan.config.random_k == 0:
        random = Reservoir.empty(scan.n_features, 1, 1, w)
    meta = {
        "source": scan.source_name,
        "store": scan.store_path,
        "hook_point": scan.hook_point,
        "context_length": str(t),
        "window_tokens": str(w),
        "config": json.dumps(scan.config.model_dump()),
    }
    return ExampleTable(
        feature_ids=scan.feature_ids.clone(),
        max_activation=scan.act_max.clone(),
        top=_slots(scan.top, tokens, window, t, w),
        quantile=_slots(_quantile_reservoir(scan), tokens, window, t, w),
        random=_slots(random, tokens, window, t, w),
        meta=meta,
    )
