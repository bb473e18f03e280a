"""``auditlens audit run``: one audit in a resumable run folder.

The folder holds ``run.json`` (kind ``audit``; the identity is the subject, the settings, the auditor and the plan
version), ``steps/`` (one TechniqueResult per step, written when the step finishes: a re-run reloads them),
``cache/`` (files techniques keep, e.g. the audit's dictionary and embeddings), ``audit.json`` and ``audit.html``.
A folder made for another subject or other settings is refused, naming what differs.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from auditlens.audit.auditor import Auditor, FixedPlanAuditor
from auditlens.audit.report_schema import AuditReport
from auditlens.audit.settings import AuditSettings
from auditlens.audit.steps import StepStore
from auditlens.audit.subject import AuditSubject
from auditlens.audit.techniques import AuditContext
from auditlens.runs import RunFolder, write_json

__all__ = ["PLAN_VERSION", "run_audit"]

PLAN_VERSION = 4
"""Bumped when the plan changes what an audit concludes from the same steps (2: feature, steering and fuzzing
techniques joined the plan; 3: internals credit only for features that differ from the comparison model, only ablation counts among interventions, steering reuses the plan's feature results; 4: steering amplifies at one scale)."""

log = logging.getLogger(__name__)


def run_audit(
    subject: AuditSubject,
    out: str | Path,
    *,
    settings: AuditSettings | None = None,
    auditor: Auditor | None = None,
    dictionary: Path | None = None,
    html: bool = True,
) -> AuditReport:
    """Audit ``subject`` into ``out`` (claimed, resumable) and write ``audit.json`` (and ``audit.html``)."""
    settings = settings or AuditSettings()
    auditor = auditor or FixedPlanAuditor()
    out = Path(out)
    identity = {
        "subject": subject.identity(),
        "settings": settings.model_dump(mode="json"),
        "auditor": auditor.identity,
        "dictionary": str(dictionary) if dictionary else None,
        "plan": PLAN_VERSION,
    }
    RunFolder.claim(out, "audit", identity, label="audit")
    (out / "cache").mkdir(parents=True, exist_ok=True)
    ctx = AuditContext(subject=subject, settings=settings, dictionary=dictionary, work=out / "cache")
    t0 = time.perf_counter()
    report = auditor.audit(ctx, StepStore(out))
    report.wall_s = time.perf_counter() - t0
    write_json(out / "audit.json", report.model_dump(mode="json"))
    if html:
        from auditlens.audit.report_html import write_audit_html

        write_audit_html(out)
    return report
