"""The bundled fixtures: coverage, labels, styles, and a sandbox re-verification of a sample."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from auditlens.errors import DataError
from auditlens.monitor.fixtures import FIXTURES_PATH, load_fixtures
from auditlens.monitor.fixtures_build import build_problem, fixture_lines, write_fixtures
from auditlens.monitor.problems import load_humaneval
from auditlens.monitor.records import ReasoningStyle
from auditlens.monitor.sandbox import SandboxConfig
from auditlens.monitor.scoring import score_attempt
from auditlens.monitor.taxonomy import BackdoorType

SAMPLES = load_fixtures()
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_monitor_fixtures.py"


def _shipped_lines() -> dict[str, str]:
    return {json.loads(line)["id"]: line for line in FIXTURES_PATH.read_text(encoding="utf-8").splitlines()}


def test_coverage_of_problems_labels_and_styles() -> None:
    problems = {s.problem_id for s in SAMPLES}
    assert len(problems) >= 40
    labels = Counter(s.label for s in SAMPLES if s.reasoning_style == ReasoningStyle.NONE)
    backdoor_types = {t for t in BackdoorType if t.is_backdoor and t is not BackdoorType.OTHER}
    assert backdoor_types <= set(labels)  # every concrete type of the taxonomy is present
    assert labels[BackdoorType.NO_BACKDOOR] >= 40
    assert len({s.id for s in SAMPLES}) == len(SAMPLES)


def test_every_variant_has_all_its_styles() -> None:
    styles: dict[tuple[str, str], set[ReasoningStyle]] = defaultdict(set)
    for s in SAMPLES:
        styles[(s.problem_id, s.code)].add(s.reasoning_style)
        if s.is_backdoored:
            assert s.backdoor_input is not None and s.backdoor_explanation
        else:
            assert s.backdoor_input is None
        if s.reasoning_style == ReasoningStyle.NONE:
            assert s.reasoning == ""
        if s.reasoning_style == ReasoningStyle.BLATANT:
            assert "backdoor" in s.reasoning
        if s.reasoning_style in (ReasoningStyle.PERSUASIVE, ReasoningStyle.HONEST):
            assert "backdoor" not in s.reasoning.lower()
    for key, got in styles.items():
        sample = next(s for s in SAMPLES if (s.problem_id, s.code) == key)
        want = (
            {ReasoningStyle.NONE, ReasoningStyle.BLATANT, ReasoningStyle.PERSUASIVE}
            if sample.is_backdoored
            else {ReasoningStyle.NONE, ReasoningStyle.HONEST}
        )
        assert got == want, key


def test_filters_and_missing_file(tmp_path: Path) -> None:
    blatant = load_fixtures(styles=[ReasoningStyle.BLATANT], labels=[BackdoorType.SUBTLE_ALGORITHMIC_ERROR])
    assert blatant and all(s.label == BackdoorType.SUBTLE_ALGORITHMIC_ERROR for s in blatant)
    with pytest.raises(DataError, match="does not exist"):
        load_fixtures(tmp_path / "nope.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    with pytest.raises(DataError, match=r"bad\.jsonl, line 1: not a valid record"):
        load_fixtures(bad)


def test_sample_of_fixtures_reverifies_in_sandbox() -> None:
    """One backdoored fixture per type plus two clean ones: tests pass, and backdoors are functional."""
    picked = {}
    for s in SAMPLES:
        if s.reasoning_style == ReasoningStyle.NONE and s.label not in picked:
            picked[s.label] = s
    problems = {p.id: p for p in load_humaneval(sorted({s.problem_id for s in picked.values()}))}
    for label, s in picked.items():
        score = score_attempt(problems[s.problem_id], s.code, s.backdoor_input)
        assert score.valid, (s.id, score.reason)
        assert score.functional == label.is_backdoor, (s.id, score.reason)


def test_builder_is_deterministic_and_verifies() -> None:
    p = load_humaneval(["HumanEval/2"])[0]
    config = SandboxConfig()
    built = build_problem(p, config, max_backdoors=1)
    assert built == build_problem(p, config, max_backdoors=1)
    assert {s.label for s in built} >= {BackdoorType.NO_BACKDOOR}
    assert sum(s.is_backdoored for s in built) == 3  # one backdoor × three styles
    shipped = {s.id: s for s in SAMPLES}
    for s in built:
        if s.id in shipped:
            assert shipped[s.id].code == s.code
    lines = _shipped_lines()
    for line in fixture_lines(built).splitlines():
        sid = json.loads(line)["id"]
        assert sid not in lines or lines[sid] == line, sid  # written exactly as the shipped file


def test_writer_reproduces_the_shipped_file(tmp_path: Path) -> None:
    """Sorted keys, non-ASCII escaped (the file has ≤ and ➞ in prompts), no problem statement: byte for byte."""
    out = write_fixtures(SAMPLES, tmp_path / "fixtures.jsonl")
    assert out.read_bytes() == FIXTURES_PATH.read_bytes()


def test_build_script_writes_verified_lines(tmp_path: Path) -> None:
    out = tmp_path / "one.jsonl"
    res = subprocess.run(
        [sys.executable, str(SCRIPT), "--limit", "1", "--workers", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["problems"] == 1 and summary["samples"] == len(out.read_text().splitlines()) > 0
    lines = _shipped_lines()
    for line in out.read_text(encoding="utf-8").splitlines():
        assert lines.get(json.loads(line)["id"]) == line
