"""Reconstruction and sparsity metrics of dictionaries over a sample of activations.

Every member of a (stacked) dictionary is evaluated from one read of the data. Definitions follow the seed
(§5.4): FVU = Σ(x − x̂)² / Σ(x − mean_batch(x))², explained variance =
1 − FVU, L0 = number of non-zero latents per input, a latent is dead if it never fires in the sample.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from pydantic import BaseModel, Field

from auditlens.runs.stats import Estimate, mean_ci, ratio_ci
from auditlens.sae import Dictionary


class Histogram(BaseModel):
    """Counts over bins; ``edges`` has one more entry than ``counts``."""

    edges: list[float]
    counts: list[int]


class ReconstructionMetrics(BaseModel):
    """Reconstruction and sparsity of one dictionary on a sample of activations (raw units)."""

    tokens: int = Field(description="Activation rows evaluated.")
    mse: Estimate = Field(description="Mean squared error per element; CI over batches.")
    fvu: Estimate = Field(
        description="Fraction of variance unexplained, Σ(x−x̂)²/Σ(x−x̄)² with x̄ each batch's mean (seed §5.4), "
        "summed over batches; CI by bootstrap over batches."
    )
    explained_variance: float = Field(description="1 − FVU over the whole sample.")
    l0: Estimate = Field(description="Mean number of active latents per input; CI over batches.")
    l0_histogram: Histogram = Field(description="Distribution of the number of active latents per input.")
    dead_fraction: float = Field(description="Share of latents that never fired on the sample.")
    dead_window_tokens: int = Field(description="Tokens in the window over which deadness was judged.")
    firing_rate_histogram: Histogram = Field(
        description="Histogram of log10(firing rate) of the latents that fired (density across the dictionary)."
    )


@torch.no_grad()
def evaluate_reconstruction(
    dictionary: Dictionary, batches: Iterable[torch.Tensor], *, max_tokens: int | None = None
) -> list[ReconstructionMetrics]:
    """Evaluate every member of ``dictionary`` on ``batches`` of raw activations ``(batch, d_in)``."""
    n, d_sae = dictionary.n, dictionary.d_sae
    sq_err: list[np.ndarray] = []  # per batch: (n,)
    sq_dev: list[float] = []
    l0_sum: list[np.ndarray] = []
    rows: list[int] = []
    fired = torch.zeros(n, d_sae, dtype=torch.int64)
    l0_counts = torch.zeros(n, d_sae + 1, dtype=torch.int64)
    tokens = 0
    for x in batches:
        if max_tokens is not None and tokens >= max_tokens:
            break
        if max_tokens is not None:
            x = x[: max_tokens - tokens]
        x = x.float()
        codes = dictionary.encode(x)  # (n, b, d_sae)
        x_hat = dictionary.decode(codes)  # (n, b, d_in)
        active = codes != 0
        l0 = active.sum(-1)  # (n, b)
        fired += active.sum(1)
        l0_counts += torch.stack([torch.bincount(r, minlength=d_sae + 1) for r in l0])
        sq_err.append(((x_hat - x) ** 2).sum((1, 2)).double().numpy())
        sq_dev.append(float(((x - x.mean(0)) ** 2).sum()))
        l0_sum.append(l0.sum(1).double().numpy())
        rows.append(x.shape[0])
        tokens += x.shape[0]
    if tokens == 0:
        raise ValueError("no activations to evaluate")
    err = np.stack(sq_err)  # (batches, n)
    ls = np.stack(l0_sum)
    r = np.asarray(rows, dtype=np.float64)
    d_in = dictionary.d_in
    out = []
    for i in range(n):
        rates = fired[i].double() / tokens
        alive = rates[rates > 0].log10().numpy()
        counts, edges = np.histogram(alive, bins=30) if alive.size else (np.zeros(0, int), np.zeros(1))
        l0_hist = l0_counts[i].numpy()
        top = int(np.nonzero(l0_hist)[0].max()) + 1 if l0_hist.any() else 1
        l0_edges = np.linspace(0, top, min(top, 50) + 1)
        l0_binned = np.histogram(np.arange(top), bins=l0_edges, weights=l0_hist[:top])[0]
        fvu = ratio_ci(err[:, i], np.asarray(sq_dev))
        out.append(
            ReconstructionMetrics(
                tokens=tokens,
                mse=mean_ci(err[:, i] / (r * d_in)),
                fvu=fvu,
                explained_variance=1.0 - fvu.value,
                l0=mean_ci(ls[:, i] / r),
                l0_histogram=Histogram(edges=l0_edges.tolist(), counts=[int(c) for c in l0_binned]),
                dead_fraction=float((fired[i] == 0).double().mean()),
                dead_window_tokens=tokens,
                firing_rate_histogram=Histogram(edges=edges.tolist(), counts=[int(c) for c in counts]),
            )
        )
    return out
