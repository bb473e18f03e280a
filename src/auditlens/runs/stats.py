"""Values with uncertainty: the two result types every package reports, and the interval functions behind them.

- :class:`Estimate` — a point estimate (a mean, an AUROC, a difference, a ratio) with its 95% interval, the number of
  independent units ``n`` it rests on, and the ``method`` that made the interval.
- :class:`Proportion` — ``k`` of ``n`` with the Wilson 95% interval.

Interval functions: :func:`wilson` (score interval, no continuity correction — scipy's ``binomtest(...).proportion_ci(
method='wilson')``), :func:`mean_ci` (normal approximation 1.96·SD/√n, as the seeds report), :func:`bootstrap`
(percentile bootstrap of any statistic; several groups are resampled separately, i.e. stratified), :func:`ratio_ci`
(ratio of sums over paired units) and :func:`paired_difference` (mean of a − b over paired units, e.g. the same
prompts in two conditions). Undefined values are NaN (written as JSON ``null`` and read back as NaN).

Older result files used other field names (``mean``; ``caught``; ``lo``/``hi``); they are read through aliases.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from auditlens.errors import ConfigError
from auditlens.json_types import NanFloat

__all__ = [
    "Z95",
    "Estimate",
    "Proportion",
    "bootstrap",
    "mean_ci",
    "paired_difference",
    "ratio_ci",
    "wilson",
]

Z95 = 1.959963984540054
"""The 97.5% quantile of the standard normal (two-sided 95%)."""

Method = Literal["normal", "bootstrap", "paired_bootstrap", "wilson", "exact", "none"]


def _fmt(v: float, digits: int) -> str:
    return "n/a" if math.isnan(v) else f"{v:.{digits}f}"


class Estimate(BaseModel):
    """A point estimate with its 95% interval (NaN, written as null, where undefined)."""

    model_config = ConfigDict(populate_by_name=True)

    value: NanFloat = Field(
        validation_alias=AliasChoices("value", "mean"),
        description="The point estimate (a mean, an AUROC, a difference, …).",
    )
    ci_low: NanFloat = Field(description="Lower end of the 95% interval.")
    ci_high: NanFloat = Field(description="Upper end of the 95% interval.")
    n: int = Field(default=0, description="Independent units the interval rests on (0 when not recorded).")
    method: Method = Field(default="normal", description="How the interval was made.")

    @classmethod
    def undefined(cls, n: int = 0, method: Method = "none") -> Estimate:
        return cls(value=math.nan, ci_low=math.nan, ci_high=math.nan, n=n, method=method)

    @property
    def defined(self) -> bool:
        return not math.isnan(self.value)

    def excludes(self, x: float) -> bool:
        """Whether the interval lies entirely above or below ``x`` (False when undefined)."""
        return bool(self.ci_low > x or self.ci_high < x)

    def text(self, digits: int = 3) -> str:
        """``0.412 [0.301, 0.523] (n=150)``."""
        if not self.defined:
            return f"n/a (n={self.n})"
        return f"{self.value:.{digits}f} [{_fmt(self.ci_low, digits)}, {_fmt(self.ci_high, digits)}] (n={self.n})"


class Proportion(BaseModel):
    """``k`` of ``n`` with its Wilson 95% interval (rate and interval NaN when ``n`` is 0)."""

    model_config = ConfigDict(populate_by_name=True)

    k: int = Field(validation_alias=AliasChoices("k", "caught"), description="Units with the property.")
    n: int = Field(description="Units counted.")
    rate: NanFloat = Field(description="k / n.")
    ci_low: NanFloat = Field(
        validation_alias=AliasChoices("ci_low", "lo"), description="Wilson 95% lower bound."
    )
    ci_high: NanFloat = Field(
        validation_alias=AliasChoices("ci_high", "hi"), description="Wilson 95% upper bound."
    )

    @classmethod
    def of(cls, k: int, n: int) -> Proportion:
        if n < 0 or k < 0 or k > n:
            raise ConfigError(f"a proportion needs 0 <= k <= n, got {k} of {n}", hint="count again")
        if n == 0:
            return cls(k=0, n=0, rate=math.nan, ci_low=math.nan, ci_high=math.nan)
        lo, hi = wilson(k, n)
        return cls(k=k, n=n, rate=k / n, ci_low=lo, ci_high=hi)

    @classmethod
    def count(cls, flags: Sequence[bool] | NDArray[np.bool_]) -> Proportion:
        """The proportion of true values."""
        f = np.asarray(flags, dtype=bool)
        return cls.of(int(f.sum()), int(f.size))

    @property
    def defined(self) -> bool:
        return self.n > 0

    def text(self, digits: int = 2) -> str:
        """``0.42 [0.33, 0.53] (38/90)``."""
        if not self.defined:
            return "n/a (0/0)"
        return f"{self.rate:.{digits}f} [{self.ci_low:.{digits}f}, {self.ci_high:.{digits}f}] ({self.k}/{self.n})"


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of ``k`` successes in ``n`` trials (no continuity correction)."""
    if n <= 0:
        return math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_ci(values: Sequence[float] | NDArray[np.floating]) -> Estimate:
    """Mean and 95% CI of independent values (normal approximation; ``n`` < 2 gives a zero-width interval)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return Estimate.undefined(method="normal")
    mean = float(v.mean())
    # 1.96 as the seeds write it (not Z95), so stored intervals reproduce
    half = 1.96 * float(v.std(ddof=1)) / math.sqrt(v.size) if v.size > 1 else 0.0
    return Estimate(value=mean, ci_low=mean - half, ci_high=mean + half, n=int(v.size), method="normal")


def bootstrap(
    stat: Callable[..., float],
    sizes: Sequence[int],
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat(idx_0, idx_1, …)``: each group of ``sizes`` is resampled with
    replacement on its own (stratified), and ``stat`` gets one index array per group — so it can pick paired data
    consistently and redo any fitting (a threshold, a calibration) on each resample. Resamples where ``stat`` is
    NaN are dropped; an all-NaN bootstrap gives (NaN, NaN)."""
    if n_boot < 1:
        raise ConfigError("n_boot must be >= 1", hint="e.g. 1000")
    if not sizes or min(sizes) < 1:
        raise ConfigError(f"cannot bootstrap groups of sizes {list(sizes)}", hint="every group needs a unit")
    rng = np.random.default_rng(seed)
    vals = np.empty(n_boot)
    for i in range(n_boot):
        vals[i] = stat(*(rng.integers(0, s, s) for s in sizes))
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return math.nan, math.nan
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(vals, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def ratio_ci(
    num: Sequence[float] | NDArray[np.floating],
    den: Sequence[float] | NDArray[np.floating],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> Estimate:
    """Ratio of sums ``Σnum / Σden`` with a bootstrap 95% CI over the paired units."""
    a, b = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    point = float(a.sum() / b.sum()) if b.sum() else math.nan
    if a.size < 2:
        return Estimate(value=point, ci_low=point, ci_high=point, n=int(a.size), method="bootstrap")

    def stat(i: NDArray[np.intp]) -> float:
        d = b[i].sum()
        return float(a[i].sum() / d) if d != 0 else math.nan

    lo, hi = bootstrap(stat, [a.size], n_boot=n_boot, seed=seed)
    return Estimate(value=point, ci_low=lo, ci_high=hi, n=int(a.size), method="bootstrap")


def paired_difference(
    a: Sequence[float] | NDArray[np.floating],
    b: Sequence[float] | NDArray[np.floating],
    *,
    n_boot: int = 2000,
    seed: int = 0,
) -> Estimate:
    """Mean of ``a − b`` over paired units (e.g. compliance of the same prompts in two tiers) with a paired
    percentile-bootstrap 95% CI (units resampled together, so what the pairs share cancels)."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ConfigError(
            f"paired values need equal lengths, got {x.size} and {y.size}", hint="pair every unit once"
        )
    if x.size == 0:
        return Estimate.undefined(method="paired_bootstrap")
    d = x - y
    point = float(d.mean())
    if d.size < 2:
        return Estimate(value=point, ci_low=point, ci_high=point, n=int(d.size), method="paired_bootstrap")
    lo, hi = bootstrap(lambda i: float(d[i].mean()), [d.size], n_boot=n_boot, seed=seed)
    return Estimate(value=point, ci_low=lo, ci_high=hi, n=int(d.size), method="paired_bootstrap")
