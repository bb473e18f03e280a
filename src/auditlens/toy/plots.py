"""PNG figures for the nonlinearity probes, drawn from their result JSON (:mod:`auditlens.runs.figures`: matplotlib's
object API, no pyplot, so no global backend or figure state).

Each ``plot_*`` function takes a result model or the path of its JSON file and an output folder, writes
one or more PNGs there and returns their paths. Nothing is computed here beyond reading the result.
:func:`save_result` / :func:`load_result` (:mod:`auditlens.toy.result_files`) write and read those JSON files.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from auditlens.runs.figures import new_figure, save_figure
from auditlens.toy.compute_mlp import ToyMLPGridResult
from auditlens.toy.response_curves import Curve, ResponseCurvesResult
from auditlens.toy.result_files import load_result, save_result
from auditlens.toy.tradeoff import TradeoffResult

__all__ = ["load_result", "plot_response_curves", "plot_toy_mlp_grid", "plot_tradeoff", "save_result"]


def _figure(rows: int, cols: int, figsize: tuple[float, float]) -> tuple[Figure, Any]:
    return new_figure(rows, cols, size=figsize)


def _save(fig: Figure, out_dir: Path, name: str) -> Path:
    return save_figure(fig, out_dir / name, dpi=110)


def _plot_curve(ax: Axes, curve: Curve) -> None:
    ax.plot(curve.x, curve.y)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_title(f"{curve.name}\nlinear R² = {curve.linear_r2:.3f}", fontsize=9)
    ax.set_xlabel("input level")
    ax.set_ylabel("output along read-out")


def plot_response_curves(result: ResponseCurvesResult | str | Path, out_dir: str | Path) -> list[Path]:
    """Four PNGs: the 2×2 aligned/distributed grid, small vs large range, negative entries, interaction maps."""
    res = load_result(result, ResponseCurvesResult)
    out = Path(out_dir)
    nl = res.config.nonlinearity.upper()
    paths = []

    fig, axs = _figure(2, 2, (10, 8))
    for ax, curve in zip(axs.flat, res.aligned_vs_distributed, strict=False):
        _plot_curve(ax, curve)
    fig.suptitle(f"Aligned vs distributed feature through elementwise {nl} (d = {res.config.vector_dim})")
    paths.append(_save(fig, out, "response_aligned_vs_distributed.png"))

    fig, axs = _figure(1, len(res.small_vs_large_range), (10, 4))
    for ax, curve in zip(axs[0], res.small_vs_large_range, strict=False):
        _plot_curve(ax, curve)
    paths.append(_save(fig, out, "response_small_vs_large_range.png"))

    n = len(res.negative_entries)
    if n:
        cols = min(4, n)
        rows = math.ceil(n / cols)
        fig, axs = _figure(rows, cols, (3.2 * cols, 3.2 * rows))
        for ax, curve in zip(axs.flat, res.negative_entries, strict=False):
            _plot_curve(ax, curve)
        for ax in list(axs.flat)[n:]:
            ax.axis("off")
        fig.suptitle("Distributed feature with some entries negative (large range)")
        paths.append(_save(fig, out, "response_negative_entries.png"))

    m = len(res.interaction_maps)
    if m:
        fig, axs = _figure(1, m, (4.2 * m, 4))
        for ax, imap in zip(axs[0], res.interaction_maps, strict=False):
            lo, hi = imap.input_range[0], imap.input_range[-1]
            im = ax.imshow(np.array(imap.values), origin="lower", extent=(lo, hi, lo, hi), aspect="auto")
            ax.set_title(f"{imap.name}\nadditive R² = {imap.additivity_r2:.3f}", fontsize=8)
            ax.set_xlabel("level of B")
            ax.set_ylabel("level of A")
            fig.colorbar(im, ax=ax)
        paths.append(_save(fig, out, "response_interaction_maps.png"))
    return paths


def _heatmap(
    fig: Figure, ax: Axes, grid: list[list[float]], rows: list[int], cols: list[int], title: str
) -> None:
    im = ax.imshow(np.array(grid), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(cols)), [str(c) for c in cols], rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), [str(r) for r in rows], fontsize=7)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax)


def plot_tradeoff(result: TradeoffResult | str | Path, out_dir: str | Path) -> list[Path]:
    """Two PNGs: both grids as heatmaps, and the seed's two-axis trade-off summary (log–log)."""
    res = load_result(result, TradeoffResult)
    out = Path(out_dir)
    cfg = res.config
    fig, axs2 = _figure(1, 2, (13, 5))
    axs = axs2[0]
    _heatmap(
        fig, axs[0], res.nonhomogeneity, res.dims_per_feature, res.n_on, "non-homogeneity (quad R² − lin R²)"
    )
    axs[0].set_xlabel("other active features (n_on)")
    axs[0].set_ylabel("dims per feature")
    _heatmap(
        fig, axs[1], res.interference, res.dims_per_feature, res.n_feats, "interference (mean max cosine)"
    )
    axs[1].set_xlabel("number of features")
    axs[1].set_ylabel("dims per feature")
    paths = [_save(fig, out, "tradeoff_grids.png")]

    fig, axs2 = _figure(1, 1, (10, 6))
    ax_left = axs2[0][0]
    pts = [
        (d, v) for d, v in zip(res.dims_per_feature, res.max_active_while_nonhomogeneous, strict=True) if v
    ]
    if pts:
        ax_left.plot(*zip(*pts, strict=True), color="blue", marker="o")
    ax_left.set_xlabel("dimensions per feature")
    ax_left.set_ylabel(
        f"most active features with non-homogeneity > {cfg.nonhomogeneity_threshold}", color="blue"
    )
    ax_left.set_xscale("log")
    ax_left.set_yscale("log")
    ax_right = ax_left.twinx()
    pts = [
        (d, v) for d, v in zip(res.dims_per_feature, res.max_features_below_interference, strict=True) if v
    ]
    if pts:
        ax_right.plot(*zip(*pts, strict=True), color="red", marker="s")
    ax_right.set_yscale("log")
    ax_right.set_ylabel(f"most features with interference ≤ {cfg.interference_threshold}", color="red")
    ax_left.set_title(
        f"Non-homogeneity vs interference as dims per feature grow (vector_dim = {cfg.vector_dim})"
    )
    paths.append(_save(fig, out, "tradeoff_summary.png"))
    return paths


def plot_toy_mlp_grid(result: ToyMLPGridResult | str | Path, out_dir: str | Path) -> list[Path]:
    """One PNG: loss vs feature ratio per d_resid (log–log, as the seed) beside probe R² vs ratio."""
    res = load_result(result, ToyMLPGridResult)
    by_d: dict[int, list] = {}
    for run in res.runs:
        by_d.setdefault(run.config.d_resid, []).append(run)
    fig, axs2 = _figure(1, 2, (12, 5))
    axs = axs2[0]
    for d, runs in sorted(by_d.items()):
        runs.sort(key=lambda r: r.feat_ratio)
        ratios = [r.feat_ratio for r in runs]
        axs[0].plot(ratios, [r.rolling_loss for r in runs], marker="o", label=f"d_resid={d}")
        line = axs[1].plot(ratios, [r.probe_r2_hidden for r in runs], marker="o", label=f"hidden, d={d}")
        if all(r.probe_r2_residual is not None for r in runs):
            axs[1].plot(
                ratios,
                [r.probe_r2_residual for r in runs],
                marker="x",
                ls="--",
                color=line[0].get_color(),
                label=f"residual, d={d}",
            )
    axs[0].set_xscale("log")
    axs[0].set_yscale("log")
    axs[0].set_xlabel("feature ratio (n_feats / d_resid)")
    axs[0].set_ylabel("final rolling MSE")
    axs[0].legend(fontsize=8)
    axs[1].set_xscale("log")
    axs[1].set_xlabel("feature ratio (n_feats / d_resid)")
    axs[1].set_ylabel("mean probe R² for the input features")
    axs[1].legend(fontsize=7)
    fig.suptitle("Toy MLP computing new features")
    return [_save(fig, Path(out_dir), "toy_mlp_grid.png")]
