"""The `auditlens replicate` verbs of the toy lab: toy, compare-toy, tiny-transformer and probes (thin layers over
auditlens.toy: the options reach the run's config, bad input is refused, the files and the page are written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import auditlens.cli.replicate  # noqa: F401  (registers the verbs)
from auditlens.cli import app
from auditlens.errors import ConfigError
from auditlens.toy.compute_mlp import ToyMLPConfig, ToyMLPGridConfig
from auditlens.toy.data import ToyDataConfig
from auditlens.toy.probe_suite import ProbeSuiteConfig
from auditlens.toy.probes import ResponseCurvesConfig, TradeoffConfig
from auditlens.toy.replicate_toy import ToyGridConfig, ToyGridResult, run_toy_grid
from auditlens.toy.tiny_transformer import TinyTransformerConfig


def _grid(out: Path, **kw: object) -> ToyGridResult:
    base: dict[str, object] = dict(
        data=ToyDataConfig(d_model=16, n_features=16, mean_active=2),
        coefficients=[0.3, 3.0, 300.0],
        ratios=[1.0, 2.0],
        conventions=["divided"],
        steps=80,
        batch_size=64,
        eval_samples=256,
    )
    base.update(kw)
    return run_toy_grid(ToyGridConfig(**base), out, estimate=False)  # type: ignore[arg-type]


def _tiny_suite() -> ProbeSuiteConfig:
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


def test_cli_toy_writes_report(tmp_path: Path) -> None:
    out = tmp_path / "toy"
    args = ["replicate", "toy", "--out", str(out), "--quick", "--ratios", "1,2", "--coefficients", "1"]
    result = CliRunner().invoke(app, [*args, "--steps", "20", "--n-features", "16", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "estimate:" in result.output and "report" in result.output
    data = json.loads((out / "toy_grid.json").read_text())
    assert data["ratios"] == [1.0, 2.0] and data["config"]["data"]["n_features"] == 16
    assert (out / "index.html").exists()
    bad = CliRunner().invoke(app, ["replicate", "toy", "--out", str(tmp_path / "b"), "--ratios", "0"])
    assert bad.exit_code != 0 and isinstance(bad.exception, ConfigError)


def test_compare_toy_command_writes_json_and_plot(tmp_path: Path) -> None:
    _grid(tmp_path / "a", ratios=[1.0])
    _grid(tmp_path / "b", ratios=[1.0], bf16=True)
    out = tmp_path / "cmp"
    r = CliRunner().invoke(
        app,
        [
            "replicate",
            "compare-toy",
            str(tmp_path / "a"),
            str(tmp_path / "b" / "toy_grid.json"),
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "3 shared cells" in r.output and "agree on" in r.output
    saved = json.loads((out / "toy_compare.json").read_text())
    assert saved["shared_cells"] == 3 and len(saved["cells"]) == 3
    assert (out / "grid_compare.png").stat().st_size > 5000
    r = CliRunner().invoke(
        app, ["replicate", "compare-toy", str(tmp_path / "a"), str(tmp_path / "nope"), "-o", str(out)]
    )
    assert isinstance(r.exception, ConfigError) and "does not exist" in str(r.exception)


def test_cli_tiny_transformer_passes_the_sweep_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--ratios`, `--sae-steps`, `--resample-every`, `--coefficient`, `--seed` and `--sae-seed` reach the run's
    config; bad lists are refused."""
    import auditlens.toy.tiny_transformer as tt

    seen: list[TinyTransformerConfig] = []

    def fake_run(cfg: TinyTransformerConfig, out: Path, **_: object) -> None:
        seen.append(cfg)
        raise RuntimeError("stop here")

    monkeypatch.setattr(tt, "run_tiny_transformer", fake_run)
    args = ["replicate", "tiny-transformer", "--out", str(tmp_path / "t"), "--ratios", "2,4,128"]
    r = CliRunner().invoke(
        app,
        [*args, "--sae-steps", "300", "--resample-every", "50", "--coefficient", "0.01", "--sae-seed", "3"],
    )
    assert isinstance(r.exception, RuntimeError) and len(seen) == 1
    cfg = seen[0]
    assert cfg.ratios == [2, 4, 128] and cfg.sae_steps == 300 and cfg.resample_every == 50
    assert cfg.sae_seed == 3 and cfg.seed == 0
    r = CliRunner().invoke(app, [*args, "--seed", "2"])
    assert isinstance(r.exception, RuntimeError) and seen[-1].seed == 2 and seen[-1].sae_seed is None
    assert cfg.coefficient == 0.01 and cfg.steps == TinyTransformerConfig().steps
    for bad in ("2,x", "0,4", "4"):
        r = CliRunner().invoke(
            app, ["replicate", "tiny-transformer", "--out", str(tmp_path / "b"), "--ratios", bad]
        )
        assert isinstance(r.exception, ConfigError), (bad, r.output)
    assert len(seen) == 2


def test_replicate_probes_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`auditlens replicate probes --quick` runs the suite (here shrunk further) and writes the report page."""
    monkeypatch.setattr(ProbeSuiteConfig, "quick", classmethod(lambda cls: _tiny_suite()))
    r = CliRunner().invoke(app, ["replicate", "probes", "--quick", "--out", str(tmp_path / "p")])
    assert r.exit_code == 0, r.output
    assert "report" in r.output and (tmp_path / "p" / "probe_suite.json").is_file()
    page = (tmp_path / "p" / "index.html").read_text()
    assert "aligned_bends_more" in page and "tradeoff_summary.png" in page
