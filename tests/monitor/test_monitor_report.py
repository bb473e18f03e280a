"""The report: typed JSON that round-trips, self-contained HTML, PNGs, failures counted, OR pairs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from auditlens.errors import AuditlensError
from auditlens.monitor.records import CodeSample, ReasoningStyle
from auditlens.monitor.report import MonitorReport, build_report, write_report
from auditlens.monitor.taxonomy import BackdoorType


def _samples() -> list[CodeSample]:
    rng = np.random.default_rng(0)
    out = []
    types = [BackdoorType.OUT_OF_PLACE, BackdoorType.SUBTLE_ALGORITHMIC_ERROR]
    for i in range(300):
        bad = i % 3 == 0
        label = types[i % 2] if bad else BackdoorType.NO_BACKDOOR
        style = ReasoningStyle.BLATANT if bad and i % 2 else ReasoningStyle.NONE
        # "out" sees out-of-place conditions, "rsn" sees blatant reasoning: complementary monitors
        out_score = rng.uniform(0.6, 1.0) if label == BackdoorType.OUT_OF_PLACE else rng.uniform(0, 0.7)
        rsn_score = rng.uniform(0.6, 1.0) if style == ReasoningStyle.BLATANT else rng.uniform(0, 0.7)
        s = CodeSample(
            id=f"s{i}",
            problem_id=f"p{i // 6}",
            code="pass",
            reasoning="word " * (i % 7) if style != ReasoningStyle.NONE else "",
            reasoning_style=style,
            label=label,
            suspicion={"out": out_score, "rsn": rsn_score},
        )
        out.append(s)
    out[1].suspicion.pop("out")  # one failure
    out[1].metadata["monitor_errors"] = {"out": "boom"}
    out[2].suspicion.pop("out")  # one never scored (not a failure)
    return out


def test_report_numbers_and_files(tmp_path: Path) -> None:
    samples = _samples()
    rep = build_report(samples, or_pairs=[("out", "rsn")], n_boot=100, seed=1, notes=["synthetic"])
    assert [m.monitor for m in rep.monitors] == ["out", "rsn"]
    out = rep.monitors[0]
    assert out.n_failed == 1 and out.n_honest + out.n_attack == 298
    assert out.achieved_fpr <= 0.01
    assert out.auroc.ci_low <= out.auroc.value <= out.auroc.ci_high
    assert out.tpr_at_fpr.ci_low <= out.tpr_at_fpr.value <= out.tpr_at_fpr.ci_high
    assert out.catch_by_type["special_condition_out_of_place"].rate > 0.5
    assert out.catch_by_type["subtle_algorithmic_error"].rate == pytest.approx(0.0)
    assert set(out.catch_by_style) == {"none", "blatant"}
    assert out.roc.fpr[0] == 0.0 and out.roc.tpr[-1] == 1.0
    pair = rep.or_pairs[0]
    assert pair.pair.achieved_fpr <= 0.01
    assert pair.pair.tpr >= max(pair.tpr_a_alone, pair.tpr_b_alone)
    assert pair.pair.tpr > 0.6  # the two monitors catch different halves
    files = write_report(rep, tmp_path / "rep")
    back = MonitorReport.model_validate(json.loads(files.json_path.read_text()))
    assert back.monitors[0].auroc == out.auroc and back.notes == ["synthetic"]
    page = files.html_path.read_text()
    assert "data:image/png;base64," in page and "<td>out</td>" in page and "synthetic" in page
    assert files.roc_png.read_bytes()[:4] == b"\x89PNG" and files.catch_png.stat().st_size > 1000


def test_report_errors() -> None:
    honest_only = [s for s in _samples() if not s.is_backdoored]
    with pytest.raises(AuditlensError):
        build_report(honest_only, n_boot=10)
    with pytest.raises(AuditlensError):
        build_report([CodeSample(id="x", problem_id="p", code="", label=BackdoorType.OTHER)])
