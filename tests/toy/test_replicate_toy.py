"""The toy replication grid: end to end on a tiny grid, per-cell resume, exact resume from a chunk checkpoint,
folders of the older layout (grid_config.json) resuming, bad input, claims and the HTML report."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from auditlens.errors import AuditlensError, ConfigError, RunFolderError
from auditlens.runs import RunFolder
from auditlens.sae import Trainer
from auditlens.toy.claims import (
    best_coefficient_band,
    bimodality_coefficient,
    participation_ratio,
    toy_claims,
)
from auditlens.toy.data import ToyDataConfig
from auditlens.toy.replicate_toy import (
    GRID_JSON,
    ToyGridConfig,
    cell_key,
    estimate_toy_grid,
    run_toy_grid,
    seed_coefficients,
    seed_ratios,
)
from auditlens.toy.report import build_report


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def _tiny(**kw: object) -> ToyGridConfig:
    base: dict[str, object] = dict(
        data=ToyDataConfig(d_model=16, n_features=16, mean_active=2),
        coefficients=[0.3, 3.0, 300.0],
        ratios=[0.5, 1.0, 2.0],
        steps=120,
        batch_size=64,
        eval_samples=256,
        checkpoint_every=50,
    )
    base.update(kw)
    return ToyGridConfig(**base)  # type: ignore[arg-type]


def test_seed_grid_constants() -> None:
    cfg = ToyGridConfig()
    assert len(cfg.coefficients) == 17 and cfg.coefficients[0] == pytest.approx(0.01)
    assert cfg.coefficients[-1] == pytest.approx(100)
    assert seed_ratios() == [0.25, 0.5, 1, 2, 4, 8, 16, 32]
    assert len(cfg.cells()) == 17 * 8 * 2
    assert (cfg.steps, cfg.batch_size, cfg.lr) == (8000, 256, 1e-3)
    assert seed_coefficients()[8] == 1.0
    assert cfg.undivided_coefficient(512.0) == 1.0


def test_tiny_grid_end_to_end_and_rerun_is_free(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="auditlens")
    cfg = _tiny()
    res = run_toy_grid(cfg, tmp_path)
    assert any(line.startswith("estimate:") for line in _messages(caplog))
    assert res.cells_trained == 18 and len(res.cells) == 18
    for conv in ("divided", "undivided"):
        grid = res.mmcs_with_truth[conv]
        assert len(grid) == 3 and all(len(row) == 3 for row in grid)
        assert all(0 < v <= 1 for row in grid for v in row)
        # the void top row of the seed's Figure 10; other rows are numbers
        assert res.mmcs_with_larger[conv][-1] == [None, None, None]
        assert all(isinstance(v, float) for v in res.mmcs_with_larger[conv][0])
        # a larger coefficient gives sparser codes; the small one keeps every latent alive
        assert res.l0[conv][2][2] < res.l0[conv][2][0]
        assert res.n_dead[conv][2][0] == 0
    # ratio 1 is identical in both conventions (undivided α = divided α / n_features)
    assert res.mmcs_with_truth["divided"][1] == pytest.approx(res.mmcs_with_truth["undivided"][1], abs=1e-5)
    assert (tmp_path / "toy_grid.json").exists()
    # every cell says where it was trained (a folder may grow across machines)
    where = f"cpu, float32, torch {torch.__version__}"
    assert {c.trained_on for c in res.cells} == {where} and res.trained_on == {where: 18}
    # and how long its chunk took; the grid's total is the sum over chunks
    chunks = {(c.chunk_train_seconds, c.chunk_cells) for c in res.cells}
    assert all(t is not None and t > 0 and n for t, n in chunks)
    assert res.train_seconds_total == pytest.approx(sum(t for t, _ in chunks))  # type: ignore[misc]
    assert (tmp_path / "cells" / f"{cell_key('divided', 2.0, 3.0)}.safetensors").exists()
    # a second call trains nothing and returns the same numbers
    again = run_toy_grid(cfg, tmp_path)
    assert again.cells_trained == 0
    assert again.mmcs_with_truth == res.mmcs_with_truth
    # the page: claims computed, three heatmaps written
    page = build_report(tmp_path)
    text = page.read_text()
    assert "a_recovery" in text and "d_diagonal" in text
    assert f"Trained on: {where} (18 cells)." in text
    assert f"training time of the whole grid, all calls: {res.train_seconds_total:.0f} s." in text
    for name in ("toy_mmcs_truth.png", "toy_dead.png", "toy_mmcs_larger.png"):
        assert (tmp_path / name).stat().st_size > 1000
        assert name in text


def test_interrupted_chunk_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="auditlens")
    cfg = _tiny(conventions=["divided"], ratios=[1.0, 2.0], coefficients=[1.0, 3.0])
    reference = run_toy_grid(cfg, tmp_path / "ref", estimate=False)

    real_step = Trainer.train_step

    def dying_step(self: Trainer, x: torch.Tensor) -> int:
        if self.step == 75:
            raise KeyboardInterrupt
        return real_step(self, x)

    monkeypatch.setattr(Trainer, "train_step", dying_step)
    with pytest.raises(KeyboardInterrupt):
        run_toy_grid(cfg, tmp_path / "run", estimate=False)
    monkeypatch.setattr(Trainer, "train_step", real_step)
    assert not list((tmp_path / "run" / "cells").glob("*.json"))  # nothing half-finished is recorded
    caplog.clear()
    resumed = run_toy_grid(cfg, tmp_path / "run", estimate=False)
    assert any("resuming chunk" in line and "step 50" in line for line in _messages(caplog))
    assert resumed.mmcs_with_truth == reference.mmcs_with_truth
    # the chunk's training time adds the interrupted call's (up to its checkpoint) to the resumed one's
    state = json.loads(next((tmp_path / "run" / "chunks").glob("*/train_result.json")).read_text())
    assert state["steps"] == cfg.steps and state["train_seconds"] > 0
    assert {c.chunk_train_seconds for c in resumed.cells} == {state["train_seconds"]}
    assert resumed.n_dead == reference.n_dead


def test_bad_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ratios must be positive"):
        _tiny(ratios=[0.0, 1.0])
    with pytest.raises(ConfigError, match="ratios must be positive"):
        _tiny(ratios=[-1.0])
    with pytest.raises(ConfigError, match="non-negative"):
        _tiny(coefficients=[-0.1])
    with pytest.raises(ConfigError, match="n_features must be positive"):
        ToyDataConfig(n_features=0)
    with pytest.raises(ConfigError, match="steps"):
        _tiny(steps=0)
    with pytest.raises(ConfigError):
        _tiny(conventions=["halved"])
    run_toy_grid(_tiny(steps=5, ratios=[1.0], coefficients=[1.0]), tmp_path, estimate=False)
    with pytest.raises(RunFolderError, match="different settings") as err:
        run_toy_grid(_tiny(steps=6, ratios=[1.0], coefficients=[1.0]), tmp_path)
    assert isinstance(err.value, AuditlensError) and err.value.hint


def test_a_folder_grows_with_the_grid(tmp_path: Path) -> None:
    """Other grid axes in the same folder reuse the cells they share and train only the new ones."""
    small = run_toy_grid(
        _tiny(steps=20, ratios=[1.0], coefficients=[1.0], conventions=["divided"]),
        tmp_path,
        estimate=False,
    )
    assert small.cells_trained == 1
    grown = run_toy_grid(
        _tiny(steps=20, ratios=[1.0, 2.0], coefficients=[1.0, 3.0], conventions=["divided"]),
        tmp_path,
        estimate=False,
    )
    assert grown.cells_trained == 3 and len(grown.cells) == 4
    assert grown.cells[0] == small.cells[0]  # the ratio-1, α=1 cell was read back, not retrained
    assert grown.mmcs_with_larger["divided"][0][0] is not None


def test_estimate_times_every_group() -> None:
    est = estimate_toy_grid(_tiny(), timing_steps=1)
    assert set(est.seconds_per_step) == {f"{c}-r{r:g}" for c in ("divided", "undivided") for r in (0.5, 1, 2)}
    assert est.remaining_cells == 18 and est.estimated_seconds > 0
    # dense first steps on a CPU in float32: the sparse path can only make the real run faster
    assert est.upper_bound and not estimate_toy_grid(_tiny(bf16=True), timing_steps=1).upper_bound
    chunk = [("divided", 1.0, 0.3), ("divided", 1.0, 3.0), ("undivided", 2.0, 0.3)]
    per_step = est.seconds_per_step["divided-r1"] + est.seconds_per_step["undivided-r2"]
    assert est.chunk_seconds(chunk, 10) == pytest.approx(10 * (per_step + est.data_seconds_per_step))


def test_grid_re_estimates_after_each_chunk(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # a budget that holds one group per chunk: six chunks, a re-estimate after each but the last
    caplog.set_level(logging.INFO, logger="auditlens")
    cfg = _tiny(steps=20, ratios=[0.5, 1.0, 2.0], memory_budget_gib=1e-6)
    run_toy_grid(cfg, tmp_path)
    logs = _messages(caplog)
    assert sum(line.startswith("chunk ") for line in logs) == 6
    assert logs[1].startswith("estimate: ") and logs[2].startswith("  an upper estimate: ")
    again = [line for line in logs if "re-estimated at" in line]
    assert len(again) == 5 and "the remaining 1 chunk(s)" in again[-1]


def test_bimodality_and_participation_ratio() -> None:
    g = torch.Generator().manual_seed(0)
    unimodal = torch.randn(4000, generator=g)
    bimodal = torch.cat(
        [torch.randn(2000, generator=g) * 0.05 + 0.2, torch.randn(2000, generator=g) * 0.05 + 0.95]
    )
    assert bimodality_coefficient(unimodal) < 5 / 9 < bimodality_coefficient(bimodal)
    pr = participation_ratio(torch.tensor([[1.0, 0, 0, 0], [1.0, 1.0, 1.0, 1.0]]))
    assert pr.tolist() == pytest.approx([1.0, 4.0])
    assert best_coefficient_band([0.1, 0.95, 0.96, 0.2], [1, 10, 100, 1000]) == pytest.approx(10**1.5)


def _fake_grid(
    divided: list[list[float]], undivided: list[list[float]], dead: list[list[int]]
) -> SimpleNamespace:
    ratios, coefs = [0.5, 1.0, 2.0, 4.0], [0.1, 1.0, 10.0, 100.0]
    return SimpleNamespace(
        ratios=ratios,
        coefficients=coefs,
        mmcs_with_truth={"divided": divided, "undivided": undivided},
        n_dead={"divided": dead, "undivided": dead},
        cells=[],
        config=SimpleNamespace(data=SimpleNamespace(mean_active=5)),
    )


def test_toy_claims_on_a_seed_like_grid() -> None:
    # divided: the good region moves right with size (diagonal); undivided: the same column works everywhere
    divided = [[0.5, 0.6, 0.3, 0.3], [0.5, 0.95, 0.4, 0.3], [0.4, 0.6, 0.97, 0.4], [0.4, 0.5, 0.6, 0.98]]
    undivided = [[0.5, 0.6, 0.3, 0.3], [0.5, 0.95, 0.4, 0.3], [0.5, 0.97, 0.4, 0.3], [0.5, 0.98, 0.5, 0.3]]
    dead = [[0, 0, 1, 2], [0, 0, 3, 5], [0, 1, 9, 20], [0, 4, 30, 90]]
    claims = {c.name: c for c in toy_claims(_fake_grid(divided, undivided, dead))}
    assert claims["a_recovery"].holds is True
    assert claims["b_falls_off"].holds is True
    assert claims["c_dead_grow"].holds is True
    assert claims["d_diagonal"].holds is True
    # now the undivided grid is diagonal too: (d) fails; ratio 1 never recovers: (a) fails with a diagnosis
    claims = {c.name: c for c in toy_claims(_fake_grid(divided, divided, dead))}
    assert claims["d_diagonal"].holds is False
    low = [[0.5, 0.6, 0.3, 0.3], [0.5, 0.7, 0.4, 0.3], [0.4, 0.6, 0.97, 0.4], [0.4, 0.5, 0.6, 0.98]]
    assert {c.name: c for c in toy_claims(_fake_grid(low, undivided, dead))}["a_recovery"].holds is False


def _fake_sweep(values: torch.Tensor) -> SimpleNamespace:
    from auditlens.evals.mmcs import cosine_histogram
    from auditlens.toy.claims import bimodality_coefficient as bc

    hist = cosine_histogram(values)
    pair = SimpleNamespace(
        d_sae=64,
        d_sae_larger=128,
        mmcs=0.5,
        hungarian_mmcs=0.5,
        share_matched_above=0.3,
        mmcs_alive=float(values.mean()),
        histogram_alive=hist,
    )
    return SimpleNamespace(
        bimodality_coefficient=bc(values),
        bimodality_coefficient_alive=bc(values),
        n_mcs_values=values.numel(),
        n_mcs_values_alive=values.numel(),
        pairs=[pair],
        sizes=[64, 128],
        n_dead=[0, 0],
        d_in=32,
        median_participation_ratio=12.0,
        share_top_neuron_dominant=0.0,
    )


def test_transformer_bimodality_claim_needs_a_high_mode() -> None:
    from auditlens.toy.claims import transformer_claims

    g = torch.Generator().manual_seed(1)
    two_modes = torch.cat(
        [torch.rand(600, generator=g) * 0.2 + 0.2, torch.rand(400, generator=g) * 0.1 + 0.88]
    )
    skewed = (torch.randn(1000, generator=g).abs() ** 3 * 0.05 + 0.25).clamp(max=0.79)  # one mode, long tail
    assert bimodality_coefficient(skewed) > 5 / 9  # BC alone is fooled by skewness...
    by_name = {c.name: c for c in transformer_claims(_fake_sweep(two_modes))}
    assert by_name["e_bimodal"].holds is True
    assert by_name["f_not_neuron_sparse"].holds is True
    assert {c.name: c for c in transformer_claims(_fake_sweep(skewed))}[
        "e_bimodal"
    ].holds is False  # ...the claim not


def test_rises_then_plateaus_verdicts() -> None:
    from auditlens.toy.claims import _rises_then_plateaus

    assert _rises_then_plateaus([0.60, 0.75, 0.82, 0.84]) is True
    assert _rises_then_plateaus([0.60, 0.65, 0.72, 0.81]) is False  # still climbing at the end
    assert _rises_then_plateaus([0.92, 0.93, 0.92, 0.92]) is False  # flat from the start: no rise
    assert _rises_then_plateaus([0.70, 0.60, 0.50]) is False  # falls
    assert _rises_then_plateaus([0.6, 0.8]) is None  # too few sizes to tell


def test_cells_from_before_provenance_load_as_not_recorded(tmp_path: Path) -> None:
    cfg = _tiny(conventions=["divided"], ratios=[1.0], coefficients=[3.0], steps=20)
    run_toy_grid(cfg, tmp_path, estimate=False)
    cell = tmp_path / "cells" / f"{cell_key('divided', 1.0, 3.0)}.json"
    old = json.loads(cell.read_text())
    del old["trained_on"]
    cell.write_text(json.dumps(old))
    res = run_toy_grid(cfg, tmp_path, estimate=False)
    assert res.cells_trained == 0 and res.cells[0].trained_on is None
    assert res.trained_on == {"not recorded": 1}


def test_a_folder_of_the_older_layout_resumes(tmp_path: Path) -> None:
    """A grid folder written before run.json (grid_config.json holding the fingerprint and config) resumes: nothing is
    retrained, its fingerprint is kept (the same hash as today's) and it gets a run.json; another recipe is refused."""
    import hashlib

    cfg = _tiny(conventions=["divided"], ratios=[1.0], coefficients=[1.0, 3.0], steps=20)
    first = run_toy_grid(cfg, tmp_path, estimate=False)
    (tmp_path / "run.json").unlink()
    # what the older version hashed: the recipe (data, optimisation, evaluation) plus bf16
    identity = {**cfg.recipe(), "bf16": cfg.bf16}
    old_fp = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]
    assert old_fp == cfg.fingerprint()
    (tmp_path / GRID_JSON).write_text(
        json.dumps({"fingerprint": old_fp, "config": cfg.model_dump(mode="json")})
    )
    again = run_toy_grid(cfg, tmp_path, estimate=False)
    assert again.cells_trained == 0 and again.mmcs_with_truth == first.mmcs_with_truth
    rec = RunFolder.read_record(tmp_path)
    assert rec is not None and rec.fingerprint == old_fp and rec.legacy_source == GRID_JSON
    assert rec.kind == "toy-grid" and rec.status == "complete"
    (tmp_path / "run.json").unlink()
    with pytest.raises(RunFolderError, match="different settings"):
        run_toy_grid(_tiny(conventions=["divided"], ratios=[1.0], coefficients=[1.0], steps=21), tmp_path)
