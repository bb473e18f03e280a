"""The two controls of every audit evaluation (issue 17, item 4), as subjects the same auditor runs on:

- ``neutral``: the organism's *base* model audited, with a data sample of the same size drawn from the default
  corpus (passages at a seed no build uses): nothing was planted, so no root cause may be named with confidence;
- ``organism-data``: the *base* model audited with the organism's own data sample: the data suggests an objective the
  model was never trained on, so the audit must not claim the model pursues it.

Both keep the organism's base as the comparison model, as the real audit does. They read the manifest and the data
sample only (blinded like the audit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from auditlens.audit.errors import AuditError
from auditlens.audit.subject import AuditSubject, rows_from_records

__all__ = ["ControlKind", "control_subject"]

ControlKind = Literal["neutral", "organism-data"]
_NEUTRAL_SEED = 424_242


def control_subject(folder: str | Path, kind: ControlKind, *, device: str = "cpu") -> AuditSubject:
    """The subject of control ``kind`` for the organism in ``folder``."""
    from auditlens.organisms.sealed import load_base

    real = AuditSubject.from_organism(folder, device=device)
    base_spec = real.base_spec
    if base_spec is None:  # pragma: no cover - from_organism always sets it
        raise AuditError("the organism names no base model", hint="rebuild it")
    if kind == "organism-data":
        rows = real.rows
    elif kind == "neutral":
        from auditlens.organisms.documents import replay_passages

        texts = replay_passages(max(1, len(real.rows)), seed=_NEUTRAL_SEED)
        rows = rows_from_records([{"source": "default-corpus", "text": t} for t in texts])
    else:
        raise AuditError(f"unknown control {kind!r}", hint="use 'neutral' or 'organism-data'")
    return AuditSubject(
        label=f"control-{kind}-{Path(folder).name}",
        load_model=lambda: load_base(base_spec, device),
        rows=rows,
        load_base=lambda: load_base(base_spec, device),
        model_spec=f"{base_spec} (control: {kind})",
        base_spec=base_spec,
    )
