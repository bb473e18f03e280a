"""A run folder: what one job wrote, with the settings it ran under, claimed before anything is written.

Every orchestrator (harvest, train, the pipeline, the toy grid and sweeps, interpretation runs, organism builds,
monitor evaluations, audits) keeps its output in a folder it claims with :meth:`RunFolder.claim`:

- ``run.json`` (:class:`RunRecord`) records the kind of job, the fingerprint of the settings that determine its
  results (:func:`~auditlens.runs.fingerprint.fingerprint` of ``identity``), the config as run, the auditlens version
  and timestamps. It is the one name for the recorded config.
- Claiming a new or empty folder records the run. Claiming a folder holding the *same* run (kind and fingerprint)
  resumes it: the job then skips what it finished. A folder holding *another* run is refused with a message naming
  the settings that differ (``on_other="refuse"``), moved aside to ``<folder>-<its fingerprint>`` (``"park"``: a
  later claim of the parked settings moves it back, so flipping between two configs never retrains either), or
  deleted (``"replace"``, what ``--overwrite`` asks for). A folder holding files but no run is never touched.
- Folders written before ``run.json`` existed are read through a ``legacy`` reader that rebuilds their record from
  the file they used (``grid_config.json``, ``build.json``, …); a matching one is resumed and gets its ``run.json``.
- Temporary files a killed writer left (:func:`~auditlens.runs.io.remove_stale_temporaries`) are cleared on claim.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from auditlens.errors import RunFolderError
from auditlens.runs.fingerprint import fingerprint
from auditlens.runs.io import read_json, remove_stale_temporaries, write_json

__all__ = ["RUN_FILE", "OnOther", "RunFolder", "RunRecord", "config_diff", "now"]

RUN_FILE = "run.json"
OnOther = Literal["refuse", "park", "replace"]


def now() -> str:
    """UTC time, ISO 8601 to the second (what every record stores)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunRecord(BaseModel):
    """Contents of ``run.json``."""

    kind: str = Field(
        description="The job that made the folder, e.g. 'harvest', 'toy-grid', 'organism-build'."
    )
    fingerprint: str = Field(description="Hash of the settings that determine the results (resume key).")
    config: dict[str, Any] = Field(default_factory=dict, description="The config as run (JSON).")
    status: Literal["in_progress", "complete"] = Field(
        default="in_progress", description="'complete' once the job finished; resumed jobs set it again."
    )
    created_at: str = Field(default_factory=now, description="When the folder was first claimed (UTC).")
    updated_at: str = Field(default_factory=now, description="Last time the record was written (UTC).")
    auditlens_version: str = Field(default="", description="Version that last wrote the record.")
    legacy_source: str | None = Field(
        default=None,
        description="The older file this record was rebuilt from (None for folders made with it).",
    )


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def config_diff(old: dict[str, Any], new: dict[str, Any], limit: int = 6) -> str:
    """The settings that differ between two configs, as ``key: old → new`` (dotted keys), at most ``limit``."""
    a, b = _flatten(old), _flatten(new)
    keys = [k for k in sorted(set(a) | set(b)) if a.get(k, "<absent>") != b.get(k, "<absent>")]
    parts = [f"{k}: {a.get(k, '<absent>')!r:.40} → {b.get(k, '<absent>')!r:.40}" for k in keys[:limit]]
    if len(keys) > limit:
        parts.append(f"… {len(keys) - limit} more")
    return "; ".join(parts) or "no config field differs (the fingerprint's recipe does)"


def _a(label: str) -> str:
    return f"{'an' if label[:1].lower() in 'aeiou' else 'a'} {label}"


def _has_content(path: Path) -> bool:
    return path.is_dir() and any(not p.name.startswith(".") for p in path.iterdir())


def _free_name(path: Path, fp: str) -> Path:
    target = path.with_name(f"{path.name}-{fp}")
    n = 2
    while target.exists():
        target = path.with_name(f"{path.name}-{fp}-{n}")
        n += 1
    return target


class RunFolder:
    """A claimed run folder (see the module docstring). ``resumed`` says whether the run was already there."""

    def __init__(self, path: Path, record: RunRecord, resumed: bool, restored_from: Path | None = None):
        self.path = path
        self.record = record
        self.resumed = resumed
        #: where a parked run of these settings was moved back from (``on_other="park"``), else None
        self.restored_from = restored_from

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r}, kind={self.record.kind!r}, fingerprint={self.record.fingerprint!r})"

    @property
    def fingerprint(self) -> str:
        return self.record.fingerprint

    @staticmethod
    def read_record(path: str | Path) -> RunRecord | None:
        """The ``run.json`` of a folder, or None when it has none."""
        f = Path(path) / RUN_FILE
        return read_json(f, RunRecord, what="run record") if f.is_file() else None

    @classmethod
    def claim(
        cls,
        path: str | Path,
        kind: str,
        config: BaseModel | dict[str, Any],
        *,
        identity: Any = None,
        on_other: OnOther = "refuse",
        legacy: Callable[[Path], RunRecord | None] | None = None,
        hint: str | None = None,
        label: str | None = None,
    ) -> RunFolder:
        """Claim ``path`` for a run of ``kind`` whose results depend on ``identity`` (default: ``config``).

        ``legacy(path)`` may rebuild the record of a folder made before ``run.json`` (None when it is not one).
        ``hint`` is added to the refusal (e.g. which settings may change without a new folder); ``label`` names
        the run in messages (default: '<kind> run', e.g. 'activation store').
        """
        from auditlens import __version__

        path = Path(path)
        label = label or f"{kind} run"
        cfg = config.model_dump(mode="json") if isinstance(config, BaseModel) else dict(config)
        fp = fingerprint(cfg if identity is None else identity)
        if path.exists() and not path.is_dir():
            raise RunFolderError(f"output path {path} is a file", hint="choose a folder path")
        existing = cls.read_record(path)
        if existing is None and legacy is not None and path.is_dir():
            existing = legacy(path)
        restored: Path | None = None
        if existing is not None and existing.kind != kind:
            raise RunFolderError(
                f"{path} holds a {existing.kind!r} run, not a {kind!r} one",
                hint="choose another output folder",
            )
        if existing is not None and existing.fingerprint != fp:
            if on_other == "refuse":
                raise RunFolderError(
                    f"{path} holds a different {label}, made with other settings (fingerprint {existing.fingerprint}, "
                    f"now {fp}: {config_diff(existing.config, cfg)})",
                    hint=hint or "choose another output folder, or delete this one to start again",
                )
            if on_other == "park":
                parked = _free_name(path, existing.fingerprint)
                path.rename(parked)
                back = path.with_name(f"{path.name}-{fp}")
                rec = cls.read_record(back) if back.is_dir() else None
                if rec is None and back.is_dir() and legacy is not None:
                    rec = legacy(back)
                if rec is not None and rec.kind == kind and rec.fingerprint == fp:
                    back.rename(path)
                    restored = back
                    existing = rec
                else:
                    existing = None
            else:  # replace
                shutil.rmtree(path)
                existing = None
        if existing is None and _has_content(path):
            raise RunFolderError(
                f"{path} is not empty and holds no {label}", hint="choose an empty or new output folder"
            )
        path.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        if existing is not None:
            # the same results, maybe reached with other machine settings or a larger budget: record the latest config
            record = existing.model_copy(update={"config": cfg, "auditlens_version": __version__})
            folder = cls(path, record, resumed=True, restored_from=restored)
        else:
            record = RunRecord(kind=kind, fingerprint=fp, config=cfg, auditlens_version=__version__)
            folder = cls(path, record, resumed=False)
        folder.save()
        return folder

    @classmethod
    def replace(
        cls,
        path: str | Path,
        kind: str,
        *,
        legacy: Callable[[Path], RunRecord | None] | None = None,
        label: str | None = None,
    ) -> None:
        """Delete ``path`` if it holds a run of ``kind`` (or is empty); refuse any other folder (``--overwrite``)."""
        path = Path(path)
        label = label or f"{kind} run"
        if not path.exists():
            return
        if not path.is_dir():
            raise RunFolderError(f"output path {path} is a file", hint="choose a folder path")
        rec = cls.read_record(path)
        if rec is None and legacy is not None:
            rec = legacy(path)
        if rec is None and _has_content(path):
            raise RunFolderError(
                f"refusing to overwrite {path}: it is not {_a(label)}",
                hint="choose an empty or new output folder",
            )
        if rec is not None and rec.kind != kind:
            raise RunFolderError(
                f"refusing to overwrite {path}: it holds a {rec.kind!r} run, not a {kind!r} one",
                hint="choose another output folder",
            )
        shutil.rmtree(path)

    def save(self) -> None:
        """Write ``run.json`` (atomically)."""
        self.record.updated_at = now()
        write_json(self.path / RUN_FILE, self.record)

    def mark(self, status: Literal["in_progress", "complete"]) -> None:
        self.record.status = status
        self.save()

    def file(self, *parts: str) -> Path:
        """A path inside the folder (parents created)."""
        p = self.path.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p
