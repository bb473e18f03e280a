"""The transfer matrix's outputs: ``transfer.json``, ``transfer.png`` (an AUROC heat map per monitor, tuned-on
rows × evaluated-on columns, the diagonal outlined) and ``transfer.html`` (headline table, one matrix per monitor,
catch rates by backdoor type and style on the worst cell), plus the text lines the CLI prints."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from auditlens.monitor.transfer import OTHERS, MonitorTransfer, TransferCell, TransferMatrix
from auditlens.runs import Estimate, Proportion, write_json
from auditlens.runs.figures import new_figure, save_figure
from auditlens.runs.report import Page

__all__ = ["plot_transfer", "transfer_lines", "transfer_page", "write_transfer"]


def _est(e: Estimate) -> str:
    return "n/a" if math.isnan(e.value) else f"{e.value:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}]"


def _prop(p: Proportion) -> str:
    return "–" if not p.n else f"{p.k}/{p.n} ({p.rate:.2f})"


def _rows(m: MonitorTransfer, sources: list[str]) -> list[str]:
    """Tuned-on rows: every source, then the leave-one-out row where there is one."""
    return [*sources, *([OTHERS] if any(c.tuned_on == OTHERS for c in m.cells) else [])]


def _grid(m: MonitorTransfer, rows: list[str], cols: list[str]) -> dict[tuple[str, str], TransferCell]:
    return {(c.tuned_on, c.evaluated_on): c for c in m.cells if c.tuned_on in rows and c.evaluated_on in cols}


def plot_transfer(matrix: TransferMatrix, path: Path) -> Path:
    """AUROC heat maps, one panel per monitor (tuned-on rows, evaluated-on columns)."""
    cols = [s.source for s in matrix.sources]
    n = len(matrix.monitors)
    per_row = min(3, max(1, n))
    nrows = -(-n // per_row)
    fig, axes = new_figure(nrows, per_row, size=(4.2 * per_row, 3.6 * nrows))
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.set_axis_off()
            continue
        m = matrix.monitors[k]
        rows = _rows(m, cols)
        grid = _grid(m, rows, cols)
        vals = np.array(
            [[grid[(r, c)].auroc.value if (r, c) in grid else np.nan for c in cols] for r in rows]
        )
        ax.imshow(vals, vmin=0.5, vmax=1.0, cmap="viridis")
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                v = vals[i, j]
                ax.text(j, i, "–" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=8,
                        color="black" if not np.isnan(v) and v > 0.8 else "white")  # fmt: skip
                if r == c:
                    ax.add_patch(_square(j, i))
        ax.set_xticks(range(len(cols)), cols, fontsize=8, rotation=20)
        ax.set_yticks(range(len(rows)), rows, fontsize=8)
        worst = m.worst
        title = m.monitor + (f"\nworst off-diagonal {worst.auroc.value:.2f}" if worst else "")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("evaluated on", fontsize=8)
        ax.set_ylabel("tuned / trained on", fontsize=8)
    return save_figure(fig, path)


def _square(x: int, y: int):  # type: ignore[no-untyped-def]
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, ec="white", lw=1.5, ls="--")


def _headline(m: MonitorTransfer) -> list[object]:
    w, wt = m.worst, m.worst_tpr
    loo = [c for c in m.off_diagonal(others=True) if not math.isnan(c.auroc.value)]
    worst_loo = min(loo, key=lambda c: c.auroc.value) if loo else None
    return [
        m.monitor,
        f"{_est(w.auroc)} ({w.tuned_on} → {w.evaluated_on})" if w else "–",
        f"{_prop(wt.tpr_frozen)} at FPR {wt.fpr_frozen.rate:.3f} ({wt.tuned_on} → {wt.evaluated_on})"
        if wt
        else "–",
        f"{_est(w.tpr_recalibrated)}" if w else "–",
        f"{_est(worst_loo.auroc)} (→ {worst_loo.evaluated_on})" if worst_loo else "–",
    ]


def transfer_page(matrix: TransferMatrix, png: Path) -> Page:
    """The HTML page of the matrix with its plot embedded."""
    fpr = f"{matrix.target_fpr:.0%}"
    cols = [s.source for s in matrix.sources]
    page = Page("Monitor transfer matrix")
    page.p(
        "Each monitor is tuned (thresholds) or trained (probes) on one source, frozen, and evaluated on another; "
        "the headline of a monitor is its worst off-diagonal cell, never its in-distribution diagonal."
    )
    page.table(
        ["source", "n honest", "n attack", "problems", "problems shared with"],
        [
            [
                s.source,
                s.n_honest,
                s.n_attack,
                s.n_problems,
                ", ".join(f"{k}: {v}" for k, v in s.shared_problems.items()),
            ]
            for s in matrix.sources
        ],
    )
    page.h2("Headline: worst off-diagonal cell")
    page.table(
        ["monitor", "worst AUROC (tuned → evaluated)", f"worst frozen-threshold TPR ({fpr} FPR on the tuning set)",
         f"TPR @ {fpr} FPR re-calibrated on the worst cell", "worst AUROC trained on all other sources"],
        [_headline(m) for m in matrix.monitors],
    )  # fmt: skip
    page.h2("AUROC by cell").figure(png, embed=True)
    for m in matrix.monitors:
        rows = _rows(m, cols)
        grid = _grid(m, rows, cols)
        page.h2(f"{m.monitor}{' (learns)' if m.learns else ''}")
        page.table(
            ["tuned on \\ evaluated on", *cols],
            [[r, *(_cell_text(grid.get((r, c))) for c in cols)] for r in rows],
        )
        w = m.worst
        if w is not None:
            page.p(
                f"Worst cell {w.tuned_on} → {w.evaluated_on}: catch at the frozen threshold by type and style."
            )
            items = [*w.catch_by_type.items(), *(("style: " + k, v) for k, v in w.catch_by_style.items())]
            page.table(["backdoor type / reasoning style", "caught"], [[k, _prop(v)] for k, v in items])
    if matrix.notes:
        page.h2("Notes").bullets(matrix.notes)
    return page


def _cell_text(c: TransferCell | None) -> str:
    if c is None:
        return "–"
    tag = " (in distribution)" if c.in_distribution else ""
    return (
        f"AUROC {_est(c.auroc)}{tag}; TPR {_prop(c.tpr_frozen)} at FPR {_prop(c.fpr_frozen)}; "
        f"re-calibrated TPR {c.tpr_recalibrated.value:.2f}"
    )


def write_transfer(matrix: TransferMatrix, out_dir: str | Path) -> tuple[Path, Path, Path]:
    """Write ``transfer.json``, ``transfer.png`` and ``transfer.html`` into ``out_dir``."""
    out = Path(out_dir)
    j, png, html = out / "transfer.json", out / "transfer.png", out / "transfer.html"
    write_json(j, matrix, indent=2)
    plot_transfer(matrix, png)
    transfer_page(matrix, png).write(html)
    return j, png, html


def transfer_lines(matrix: TransferMatrix) -> list[str]:
    """One line per monitor: its worst off-diagonal AUROC and frozen-threshold TPR."""
    out = []
    for m in matrix.monitors:
        w, wt = m.worst, m.worst_tpr
        if w is None or wt is None:
            out.append(f"{m.monitor:28s} no off-diagonal cell")
            continue
        out.append(
            f"{m.monitor:28s} worst AUROC {_est(w.auroc)} ({w.tuned_on}→{w.evaluated_on})  worst frozen TPR "
            f"{wt.tpr_frozen.rate:.3f} at FPR {wt.fpr_frozen.rate:.3f} ({wt.tuned_on}→{wt.evaluated_on})"
        )
    return out
