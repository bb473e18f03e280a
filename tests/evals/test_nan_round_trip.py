"""Undefined values (NaN) in result models survive their JSON round trip: JSON has no NaN, pydantic writes null,
and a plain ``float`` field then refuses its own output when the file is read back."""

from __future__ import annotations

import json
import math

from auditlens.runs.stats import Estimate, mean_ci, ratio_ci
from auditlens.toy.compute_mlp import ToyMLPConfig, ToyMLPResult


def test_an_undefined_estimate_is_written_as_null_and_read_back_as_nan() -> None:
    for est in (mean_ci([]), ratio_ci([1.0, 2.0], [0.0, 0.0])):
        text = est.model_dump_json()
        assert "NaN" not in text and json.loads(text)["value"] is None  # standard JSON for any reader
        back = Estimate.model_validate_json(text)
        assert math.isnan(back.value) and back.n == est.n
    assert Estimate.model_validate(json.loads(mean_ci([1.0, 3.0]).model_dump_json())).value == 2.0


def test_toy_mlp_result_with_undefined_scores_reads_back() -> None:
    cfg = ToyMLPConfig()
    nan = math.nan
    res = ToyMLPResult(
        config=cfg,
        feat_ratio=1.0,
        rolling_loss=nan,
        eval_loss=0.5,
        zero_mlp_loss=0.0,
        fraction_unexplained=nan,
        probe_mse_hidden=0.1,
        probe_r2_hidden=nan,
        probe_mse_residual=None,
        probe_r2_residual=None,
        loss_curve=[],
    )
    back = ToyMLPResult.model_validate_json(res.model_dump_json())
    assert (
        math.isnan(back.rolling_loss)
        and math.isnan(back.fraction_unexplained)
        and math.isnan(back.probe_r2_hidden)
    )
    assert back.probe_r2_residual is None


def test_size_sweep_with_no_live_latents_reads_back() -> None:
    from auditlens.evals.mmcs import CosineHistogram
    from auditlens.toy.tiny_transformer import SizePair, SizeSweepResult

    hist = CosineHistogram(bin_edges=[0.0, 1.0], counts=[0], n_values=0)
    nan = math.nan
    pair = SizePair(
        d_sae=8,
        d_sae_larger=16,
        mmcs=0.5,
        share_max_above=0.0,
        hungarian_mmcs=0.4,
        share_matched_above=0.0,
        histogram=hist,
        mmcs_alive=nan,
        hungarian_mmcs_alive=nan,
        histogram_alive=hist,
    )
    sweep = SizeSweepResult(
        d_in=4,
        sizes=[8, 16],
        coefficient=0.1,
        l0=[0.0, 0.0],
        fvu=[1.0, 1.0],
        n_dead=[8, 16],
        pairs=[pair],
        bimodality_coefficient=nan,
        n_mcs_values=2,
        bimodality_coefficient_alive=nan,
        n_mcs_values_alive=0,
        median_participation_ratio=nan,
        share_top_neuron_dominant=nan,
        seconds=1.0,
    )
    back = SizeSweepResult.model_validate_json(sweep.model_dump_json())
    assert math.isnan(back.pairs[0].mmcs_alive) and math.isnan(back.median_participation_ratio)
