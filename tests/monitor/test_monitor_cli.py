"""`auditlens monitor evaluate` end to end on a few fixture problems (rule + stub LLM), and bad specs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditlens.cli import app
from auditlens.cli import commands as _commands  # noqa: F401  (registers the verbs)
from auditlens.errors import AuditlensError
from auditlens.monitor.evaluate import EvaluateConfig, evaluate, load_scores


def test_monitor_evaluate_cli(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["monitor", "evaluate", "-m", "rule", "-m", "llm:stub", "--max-problems", "5"]
    args += ["--n-boot", "20", "--out", str(out), "--llm-cache", str(tmp_path / "cache")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "rule" in res.output and "OR(llm-stub-output, llm-stub-reasoning)" in res.output
    for name in ("report.json", "report.html", "roc.png", "catch_by_type.png", "scores.jsonl", "config.json"):
        assert (out / name).exists(), name
    report = json.loads((out / "report.json").read_text())
    names = {m["monitor"] for m in report["monitors"]}
    assert names == {"rule", "llm-stub-output", "llm-stub-reasoning"}
    samples = load_scores(out / "scores.jsonl")
    assert len({s.problem_id for s in samples}) == 5
    assert all("rule" in s.suspicion for s in samples)


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
