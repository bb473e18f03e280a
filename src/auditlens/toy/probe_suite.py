"""Run every nonlinearity probe, write JSON + PNGs into a folder, and check the apparent claims.

This is the library side of ``auditlens replicate probes``: :func:`run_probe_suite` computes the response
curves, the trade-off grid and (optionally) the toy-MLP grid, saves each result as JSON beside its PNGs,
and states each claim the seed's figures appear to make with whether this run reproduces it — computed
from the results, never written by hand. The seed post's text is unavailable (seeds-digest §4), so the
claims are our reading of what its plots show.

The output folder is a run folder (:class:`auditlens.runs.RunFolder`, kind ``toy-probes``): ``run.json`` records the
config; a suite of other settings found there is replaced (every call recomputes the suite), a folder of an older
version (its JSON results without ``run.json``) is recognised.
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from auditlens.errors import DataError
from auditlens.runs import RunFolder, RunRecord, fingerprint, read_json
from auditlens.toy.compute_mlp import ToyMLPConfig, ToyMLPGridConfig, ToyMLPGridResult, run_toy_mlp_grid
from auditlens.toy.config import ToyConfigModel
from auditlens.toy.plots import plot_response_curves, plot_toy_mlp_grid, plot_tradeoff, save_result
from auditlens.toy.probes import (
    ResponseCurvesConfig,
    ResponseCurvesResult,
    TradeoffConfig,
    TradeoffResult,
    run_response_curves,
    run_tradeoff,
)

__all__ = ["ProbeClaim", "ProbeSuiteConfig", "ProbeSuiteResult", "check_claims", "run_probe_suite"]

KIND = "toy-probes"
RESULT_JSON = "probe_suite.json"
_PARTS = ("curves.json", "tradeoff.json", "toy_mlp.json")


class ProbeSuiteConfig(ToyConfigModel):
    """What :func:`run_probe_suite` runs. Defaults are the seed's full settings (minutes to hours of CPU:
    the toy-MLP grid dominates); :meth:`quick` is a small version of the same code path."""

    curves: ResponseCurvesConfig = Field(default_factory=ResponseCurvesConfig, description="Response curves.")
    tradeoff: TradeoffConfig = Field(default_factory=TradeoffConfig, description="Trade-off grid.")
    toy_mlp: ToyMLPGridConfig | None = Field(
        default_factory=ToyMLPGridConfig, description="Toy-MLP grid; None skips it."
    )

    @classmethod
    def quick(cls) -> ProbeSuiteConfig:
        """Small grids (about a minute on one CPU core): same code, fewer points and steps."""
        return cls(
            tradeoff=TradeoffConfig(n_samples=1000, n_feats_tested=4, n_grid_points=8, n_feats_log2_max=11),
            toy_mlp=ToyMLPGridConfig(
                d_resid_values=[16, 32],
                feat_ratio_values=[1.0, 2.25],
                base=ToyMLPConfig(
                    batch_size=256, steps=1500, probe_steps=1000, probe_lr=1e-2, eval_batches=4
                ),
            ),
        )


class ProbeClaim(BaseModel):
    """One claim the seed's figures appear to make, and whether this run reproduces it."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Short identifier.")
    statement: str = Field(description="The claim in words.")
    holds: bool = Field(description="Whether the computed numbers support it in this run.")
    evidence: str = Field(description="The numbers the verdict was computed from.")


class ProbeSuiteResult(BaseModel):
    """Index of a probe-suite run folder."""

    model_config = ConfigDict(frozen=True)

    config: ProbeSuiteConfig = Field(description="What was run.")
    claims: list[ProbeClaim] = Field(description="Computed verdicts on the apparent claims.")
    files: list[str] = Field(description="JSON and PNG files written, relative to the run folder.")
    seconds: dict[str, float] = Field(description="Wall-clock seconds per part.")


def check_claims(
    curves: ResponseCurvesResult, tradeoff: TradeoffResult, toy_mlp: ToyMLPGridResult | None
) -> list[ProbeClaim]:
    """Compute the verdicts from the three results."""
    claims = []
    aligned, _, _, distributed = curves.aligned_vs_distributed
    claims.append(
        ProbeClaim(
            name="aligned_bends_more",
            statement="Over the same input range an elementwise nonlinearity bends a neuron-aligned feature's "
            "response more than a feature spread evenly over all neurons.",
            holds=aligned.linear_r2 < distributed.linear_r2,
            evidence=f"linear R²: aligned {aligned.linear_r2:.4f}, distributed {distributed.linear_r2:.4f}",
        )
    )
    _, large = curves.small_vs_large_range
    claims.append(
        ProbeClaim(
            name="large_input_bends_distributed",
            statement="A distributed feature responds non-linearly too once its input is large enough.",
            holds=large.linear_r2 < distributed.linear_r2,
            evidence=f"linear R² of distributed in/out: {distributed.linear_r2:.4f} over ±{curves.config.x_max}, "
            f"{large.linear_r2:.4f} over a {curves.config.large_range_factor:g}× range",
        )
    )
    first, last = tradeoff.interference[0][-1], tradeoff.interference[-1][-1]
    claims.append(
        ProbeClaim(
            name="spreading_lowers_interference",
            statement="Spreading features over more neurons lowers interference, so more features fit.",
            holds=last < first,
            evidence=f"interference of {tradeoff.n_feats[-1]} features: {first:.3f} at "
            f"{tradeoff.dims_per_feature[0]} dims/feature, {last:.3f} at {tradeoff.dims_per_feature[-1]}",
        )
    )
    tol_first = tradeoff.max_active_while_nonhomogeneous[0] or 0
    tol_last = tradeoff.max_active_while_nonhomogeneous[-1] or 0
    mean_first = sum(tradeoff.nonhomogeneity[0]) / len(tradeoff.nonhomogeneity[0])
    mean_last = sum(tradeoff.nonhomogeneity[-1]) / len(tradeoff.nonhomogeneity[-1])
    claims.append(
        ProbeClaim(
            name="spreading_linearises",
            statement="Spreading features over more neurons makes them respond more linearly (fewer other "
            "active features are tolerated before the nonlinearity stops being usable).",
            holds=mean_last < mean_first and tol_last <= tol_first,
            evidence=f"mean non-homogeneity {mean_first:.3f} → {mean_last:.3f}; most active features with "
            f"score > {tradeoff.config.nonhomogeneity_threshold}: {tol_first} → {tol_last} "
            f"({tradeoff.dims_per_feature[0]} → {tradeoff.dims_per_feature[-1]} dims/feature)",
        )
    )
    if toy_mlp is not None and toy_mlp.runs:
        worst = max(r.fraction_unexplained for r in toy_mlp.runs)
        claims.append(
            ProbeClaim(
                name="mlp_computes_new_features",
                statement="A one-block residual MLP learns to write part of the new target directions.",
                holds=worst < 1.0,
                evidence=f"largest held-out loss / identity-map loss over the grid: {worst:.3f}",
            )
        )
        by_d: dict[int, list[tuple[float, float]]] = {}
        for r in toy_mlp.runs:
            by_d.setdefault(r.config.d_resid, []).append((r.feat_ratio, r.fraction_unexplained))
        rising = {d: sorted(v)[0][1] < sorted(v)[-1][1] for d, v in by_d.items() if len(v) > 1}
        if rising:
            claims.append(
                ProbeClaim(
                    name="more_features_harder",
                    statement="At fixed width, more features (higher feature ratio) leave more loss unexplained.",
                    holds=all(rising.values()),
                    evidence="; ".join(
                        f"d_resid={d}: " + ", ".join(f"{ratio:.2f}→{fu:.3f}" for ratio, fu in sorted(v))
                        for d, v in sorted(by_d.items())
                    ),
                )
            )
    return claims


def legacy_probe_suite_record(path: Path) -> RunRecord | None:
    """The record of a suite folder written before ``run.json``: the config in its ``probe_suite.json`` (an
    interrupted one, with some part results only, is a suite of unknown settings)."""
    f = path / RESULT_JSON
    if f.is_file():
        try:
            config = read_json(f, what="probe suite result").get("config") or {}
        except (DataError, AttributeError):
            config = {}
        return RunRecord(kind=KIND, fingerprint=fingerprint(config), config=config, legacy_source=RESULT_JSON)
    if any((path / name).is_file() for name in _PARTS):
        return RunRecord(kind=KIND, fingerprint="unknown", legacy_source=_PARTS[0])
    return None


def run_probe_suite(out_dir: str | Path, cfg: ProbeSuiteConfig | None = None) -> ProbeSuiteResult:
    """Run the suite into ``out_dir`` (a run folder, claimed first): ``curves.json``, ``tradeoff.json``,
    ``toy_mlp.json`` (if run), their PNGs, and ``probe_suite.json`` (this result)."""
    cfg = cfg if cfg is not None else ProbeSuiteConfig()
    folder = RunFolder.claim(
        out_dir, KIND, cfg, on_other="replace", legacy=legacy_probe_suite_record, label="probe suite"
    )
    out = folder.path
    files: list[Path] = []
    seconds: dict[str, float] = {}

    t = time.perf_counter()
    curves = run_response_curves(cfg.curves)
    files += [save_result(curves, out / "curves.json"), *plot_response_curves(curves, out)]
    seconds["response_curves"] = time.perf_counter() - t

    t = time.perf_counter()
    tradeoff = run_tradeoff(cfg.tradeoff)
    files += [save_result(tradeoff, out / "tradeoff.json"), *plot_tradeoff(tradeoff, out)]
    seconds["tradeoff"] = time.perf_counter() - t

    toy_mlp = None
    if cfg.toy_mlp is not None:
        t = time.perf_counter()
        toy_mlp = run_toy_mlp_grid(cfg.toy_mlp)
        files += [save_result(toy_mlp, out / "toy_mlp.json"), *plot_toy_mlp_grid(toy_mlp, out)]
        seconds["toy_mlp"] = time.perf_counter() - t

    result = ProbeSuiteResult(
        config=cfg,
        claims=check_claims(curves, tradeoff, toy_mlp),
        files=[str(p.relative_to(out)) for p in files],
        seconds=seconds,
    )
    save_result(result, out / RESULT_JSON)
    folder.mark("complete")
    return result
