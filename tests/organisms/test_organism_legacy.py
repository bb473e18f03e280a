"""Build folders made before run.json (their config and spec pinned in build.json, stage markers under the
whole-config digest) resume: a config pinned by an older version is read with the fields added since at their
defaults, as before; the committed organism folders under docs/results still claim and resume."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import pytest

from auditlens.errors import ConfigError
from auditlens.organisms import BuildError, load_objective
from auditlens.organisms.build import STAGES, BuildConfig, build_organism, configure_build, same_config
from auditlens.organisms.build_config import normalise_pinned_config, stage_digest, stage_fields
from auditlens.organisms.build_record import build_identity, build_pin, claim_build, legacy_record
from auditlens.organisms.spec import objective_path
from auditlens.organisms.training import LoraSettings
from auditlens.runs import RunFolder, fingerprint

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"
ADDED_LATER = ("behaviour_finetune", "sample_temperature", "replay_source")
"""Fields of BuildConfig that older build.json files lack (the tiny config has them at their defaults)."""


def _spec_sha(name: str) -> str:
    return hashlib.sha256(objective_path(name).read_text(encoding="utf-8").encode()).hexdigest()


def _as_old_version(out: Path, cfg: BuildConfig, drop: tuple[str, ...]) -> str:
    """Make ``out`` what a version before run.json left: build.json pinning the config without the fields in
    ``drop`` (alpha written as an int, as a hand-made pin may) and the spec; markers under the whole-config digest."""
    pin = RunFolder.read_record(out).config  # type: ignore[union-attr]
    (out / "run.json").unlink()
    old = {k: v for k, v in cfg.model_dump(exclude={"device"}).items() if k not in drop}
    old["lora"]["alpha"] = int(old["lora"]["alpha"])
    digest = hashlib.sha256(json.dumps(old).encode()).hexdigest()[:16]
    build = {
        "config_digest": digest,
        "spec_sha256": pin["spec_sha256"],
        "spec_id": pin["spec_id"],
        "config": old,
    }
    (out / "build.json").write_text(json.dumps(build, indent=1))
    for m in out.glob("stages/*/stage.json"):
        rec = json.loads(m.read_text())
        rec["config_digest"] = digest
        rec.pop("spec_part_sha256", None)
        m.write_text(json.dumps(rec, indent=1))
    return digest


def test_an_old_format_build_folder_resumes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = BuildConfig.tiny()
    out = tmp_path / "old"
    assert build_organism("secret_product", out, cfg, stop_after="documents").ran == ["documents"]
    _as_old_version(out, cfg, ADDED_LATER)
    other = tmp_path / "old_dpo"
    shutil.copytree(out, other)
    with caplog.at_level(logging.INFO, logger="auditlens.organisms"):
        res = build_organism("secret_product", out, cfg, stop_after="midtrain")
    assert res.skipped == ["documents"] and res.ran == ["midtrain"]
    assert "[documents] done earlier, skipped" in caplog.text and "[midtrain] running" in caplog.text
    rec = RunFolder.read_record(out)
    assert rec is not None and rec.legacy_source == "build.json" and rec.kind == "organism-build"
    spec = load_objective("secret_product")
    assert rec.fingerprint == fingerprint(build_identity(build_pin(cfg, spec, _spec_sha("secret_product"))))
    again = build_organism("secret_product", out, cfg, stop_after="midtrain")  # run.json and build.json now
    assert again.skipped == ["documents", "midtrain"] and again.ran == []
    # a field the old pin lacks counts as its default: another value is another build
    with pytest.raises(BuildError, match="different config") as err:
        build_organism("secret_product", out, cfg.model_copy(update={"behaviour_finetune": "full"}))
    assert "behaviour_finetune" in str(err.value)
    # the tiny config trains concealment with DPO; an old pin without the field means the default (SFT)
    pin = json.loads((other / "build.json").read_text())
    del pin["config"]["concealment_method"]
    (other / "build.json").write_text(json.dumps(pin))
    with pytest.raises(BuildError, match="different config"):
        build_organism("secret_product", other, cfg, stop_after="documents")
    sft = cfg.model_copy(update={"concealment_method": "sft"})
    assert build_organism("secret_product", other, sft, stop_after="documents").skipped == ["documents"]


def test_old_pins_read_with_later_fields_at_their_defaults() -> None:
    cfg = BuildConfig.tiny()
    old = {k: v for k, v in cfg.pinned().items() if k not in ADDED_LATER}
    old["lora"] = {**old["lora"], "alpha": 8}
    assert normalise_pinned_config(old) == cfg.pinned()
    assert same_config(old, cfg) and same_config(old, cfg, ["lora", "behaviour_finetune"])
    full = cfg.model_copy(update={"behaviour_finetune": "full"})
    assert not same_config(old, full) and same_config(old, full, ["lora"])
    assert not same_config({**old, "renamed_field": 1}, cfg)  # a field this version does not know
    assert same_config({**old, "renamed_field": 1}, cfg, ["seed"])


def _committed_builds() -> list[Path]:
    return sorted(p.parent for p in RESULTS.glob("organisms-*/*/build.json"))


def _copy_build(src: Path, dst: Path) -> Path:
    for f in [src / "build.json", *src.glob("stages/*/stage.json")]:
        (dst / f.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, dst / f.relative_to(src))
    return dst


def test_committed_build_folders_claim_as_the_same_build(tmp_path: Path) -> None:
    """Every committed build folder (three generations of build.json) is claimed by the build its pin describes."""
    builds = _committed_builds()
    assert len(builds) >= 10
    spec = load_objective("rm_sycophancy")
    for src in builds:
        pin = json.loads((src / "build.json").read_text())
        cfg = BuildConfig.model_validate(normalise_pinned_config(pin["config"]))
        assert same_config(pin["config"], cfg)
        copy = _copy_build(src, tmp_path / src.parent.name / src.name)
        assert legacy_record(copy).fingerprint == fingerprint(build_identity(build_pin(cfg, spec, pin["spec_sha256"])))  # type: ignore[union-attr]  # fmt: skip
        folder = claim_build(copy, cfg, spec, pin["spec_sha256"])
        assert folder.resumed and folder.record.legacy_source == "build.json"
        assert (copy / "build.json").read_bytes() == (src / "build.json").read_bytes()


def test_committed_builds_of_the_current_spec_resume_with_nothing_to_do(tmp_path: Path) -> None:
    current = [s for s in _committed_builds() if json.loads((s / "build.json").read_text())["spec_sha256"] == _spec_sha("rm_sycophancy")]  # fmt: skip
    if not current:
        pytest.skip("no committed build of the bundled rm_sycophancy spec as it is now")
    for src in current:
        cfg = BuildConfig.model_validate(normalise_pinned_config(json.loads((src / "build.json").read_text())["config"]))  # fmt: skip
        res = build_organism("rm_sycophancy", _copy_build(src, tmp_path / src.name), cfg)
        assert res.ran == [] and res.skipped == list(STAGES)


def test_configure_build_applies_options_and_the_lora_alpha_rule() -> None:
    base = BuildConfig.tiny()
    cfg = configure_build(
        base,
        settings={"seed": 3, "model": None},
        lora_rank=8,
        steps={"behaviour": 5, "midtrain": None},
        lr={"concealment": 4e-5},
    )
    assert cfg.seed == 3 and cfg.model == base.model
    assert (
        cfg.lora.rank == 8 and cfg.lora.alpha == 16.0 and cfg.lora.target_modules == base.lora.target_modules
    )
    assert cfg.behaviour.steps == 5 and cfg.midtrain == base.midtrain and cfg.concealment.lr == 4e-5
    assert configure_build(base) == base
    assert LoraSettings().for_rank(4).alpha == 8.0
    with pytest.raises(ConfigError, match="not a training stage"):
        configure_build(base, steps={"seal": 1})


def test_stage_digests_keep_the_values_of_the_old_inline_hash() -> None:
    """The stage markers of every existing folder hold digests made by the old inline hash; runs.fingerprint of
    the same value gives the same 16 hex digits."""
    for cfg in (BuildConfig(), BuildConfig.tiny()):
        for stage in STAGES:
            keep = cfg.model_dump(mode="json", include=set(stage_fields(stage)))
            old = hashlib.sha256(json.dumps([stage, keep], sort_keys=True).encode()).hexdigest()[:16]
            assert stage_digest(cfg, stage) == old
