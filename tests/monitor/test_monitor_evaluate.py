"""`monitor evaluate` in the library: bad specs, the probe on held-out problems, the run folder (run.json; folders
of the version before it, with config.json, resume; another evaluation is refused). The command itself is tested in
tests/cli/test_monitor.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from auditlens.errors import AuditlensError, RunFolderError
from auditlens.monitor.evaluate import EvaluateConfig, evaluate, identity, load_scores
from auditlens.monitor.report import MonitorReport
from auditlens.runs import RunFolder, fingerprint

OLD_FOLDER = Path(__file__).with_name("data") / "evaluate_v1"


def test_evaluate_rejects_unknown_monitor(tmp_path: Path) -> None:
    with pytest.raises(AuditlensError, match="unknown monitor spec"):
        evaluate(EvaluateConfig(monitors=["nope"], out=tmp_path, max_problems=2))
    with pytest.raises(AuditlensError):
        evaluate(EvaluateConfig(monitors=["rule"], out=tmp_path, fixtures=tmp_path / "missing.jsonl"))


def test_evaluate_probe_on_held_out_problems(tmp_path: Path) -> None:
    from auditlens.models.tiny import tiny_model

    tiny = tiny_model("llama", seed=0)
    folder = tmp_path / "tiny"
    tiny.model.save_pretrained(folder)
    tiny.tokenizer.save_pretrained(folder)
    cfg = EvaluateConfig(
        monitors=["probe"],
        out=tmp_path / "run",
        max_problems=6,
        n_boot=10,
        probe_model=str(folder),
        probe_max_tokens=64,
        probe_view="output",
    )
    report = evaluate(cfg)
    assert {m.monitor for m in report.monitors} == {"probe", "probe-shuffled"}
    samples = load_scores(tmp_path / "run" / "scores.jsonl")
    scored = {s.problem_id for s in samples if "probe" in s.suspicion}
    unscored = {s.problem_id for s in samples if "probe" not in s.suspicion}
    assert scored and unscored and scored.isdisjoint(unscored)  # trained on some problems, scored on others
    assert (tmp_path / "run" / "probe" / "probe.safetensors").exists()
    assert "held-out" in report.notes[0]


def test_evaluate_rejects_unknown_spec_before_touching_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(AuditlensError, match="unknown monitor spec"):
        evaluate(EvaluateConfig(monitors=["rule", "nope"], out=out, max_problems=2))
    assert not out.exists()


def test_run_folder_records_the_run_and_refuses_another(tmp_path: Path) -> None:
    cfg = EvaluateConfig(monitors=["rule"], out=tmp_path / "run", max_problems=3, n_boot=10)
    evaluate(cfg)
    rec = RunFolder.read_record(cfg.out)
    assert rec is not None and rec.kind == "monitor-evaluate" and rec.status == "complete"
    assert rec.fingerprint == fingerprint(identity(cfg)) and rec.legacy_source is None
    assert not (cfg.out / "config.json").exists()
    moved = cfg.model_copy(update={"llm_cache_dir": tmp_path / "cache"})  # not a result setting
    evaluate(moved)
    with pytest.raises(RunFolderError, match=r"n_boot: 10 → 20") as err:
        evaluate(cfg.model_copy(update={"n_boot": 20}))
    assert "another --out folder" in str(err.value)


def test_folder_of_the_previous_version_resumes(tmp_path: Path) -> None:
    """evaluate_v1 holds config.json and report.json as the version before run.json wrote them (its config's
    out was another folder): the same settings resume it, with the same numbers; other settings are refused."""
    out = tmp_path / "old"
    shutil.copytree(OLD_FOLDER, out)
    old_cfg = EvaluateConfig.model_validate_json((out / "config.json").read_text())
    old_report = json.loads((out / "report.json").read_text())
    other = tmp_path / "other"
    shutil.copytree(OLD_FOLDER, other)
    with pytest.raises(RunFolderError, match="seed: 0 → 1"):
        evaluate(old_cfg.model_copy(update={"out": other, "seed": 1}))
    assert RunFolder.read_record(other) is None  # refused: untouched
    report = evaluate(old_cfg.model_copy(update={"out": out}))
    rec = RunFolder.read_record(out)
    assert rec is not None and rec.legacy_source == "config.json" and rec.status == "complete"
    assert rec.fingerprint == fingerprint(identity(old_cfg))
    back = MonitorReport.model_validate(old_report)  # schema 1 still loads
    (m,) = report.monitors
    assert back.monitors[0].auroc.value == m.auroc.value and back.monitors[0].threshold == m.threshold
    assert (back.monitors[0].auroc.ci_low, back.monitors[0].auroc.ci_high) == (
        m.auroc.ci_low,
        m.auroc.ci_high,
    )


def test_two_sources_write_the_transfer_matrix(tmp_path: Path) -> None:
    from auditlens.monitor.transfer import TransferMatrix

    cfg = EvaluateConfig(
        monitors=["rule", "rule-free"], sources=["rewrites"], out=tmp_path / "run", n_boot=20
    )
    cfg = cfg.model_copy(update={"max_problems": 14, "seed": 3})
    evaluate(cfg)
    matrix = TransferMatrix.model_validate_json((tmp_path / "run" / "transfer.json").read_text())
    assert [s.source for s in matrix.sources] == ["fixture", "rewrites"]
    assert [m.monitor for m in matrix.monitors] == ["rule", "rule-free"]
    for m in matrix.monitors:
        assert {(c.tuned_on, c.evaluated_on) for c in m.cells} == {
            (a, b) for a in ("fixture", "rewrites") for b in ("fixture", "rewrites")
        }
        assert m.worst is not None and not m.worst.in_distribution
    html = (tmp_path / "run" / "transfer.html").read_text()
    assert "worst off-diagonal" in html and "data:image/png;base64" in html


def test_transfer_trains_probes_per_source_and_ors_them(tmp_path: Path) -> None:
    from auditlens.models.tiny import tiny_model
    from auditlens.monitor.transfer import TransferMatrix

    tiny = tiny_model("llama", seed=0)
    folder = tmp_path / "tiny"
    tiny.model.save_pretrained(folder)
    tiny.tokenizer.save_pretrained(folder)
    cfg = EvaluateConfig(
        monitors=["rule", "probe"],
        sources=["rewrites"],
        out=tmp_path / "run",
        max_problems=16,
        seed=3,
        n_boot=10,
        probe_model=str(folder),
        probe_max_tokens=32,
        probe_view="output",
        transfer_folds=2,
    )
    evaluate(cfg)
    matrix = TransferMatrix.model_validate_json((tmp_path / "run" / "transfer.json").read_text())
    names = [m.monitor for m in matrix.monitors]
    assert names == ["rule", "probe-l1", "probe-ensemble", "probe-shuffled", "probe-ensemble | rule"]
    assert [m.learns for m in matrix.monitors] == [False, True, True, True, True]
    assert (tmp_path / "run" / "probe" / "features-output.safetensors").exists()
    assert any("probe-ensemble = mean logit" in n for n in matrix.notes)


def test_a_sample_set_given_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AuditlensError, match="more than once"):
        evaluate(EvaluateConfig(monitors=["rule"], sources=["rewrites", "rewrites"], out=tmp_path / "r"))
    with pytest.raises(AuditlensError, match="neither a bundled sample set nor a file"):
        evaluate(EvaluateConfig(monitors=["rule"], sources=["nope"], out=tmp_path / "r2"))


def test_transfer_page_in_headless_chromium(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    cfg = EvaluateConfig(monitors=["rule"], sources=["rewrites"], out=tmp_path / "run", n_boot=10)
    evaluate(cfg.model_copy(update={"max_problems": 14, "seed": 3}))
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((tmp_path / "run" / "transfer.html").resolve().as_uri())
    assert page.locator("h1").inner_text() == "Monitor transfer matrix"
    assert "rule" in page.locator("table").nth(1).inner_text()  # the headline table
    img = page.locator("img").first
    assert img.evaluate("i => i.complete && i.naturalWidth > 0")
    assert not errors
