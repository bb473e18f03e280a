"""The two result types and the interval functions: Wilson matches scipy, bootstrap intervals cover, old files load."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from auditlens.errors import ConfigError
from auditlens.runs import Estimate, Proportion, bootstrap, mean_ci, paired_difference, ratio_ci, wilson


@pytest.mark.parametrize(("k", "n"), [(0, 1), (0, 10), (3, 10), (10, 10), (38, 90), (1, 1000)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(ci.low, abs=1e-12) and hi == pytest.approx(ci.high, abs=1e-12)


def test_proportion() -> None:
    p = Proportion.of(38, 90)
    assert p.rate == pytest.approx(38 / 90) and p.ci_low < p.rate < p.ci_high
    assert p.text() == "0.42 [0.33, 0.53] (38/90)"
    assert Proportion.count([True, False, True]).k == 2
    empty = Proportion.of(0, 0)
    assert not empty.defined and math.isnan(empty.rate) and empty.text() == "n/a (0/0)"
    assert Proportion.model_validate_json(empty.model_dump_json()).n == 0  # NaN written as null, read back
    with pytest.raises(ConfigError):
        Proportion.of(3, 2)


def test_old_field_names_load() -> None:
    rate = Proportion.model_validate({"k": 2, "n": 4, "rate": 0.5, "lo": 0.15, "hi": 0.85})
    assert rate.ci_low == 0.15 and rate.ci_high == 0.85
    catch = Proportion.model_validate({"n": 4, "caught": 1, "rate": 0.25, "ci_low": 0.05, "ci_high": 0.7})
    assert catch.k == 1
    none_rate = Proportion.model_validate({"k": 0, "n": 0, "rate": None, "lo": None, "hi": None})
    assert math.isnan(none_rate.rate)
    old_mean = Estimate.model_validate({"mean": 0.3, "ci_low": 0.1, "ci_high": 0.5, "n": 9})
    assert old_mean.value == 0.3 and old_mean.method == "normal"
    metric = Estimate.model_validate({"value": 0.9, "ci_low": 0.8, "ci_high": 0.95})
    assert metric.n == 0


def test_mean_ci_is_the_seeds_normal_interval() -> None:
    v = [1.0, 2.0, 3.0, 4.0]
    e = mean_ci(v)
    half = 1.96 * np.std(v, ddof=1) / 2
    assert (e.value, e.ci_low, e.ci_high, e.n) == (2.5, 2.5 - half, 2.5 + half, 4)
    assert mean_ci([]).text() == "n/a (n=0)" and mean_ci([5.0]).ci_low == 5.0
    assert e.text(2) == f"2.50 [{2.5 - half:.2f}, {2.5 + half:.2f}] (n=4)"


def test_bootstrap_covers_and_is_stratified() -> None:
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(40):
        x = rng.normal(0.3, 1.0, 60)
        lo, hi = bootstrap(lambda i, x=x: float(x[i].mean()), [x.size], n_boot=300, seed=0)
        hits += lo <= 0.3 <= hi
    assert hits >= 34  # ~95% nominal coverage; 34/40 leaves room for chance
    sizes: list[tuple[int, int]] = []
    bootstrap(lambda a, b: sizes.append((a.size, b.size)) or 0.0, [3, 5], n_boot=4)
    assert sizes == [(3, 5)] * 4
    assert all(math.isnan(v) for v in bootstrap(lambda i: math.nan, [3], n_boot=5))
    with pytest.raises(ConfigError):
        bootstrap(lambda i: 0.0, [0])


def test_paired_difference_uses_the_pairing() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(0, 5, 200)  # large shared variation between units
    a, b = base + 0.5 + rng.normal(0, 0.1, 200), base
    d = paired_difference(a, b, n_boot=500)
    assert (
        d.method == "paired_bootstrap" and d.ci_low > 0.4 and d.ci_high < 0.6
    )  # pairing cancels the shared part
    with pytest.raises(ConfigError, match="equal lengths"):
        paired_difference([1.0], [1.0, 2.0])


def test_ratio_ci() -> None:
    e = ratio_ci(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0]))
    assert e.value == 1.0 and e.ci_low <= 1.0 <= e.ci_high and e.method == "bootstrap"
    assert math.isnan(ratio_ci(np.zeros(3), np.zeros(3)).value)
