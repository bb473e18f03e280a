"""Feature statistics from a stored run: firing, activation levels, histograms, top and promoted tokens.

Everything here is computed from a :class:`~auditlens.interpret.scan.ScanResult` (one pass over the store, no
model re-run) plus, for promoted/suppressed tokens, the model's unembedding and final-norm weight.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, Field
from torch import Tensor

from auditlens.interpret._files import write_model
from auditlens.interpret.errors import InterpretError
from auditlens.interpret.examples import ExampleTable
from auditlens.interpret.scan import HIST_LEVELS, ScanResult
from auditlens.interpret.tokens import TokenText
from auditlens.runs.io import read_json

STATS_FILE = "stats.json"
FORMAT_VERSION = 1


class TokenCount(BaseModel):
    token_id: int
    token: str
    count: int = Field(description="How many of the top contexts have this token at their maximum.")


class TokenValue(BaseModel):
    token_id: int
    token: str
    value: float = Field(description="Logit contribution of the unit feature direction to this token.")


class ActivationHistogram(BaseModel):
    """Firing-token counts in ``len(counts)`` equal bins over ``[0, high]`` (``high`` = the feature's max)."""

    high: float
    counts: list[int]


class FeatureStats(BaseModel):
    """Statistics of one feature over the store (special tokens excluded when the scan excluded them)."""

    feature: int = Field(description="Feature id in the source.")
    fires: int = Field(description="Tokens where the activation is > 0.")
    firing_rate: float = Field(description="fires / tokens (seed §5.4: mean over inputs of 1[c > 0]).")
    firing_contexts: int = Field(
        description="Contexts where the feature fires at least once (auto-interp skips features with < 20)."
    )
    mean_activation: float = Field(description="Mean activation over all tokens (non-firing count as 0).")
    mean_firing_activation: float = Field(description="Mean activation over firing tokens (0 if none).")
    max_activation: float = Field(description="Largest activation (0 if the feature never fires).")
    histogram: ActivationHistogram
    top_tokens: list[TokenCount] = Field(
        description="Tokens at the maximum of the top contexts, most frequent first."
    )
    promoted: list[TokenValue] | None = Field(
        default=None,
        description="Tokens whose logits the direction raises most (after the final norm's weight).",
    )
    suppressed: list[TokenValue] | None = Field(
        default=None, description="Tokens whose logits the direction lowers most."
    )


class DensityHistogram(BaseModel):
    """Features per bin of log10(firing rate); features that never fire are counted in ``dead`` instead."""

    log10_edges: list[float]
    counts: list[int]
    dead: int


class DictionaryStats(BaseModel):
    """Statistics of every feature of a source over one store."""

    format_version: int = FORMAT_VERSION
    source: str = Field(description="Name of the feature source (dictionary folder name, baseline name).")
    store: str = Field(description="Path of the activation store that was read.")
    hook_point: str
    model: str | None = Field(default=None, description="Model used for the unembedding effects, if any.")
    tokens: int = Field(description="Tokens read (special tokens excluded when configured).")
    contexts: int
    n_features: int
    dead_features: int = Field(description="Features that never fired on the tokens read.")
    density: DensityHistogram
    scan: dict[str, Any] = Field(description="The scan configuration used.")
    features: list[FeatureStats]

    def save(self, folder: str | Path) -> Path:
        return write_model(Path(folder) / STATS_FILE, self, indent=None)

    @classmethod
    def load(cls, folder: str | Path) -> DictionaryStats:
        path = Path(folder)
        path = path / STATS_FILE if path.is_dir() else path
        if not path.exists():
            raise InterpretError(f"{path} does not exist", hint="run `auditlens interpret dashboard` first")
        return read_json(path, cls, what="dictionary statistics")

    def feature(self, feature: int) -> FeatureStats:
        for f in self.features:
            if f.feature == feature:
                return f
        raise InterpretError(f"feature {feature} is not in these statistics", hint="pick a listed feature id")


def final_norm_weight(model: Any) -> Tensor | None:
    """The elementwise weight the final norm applies before the unembedding (``1 + w`` for Gemma's RMSNorm)."""
    norm = model.final_norm()
    w = getattr(norm, "weight", None)
    if w is None:
        return None
    w = w.detach().float()
    return w + 1.0 if "Gemma" in type(norm).__name__ else w


@torch.no_grad()
def logit_effects(
    directions: Tensor, unembed: Tensor, norm_weight: Tensor | None = None, k: int = 10, chunk: int = 1024
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Top and bottom ``k`` tokens of ``W_U (γ ⊙ d̂)`` for each unit direction ``d̂`` (``(F, d)`` rows).

    Returns ``(top_ids, top_values, bottom_ids, bottom_values)``, each ``(F, k)``; bottom is most negative first.
    """
    W = unembed.detach().float()
    if directions.shape[1] != W.shape[1]:
        raise InterpretError(
            f"feature directions have width {directions.shape[1]} but the unembedding has {W.shape[1]}",
            hint="promoted/suppressed tokens need directions in the residual stream",
        )
    k = min(k, W.shape[0])
    out: list[tuple[Tensor, ...]] = []
    for a in range(0, directions.shape[0], chunk):
        d = directions[a : a + chunk].float()
        d = d / d.norm(dim=1, keepdim=True).clamp_min(1e-12)
        if norm_weight is not None:
            d = d * norm_weight
        logits = d @ W.t()
        top = logits.topk(k, dim=1)
        bot = logits.topk(k, dim=1, largest=False)
        out.append((top.indices, top.values, bot.indices, bot.values))
    return tuple(torch.cat(parts) for parts in zip(*out, strict=True))  # type: ignore[return-value]


def relative_histogram(internal: Tensor, exp: int, high: float, bins: int) -> list[int]:
    """Re-bin ``HIST_LEVELS`` counts over ``[0, 2^exp)`` into ``bins`` equal bins over ``[0, high]``.

    Counts inside an internal bin are spread linearly (exact up to ``1/HIST_LEVELS`` of the range).
    """
    counts = internal.numpy().astype(np.float64)
    total = int(counts.sum())
    if total == 0 or high <= 0:
        return [0] * bins
    edges = np.arange(HIST_LEVELS + 1) * (2.0**exp / HIST_LEVELS)
    cdf = np.concatenate([[0.0], np.cumsum(counts)])
    at = np.interp(np.linspace(0.0, high, bins + 1), edges, cdf)
    at = np.rint(at).astype(np.int64)
    at[0], at[-1] = 0, total
    return np.diff(np.maximum.accumulate(at)).tolist()


def density_histogram(rates: Tensor, lo: float = -7.0, hi: float = 0.0, bins: int = 35) -> DensityHistogram:
    """Histogram of log10 firing rates across features (dead features counted apart)."""
    alive = rates[rates > 0].double()
    edges = np.linspace(lo, hi, bins + 1)
    vals = np.clip(torch.log10(alive).numpy(), lo, hi)
    counts, _ = np.histogram(vals, bins=edges)
    return DensityHistogram(log10_edges=edges.tolist(), counts=counts.tolist(), dead=int((rates <= 0).sum()))


def peak_tokens(table: ExampleTable) -> Tensor:
    """``(F, top_k)`` token id at the maximum of each top context (-1 for empty slots)."""
    top = table.top
    offset = (top.pos - top.start).clamp(0, top.tokens.shape[-1] - 1)[..., None]
    ids = top.tokens.long().gather(3, offset)[:, 0, :, 0]
    return torch.where(top.ctx[:, 0] >= 0, ids, -1)


def top_tokens(peaks: list[int], text: TokenText, k: int = 10) -> list[TokenCount]:
    """Most frequent of the ``peaks`` token ids (-1 ignored), most frequent first."""
    counts = Counter(t for t in peaks if t >= 0).most_common(k)
    return [TokenCount.model_construct(token_id=t, token=text(t), count=c) for t, c in counts]


def build_stats(
    scan: ScanResult,
    examples: ExampleTable,
    *,
    text: TokenText | None = None,
    directions: Tensor | None = None,
    unembed: Tensor | None = None,
    norm_weight: Tensor | None = None,
    model_name: str | None = None,
    histogram_bins: int = 32,
    k_tokens: int = 10,
) -> DictionaryStats:
    """Typed statistics of every feature; promoted/suppressed tokens when ``directions`` and ``unembed`` are given."""
    text = text or TokenText()
    n_tok = max(scan.tokens, 1)
    rates = scan.fires.double() / n_tok
    effects = None
    peaks = peak_tokens(examples).tolist()
    if directions is not None and unembed is not None:
        effects = [t.tolist() for t in logit_effects(directions, unembed, norm_weight, k=k_tokens)]
    features = []
    for i in range(scan.n_features):
        fires = int(scan.fires[i])
        s = float(scan.act_sum[i])
        mx = float(scan.act_max[i])
        promoted = suppressed = None
        if effects is not None:
            ti, tv, bi, bv = (e[i] for e in effects)
            tv_ = TokenValue.model_construct
            promoted = [tv_(token_id=t, token=text(t), value=v) for t, v in zip(ti, tv, strict=True)]
            suppressed = [tv_(token_id=t, token=text(t), value=v) for t, v in zip(bi, bv, strict=True)]
        # Trusted values built here: construct without re-validation (16k features × dozens of tokens).
        features.append(
            FeatureStats.model_construct(
                feature=int(scan.feature_ids[i]),
                fires=fires,
                firing_rate=fires / n_tok,
                firing_contexts=int(scan.context_fires[i]),
                mean_activation=s / n_tok,
                mean_firing_activation=s / fires if fires else 0.0,
                max_activation=mx,
                histogram=ActivationHistogram.model_construct(
                    high=mx, counts=relative_histogram(scan.hist[i], int(scan.exp[i]), mx, histogram_bins)
                ),
                top_tokens=top_tokens(peaks[i], text, k_tokens),
                promoted=promoted,
                suppressed=suppressed,
            )
        )
    return DictionaryStats(
        source=scan.source_name,
        store=scan.store_path,
        hook_point=scan.hook_point,
        model=model_name,
        tokens=scan.tokens,
        contexts=scan.contexts,
        n_features=scan.n_features,
        dead_features=int((scan.fires == 0).sum()),
        density=density_histogram(rates),
        scan=scan.config.model_dump(),
        features=features,
    )
