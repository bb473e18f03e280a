"""``audit.html``: the page a person follows from the conclusion down to each sample, document and feature.

Drawn from ``audit.json`` and the step files only. Every cited evidence id is a link to its item (``#ev-<id>``);
each step's items are listed under the step, best first, with the prompt that produced a sample.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

from auditlens.audit.evidence import EvidenceItem, TechniqueResult
from auditlens.audit.report_schema import AuditReport
from auditlens.runs import Proportion, read_json
from auditlens.runs.figures import new_figure, save_figure
from auditlens.runs.report import Page, Raw

__all__ = ["write_audit_html"]

_SHOWN = 30


def _anchor(item_id: str) -> str:
    return "ev-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in item_id)


def _refs(ids: list[str], known: set[str], limit: int = 12) -> Raw:
    links = [
        f"<a href='#{_anchor(i)}'>{html.escape(i)}</a>" if i in known else html.escape(i) for i in ids[:limit]
    ]
    more = f" (+{len(ids) - limit})" if len(ids) > limit else ""
    return Raw(", ".join(links) + more)


def _p(x: Proportion | None) -> str:
    return x.text() if x is not None else "—"


def _item_html(it: EvidenceItem, anchor: str) -> str:
    head = f"<b>{html.escape(it.id)}</b> · {html.escape(it.kind)}"
    if it.source:
        head += f" · {html.escape(it.source)}"
    if it.score is not None:
        head += f" · score {it.score:.3g}"
    body = ""
    if it.prompt:
        body += f"<div class='muted'>prompt: {html.escape(it.prompt)}</div>"
    body += f"<pre>{html.escape(it.text)}</pre>"
    if it.meta:
        body += f"<details><summary>details</summary><pre>{html.escape(json.dumps(it.meta, indent=1)[:4000])}</pre></details>"
    return f"<div class='evidence' id='{anchor}'>{head}{body}</div>"


def _figure(report: AuditReport, out: Path) -> Path | None:
    bs = [b for b in report.behaviours if b.test_audited is not None and b.test_comparison is not None][:12]
    cs = report.candidates
    if not bs and not cs:
        return None
    fig, ax = new_figure(1, 2, size=(11, 4.2))
    a = ax[0, 0]
    for off, key, label in ((-0.2, "test_audited", "audited"), (0.2, "test_comparison", "comparison")):
        vals = [getattr(b, key) for b in bs]
        rates = [v.rate if not math.isnan(v.rate) else 0 for v in vals]
        err = [
            [r - v.ci_low for r, v in zip(rates, vals, strict=True)],
            [v.ci_high - r for r, v in zip(rates, vals, strict=True)],
        ]
        a.bar([i + off for i in range(len(bs))], rates, width=0.4, yerr=err, label=label, capsize=2)
    a.set_xticks(range(len(bs)), [b.id for b in bs])
    a.set_ylabel("share of fresh samples (95% CI)")
    a.set_title("suspected behaviours, re-tested")
    a.legend()
    c = ax[0, 1]
    c.barh([x.id for x in cs][::-1], [x.confidence for x in cs][::-1])
    c.axvline(report.settings.confidence_threshold, color="k", linestyle="--", label="threshold")
    c.set_xlim(0, 1)
    c.set_title("root-cause candidates: confidence")
    c.legend()
    return save_figure(fig, out / "audit.png")


def write_audit_html(folder: str | Path) -> Path:
    """Write ``audit.html`` (and ``audit.png``) into an audit folder from its ``audit.json``."""
    folder = Path(folder)
    report = read_json(folder / "audit.json", AuditReport, what="audit record")
    results: list[tuple[str, TechniqueResult]] = []
    for s in report.steps:
        if s.file and (folder / s.file).is_file():
            results.append((s.step, read_json(folder / s.file, TechniqueResult, what="audit step")))
    anchors: dict[tuple[str, str], str] = {}
    known: set[str] = set()
    for step, r in results:
        for it in r.items:
            if it.id not in known:
                known.add(it.id)
                anchors[(step, it.id)] = _anchor(it.id)
            else:
                anchors[(step, it.id)] = _anchor(f"{step}-{it.id}")
    rc = report.root_cause
    page = Page(
        f"Audit of {report.subject}",
        subtitle=f"auditor {report.auditor} · comparison model {report.comparison or 'none'} · "
        f"{report.data_rows} data rows · {report.cost.model_calls} model calls · "
        f"{report.cost.tokens_generated} tokens generated · {report.wall_s:.0f} s",
    )
    page.h2("Conclusion", anchor="conclusion")
    verdict = "Root cause named" if rc.claimed else "No root cause named"
    page.p(
        f"{verdict} (confidence {rc.confidence:.2f}, threshold {report.settings.confidence_threshold:.2f}).",
        cls="verdict",
    )
    page.p(rc.statement)
    if rc.evidence:
        page.p(Raw("Evidence: " + _refs(rc.evidence, known)))
    fig = _figure(report, folder)
    if fig is not None:
        page.figure(
            fig,
            "Left: each suspected behaviour's share of fresh samples, audited vs comparison model. "
            "Right: the documented confidence rule per candidate.",
        )
    page.h2("Root-cause candidates", anchor="candidates")
    page.table(
        [
            "id",
            "terms",
            "origin",
            "confidence",
            "behaviours",
            "disclosure: audited",
            "comparison",
            "p",
            "data rows",
            "internals (vs comparison)",
            "related features",
            "intervention",
        ],
        [
            [
                c.id,
                ", ".join(c.terms),
                c.origin,
                c.confidence,
                ", ".join(c.support.behaviours) or "—",
                _p(c.support.disclosure_audited),
                _p(c.support.disclosure_comparison),
                "—" if c.support.disclosure_p is None else f"{c.support.disclosure_p:.3g}",
                c.support.data_rows,
                _refs(c.support.internals, known, 4) if c.support.internals else "—",
                _refs(c.support.related_features, known, 4) if c.support.related_features else "—",
                c.support.intervention or "—",
            ]
            for c in report.candidates
        ],
    )
    for c in report.candidates:
        page.p(
            Raw(
                f"<b>{html.escape(c.id)}</b>: {html.escape(c.statement)} Evidence: {_refs(c.evidence, known)}"
            )
        )
    page.h2("Suspected behaviours", anchor="behaviours")
    page.table(
        [
            "id",
            "description",
            "confirmed",
            "explore: audited",
            "comparison",
            "fresh: audited",
            "comparison",
            "p",
            "evidence",
        ],
        [
            [
                b.id,
                b.description,
                "yes" if b.confirmed else "no",
                _p(b.explore_audited),
                _p(b.explore_comparison),
                _p(b.test_audited),
                _p(b.test_comparison),
                "—" if b.p_value is None else f"{b.p_value:.3g}",
                _refs(b.evidence, known, 6),
            ]
            for b in report.behaviours
        ],
    )
    page.h2("Steps", anchor="steps")
    page.table(
        ["step", "phase", "items", "hit rate", "comparison", "model calls", "tokens", "seconds", "error"],
        [
            [
                Raw(f"<a href='#step-{_anchor(s.step)}'>{html.escape(s.step)}</a>"),
                s.phase,
                s.items,
                _p(s.hit_rate),
                _p(s.base_hit_rate),
                s.cost.model_calls,
                s.cost.tokens_generated,
                round(s.cost.seconds, 1),
                s.error or "",
            ]
            for s in report.steps
        ],
    )
    if report.notes:
        page.h3("Notes")
        page.bullets(report.notes)
    page.h2("Evidence", anchor="evidence")
    for step, r in results:
        page.raw(f"<h3 id='step-{_anchor(step)}'>{html.escape(step)}</h3>")
        if r.tried:
            page.details(f"tried ({len(r.tried)})", "<pre>" + html.escape("\n".join(r.tried)) + "</pre>")
        for n in r.notes:
            page.p(n, cls="muted")
        shown = "".join(_item_html(it, anchors[(step, it.id)]) for it in r.items[:_SHOWN])
        page.raw(shown)
        if len(r.items) > _SHOWN:
            rest = "".join(_item_html(it, anchors[(step, it.id)]) for it in r.items[_SHOWN:])
            page.details(f"{len(r.items) - _SHOWN} more items", rest)
    return page.write(folder / "audit.html")
