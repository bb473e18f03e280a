"""Run folders: claim, resume, refuse another run with the settings that differ, park and restore, replace, legacy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditlens.errors import RunFolderError
from auditlens.runs import RunFolder, RunRecord, fingerprint
from auditlens.runs.folder import config_diff


def test_fingerprint_is_the_historical_encoding() -> None:
    import hashlib

    keep = {"b": [1, 2.5], "a": {"y": None, "x": "s"}}
    old = hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]
    assert fingerprint(keep) == old
    assert fingerprint(keep, 12) == old[:12]


def test_claim_resume_and_refuse(tmp_path: Path) -> None:
    out = tmp_path / "run"
    a = RunFolder.claim(out, "job", {"steps": 10, "device": "cpu"}, identity={"steps": 10})
    assert not a.resumed and a.record.status == "in_progress"
    assert json.loads((out / "run.json").read_text())["fingerprint"] == fingerprint({"steps": 10})
    (out / "result.txt").write_text("x")
    a.mark("complete")
    b = RunFolder.claim(
        out, "job", {"steps": 10, "device": "cuda"}, identity={"steps": 10}
    )  # machine may change
    assert b.resumed and b.record.status == "complete"
    with pytest.raises(RunFolderError, match=r"different job run, made with other settings .*steps: 10 → 20"):
        RunFolder.claim(out, "job", {"steps": 20, "device": "cpu"}, identity={"steps": 20})
    with pytest.raises(RunFolderError, match="holds a 'job' run, not a 'other' one"):
        RunFolder.claim(out, "other", {"steps": 10})
    assert (out / "result.txt").read_text() == "x"  # nothing touched by a refusal


def test_a_folder_with_files_but_no_run_is_never_touched(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("precious")
    with pytest.raises(RunFolderError, match="not empty and holds no job run"):
        RunFolder.claim(tmp_path, "job", {})
    with pytest.raises(RunFolderError, match="refusing to overwrite"):
        RunFolder.replace(tmp_path, "job")
    assert (tmp_path / "mine.txt").read_text() == "precious"
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(RunFolderError, match="is a file"):
        RunFolder.claim(f, "job", {})


def test_park_and_restore(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    RunFolder.claim(out, "sweep", {"alpha": 1})
    (out / "a.txt").write_text("alpha 1")
    b = RunFolder.claim(out, "sweep", {"alpha": 2}, on_other="park")
    assert not b.resumed and not (out / "a.txt").exists()
    (out / "b.txt").write_text("alpha 2")
    c = RunFolder.claim(out, "sweep", {"alpha": 1}, on_other="park")  # flips back: nothing retrained
    assert c.resumed and c.restored_from is not None and (out / "a.txt").read_text() == "alpha 1"
    parked = out.with_name(f"sweep-{fingerprint({'alpha': 2})}")
    assert (parked / "b.txt").read_text() == "alpha 2"
    # a second run parked under a taken name never overwrites the first
    RunFolder.claim(parked, "sweep", {"alpha": 2})
    (out.with_name("sweep-x")).mkdir()
    d = RunFolder.claim(out, "sweep", {"alpha": 3}, on_other="park")
    assert not d.resumed
    assert (out.with_name(f"sweep-{fingerprint({'alpha': 1})}") / "a.txt").exists()


def test_replace(tmp_path: Path) -> None:
    out = tmp_path / "r"
    RunFolder.claim(out, "job", {"x": 1})
    (out / "old.txt").write_text("")
    f = RunFolder.claim(out, "job", {"x": 2}, on_other="replace")
    assert not f.resumed and not (out / "old.txt").exists()
    RunFolder.replace(out, "job")
    assert not out.exists()


def test_legacy_folder_is_resumed_and_migrated(tmp_path: Path) -> None:
    out = tmp_path / "grid"
    out.mkdir()
    (out / "grid_config.json").write_text(
        json.dumps({"fingerprint": fingerprint({"s": 1}), "config": {"s": 1}})
    )
    (out / "cells").mkdir()

    def legacy(p: Path) -> RunRecord | None:
        f = p / "grid_config.json"
        if not f.is_file():
            return None
        d = json.loads(f.read_text())
        return RunRecord(kind="grid", fingerprint=d["fingerprint"], config=d["config"], legacy_source=f.name)

    f = RunFolder.claim(out, "grid", {"s": 1}, legacy=legacy)
    assert f.resumed and f.record.legacy_source == "grid_config.json"
    assert RunFolder.read_record(out) is not None
    with pytest.raises(RunFolderError, match="other settings"):
        RunFolder.claim(out, "grid", {"s": 2}, legacy=legacy)


def test_config_diff_names_nested_keys() -> None:
    d = config_diff({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 1, "c": 3}, "e": 1})
    assert d == "a.c: 2 → 3; d: 1 → '<absent>'; e: '<absent>' → 1"
