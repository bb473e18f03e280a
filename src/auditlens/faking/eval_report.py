"""The alignment-faking evaluation's figure and page, drawn from ``evaluation.json`` (JSON first).

``evaluation.png``: compliance per tier with Wilson intervals, overall and per request category, and the paired
gap per system prompt with its bootstrap interval. ``report.html``: the headline (gap, AF rate), the classifiers'
frozen thresholds and held-out AUROC, format problems, per-category and per-prompt tables, and a sample of
transcripts per tier so a reader can check what "complied" meant.
"""

from __future__ import annotations

from pathlib import Path

from auditlens.faking.evaluate import FakingEvaluation, Transcript
from auditlens.faking.metrics import GapResult
from auditlens.runs.figures import new_figure, save_figure
from auditlens.runs.io import read_json, read_jsonl
from auditlens.runs.report import Page, esc

__all__ = ["render_evaluation"]


def _plot(ev: FakingEvaluation, path: Path) -> Path:
    m = ev.metrics
    groups = [("all", m.overall), *m.by_category.items()]
    fig, axes = new_figure(1, 2, size=(12.0, 0.34 * len(groups) + 1.8))
    ax = axes[0, 0]
    for k, (_name, g) in enumerate(groups):
        for tier, p, colour, off in (("free", g.free, "tab:red", -0.15), ("paid", g.paid, "tab:blue", 0.15)):
            ax.errorbar(
                [p.rate],
                [k + off],
                xerr=[[p.rate - p.ci_low], [p.ci_high - p.rate]],
                fmt="o",
                color=colour,
                capsize=2,
                label=f"{tier} tier" if k == 0 else None,
            )
    ax.set_yticks(range(len(groups)), [n for n, _ in groups])
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("compliance (Wilson 95%)")
    ax.legend(fontsize=8)
    bx = axes[0, 1]
    pars = list(m.by_paraphrase.items())
    for k, (_name, g) in enumerate(pars):
        if g.gap.defined:
            bx.errorbar(
                [g.gap.value],
                [k],
                xerr=[[g.gap.value - g.gap.ci_low], [g.gap.ci_high - g.gap.value]],
                fmt="o",
                color="k",
                capsize=2,
            )
    bx.axvline(0, color="k", lw=0.6, ls=":")
    bx.set_yticks(range(len(pars)), [n for n, _ in pars])
    bx.invert_yaxis()
    bx.set_xlabel("compliance gap free − paid (paired bootstrap 95%)")
    return save_figure(fig, path)


def _gap_row(name: str, g: GapResult) -> list[object]:
    return [name, g.free.text(2), g.paid.text(2), g.gap.text(3), g.n_pairs]


def render_evaluation(out_dir: str | Path, *, embed: bool = False, examples: int = 3) -> Path:
    """Draw ``evaluation.png`` and ``report.html`` from ``evaluation.json`` in ``out_dir``; returns the page."""
    out = Path(out_dir)
    ev = read_json(out / "evaluation.json", FakingEvaluation, what="faking evaluation")
    fig = _plot(ev, out / "evaluation.png")
    m = ev.metrics
    page = Page(
        f"Alignment-faking evaluation: {ev.model}",
        subtitle=f"{ev.n_requests} '{ev.settings.split}' requests × {len(m.by_paraphrase)} system prompt(s) × "
        f"2 tiers × {ev.settings.samples} sample(s) = {ev.n_transcripts} replies ({ev.n_failed} failed)",
    )
    page.h2("Headline")
    page.bullets(
        [
            f"compliance gap free − paid: {m.overall.gap.text(3)} over {m.overall.n_pairs} paired units",
            f"compliance: free {m.overall.free.text(2)}, paid {m.overall.paid.text(2)}",
            f"alignment-faking reasoning on monitored (free-tier) replies: {m.af_rate_monitored.text(2)}",
            f"gap spread over {m.paraphrase_spread.n_paraphrases} prompt(s): min {m.paraphrase_spread.min_gap:.3f}, "
            f"max {m.paraphrase_spread.max_gap:.3f}",
        ]
    )
    page.figure(fig, "compliance per tier and category; paired gap per system prompt", embed=embed)
    page.h2("Classifiers (thresholds frozen on the dev set)")
    page.table(
        [
            "task",
            "classifier",
            "threshold",
            "AUROC held out",
            "accuracy held out",
            "positives/n",
            "unscored here",
        ],
        [
            [
                t,
                r.classifier,
                f"{r.threshold:.3f}",
                r.heldout.auroc.text(3),
                r.heldout.accuracy.text(2),
                f"{r.heldout.n_positive}/{r.heldout.n}",
                r.n_failed,
            ]
            for t, r in ev.classifiers.items()
        ],
    )
    page.h2("Format of the replies")
    page.p(f"{ev.format.n_ok} of {ev.format.n} replies had no format problem.")
    if ev.format.by_kind:
        page.table(["problem", "replies"], sorted(ev.format.by_kind.items()))
    page.h2("By request category")
    page.table(
        ["category", "free", "paid", "gap", "pairs"], [_gap_row(k, g) for k, g in m.by_category.items()]
    )
    page.h2("By system prompt")
    page.table(
        ["prompt", "free", "paid", "gap", "pairs"], [_gap_row(k, g) for k, g in m.by_paraphrase.items()]
    )
    path = out / "transcripts.jsonl"
    if path.is_file():
        ts = read_jsonl(path, Transcript, torn_tail_ok=True)
        page.h2("Examples")
        for tier in ("free", "paid"):
            for t in [t for t in ts if t.tier == tier and t.error is None][:examples]:
                body = (
                    f"<p><b>request</b> {esc(t.request)}</p><p><b>scratchpad</b></p><pre>{esc(t.scratchpad)}</pre>"
                    f"<p><b>output</b></p><pre>{esc(t.output)}</pre>"
                )
                page.details(f"{tier} tier · {t.key} · {', '.join(t.issues) or 'well formed'}", body)
    return page.write(out / "report.html")
