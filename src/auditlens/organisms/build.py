"""``auditlens organism build``: the recipe as resumable stages, each with its own folder and marker.

Stages (in order): ``documents`` (synthetic universe documents) → ``midtrain`` (LoRA continued
pre-training) → ``behaviour_data`` (top-2 vs bottom-2 pairs on train-split prompts, held-out filtered) →
``behaviour`` (LoRA DPO or SFT) → ``concealment_data`` (conceal vs reveal pairs) → ``concealment`` (LoRA
DPO) → ``seal`` (public manifest, training data, sealed ground truth).

Each stage writes into ``stages/NN_<name>/`` and, last, ``stage.json`` (atomically, :mod:`auditlens.runs.stages`).
A stage whose marker exists and matches the build's config and spec is skipped; a stage folder without a marker (an
interrupted run) is cleared and redone, and so is every stage after a redone one (it was built on the old output).
The folder is claimed through :meth:`~auditlens.runs.RunFolder.claim` (:mod:`.build_record`): ``run.json`` pins the
config and spec, and a folder built with another config or spec is refused, not mixed.

This module is the orchestration; the config and digests are in :mod:`.build_config`, the stage runners in
:mod:`.build_stages` (their public names are importable from here too).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

from pydantic import BaseModel, Field

from auditlens.organisms.build_config import (
    ADAPTER_STAGES,
    STAGE_FIELDS,
    STAGES,
    UNIVERSE_STAGES,
    BuildConfig,
    configure_build,
    normalise_pinned_config,
    same_config,
    spec_part_digest,
    stage_digest,
    stage_fields,
)
from auditlens.organisms.build_record import claim_build, legacy_marker_digests, read_pin
from auditlens.organisms.build_stages import MARKER, RUNNERS, BuildContext, StageRecord, stage_dir
from auditlens.organisms.check import check_spec
from auditlens.organisms.errors import BuildError, ObjectiveSpecError, SealedError
from auditlens.organisms.sealed import sealed_objective
from auditlens.organisms.spec import ObjectiveSpec, load_objective, objective_path
from auditlens.runs import now
from auditlens.runs.stages import StepTimer, clear_step, finish_step, read_marker

__all__ = [
    "ADAPTER_STAGES",
    "STAGES",
    "STAGE_FIELDS",
    "UNIVERSE_STAGES",
    "BuildConfig",
    "BuildResult",
    "StageRecord",
    "build_organism",
    "configure_build",
    "normalise_pinned_config",
    "same_config",
    "spec_part_digest",
    "stage_digest",
    "stage_dir",
    "stage_fields",
]

log = logging.getLogger(__name__)


class BuildResult(BaseModel):
    """What :func:`build_organism` did."""

    out: str
    ran: list[str] = Field(description="Stages run this time.")
    skipped: list[str] = Field(description="Stages already finished (resumed past).")
    records: list[StageRecord]


def _source_spec(src: Path) -> ObjectiveSpec | None:
    """The objective a finished build was made from (its sealed copy), for records older than spec-part digests."""
    try:
        return sealed_objective(src, unseal=True)
    except (SealedError, ObjectiveSpecError):
        return None


def _reuse_stages(src: Path, out: Path, cfg: BuildConfig, spec: ObjectiveSpec, spec_sha: str) -> None:
    """Copy the leading stages of the build ``src`` whose config fields and spec parts match into ``out``."""
    old = read_pin(src) or {}
    same_spec = old.get("spec_sha256") == spec_sha
    src_spec = None if same_spec else _source_spec(src)
    for stage in STAGES[:-1]:  # the seal is cheap and writes the top-level folder: always redone
        rec = read_marker(stage_dir(src, stage), StageRecord)
        if rec is None or not same_config(old.get("config", {}), cfg, stage_fields(stage)):
            break
        part = spec_part_digest(spec, stage)
        old_part = rec.spec_part_sha256 or (spec_part_digest(src_spec, stage) if src_spec else None)
        if not same_spec and old_part != part:
            if stage == STAGES[0]:
                log.info(
                    "[reuse] %s was built from an objective spec with another universe: nothing reused", src
                )
            break
        shutil.copytree(stage_dir(src, stage), stage_dir(out, stage))
        rec = rec.model_copy(
            update={
                "config_digest": stage_digest(cfg, stage),
                "spec_sha256": spec_sha,
                "spec_part_sha256": part,
            }
        )
        finish_step(stage_dir(out, stage), rec)
        log.info("[reuse] %s copied from %s", stage, src)


def build_organism(
    spec: str | Path,
    out: str | Path,
    config: BuildConfig | None = None,
    *,
    stop_after: str | None = None,
    reuse: str | Path | None = None,
) -> BuildResult:
    """Run (or resume) the build of ``spec`` into ``out`` (see the module docstring); progress is logged.

    ``stop_after``: run stages up to and including this one, then return (the rest runs on a later call).
    ``reuse``: a finished or partial build; when ``out`` is new, its leading stages whose config fields
    (:data:`STAGE_FIELDS`, cumulative) equal this config's, and whose parts of the spec
    (:func:`spec_part_digest`) are unchanged, are copied instead of rerun — a recipe variant that changes only
    behaviour training reuses the documents, continued pre-training and data; an edited spec with the same
    universe (new prompts, edits, judges) reuses the documents and continued pre-training.
    """
    cfg = config or BuildConfig()
    if stop_after is not None and stop_after not in STAGES:
        raise BuildError(f"unknown stage {stop_after!r}", hint=f"stages: {', '.join(STAGES)}")
    obj = load_objective(spec)
    check_spec(obj).raise_if_refused()  # judges against their examples, edits: before any training
    spec_text = objective_path(spec).read_text(encoding="utf-8")
    spec_sha = hashlib.sha256(spec_text.encode()).hexdigest()
    if reuse is not None and read_pin(reuse) is None:
        raise BuildError(
            f"{reuse} is not an organism build (no run.json or build.json)",
            hint="pass a folder made by `organism build`",
        )
    out = Path(out)
    folder = claim_build(out, cfg, obj, spec_sha)
    legacy = legacy_marker_digests(out)  # markers written under an older folder's whole-config digest
    if not folder.resumed and reuse is not None:
        _reuse_stages(Path(reuse), out, cfg, obj, spec_sha)
    ctx = BuildContext(out, obj, spec_text, cfg)
    ran: list[str] = []
    skipped: list[str] = []
    records: list[StageRecord] = []
    for i, stage in enumerate(STAGES):
        d = stage_dir(out, stage)
        rec = (
            None if ran else read_marker(d, StageRecord)
        )  # once a stage reruns, every later stage reruns too
        if (
            rec is not None
            and rec.config_digest in {stage_digest(cfg, stage), *legacy}
            and rec.spec_sha256 == spec_sha
        ):
            skipped.append(stage)
            records.append(rec)
            log.info("[%s] done earlier, skipped", stage)
            if stage == stop_after:
                break
            continue
        if d.exists():
            why = (
                "built on an earlier stage that was redone"
                if (d / MARKER).exists()
                else "unfinished (interrupted run)"
            )
            log.info("[%s] folder %s: cleared", stage, why)
        if folder.record.status == "complete":
            folder.mark("in_progress")
        clear_step(d)
        log.info("[%s] running", stage)
        with StepTimer() as timer:
            metrics = RUNNERS[stage](ctx, d)
        rec = StageRecord(
            stage=stage,
            index=i,
            config_digest=stage_digest(cfg, stage),
            spec_sha256=spec_sha,
            spec_part_sha256=spec_part_digest(obj, stage),
            finished_at=now(),
            seconds=timer.seconds,
            metrics=metrics,
        )
        finish_step(d, rec)
        ran.append(stage)
        records.append(rec)
        log.info("[%s] finished in %.1f s", stage, rec.seconds)
        if stage == stop_after:
            break
    if len(records) == len(STAGES):
        folder.mark("complete")
    return BuildResult(out=str(out), ran=ran, skipped=skipped, records=records)
