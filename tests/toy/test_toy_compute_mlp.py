"""The toy MLP that computes new features (seeds-digest §4.1 item 4), on tiny shapes."""

from __future__ import annotations

import math

import pytest
import torch

from auditlens.errors import ConfigError
from auditlens.toy.compute_mlp import (
    MLPOnlyTransformer,
    ToyMLPConfig,
    ToyMLPGridConfig,
    ToyMLPGridResult,
    ToyMLPResult,
    run_toy_mlp,
    run_toy_mlp_grid,
)

TINY = {
    "d_resid": 8,
    "n_feats": 12,
    "batch_size": 128,
    "steps": 300,
    "probe_steps": 200,
    "probe_lr": 1e-2,
    "eval_batches": 2,
}


def test_model_is_residual_with_seed_init() -> None:
    torch.manual_seed(0)
    m = MLPOnlyTransformer(6, 12)
    assert (m.l1.bias == 0).all() and (m.l2.bias == 0).all()
    x = torch.randn(4, 6)
    torch.testing.assert_close(m(x), x + m.l2(torch.relu(m.l1(x))))
    assert m.hidden(x).shape == (4, 12) and (m.hidden(x) >= 0).all()


def test_training_reduces_loss_and_probes_score() -> None:
    res = run_toy_mlp(ToyMLPConfig(**TINY))
    assert res.feat_ratio == pytest.approx(1.5)
    assert res.loss_curve[-1] < res.loss_curve[0]
    assert res.eval_loss < res.zero_mlp_loss  # it learned part of the new directions
    assert 0 < res.fraction_unexplained < 1
    assert res.probe_r2_residual is not None and res.probe_mse_residual is not None
    assert 0 < res.probe_r2_hidden <= 1 and 0 < res.probe_r2_residual <= 1
    assert ToyMLPResult.model_validate_json(res.model_dump_json()) == res
    again = run_toy_mlp(ToyMLPConfig(**TINY))
    assert again.eval_loss == res.eval_loss  # deterministic for a seed


def test_zero_steps_is_identity_baseline() -> None:
    res = run_toy_mlp(
        ToyMLPConfig(**{**TINY, "steps": 0, "probe_steps": 0, "probe_residual_baseline": False})
    )
    assert math.isnan(res.rolling_loss) and res.loss_curve == []
    assert res.probe_r2_residual is None


def test_grid_cells_and_run() -> None:
    grid = ToyMLPGridConfig()
    cells = grid.cells()
    assert len(cells) == 25
    assert [c.n_feats for c in cells[:5]] == [16, 24, 36, 54, 81]  # int(16 * 1.5**k)
    assert cells[-1].d_resid == 256 and cells[-1].n_feats == 1296
    assert cells[0].steps == 15_000 and cells[0].batch_size == 1024 and cells[0].probe_steps == 10_000
    small = ToyMLPGridConfig(
        d_resid_values=[4], feat_ratio_values=[1.0, 2.0], base=ToyMLPConfig(**{**TINY, "steps": 20})
    )
    seen: list[ToyMLPResult] = []
    res = run_toy_mlp_grid(small, on_run=seen.append)
    assert [r.config.n_feats for r in res.runs] == [4, 8] and len(seen) == 2
    assert ToyMLPGridResult.model_validate_json(res.model_dump_json()) == res


@pytest.mark.parametrize(
    "bad",
    [{"d_resid": 0}, {"n_feats": -3}, {"mlp_ratio": 0}, {"lr": 0}, {"mean_active": -1}, {"prob_decay": 2}],
)
def test_bad_mlp_config(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        ToyMLPConfig(**bad)
    with pytest.raises(ConfigError):
        ToyMLPGridConfig(d_resid_values=[0])
