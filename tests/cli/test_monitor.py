"""`auditlens monitor evaluate` end to end on a few fixture problems (rule + stub LLM)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from auditlens.cli import app
from auditlens.cli import commands as _commands  # noqa: F401  (registers the verbs)
from auditlens.monitor.evaluate import load_scores


def test_monitor_evaluate_cli(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["monitor", "evaluate", "-m", "rule", "-m", "llm:stub", "--max-problems", "5"]
    args += ["--n-boot", "20", "--out", str(out), "--llm-cache", str(tmp_path / "cache")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "rule" in res.output and "OR(llm-stub-output, llm-stub-reasoning)" in res.output
    for name in ("report.json", "report.html", "roc.png", "catch_by_type.png", "scores.jsonl", "run.json"):
        assert (out / name).exists(), name
    report = json.loads((out / "report.json").read_text())
    names = {m["monitor"] for m in report["monitors"]}
    assert names == {"rule", "llm-stub-output", "llm-stub-reasoning"}
    samples = load_scores(out / "scores.jsonl")
    assert len({s.problem_id for s in samples}) == 5
    assert all("rule" in s.suspicion for s in samples)


def test_monitor_evaluate_cli_with_a_second_source_prints_the_transfer_headline(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = [
        "monitor",
        "evaluate",
        "-m",
        "rule-free",
        "-m",
        "diff",
        "--source",
        "rewrites",
        "--max-problems",
        "12",
    ]
    args += ["--seed", "3", "--n-boot", "20", "--out", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "worst off-diagonal" in res.output and "diff" in res.output
    for name in ("transfer.json", "transfer.html", "transfer.png"):
        assert (out / name).exists(), name
    # the matrix again from the scores alone: the same cells, no monitor re-run
    again = tmp_path / "again"
    res = CliRunner().invoke(app, ["monitor", "transfer", str(out), "--out", str(again)])
    assert res.exit_code == 0, res.output
    assert "worst off-diagonal" in res.output
    a = json.loads((out / "transfer.json").read_text())
    b = json.loads((again / "transfer.json").read_text())
    assert a["monitors"] == b["monitors"]
    assert not (again / "scores.jsonl").exists()
    res = CliRunner().invoke(app, ["monitor", "transfer", str(tmp_path / "nothing")])
    assert res.exit_code != 0 and "not a finished monitor evaluation" in str(res.exception)
