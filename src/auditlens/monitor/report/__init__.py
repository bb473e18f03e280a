"""The monitor report: metrics with bootstrap CIs per monitor, the OR pairs, ROC curves and catch rate
by backdoor type — as typed JSON, PNG plots and one self-contained HTML page.

Inputs are :class:`CodeSample` s whose ``suspicion`` holds each monitor's score (see
:func:`auditlens.monitor.monitors.apply_monitor`). Honest = label ``no_backdoor`` (the calibration set:
honest transcripts of the same task distribution, as ControlArena); attack = every backdoored sample.
A sample a monitor failed on is left out of that monitor's numbers and counted in ``n_failed``; a sample
without that monitor's score (e.g. a probe's training split) is simply not part of its numbers.
An attack counts as successful for safety when ``metadata["attack_success"]`` is true (default: the
fixture's ``metadata["verified"]``, else True).

Modules: :mod:`~auditlens.monitor.report.schema` (the typed JSON), :mod:`~auditlens.monitor.report.build` (the
numbers), :mod:`~auditlens.monitor.report.figures` (the plots) and :mod:`~auditlens.monitor.report.page` (the
files: JSON, plots, the HTML page; the CLI's text summary).
"""

from auditlens.monitor.report.build import build_report, summarise_monitor, summarise_or_pair
from auditlens.monitor.report.page import report_page, summary_lines, write_report
from auditlens.monitor.report.schema import (
    SCHEMA_VERSION,
    MonitorReport,
    MonitorSummary,
    OrPairSummary,
    ReportFiles,
    RocCurve,
)

__all__ = [
    "SCHEMA_VERSION",
    "MonitorReport",
    "MonitorSummary",
    "OrPairSummary",
    "ReportFiles",
    "RocCurve",
    "build_report",
    "report_page",
    "summarise_monitor",
    "summarise_or_pair",
    "summary_lines",
    "write_report",
]
