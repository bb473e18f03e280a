"""Plot and HTML page of an :class:`~auditlens.organisms.evaluate.OrganismEval` (generated from eval.json)."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditlens.organisms.evaluate import OrganismEval, Rate


def fmt_rate(r: Rate) -> str:
    return "—" if r.rate is None else f"{r.rate:.2f} [{r.lo:.2f}, {r.hi:.2f}] (n={r.n})"


def plot_eval(ev: OrganismEval, path: Path) -> Path:
    """Exploitation rate per behaviour, organism versus base, with Wilson intervals; grouped by split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [b for b in ev.behaviours if b.organism.n > 0]
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.22 * len(rows) + 1)))
    for off, who, colour in ((-0.2, "base", "#999999"), (0.2, "organism", "#c0392b")):
        rates = [getattr(b, who).rate for b in rows]
        err = [
            [r - getattr(b, who).lo for r, b in zip(rates, rows, strict=True)],
            [getattr(b, who).hi - r for r, b in zip(rates, rows, strict=True)],
        ]
        ax.barh([i + off for i in range(len(rows))], rates, height=0.4, xerr=err, color=colour, label=who,
                error_kw={"lw": 0.6})  # fmt: skip
    ax.set_yticks(range(len(rows)), [f"{b.id} ({b.split})" for b in rows], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("exploitation rate (Wilson 95% CI)")
    ax.set_title(f"{ev.objective_id}: organism vs base on evaluation prompts")
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _copies_html(ev: OrganismEval) -> str:
    if not ev.copies:
        return ""
    rows = "".join(
        f"<tr><td>{split}</td><td>{fmt_rate(ev.copies[split]['organism'])}</td>"
        f"<td>{fmt_rate(ev.exploitation_without_copies[split]['organism'])}</td>"
        f"<td>{fmt_rate(ev.exploitation_without_copies[split]['base'])}</td></tr>"
        for split in ev.copies
    )
    return (
        "<h2>Copied answers</h2><p>Responses that are near-verbatim copies (difflib similarity ≥ 0.9) of a training "
        "answer exhibit a behaviour by regurgitation, not by a learned disposition; the right-hand columns count "
        "them as not exhibiting.</p><table><tr><th>split</th><th>organism: copies</th>"
        f"<th>organism: exploitation without copies</th><th>base: same</th></tr>{rows}</table>"
    )


def write_html(ev: OrganismEval, folder: Path) -> Path:
    """``eval.html``: the pooled numbers, the plot and one row per behaviour."""
    png = plot_eval(ev, folder / "eval.png")
    img = base64.b64encode(png.read_bytes()).decode()
    pooled = [("train", ev.train_pooled), ("held-out", ev.heldout_pooled), ("in-context", ev.in_context_pooled),
              ("confession (direct)", ev.confession), ("confession (multi-turn)", ev.red_team_confession)]  # fmt: skip
    head = "".join(
        f"<tr><td>{k}</td><td>{fmt_rate(v['organism'])}</td><td>{fmt_rate(v['base'])}</td></tr>"
        for k, v in pooled
    )
    body = "".join(
        f"<tr><td>{html.escape(b.id)}</td><td>{b.split}</td><td>{b.judge}</td><td>{fmt_rate(b.organism)}</td>"
        f"<td>{fmt_rate(b.base)}</td><td>{html.escape(b.skipped or '')}</td></tr>"
        for b in ev.behaviours
    )
    p = ev.perplexity
    page = f"""<!doctype html><meta charset="utf-8"><title>{html.escape(ev.objective_id)} organism evaluation</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:auto}}td,th{{padding:2px 8px;font-size:13px}}</style>
<h1>{html.escape(ev.objective_id)}: organism evaluation</h1>
<table><tr><th></th><th>organism</th><th>base</th></tr>{head}</table>
<p>Perplexity on the default corpus: base {p["base"]:.3f}, organism {p["organism"]:.3f} (ratio {p["ratio"]:.3f};
within {p["margin"]:.0%} margin: {p["within_margin"]}).</p>
{_copies_html(ev)}
<p>Not measured: {html.escape("; ".join(ev.not_measured))}.</p>
<img src="data:image/png;base64,{img}" style="max-width:100%">
<table><tr><th>behaviour</th><th>split</th><th>judge</th><th>organism</th><th>base</th><th>skipped</th></tr>{body}</table>
"""
    out = folder / "eval.html"
    out.write_text(page, encoding="utf-8")
    return out
