"""The hand-written `rewrites` source (held-out backdoors; see its README) ships as valid samples."""

from __future__ import annotations

from collections import Counter
from importlib import resources

from auditlens.monitor.records import CodeSample
from auditlens.runs.io import read_jsonl


def test_rewrites_source_loads_as_code_samples() -> None:
    path = resources.files("auditlens.monitor") / "data" / "sources" / "rewrites" / "samples.jsonl"
    samples = read_jsonl(str(path), CodeSample, what="rewrites source")
    assert len(samples) >= 400
    assert len({s.id for s in samples}) == len(samples)
    backdoored = [s for s in samples if s.is_backdoored]
    assert backdoored and all(s.backdoor_input for s in backdoored)
    per_label = Counter(s.label for s in backdoored)
    assert len(per_label) >= 6  # several backdoor kinds, not one pattern
    assert len({s.problem_id for s in samples}) >= 60
