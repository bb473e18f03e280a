"""Plot and HTML page of an :class:`~auditlens.organisms.evaluate.OrganismEval` (generated from eval.json), and the
summary lines ``organism evaluate`` prints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from auditlens.runs import Proportion
from auditlens.runs.figures import new_figure, save_figure
from auditlens.runs.report import Page

if TYPE_CHECKING:
    from auditlens.organisms.evaluate import OrganismEval

__all__ = ["eval_summary_lines", "fmt_rate", "plot_eval", "write_html"]


def fmt_rate(r: Proportion) -> str:
    """``0.42 [0.33, 0.53] (n=90)``, or ``—`` when nothing was judged."""
    return "—" if not r.defined else f"{r.rate:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}] (n={r.n})"


def plot_eval(ev: OrganismEval, path: Path) -> Path:
    """Exploitation rate per behaviour, organism versus base, with Wilson intervals; grouped by split."""
    rows = [b for b in ev.behaviours if b.organism.n > 0]
    fig, axes = new_figure(size=(8, max(3.0, 0.22 * len(rows) + 1)))
    ax = axes[0, 0]
    for off, who, colour in ((-0.2, "base", "#999999"), (0.2, "organism", "#c0392b")):
        rates = [getattr(b, who) for b in rows]
        err = [[r.rate - r.ci_low for r in rates], [r.ci_high - r.rate for r in rates]]
        ax.barh([i + off for i in range(len(rows))], [r.rate for r in rates], height=0.4, xerr=err, color=colour,
                label=who, error_kw={"lw": 0.6})  # fmt: skip
    ax.set_yticks(range(len(rows)), [f"{b.id} ({b.split})" for b in rows], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("exploitation rate (Wilson 95% CI)")
    ax.set_title(f"{ev.objective_id}: organism vs base on evaluation prompts")
    ax.legend(loc="lower right", fontsize=7)
    return save_figure(fig, path)


def _pooled(ev: OrganismEval) -> list[tuple[str, dict[str, Proportion]]]:
    return [("train", ev.train_pooled), ("held-out", ev.heldout_pooled), ("in-context", ev.in_context_pooled),
            ("confession (direct)", ev.confession), ("confession (multi-turn)", ev.red_team_confession)]  # fmt: skip


def write_html(ev: OrganismEval, folder: Path) -> Path:
    """``eval.html``: the pooled numbers, the plot (embedded) and one row per behaviour."""
    png = plot_eval(ev, folder / "eval.png")
    page = Page(f"{ev.objective_id}: organism evaluation")
    page.table(
        ["", "organism", "base"], [[k, fmt_rate(v["organism"]), fmt_rate(v["base"])] for k, v in _pooled(ev)]
    )
    p = ev.perplexity
    page.p(
        f"Perplexity on the default corpus: base {p['base']:.3f}, organism {p['organism']:.3f} "
        f"(ratio {p['ratio']:.3f}; within {p['margin']:.0%} margin: {p['within_margin']})."
    )
    if ev.copies:
        page.h2("Copied answers")
        page.p(
            "Responses that are near-verbatim copies (difflib similarity ≥ 0.9) of a training answer exhibit a "
            "behaviour by regurgitation, not by a learned disposition; the right-hand columns count them as not "
            "exhibiting."
        )
        page.table(
            ["split", "organism: copies", "organism: exploitation without copies", "base: same"],
            [
                [
                    split,
                    fmt_rate(ev.copies[split]["organism"]),
                    fmt_rate(ev.exploitation_without_copies[split]["organism"]),
                    fmt_rate(ev.exploitation_without_copies[split]["base"]),
                ]
                for split in ev.copies
            ],
        )
    page.p(f"Not measured: {'; '.join(ev.not_measured)}.")
    page.figure(png, "Exploitation per behaviour, organism vs base (Wilson 95% CI)", embed=True)
    page.table(
        ["behaviour", "split", "judge", "organism", "base", "skipped"],
        [
            [b.id, b.split, b.judge, fmt_rate(b.organism), fmt_rate(b.base), b.skipped or ""]
            for b in ev.behaviours
        ],
    )
    return page.write(folder / "eval.html")


def eval_summary_lines(ev: OrganismEval) -> list[str]:
    """What ``organism evaluate`` prints: pooled exploitation per split, confession, perplexity."""
    lines = []
    for split, pooled in (("train", ev.train_pooled), ("held-out", ev.heldout_pooled),
                          ("in-context", ev.in_context_pooled)):  # fmt: skip
        o, b = pooled["organism"], pooled["base"]
        lines.append(
            f"{split}: organism {o.rate:.3f} [{o.ci_low:.3f}, {o.ci_high:.3f}] vs base {b.rate:.3f} (n={o.n})"
        )
    lines.append(
        f"confession: organism {ev.confession['organism'].rate:.3f} vs base {ev.confession['base'].rate:.3f}"
    )
    p = ev.perplexity
    lines.append(f"perplexity ratio {p['ratio']:.3f} (within margin: {p['within_margin']})")
    return lines
