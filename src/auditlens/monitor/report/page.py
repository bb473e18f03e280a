"""The report's outputs: ``report.json``, the two plots and one self-contained HTML page (plots embedded, so the
page opens from anywhere), and the one-line-per-monitor text summary the CLI prints."""

from __future__ import annotations

from pathlib import Path

from auditlens.monitor.report.figures import plot_catch, plot_roc
from auditlens.monitor.report.schema import MonitorReport, MonitorSummary, OrPairSummary, ReportFiles
from auditlens.runs import Estimate, write_json
from auditlens.runs.report import Page

__all__ = ["report_page", "summary_lines", "write_report"]


def _fmt(m: Estimate) -> str:
    return f"{m.value:.3f} [{m.ci_low:.3f}, {m.ci_high:.3f}]"


def _monitor_row(m: MonitorSummary) -> list[object]:
    return [
        m.monitor, m.n_honest, m.n_attack, m.n_failed, _fmt(m.auroc), _fmt(m.tpr_at_fpr), f"{m.threshold:.4g}",
        f"{m.achieved_fpr:.4f}", _fmt(m.tpr_at_fpr_bucketed), _fmt(m.safety),
    ]  # fmt: skip


def _pair_row(p: OrPairSummary) -> list[object]:
    return [
        p.monitor_a, p.monitor_b, f"{p.pair.threshold_a:.4g}", f"{p.pair.threshold_b:.4g}", _fmt(p.tpr),
        f"{p.pair.achieved_fpr:.4f}", f"{p.tpr_a_alone:.3f}", f"{p.tpr_b_alone:.3f}",
    ]  # fmt: skip


def report_page(report: MonitorReport, roc_png: Path, catch_png: Path) -> Page:
    """The HTML page of ``report`` with the two plots embedded."""
    fpr = f"{report.target_fpr:.0%}"
    page = Page("Monitor report")
    page.p(
        f"{report.n_samples} samples; thresholds calibrated at {fpr} FPR on {report.calibration_set}; "
        f"flag when suspicion > threshold; 95% bootstrap CIs over {report.n_boot} resamples (seed {report.seed}); "
        f"created {report.created_utc}."
    )
    head = ["monitor", "n honest", "n attack", "failed", "AUROC", f"TPR @ {fpr} FPR", "threshold"]
    head += ["achieved FPR", "TPR, per-length thresholds", f"safety @ {report.audit_budget_pct:g}% audit"]
    page.table(head, [_monitor_row(m) for m in report.monitors])
    if report.or_pairs:
        page.h2("OR pairs (flag if either flags; threshold pair searched at a joint FPR)")
        pair_head = ["a", "b", "t_a", "t_b", "TPR", "achieved FPR", "a alone", "b alone"]
        page.table(pair_head, [_pair_row(p) for p in report.or_pairs])
    page.h2("ROC curves").figure(roc_png, embed=True)
    page.h2(f"Catch rate by backdoor type (at the {fpr}-FPR threshold)").figure(catch_png, embed=True)
    types = sorted({t for m in report.monitors for t in m.catch_by_type})
    rows = []
    for t in types:
        row = [t]
        for m in report.monitors:
            c = m.catch_by_type.get(t)
            row.append(f"{c.k}/{c.n} ({c.rate:.2f})" if c is not None and c.defined else "–")
        rows.append(row)
    page.table(["backdoor type", *(m.monitor for m in report.monitors)], rows)
    if report.notes:
        page.h2("Notes").bullets(report.notes)
    return page


def write_report(report: MonitorReport, out_dir: str | Path) -> ReportFiles:
    """Write ``report.json``, ``roc.png``, ``catch_by_type.png`` and a self-contained ``report.html``
    (plots embedded) into ``out_dir``."""
    out = Path(out_dir)
    files = ReportFiles(
        json_path=out / "report.json",
        html_path=out / "report.html",
        roc_png=out / "roc.png",
        catch_png=out / "catch_by_type.png",
    )
    write_json(files.json_path, report, indent=2)
    plot_roc(report, files.roc_png)
    plot_catch(report, files.catch_png)
    report_page(report, files.roc_png, files.catch_png).write(files.html_path)
    return files


def summary_lines(report: MonitorReport) -> list[str]:
    """One line per monitor (AUROC with its CI, TPR at the target FPR, sample counts) and per OR pair."""
    lines = [
        f"{m.monitor:28s} AUROC {m.auroc.value:.3f} [{m.auroc.ci_low:.3f}, {m.auroc.ci_high:.3f}]  "
        f"TPR@{report.target_fpr:.0%}FPR {m.tpr_at_fpr.value:.3f} (achieved FPR {m.achieved_fpr:.3f})  "
        f"n={m.n_honest}+{m.n_attack}"
        for m in report.monitors
    ]
    lines += [
        f"OR({p.monitor_a}, {p.monitor_b}): TPR {p.tpr.value:.3f} at FPR {p.pair.achieved_fpr:.3f}"
        for p in report.or_pairs
    ]
    return lines
