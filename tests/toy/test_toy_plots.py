"""PNG plots are written from result JSON files."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditlens.errors import DataError
from auditlens.toy.compute_mlp import ToyMLPConfig, ToyMLPGridConfig, run_toy_mlp_grid
from auditlens.toy.plots import (
    load_result,
    plot_response_curves,
    plot_toy_mlp_grid,
    plot_tradeoff,
    save_result,
)
from auditlens.toy.probes import (
    ResponseCurvesConfig,
    TradeoffConfig,
    TradeoffResult,
    run_response_curves,
    run_tradeoff,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _assert_pngs(paths: list[Path], n: int) -> None:
    assert len(paths) == n
    for p in paths:
        assert p.is_file() and p.read_bytes()[:8] == PNG_MAGIC


def test_plot_response_curves_from_json(tmp_path: Path) -> None:
    res = run_response_curves(ResponseCurvesConfig(n_points=50, large_n_points=20, map_points=10))
    json_path = save_result(res, tmp_path / "curves.json")
    _assert_pngs(plot_response_curves(json_path, tmp_path / "png"), 4)


def test_plot_tradeoff_from_json(tmp_path: Path) -> None:
    cfg = TradeoffConfig(
        vector_dim=8, n_feats=8, n_feats_tested=1, n_samples=100, n_grid_points=3, n_feats_log2_max=6
    )
    json_path = save_result(run_tradeoff(cfg), tmp_path / "tradeoff.json")
    assert load_result(json_path, TradeoffResult).config == cfg
    _assert_pngs(plot_tradeoff(str(json_path), tmp_path), 2)


def test_plot_toy_mlp_grid(tmp_path: Path) -> None:
    base = ToyMLPConfig(d_resid=4, n_feats=4, batch_size=32, steps=5, probe_steps=5, eval_batches=1)
    res = run_toy_mlp_grid(ToyMLPGridConfig(d_resid_values=[4, 6], feat_ratio_values=[1.0, 1.5], base=base))
    _assert_pngs(plot_toy_mlp_grid(res, tmp_path), 1)


def test_load_result_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        load_result(tmp_path / "missing.json", TradeoffResult)
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a result"}')
    with pytest.raises(DataError):
        plot_tradeoff(bad, tmp_path)
