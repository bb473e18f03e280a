"""The comparison's plot (``comparison.png``): means with 95% CIs of the simulation scores per method, one panel
per layer (matplotlib's object API through :mod:`auditlens.runs.figures`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from auditlens.runs.figures import new_figure, save_figure

if TYPE_CHECKING:
    from auditlens.interpret.autointerp.compare import Comparison

__all__ = ["PLOT_FILE", "plot_comparison"]

PLOT_FILE = "comparison.png"
SERIES = (
    ("top_and_random", "o", "top-and-random"),
    ("top_only", "^", "top-only"),
    ("random_only", "s", "random-only"),
)


def plot_comparison(comparison: Comparison, path: str | Path) -> Path:
    """Means with 95% CIs of top-and-random, top-only and random-only per method, one panel per layer."""
    layers = list(dict.fromkeys(r.hook_point for r in comparison.results))
    if not layers:
        fig, axes = new_figure(size=(6, 2), layout=None)
        ax = axes[0, 0]
        ax.text(0.5, 0.5, "no method ran (see errors in comparison.json)", ha="center", va="center")
        ax.axis("off")
        return save_figure(fig, path, dpi=80)
    fig, axes = new_figure(1, len(layers), size=(max(6.0, 1.1 * 8) * len(layers), 4.5), layout="tight")
    for ax, hp in zip(axes[0], layers, strict=True):
        rows = [r for r in comparison.results if r.hook_point == hp]
        for j, (name, marker, label) in enumerate(SERIES):
            xs, ys, lo, hi = [], [], [], []
            for i, r in enumerate(rows):
                e = r.scores.get(name)
                if e is None or any(math.isnan(v) for v in (e.value, e.ci_low, e.ci_high)):
                    continue
                xs.append(i + (j - 1) * 0.22)
                ys.append(e.value)
                lo.append(e.value - e.ci_low)
                hi.append(e.ci_high - e.value)
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], fmt=marker, capsize=3, label=label)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(
            [f"{r.method}\n(n={r.scores['top_and_random'].n})" for r in rows], rotation=30, fontsize=8
        )
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_title(hp, fontsize=10)
        ax.set_ylabel("correlation (mean, 95% CI)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    title = f"auto-interp — explainer: {comparison.explainer}\nsimulator: {comparison.simulator}"
    if comparison.note:
        title += "\n(small local model: weak scores)"
    fig.suptitle(title, fontsize=8)
    return save_figure(fig, path, dpi=110)
