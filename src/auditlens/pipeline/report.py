"""Plots and a self-contained HTML page for a pipeline run, generated from its JSON results."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from auditlens.runs.figures import new_figure, save_figure
from auditlens.runs.report import Page

if TYPE_CHECKING:
    from auditlens.evals.evaluate import EvalReport
    from auditlens.pipeline.default import PipelineSummary

COLUMNS = (
    "dictionary",
    "architecture",
    "d_sae",
    "l0",
    "fvu",
    "dead_fraction",
    "loss_recovered",
    "ce_increase",
    "kl",
)


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return "—" if math.isnan(v) else f"{v:.4g}"
    return str(v)


def summary_table(rows: list[dict]) -> str:
    """A plain-text table of the summary rows (printed by the CLI)."""
    cells = [list(COLUMNS)] + [[_fmt(r.get(c, "")) for c in COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def plot_run(out: Path, reports: list[EvalReport]) -> list[Path]:
    """``l0_vs_fvu.png`` (with 95% CIs) and ``loss_recovered.png`` in ``out``."""
    names = [Path(r.checkpoint).name for r in reports]
    fig, axes = new_figure(size=(5.5, 4))
    ax = axes[0, 0]
    for name, r in zip(names, reports, strict=True):
        rec = r.reconstruction
        ax.errorbar(
            rec.l0.value,
            rec.fvu.value,
            xerr=[[rec.l0.value - rec.l0.ci_low], [rec.l0.ci_high - rec.l0.value]],
            yerr=[[max(0.0, rec.fvu.value - rec.fvu.ci_low)], [max(0.0, rec.fvu.ci_high - rec.fvu.value)]],
            fmt="o",
            capsize=3,
            label=name,
        )
    ax.set_xscale("log")
    ax.set_xlabel("L0 (active latents per token)")
    ax.set_ylabel("FVU (fraction of variance unexplained)")
    ax.set_title(f"Sparsity vs reconstruction at {reports[0].hook_point}")
    ax.legend(fontsize=8)
    p1 = save_figure(fig, out / "l0_vs_fvu.png", dpi=120)

    fig, axes = new_figure(size=(5.5, 4))
    ax = axes[0, 0]
    vals = [r.downstream.loss_recovered for r in reports if r.downstream]
    labels = [n for n, r in zip(names, reports, strict=True) if r.downstream]
    means = [v.value for v in vals]
    err = [[max(0.0, v.value - v.ci_low) for v in vals], [max(0.0, v.ci_high - v.value) for v in vals]]
    ax.bar(
        labels, means, yerr=err, capsize=4, color=["#4C72B0", "#DD8452", "#55A868", "#C44E52"][: len(vals)]
    )
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_ylabel("fraction of next-token loss recovered")
    ax.set_title("Reconstruction spliced into the model (95% CI)")
    p2 = save_figure(fig, out / "loss_recovered.png", dpi=120)
    return [p1, p2]


def write_report(out: Path, summary: PipelineSummary, reports: list[EvalReport]) -> Path:
    """Write the plots and ``report.html`` (images embedded: one self-contained file) into ``out``."""
    images = plot_run(out, reports)
    cfg = summary.config
    page = Page(f"auditlens pipeline: {cfg.get('model')} at {cfg.get('hook_point')}")
    page.p(
        f"{summary.store_rows:,} activation rows harvested in {summary.harvest_seconds:.0f} s "
        f"({summary.harvest_forward_share:.0%} in the forward pass); training {summary.train_seconds:.0f} s "
        f"({summary.train_activations_per_second:,.0f} activations/s); evaluation {summary.eval_seconds:.0f} s."
    )
    page.table(COLUMNS, [[_fmt(r.get(c, "")) for c in COLUMNS] for r in summary.dictionaries])
    for p in images:
        page.figure(p, embed=True)
    page.p("Numbers: summary.json and each dictionary's eval.json.")
    return page.write(out / "report.html")
