"""Reading interpret folders written before ``run.json``: their record is rebuilt from what their files say.

Those folders never recorded a fingerprint, and their files hold only some of the settings a run's identity has
(a summary names the source, the store's path, the explainer …, but not every protocol setting). So a legacy
folder is *adopted* — given the fingerprint of the run that claims it, and resumed — when every setting its files
do show agrees with that run; otherwise its record gets the fingerprint of what it shows, and the claim refuses
it naming the settings that differ. (A candidate for :mod:`auditlens.runs.folder`: other areas rebuild records
the same way.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from auditlens.activations import ActivationStore
from auditlens.runs import RunRecord, fingerprint

__all__ = ["legacy_record", "same_path", "same_store"]


def same_path(recorded: Any, path: str | Path) -> bool:
    """Whether a recorded path names ``path`` (as written, or once both are resolved)."""
    if not isinstance(recorded, str):
        return False
    return recorded == str(path) or Path(recorded).resolve() == Path(path).resolve()


def same_store(store: ActivationStore) -> Callable[[Any], bool]:
    return lambda recorded: same_path(recorded, store.path)


def legacy_record(
    kind: str,
    shown: Mapping[str, Any],
    source_file: str,
    *,
    expected: Mapping[str, Any],
    fp: str,
    checks: Mapping[str, Callable[[Any], bool]] | None = None,
) -> RunRecord:
    """The record of a legacy folder whose files show the settings ``shown``: fingerprint ``fp`` (the claiming
    run's) when each agrees with ``expected`` (or passes its ``checks`` entry), else the fingerprint of ``shown``."""
    checks = checks or {}

    def agrees(key: str, value: Any) -> bool:
        check = checks.get(key)
        return check(value) if check is not None else value == expected.get(key)

    adopt = all(agrees(k, v) for k, v in shown.items())
    return RunRecord(
        kind=kind,
        fingerprint=fp if adopt else fingerprint(dict(shown)),
        config=dict(shown),
        legacy_source=source_file,
    )
