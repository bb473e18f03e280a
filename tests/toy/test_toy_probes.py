"""Nonlinearity probes (seeds-digest §4.1): response curves, scores, trade-off grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from auditlens.errors import ConfigError
from auditlens.toy.probes import (
    ResponseCurvesConfig,
    ResponseCurvesResult,
    TradeoffConfig,
    TradeoffResult,
    feature_vectors,
    interaction_map,
    interference_score,
    nonhomogeneity_score,
    probe_dataset,
    response_curve,
    run_response_curves,
    run_tradeoff,
    seed_grid,
)


def test_response_curve_closed_form() -> None:
    xs = torch.linspace(-5, 5, 11, dtype=torch.float64)
    e0 = torch.zeros(4, dtype=torch.float64)
    e0[0] = 1
    torch.testing.assert_close(response_curve(e0, e0, xs), torch.nn.functional.gelu(xs))
    dist = torch.ones(4, dtype=torch.float64) / 2
    # distributed in, distributed out: 4 neurons each see x/2, read back with weight 1/2 each
    torch.testing.assert_close(response_curve(dist, dist, xs), 2 * torch.nn.functional.gelu(xs / 2))
    torch.testing.assert_close(response_curve(e0, e0, xs, "relu"), xs.clamp(min=0))


def test_run_response_curves_seed_shapes_and_claims() -> None:
    res = run_response_curves()
    assert [c.name for c in res.aligned_vs_distributed] == [
        "aligned in, aligned out",
        "aligned in, distributed out",
        "distributed in, aligned out",
        "distributed in, distributed out",
    ]
    assert all(len(c.x) == 1000 and len(c.y) == 1000 for c in res.aligned_vs_distributed)
    aligned, _, _, distributed = res.aligned_vs_distributed
    # the nonlinearity bends an aligned feature more than a spread-out one over the same range
    assert aligned.linear_r2 < distributed.linear_r2
    assert distributed.linear_r2 > 0.95
    # a distributed feature over a 10x range looks like the aligned one over the small range (GELU(x/10)·10)
    small, large = res.small_vs_large_range
    np.testing.assert_allclose(np.array(large.y), 10 * np.array(small.y), rtol=1e-9, atol=1e-9)
    # half the entries negative: the read-out is 5·(GELU(u) − GELU(−u)) = 5u, exactly linear
    by_neg = {c.name: c for c in res.negative_entries}
    assert by_neg["50 negative entries"].linear_r2 == pytest.approx(1.0, abs=1e-9)
    assert by_neg["0 negative entries"].linear_r2 < by_neg["25 negative entries"].linear_r2
    assert len(res.interaction_maps) == 4
    assert all(len(m.values) == 100 and len(m.values[0]) == 100 for m in res.interaction_maps)
    assert ResponseCurvesResult.model_validate_json(res.model_dump_json()) == res


def test_interaction_map_layout() -> None:
    a = torch.tensor([1.0, 0.0], dtype=torch.float64)
    b = torch.tensor([0.0, 1.0], dtype=torch.float64)
    rng = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64)
    z = interaction_map(a, b, a, rng, "relu")
    # read along a: only a's level matters, rows index a
    torch.testing.assert_close(z, rng.clamp(min=0)[:, None].expand(3, 3))


def test_nonhomogeneity_score_linear_vs_quadratic() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2000, generator=g, dtype=torch.float64) * 2 - 1
    assert nonhomogeneity_score(x, 3 * x + 1) == pytest.approx(0.0, abs=1e-9)
    assert nonhomogeneity_score(x, x**2) > 0.9
    assert nonhomogeneity_score(x, torch.zeros_like(x)) == 0.0  # constant output
    with pytest.raises(ConfigError):
        nonhomogeneity_score(x[:3], x[:3] ** 2)


def test_interference_score() -> None:
    assert interference_score(torch.eye(5)) == pytest.approx(0.0)
    w = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert interference_score(w) == pytest.approx(math.sqrt(0.5))
    # signed: antipodal features do not interfere positively
    assert interference_score(torch.tensor([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(-1.0)


def test_feature_vectors_support_and_norm() -> None:
    g = torch.Generator().manual_seed(0)
    v = feature_vectors(20, 3, 50, include_negative=False, generator=g)
    assert ((v != 0).sum(dim=1) == 3).all() and (v >= 0).all()
    torch.testing.assert_close(v.norm(dim=1), torch.ones(50))
    s = feature_vectors(20, 20, 50, include_negative=True, generator=g)
    assert (s < 0).any()
    with pytest.raises(ConfigError):
        feature_vectors(20, 21, 5, include_negative=False, generator=g)


def test_probe_dataset_activity() -> None:
    g = torch.Generator().manual_seed(0)
    feats = torch.eye(6)
    probed = torch.tensor([0, 3])
    levels, out = probe_dataset(
        feats,
        probed,
        n_samples=300,
        n_on=2,
        scale=2.0,
        biases=torch.zeros(6),
        nonlinearity="relu",
        generator=g,
    )
    assert levels.shape == out.shape == (2, 300)
    assert (levels.abs() < 2.0).all() and (levels != 0).all()  # the probed feature is always on
    # orthogonal features, ReLU: the probed read-out is exactly ReLU(level)
    torch.testing.assert_close(out, levels.clamp(min=0))


def test_seed_grids() -> None:
    cfg = TradeoffConfig()
    assert cfg.dims_per_feature_grid()[0] == 2 and cfg.dims_per_feature_grid()[-1] == 100
    assert cfg.n_on_grid()[:3] == [0, 1, 2] and cfg.n_on_grid()[-1] == 99  # int(2**log2(100)) rounds down
    assert cfg.n_feats_grid()[0] == 16 and cfg.n_feats_grid()[-1] == 16384
    assert seed_grid(0, 2, 3, (7,)) == [1, 2, 4, 7]


def test_tradeoff_small_grid() -> None:
    cfg = TradeoffConfig(
        vector_dim=16, n_feats=16, n_feats_tested=2, n_samples=400, n_grid_points=4, n_feats_log2_max=7
    )
    res = run_tradeoff(cfg)
    assert len(res.nonhomogeneity) == len(res.dims_per_feature)
    assert all(len(row) == len(res.n_on) for row in res.nonhomogeneity)
    assert all(len(row) == len(res.n_feats) for row in res.interference)
    inter = np.array(res.interference)
    # more features in the same space interfere more; fuller support interferes less at the most features
    assert (inter[:, -1] >= inter[:, 0]).all()
    assert inter[-1, -1] < inter[0, -1]
    # a 2-dim-support feature with nothing else active responds non-linearly through GELU
    assert res.nonhomogeneity[0][0] > cfg.nonhomogeneity_threshold
    assert res.max_active_while_nonhomogeneous[0] is not None
    for row, best in zip(res.interference, res.max_features_below_interference, strict=True):
        if best is not None:
            assert row[res.n_feats.index(best)] <= cfg.interference_threshold
    assert TradeoffResult.model_validate_json(res.model_dump_json()) == res


@pytest.mark.parametrize(
    ("cls", "bad"),
    [
        (TradeoffConfig, {"vector_dim": 0}),
        (TradeoffConfig, {"n_feats_tested": 200}),
        (TradeoffConfig, {"bias_scale": -1.0}),
        (TradeoffConfig, {"nonlinearity": "swish"}),
        (ResponseCurvesConfig, {"x_max": -1.0}),
        (ResponseCurvesConfig, {"n_negatives": [101]}),
    ],
)
def test_probe_configs_reject_bad_values(cls: type, bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        cls(**bad)
