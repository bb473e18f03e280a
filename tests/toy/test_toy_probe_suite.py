"""The probe suite writes JSON + PNGs and computes its claims."""

from __future__ import annotations

import json
from pathlib import Path

from auditlens.runs import fingerprint
from auditlens.toy.compute_mlp import ToyMLPConfig, ToyMLPGridConfig
from auditlens.toy.probe_suite import (
    ProbeSuiteConfig,
    ProbeSuiteResult,
    legacy_probe_suite_record,
    run_probe_suite,
)
from auditlens.toy.probes import ResponseCurvesConfig, TradeoffConfig


def _tiny() -> ProbeSuiteConfig:
    return ProbeSuiteConfig(
        curves=ResponseCurvesConfig(n_points=100, large_n_points=50, map_points=10),
        tradeoff=TradeoffConfig(
            vector_dim=16, n_feats=16, n_feats_tested=2, n_samples=300, n_grid_points=4, n_feats_log2_max=7
        ),
        toy_mlp=ToyMLPGridConfig(
            d_resid_values=[6],
            feat_ratio_values=[1.0, 2.0],
            base=ToyMLPConfig(batch_size=64, steps=150, probe_steps=20, eval_batches=2),
        ),
    )


def test_run_probe_suite_tiny(tmp_path: Path) -> None:
    res = run_probe_suite(tmp_path, _tiny())
    for name in res.files:
        assert (tmp_path / name).is_file()
    assert {"curves.json", "tradeoff.json", "toy_mlp.json", "tradeoff_summary.png"} <= set(res.files)
    names = {c.name: c for c in res.claims}
    assert names["aligned_bends_more"].holds  # exact maths, true for any run
    assert names["large_input_bends_distributed"].holds
    assert "mlp_computes_new_features" in names and "more_features_harder" in names
    assert all(c.evidence for c in res.claims)
    saved = ProbeSuiteResult.model_validate_json((tmp_path / "probe_suite.json").read_text())
    assert saved == res
    assert json.loads((tmp_path / "probe_suite.json").read_text())["seconds"]["tradeoff"] >= 0
    # the older layout (probe_suite.json, no run.json): its record is rebuilt from the config it holds
    (tmp_path / "run.json").unlink()
    rec = legacy_probe_suite_record(tmp_path)
    assert rec is not None and rec.legacy_source == "probe_suite.json"
    assert rec.fingerprint == fingerprint(_tiny()) and rec.kind == "toy-probes"


def test_quick_config_is_small() -> None:
    quick = ProbeSuiteConfig.quick()
    assert quick.toy_mlp is not None and len(quick.toy_mlp.cells()) == 4
    assert quick.tradeoff.n_grid_points < ProbeSuiteConfig().tradeoff.n_grid_points
