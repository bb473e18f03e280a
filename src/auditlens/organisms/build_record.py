"""The record of an organism build folder: what the build pins, claimed through :meth:`RunFolder.claim`.

A build folder is the run of one objective spec (its SHA-256) under one :class:`BuildConfig` (without the device,
so a build may resume on another machine): that pair is its identity. ``run.json`` records it (the config field
holds the pin: ``spec_id``, ``spec_sha256`` and ``config``). A folder holding another build is refused, with the
settings that differ.

Folders made before ``run.json`` pinned the same in ``build.json``: :func:`legacy_record` rebuilds their record
from it, reading the old config as this version does (:func:`~auditlens.organisms.build_config
.normalise_pinned_config`: a field added since counts as its default), so they resume. Their stage markers carry
the whole-config digest of that ``build.json`` (:func:`legacy_marker_digests`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditlens.errors import DataError, RunFolderError
from auditlens.organisms.build_config import BuildConfig, normalise_pinned_config
from auditlens.organisms.errors import BuildError
from auditlens.organisms.spec import ObjectiveSpec
from auditlens.runs import RunFolder, RunRecord, fingerprint, read_json

__all__ = [
    "KIND",
    "LEGACY_PIN",
    "build_identity",
    "build_pin",
    "claim_build",
    "legacy_marker_digests",
    "legacy_record",
    "read_legacy_pin",
    "read_pin",
    "recorded_config",
]

KIND = "organism-build"
LABEL = "organism build"
LEGACY_PIN = "build.json"
"""Where folders made before ``run.json`` pinned their config and spec."""

_HINT = (
    "a build with a different config or objective spec goes into a new --out folder "
    "(or delete this one to start over)"
)


def build_pin(cfg: BuildConfig, spec: ObjectiveSpec, spec_sha: str) -> dict[str, Any]:
    """What a build folder records: the objective's id and hash, and the config without the device."""
    return {"spec_id": spec.id, "spec_sha256": spec_sha, "config": cfg.pinned()}


def build_identity(pin: dict[str, Any]) -> dict[str, Any]:
    """What the folder's fingerprint hashes: the pinned config and the spec's hash."""
    return {"config": pin.get("config", {}), "spec_sha256": pin.get("spec_sha256")}


def read_legacy_pin(folder: str | Path) -> dict[str, Any] | None:
    """``build.json`` of a folder made before ``run.json``, as written (None when there is none)."""
    p = Path(folder) / LEGACY_PIN
    if not p.is_file():
        return None
    old = read_json(p, what="organism build pin")
    if not isinstance(old, dict):
        raise DataError(f"{p} is not an organism build pin (not a JSON object)", hint="delete the folder")
    return old


def legacy_record(folder: Path) -> RunRecord | None:
    """The record of a folder made before ``run.json``, rebuilt from its ``build.json`` (None without one)."""
    old = read_legacy_pin(folder)
    if old is None:
        return None
    pin = {
        "spec_id": old.get("spec_id"),
        "spec_sha256": old.get("spec_sha256"),
        "config": normalise_pinned_config(old.get("config", {})),
    }
    return RunRecord(
        kind=KIND, fingerprint=fingerprint(build_identity(pin)), config=pin, legacy_source=LEGACY_PIN
    )


def read_pin(folder: str | Path) -> dict[str, Any] | None:
    """The pin of a build folder (``run.json``, or an older folder's ``build.json``); None if it is not one."""
    rec = RunFolder.read_record(folder)
    if rec is None:
        rec = legacy_record(Path(folder))
    return rec.config if rec is not None and rec.kind == KIND else None


def recorded_config(folder: str | Path) -> dict[str, Any] | None:
    """The build config a folder was made with, as recorded: an older folder's ``build.json`` config as written
    (fields it lacks are absent, not filled in), else the config of ``run.json``; None if it is not a build."""
    old = read_legacy_pin(folder)
    if old is not None:
        return dict(old.get("config", {}))
    pin = read_pin(folder)
    return None if pin is None else dict(pin.get("config", {}))


def legacy_marker_digests(folder: str | Path) -> set[str]:
    """Config digests the stage markers of an older folder carry (its ``build.json``'s whole-config digest)."""
    old = read_legacy_pin(folder)
    digest = old.get("config_digest") if old else None
    return {digest} if isinstance(digest, str) and digest else set()


def claim_build(out: Path, cfg: BuildConfig, spec: ObjectiveSpec, spec_sha: str) -> RunFolder:
    """Claim ``out`` for the build of ``spec`` under ``cfg``: a new folder records it, the same build resumes, a
    folder holding anything else is refused (:class:`BuildError`)."""
    pin = build_pin(cfg, spec, spec_sha)
    try:
        return RunFolder.claim(
            out, KIND, pin, identity=build_identity(pin), legacy=legacy_record, hint=_HINT, label=LABEL
        )
    except BuildError:
        raise
    except RunFolderError as err:
        raise BuildError(err.message, hint=err.hint) from None
