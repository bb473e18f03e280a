"""The main job (``auditlens run``, the README's first command): audit the bundled organism end to end.

Find the installed bundled organism (:mod:`auditlens.organisms.bundled`), audit it with the fixed plan into a
resumable folder (the plan trains the audited model's dictionary there, or reuses it on a re-run), then unseal its
objective and score the audit (``score.json`` beside ``audit.json``). Interrupt it and run it again: finished
steps are reloaded, not redone.
"""

from __future__ import annotations

from pathlib import Path

from auditlens.audit.report_schema import AuditReport
from auditlens.audit.run import run_audit
from auditlens.audit.score import AuditScore, score_audit
from auditlens.audit.settings import AuditSettings
from auditlens.audit.subject import AuditSubject
from auditlens.organisms.bundled import DEFAULT_BUNDLED, bundled_organism

__all__ = ["audit_bundled"]


def audit_bundled(
    out: str | Path,
    name: str = DEFAULT_BUNDLED,
    *,
    settings: AuditSettings | None = None,
    device: str = "cpu",
    dictionary: Path | None = None,
) -> tuple[AuditReport, AuditScore]:
    """Audit the bundled organism ``name`` into ``out`` and score the audit against its sealed objective."""
    folder = bundled_organism(name)
    report = run_audit(
        AuditSubject.from_organism(folder, device=device), out, settings=settings, dictionary=dictionary
    )
    return report, score_audit(out, folder)
