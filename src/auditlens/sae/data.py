"""Data-derived initialisation: the activation scale and the decoder-bias init, from the first N batches."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor

from auditlens.sae.errors import DataError

BiasInit = Literal["geometric_median", "mean", "zeros"]


class DataStats(BaseModel):
    """What :func:`estimate_data_stats` measured."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    act_scale: float = Field(description="sqrt(E||x||² / d_in): dividing by it gives E||x||² = d_in.")
    center: Tensor = Field(description="(d_in,) decoder-bias init in *normalised* units (x / act_scale).")
    n_rows: int = Field(description="Rows the estimate used.")


def check_batch(x: Tensor, d_in: int | None, where: str, extra_hint: str = "") -> Tensor:
    """Validate one activation batch (``where`` names it, e.g. "step 12"): 2-D, the right width, finite.
    Returns it as float32."""
    if not isinstance(x, Tensor) or x.dim() != 2:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise DataError(f"{where}: expected a (batch, d_in) tensor, got {shape}", hint="yield 2-D tensors")
    if d_in is not None and x.shape[1] != d_in:
        raise DataError(
            f"{where}: activations have d_in = {x.shape[1]} but the dictionary config says d_in = {d_in}",
            hint="use a store harvested at a hook point with the config's width, or fix d_in",
        )
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).any(-1).sum())
        raise DataError(
            f"{where}: {bad} activation rows contain NaN or inf",
            hint="re-harvest the store or drop the bad rows before training" + extra_hint,
        )
    return x if x.dtype == torch.float32 else x.float()


def geometric_median(points: Tensor, max_iter: int = 100, tol: float = 1e-6) -> Tensor:
    """Weiszfeld's algorithm, started at the mean (as dictionary_learning / sparsify use for b_dec)."""
    y = points.mean(0)
    for _ in range(max_iter):
        d = (points - y).norm(dim=-1).clamp_min(1e-8)
        w = 1.0 / d
        y_new = (w[:, None] * points).sum(0) / w.sum()
        if (y_new - y).norm() <= tol * max(1.0, float(y.norm())):
            return y_new
        y = y_new
    return y


def estimate_data_stats(
    batches: Iterable[Tensor],
    n_batches: int = 4,
    bias_init: BiasInit = "geometric_median",
    normalize: bool = True,
    max_rows: int = 32768,
) -> DataStats:
    """Estimate the activation scale and the decoder-bias init from the first ``n_batches`` batches."""
    rows = []
    total = 0
    for i, b in enumerate(itertools.islice(batches, n_batches)):
        b = check_batch(b, None, f"batch {i}").detach().float().cpu()
        rows.append(b)
        total += b.shape[0]
        if total >= max_rows:
            break
    if not rows:
        raise DataError(
            "no activation batches to estimate the data scale from", hint="pass a non-empty iterator"
        )
    x = torch.cat(rows)[:max_rows].double()
    d_in = x.shape[1]
    scale = math.sqrt(float(x.pow(2).sum(-1).mean()) / d_in) if normalize else 1.0
    if scale <= 0 or not math.isfinite(scale):
        raise DataError(
            "activations are all zero; cannot estimate a scale", hint="check the activation source"
        )
    xn = x / scale
    if bias_init == "geometric_median":
        center = geometric_median(xn)
    elif bias_init == "mean":
        center = xn.mean(0)
    else:
        center = torch.zeros(d_in, dtype=torch.float64)
    return DataStats(act_scale=scale, center=center.float(), n_rows=x.shape[0])


def peek(batches: Iterable[Tensor], n: int) -> tuple[list[Tensor], Iterator[Tensor]]:
    """Read the first ``n`` batches and return them together with an iterator that yields them again, then the rest."""
    it = iter(batches)
    head = list(itertools.islice(it, n))
    return head, itertools.chain(head, it)
