"""`auditlens faking evaluate` and `auditlens faking calibrate` end to end, offline (stub model, rule classifiers)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from auditlens.cli import app
from auditlens.cli import commands as _commands  # noqa: F401  (registers the verbs)
from auditlens.errors import AuditlensError


def test_faking_evaluate_cli(tmp_path: Path) -> None:
    out = tmp_path / "ev"
    args = [
        "faking",
        "evaluate",
        "stub",
        "--out",
        str(out),
        "--limit",
        "3",
        "--max-tokens",
        "16",
        "--n-boot",
        "100",
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "gap free − paid" in res.output and "replies well formed" in res.output
    ev = json.loads((out / "evaluation.json").read_text())
    assert ev["n_transcripts"] == 6 and ev["model"] == "stub"
    assert ev["format"]["n"] == 6  # the stub writes no tags: every reply is counted as badly formed
    assert (out / "report.html").is_file() and (out / "evaluation.png").is_file()
    again = CliRunner().invoke(app, [*args[:-2], "--n-boot", "200"])
    assert isinstance(again.exception, AuditlensError) and "other settings" in again.exception.message


def test_faking_calibrate_cli(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["faking", "calibrate", "--out", str(tmp_path), "--n-boot", "100"])
    assert res.exit_code == 0, res.output
    assert "rule-af" in res.output and "AUROC held out" in res.output
    assert (tmp_path / "calibration.json").is_file() and (tmp_path / "report.html").is_file()
