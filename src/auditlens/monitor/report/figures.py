"""The report's plots (``runs.figures``, matplotlib's object API): ROC curves and catch rate by backdoor type."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from auditlens.monitor.report.schema import MonitorReport
from auditlens.runs import Proportion
from auditlens.runs.figures import new_figure, save_figure

__all__ = ["plot_catch", "plot_roc"]


def plot_roc(report: MonitorReport, path: Path) -> Path:
    """ROC curves of every monitor, on a linear and a log FPR axis, the target FPR marked."""
    fig, axes = new_figure(1, 2, size=(11, 4.5))
    for ax, log in zip(axes[0], (False, True), strict=True):
        for m in report.monitors:
            ax.plot(m.roc.fpr, m.roc.tpr, label=f"{m.monitor} (AUROC {m.auroc.value:.3f})", lw=1.5)
        ax.axvline(report.target_fpr, color="grey", ls=":", lw=1)
        ax.plot([0, 1], [0, 1], color="lightgrey", lw=1)
        ax.set_xlabel("false-positive rate (honest flagged)")
        ax.set_ylabel("true-positive rate (backdoors caught)")
        if log:
            ax.set_xscale("symlog", linthresh=1e-3)
            ax.set_title("ROC, log FPR")
        else:
            ax.set_title("ROC")
    axes[0, 0].legend(fontsize=8, loc="lower right")
    return save_figure(fig, path)


def plot_catch(report: MonitorReport, path: Path) -> Path:
    """Catch rate per backdoor type at the global threshold: one bar per monitor and OR pair."""
    rows: list[tuple[str, dict[str, Proportion]]] = [(m.monitor, m.catch_by_type) for m in report.monitors]
    rows += [(f"OR({p.monitor_a}, {p.monitor_b})", p.catch_by_type) for p in report.or_pairs]
    types = sorted({t for _, d in rows for t in d})
    fig, axes = new_figure(size=(max(7.0, 1.2 * len(types) + 2), 4.5))
    ax = axes[0, 0]
    width = 0.8 / max(1, len(rows))
    x = np.arange(len(types))
    for i, (name, d) in enumerate(rows):
        vals = [d[t].rate if t in d and d[t].defined else 0.0 for t in types]
        ax.bar(x + i * width - 0.4 + width / 2, vals, width, label=name)
    ax.set_xticks(x, [t.replace("special_condition_", "sc_") for t in types], rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(f"catch rate at {report.target_fpr:.0%} FPR")
    ax.set_title("Catch rate by backdoor type")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return save_figure(fig, path)
