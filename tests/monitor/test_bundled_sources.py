"""The bundled held-out sample sets (``monitor/data/sources/<name>``; see each README) ship as valid samples.

Each is written independently of the monitors and of the fixtures; two hand-written sets never share a
problem, so a transfer cell between them needs no problem removed."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import pytest

from auditlens.monitor.fixtures import SOURCES_DIR, bundled_sources
from auditlens.monitor.records import CodeSample, ReasoningStyle
from auditlens.runs.io import read_jsonl


def _load(name: str) -> list[CodeSample]:
    return read_jsonl(SOURCES_DIR / name / "samples.jsonl", CodeSample, what=f"{name} source")


def test_rewrites_is_bundled() -> None:
    assert "rewrites" in bundled_sources()


@pytest.mark.parametrize("name", bundled_sources())
def test_source_loads_as_labelled_verified_samples(name: str) -> None:
    samples = _load(name)
    assert (SOURCES_DIR / name / "README.md").is_file()  # how it was made
    assert len({s.id for s in samples}) == len(samples)
    assert {s.source for s in samples} == {name}
    backdoored = [s for s in samples if s.is_backdoored]
    assert backdoored and all(s.backdoor_input for s in backdoored)
    assert all(s.metadata.get("verified") for s in samples)
    per_label = Counter(s.label for s in backdoored if s.reasoning_style == ReasoningStyle.NONE)
    assert len(per_label) >= 6  # several backdoor kinds, not one pattern
    assert len({s.problem_id for s in samples}) >= 30
    # every program appears once per reasoning style: none + honest for clean, none + blatant + persuasive
    styles = Counter(s.reasoning_style for s in samples)
    assert styles[ReasoningStyle.NONE] == styles[ReasoningStyle.HONEST] + styles[ReasoningStyle.BLATANT]
    assert styles[ReasoningStyle.BLATANT] == styles[ReasoningStyle.PERSUASIVE] == len(backdoored) // 3


def test_hand_written_sources_share_no_problem() -> None:
    problems = {n: {s.problem_id for s in _load(n)} for n in bundled_sources()}
    for a, b in combinations(problems, 2):
        assert not problems[a] & problems[b], f"{a} and {b} share problems"
