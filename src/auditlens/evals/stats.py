"""Small statistics helpers shared by the evaluations: means with 95% confidence intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field

from auditlens.json_types import NanFloat


class Estimate(BaseModel):
    """A mean with a 95% confidence interval (normal approximation, 1.96·SD/√n, as the seed reports)."""

    mean: NanFloat = Field(description="Sample mean (NaN, written as null, when undefined).")
    ci_low: NanFloat = Field(description="Lower end of the 95% confidence interval (NaN when undefined).")
    ci_high: NanFloat = Field(description="Upper end of the 95% confidence interval (NaN when undefined).")
    n: int = Field(description="Number of independent units the interval is computed over.")


def mean_ci(values: Sequence[float] | np.ndarray) -> Estimate:
    """Mean and 95% CI of independent values (``n`` < 2 gives a zero-width interval)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return Estimate(mean=math.nan, ci_low=math.nan, ci_high=math.nan, n=0)
    mean = float(v.mean())
    half = 1.96 * float(v.std(ddof=1)) / math.sqrt(v.size) if v.size > 1 else 0.0
    return Estimate(mean=mean, ci_low=mean - half, ci_high=mean + half, n=int(v.size))


def ratio_ci(num: np.ndarray, den: np.ndarray, *, n_boot: int = 1000, seed: int = 0) -> Estimate:
    """Ratio of sums ``Σnum / Σden`` with a bootstrap 95% CI over the paired units."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    point = float(num.sum() / den.sum()) if den.sum() else math.nan
    if num.size < 2:
        return Estimate(mean=point, ci_low=point, ci_high=point, n=int(num.size))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, num.size, size=(n_boot, num.size))
    d = den[idx].sum(1)
    boots = np.where(d != 0, num[idx].sum(1) / np.where(d != 0, d, 1), np.nan)
    if np.isnan(boots).all():
        return Estimate(mean=point, ci_low=math.nan, ci_high=math.nan, n=int(num.size))
    lo, hi = np.nanpercentile(boots, [2.5, 97.5])
    return Estimate(mean=point, ci_low=float(lo), ci_high=float(hi), n=int(num.size))
