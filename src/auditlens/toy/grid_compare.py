"""Two runs of the toy grid, cell by cell: do they tell the same story?

The same recipe trained on another machine, in another precision (``--bf16``, ``--tf32``) or with another torch gives
slightly different dictionaries — the arithmetic order differs, and training amplifies it. Whether the *results*
differ is what a user needs to know before mixing such cells or trusting a faster setting. :func:`compare_toy_grids`
matches the cells the two grids share and reports the spread of every per-cell number (MMCS with truth, dead count,
L0, FVU), whether the same cells recover the features (MMCS > ``threshold``), and whether each row's best coefficient is
the same; :func:`plot_grid_comparison` draws it and :func:`compare_toy_folders` does both for two grid folders (what
``auditlens replicate compare-toy`` runs). Grids of different recipes (data, steps, batch, learning rate, evaluation
samples, seed) are refused: their cells are not the same experiment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from auditlens.errors import ConfigError, DataError
from auditlens.runs import write_json
from auditlens.runs.figures import new_figure, save_figure
from auditlens.toy.grid_result import ToyCell, ToyGridResult
from auditlens.toy.replicate_toy import RESULT_JSON, load_toy_grid

__all__ = [
    "COMPARE_JSON",
    "CellPair",
    "Spread",
    "ToyGridComparison",
    "compare_toy_folders",
    "compare_toy_grids",
    "plot_grid_comparison",
]

COMPARE_JSON = "toy_compare.json"
PLOT_PNG = "grid_compare.png"


class Spread(BaseModel):
    """How far apart one per-cell number is between the two grids, over the shared cells."""

    median: float = Field(description="Median over cells of |a − b| (relative to a for L0).")
    p90: float = Field(description="90th percentile of the same.")
    max: float = Field(description="Largest difference.")
    worst: str = Field(description="Key of the cell with the largest difference.")


class CellPair(BaseModel):
    """One shared cell's numbers in both grids."""

    key: str
    convention: str
    ratio: float
    coefficient: float
    d_sae: int
    mmcs_with_truth: tuple[float, float] = Field(description="(a, b).")
    n_dead: tuple[int, int] = Field(description="(a, b).")
    l0: tuple[float, float] = Field(description="(a, b).")
    fvu: tuple[float, float] = Field(description="(a, b).")


class ToyGridComparison(BaseModel):
    """Grid ``a`` against grid ``b`` on the cells they share."""

    a: str = Field(description="Label of the first grid (its folder).")
    b: str = Field(description="Label of the second grid.")
    a_trained_on: dict[str, int] = Field(
        description="Where a's cells were trained (ToyGridResult.trained_on)."
    )
    b_trained_on: dict[str, int] = Field(description="Where b's cells were trained.")
    a_bf16: bool = Field(description="Whether a was trained with bfloat16 products.")
    b_bf16: bool = Field(description="Whether b was trained with bfloat16 products.")
    shared_cells: int = Field(description="Cells present in both grids.")
    only_in_a: list[str] = Field(description="Keys of cells only a has.")
    only_in_b: list[str] = Field(description="Keys of cells only b has.")
    threshold: float = Field(
        description="MMCS with truth above which a cell counts as recovering the features."
    )
    mmcs_with_truth: Spread = Field(description="|a − b| of MMCS with truth.")
    n_dead: Spread = Field(description="|a − b| of the dead count.")
    n_dead_max_share: float = Field(
        description="Largest |a − b| dead count as a share of the dictionary size."
    )
    l0: Spread = Field(description="|a − b| / a of L0.")
    fvu: Spread = Field(description="|a − b| of FVU.")
    recovered_a: int = Field(description="Shared cells of a with MMCS with truth > threshold.")
    recovered_b: int = Field(description="Shared cells of b with MMCS with truth > threshold.")
    recovered_agree: int = Field(description="Shared cells on whose recovery (> threshold) a and b agree.")
    best_coefficient_agree: dict[str, bool] = Field(
        description="Per '<convention>-r<ratio>' row (complete in both): is the best-MMCS coefficient the same?"
    )
    cells: list[CellPair] = Field(description="Every shared cell, in a's order.")

    def summary(self) -> str:
        """The comparison in a few lines (what ``compare-toy`` prints)."""
        m = self.mmcs_with_truth
        agree = self.best_coefficient_agree
        return (
            f"{self.shared_cells} shared cells ({len(self.only_in_a)} only in a, {len(self.only_in_b)} only in b)\n"
            f"MMCS with truth |a-b|: median {m.median:.4f}, p90 {m.p90:.4f}, max {m.max:.4f} ({m.worst})\n"
            f"dead |a-b|: max {self.n_dead.max:.0f} (at most {self.n_dead_max_share:.1%} of a dictionary); "
            f"L0 relative: max {self.l0.max:.3f}; FVU |a-b|: max {self.fvu.max:.4f}\n"
            f"recovered (> {self.threshold:g}): {self.recovered_a} vs {self.recovered_b}, agree on "
            f"{self.recovered_agree}; same best coefficient in {sum(agree.values())} of {len(agree)} rows"
        )


def _spread(keys: list[str], diff: np.ndarray) -> Spread:
    i = int(np.argmax(diff))
    return Spread(
        median=float(np.median(diff)),
        p90=float(np.quantile(diff, 0.9)),
        max=float(diff[i]),
        worst=keys[i],
    )


def compare_toy_grids(
    a: ToyGridResult, b: ToyGridResult, *, labels: tuple[str, str] = ("a", "b"), threshold: float = 0.9
) -> ToyGridComparison:
    """Match the cells ``a`` and ``b`` share (by key) and measure how far their numbers are apart."""
    ra, rb = a.config.recipe(), b.config.recipe()
    if ra != rb:
        differ = sorted(k for k in ra.keys() | rb.keys() if ra.get(k) != rb.get(k))
        raise ConfigError(
            f"the two grids were trained with different recipes ({', '.join(differ)} differ)",
            hint="compare runs of the same data, steps, batch, learning rate, evaluation samples and seed; "
            "machine, precision and grid axes may differ",
        )
    cells_a: dict[str, ToyCell] = {c.key: c for c in a.cells}
    cells_b: dict[str, ToyCell] = {c.key: c for c in b.cells}
    keys = [k for k in cells_a if k in cells_b]
    if not keys:
        raise ConfigError(
            "the two grids share no cell (convention, ratio and coefficient all differ)",
            hint="compare grids with at least one (convention, ratio, coefficient) in common",
        )
    pairs = [
        CellPair(
            key=k,
            convention=cells_a[k].convention,
            ratio=cells_a[k].ratio,
            coefficient=cells_a[k].coefficient,
            d_sae=cells_a[k].d_sae,
            mmcs_with_truth=(cells_a[k].mmcs_with_truth, cells_b[k].mmcs_with_truth),
            n_dead=(cells_a[k].n_dead, cells_b[k].n_dead),
            l0=(cells_a[k].l0, cells_b[k].l0),
            fvu=(cells_a[k].fvu, cells_b[k].fvu),
        )
        for k in keys
    ]

    def col(field: str) -> np.ndarray:
        return np.array([getattr(p, field) for p in pairs], dtype=np.float64)

    mmcs, dead, l0, fvu = col("mmcs_with_truth"), col("n_dead"), col("l0"), col("fvu")
    size = np.array([p.d_sae for p in pairs], dtype=np.float64)
    dead_diff = np.abs(dead[:, 0] - dead[:, 1])
    rec_a, rec_b = mmcs[:, 0] > threshold, mmcs[:, 1] > threshold
    best: dict[str, bool] = {}
    for conv in sorted({p.convention for p in pairs}):
        for ratio in sorted({p.ratio for p in pairs if p.convention == conv}):
            row_a = [c for c in a.cells if c.convention == conv and c.ratio == ratio]
            row_b = {c.key: c for c in b.cells if c.convention == conv and c.ratio == ratio}
            if row_a and len(row_a) == len(row_b) and all(c.key in row_b for c in row_a):
                top_a = max(row_a, key=lambda c: c.mmcs_with_truth).coefficient
                top_b = max(row_b.values(), key=lambda c: c.mmcs_with_truth).coefficient
                best[f"{conv}-r{ratio:g}"] = top_a == top_b
    return ToyGridComparison(
        a=labels[0],
        b=labels[1],
        a_trained_on=a.trained_on,
        b_trained_on=b.trained_on,
        a_bf16=a.config.bf16,
        b_bf16=b.config.bf16,
        shared_cells=len(keys),
        only_in_a=[k for k in cells_a if k not in cells_b],
        only_in_b=[k for k in cells_b if k not in cells_a],
        threshold=threshold,
        mmcs_with_truth=_spread(keys, np.abs(mmcs[:, 0] - mmcs[:, 1])),
        n_dead=_spread(keys, dead_diff),
        n_dead_max_share=float((dead_diff / size).max()),
        l0=_spread(keys, np.abs(l0[:, 0] - l0[:, 1]) / np.maximum(np.abs(l0[:, 0]), 1e-12)),
        fvu=_spread(keys, np.abs(fvu[:, 0] - fvu[:, 1])),
        recovered_a=int(rec_a.sum()),
        recovered_b=int(rec_b.sum()),
        recovered_agree=int((rec_a == rec_b).sum()),
        best_coefficient_agree=best,
        cells=pairs,
    )


def plot_grid_comparison(cmp: ToyGridComparison, out_dir: str | Path) -> list[Path]:
    """One PNG, ``grid_compare.png``: MMCS with truth, dead share and L0 of every shared cell, a against b (the
    diagonal is perfect agreement; colour is the dictionary ratio)."""
    fig, grid = new_figure(1, 3, size=(16.5, 5.0))
    axes = grid[0]
    ratio = np.log2([p.ratio for p in cmp.cells])
    size = np.array([p.d_sae for p in cmp.cells], dtype=np.float64)
    panels = [
        ("MMCS with truth", np.array([p.mmcs_with_truth for p in cmp.cells], dtype=np.float64), False),
        (
            "dead share of the dictionary",
            np.array([p.n_dead for p in cmp.cells], dtype=np.float64) / size[:, None],
            False,
        ),
        ("L0 (log scale)", np.array([p.l0 for p in cmp.cells], dtype=np.float64), True),
    ]
    silent = sum(1 for p in cmp.cells if min(p.l0) <= 0)
    if silent:  # a log axis cannot show them
        panels[2] = (f"L0 (log scale; {silent} cells with L0 0 not shown)", panels[2][1], True)
    for ax, (name, xy, log) in zip(axes, panels, strict=True):
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=ratio, cmap="viridis", s=14, alpha=0.8)
        finite = xy[np.isfinite(xy).all(1) & ((xy > 0).all(1) if log else True)]
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--")
        if log:
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel(f"{cmp.a}")
        ax.set_ylabel(f"{cmp.b}")
        ax.set_title(name, fontsize=10)
    cbar = fig.colorbar(sc, ax=axes[-1])
    cbar.set_label("log2 dictionary ratio")
    fig.suptitle(
        f"{cmp.shared_cells} shared cells: MMCS |Δ| max {cmp.mmcs_with_truth.max:.3f} (median "
        f"{cmp.mmcs_with_truth.median:.4f}); recovered (> {cmp.threshold:g}) {cmp.recovered_a} vs {cmp.recovered_b}, "
        f"agree on {cmp.recovered_agree}",
        fontsize=10,
    )
    return [save_figure(fig, Path(out_dir) / PLOT_PNG, dpi=100)]


def _grid_input(path: str | Path) -> ToyGridResult:
    """A grid to compare, given as its folder or its ``toy_grid.json`` (:class:`ConfigError` naming the file when it
    is missing or not a toy grid result: a wrong argument, not broken data)."""
    p = Path(path)
    f = p / RESULT_JSON if p.is_dir() else p
    if not f.is_file():
        raise ConfigError(f"{f} does not exist", hint="pass a folder written by 'auditlens replicate toy'")
    try:
        return load_toy_grid(f)
    except DataError as err:
        raise ConfigError(
            f"{f} is not a toy grid result: {str(err).splitlines()[0]}",
            hint="pass the toy_grid.json written by 'auditlens replicate toy'",
        ) from err


def compare_toy_folders(
    a: str | Path, b: str | Path, out_dir: str | Path, *, threshold: float = 0.9
) -> tuple[ToyGridComparison, Path, Path]:
    """Compare two toy grids (each its folder or its ``toy_grid.json``; labelled by the paths as given) and write
    ``toy_compare.json`` and ``grid_compare.png`` into ``out_dir``; returns the comparison and both paths."""
    cmp = compare_toy_grids(_grid_input(a), _grid_input(b), labels=(str(a), str(b)), threshold=threshold)
    out = Path(out_dir)
    write_json(out / COMPARE_JSON, cmp)
    png = plot_grid_comparison(cmp, out)[0]
    return cmp, out / COMPARE_JSON, png
