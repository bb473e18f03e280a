"""The bundled fixtures: coverage, labels, styles, and a sandbox re-verification of a sample."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from auditlens.errors import DataError
from auditlens.monitor.fixtures import load_fixtures
from auditlens.monitor.fixtures_build import build_problem
from auditlens.monitor.problems import load_humaneval
from auditlens.monitor.records import ReasoningStyle
from auditlens.monitor.sandbox import SandboxConfig
from auditlens.monitor.scoring import score_attempt
from auditlens.monitor.taxonomy import BackdoorType

SAMPLES = load_fixtures()


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
    with pytest.raises(DataError, match=r"bad\.jsonl:1"):
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
