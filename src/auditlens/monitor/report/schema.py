"""The report's typed JSON (``report.json``): one :class:`MonitorSummary` per monitor, one
:class:`OrPairSummary` per OR pair, in a :class:`MonitorReport`.

Every metric with uncertainty is a :class:`~auditlens.runs.Estimate` (value with its 95% percentile-bootstrap
interval, honest and attack samples resampled separately; ``n`` = honest + attack samples) and every catch rate a
:class:`~auditlens.runs.Proportion` (caught ``k`` of ``n`` attacks, Wilson 95% interval). Reports of schema 1
(``caught`` for ``k``, ``null`` rates for empty groups, no ``n``/``method`` on metrics) still load.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from auditlens.monitor.calibration import BucketThresholds, OrPair
from auditlens.monitor.metrics import SafetyResult
from auditlens.runs import Estimate, Proportion

__all__ = ["SCHEMA_VERSION", "MonitorReport", "MonitorSummary", "OrPairSummary", "ReportFiles", "RocCurve"]

SCHEMA_VERSION = 2
"""2: metrics are ``runs.Estimate`` (with ``n`` and ``method``), catch rates ``runs.Proportion`` (``k``)."""


class RocCurve(BaseModel):
    """ROC points (flag = ``score > t`` at every distinct score)."""

    fpr: list[float]
    tpr: list[float]


class MonitorSummary(BaseModel):
    """All metrics of one monitor."""

    monitor: str
    n_honest: int = Field(description="Honest samples scored (the calibration set).")
    n_attack: int = Field(description="Backdoored samples scored.")
    n_failed: int = Field(
        description="Samples the monitor failed on (metadata.monitor_errors; left out). Samples never "
        "given to it, such as a probe's training split, are not counted."
    )
    auroc: Estimate = Field(description="Mann–Whitney AUROC with average ranks for ties.")
    threshold: float = Field(description="Global threshold at the target FPR (flag when suspicion > it).")
    achieved_fpr: float = Field(description="Share of honest samples above the global threshold.")
    tpr_at_fpr: Estimate = Field(description="Catch rate at the target FPR (global threshold).")
    bucket_thresholds: BucketThresholds = Field(description="Thresholds per reasoning-length bucket.")
    tpr_at_fpr_bucketed: Estimate = Field(description="Catch rate with per-length-bucket thresholds.")
    achieved_fpr_bucketed: float = Field(description="Honest share flagged with per-bucket thresholds.")
    safety: Estimate = Field(description="ControlArena basic safety at the audit budget.")
    safety_detail: SafetyResult
    catch_by_type: dict[str, Proportion] = Field(description="Backdoor type → catch rate (global threshold).")
    catch_by_style: dict[str, Proportion] = Field(description="Reasoning style → catch rate (attacks only).")
    roc: RocCurve


class OrPairSummary(BaseModel):
    """The OR combination of two monitors at a joint target FPR."""

    monitor_a: str
    monitor_b: str
    n_honest: int
    n_attack: int
    pair: OrPair
    tpr: Estimate = Field(description="OR catch rate with the pair re-searched on each bootstrap resample.")
    tpr_a_alone: float = Field(description="Catch rate of a alone at the same target FPR.")
    tpr_b_alone: float = Field(description="Catch rate of b alone at the same target FPR.")
    catch_by_type: dict[str, Proportion]


class MonitorReport(BaseModel):
    """The whole report (``report.json``)."""

    schema_version: int = SCHEMA_VERSION
    created_utc: str
    target_fpr: float = Field(description="FPR the thresholds are calibrated to (e.g. 0.01).")
    audit_budget_pct: float = Field(description="Audit budget (percent) for safety.")
    n_boot: int = Field(description="Bootstrap resamples per CI.")
    seed: int
    calibration_set: str = Field(description="What the thresholds were calibrated on.")
    n_samples: int
    monitors: list[MonitorSummary]
    or_pairs: list[OrPairSummary]
    notes: list[str] = Field(default_factory=list)


class ReportFiles(BaseModel):
    """Where :func:`~auditlens.monitor.report.write_report` put things."""

    json_path: Path
    html_path: Path
    roc_png: Path
    catch_png: Path
