"""White-box probe monitor on a tiny random model: problem-level split, fit, score, save/load, baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from auditlens.models.tiny import tiny_model
from auditlens.monitor.metrics import auroc
from auditlens.monitor.monitors import MonitorError, apply_monitor
from auditlens.monitor.probe import ProbeConfig, ProbeMonitor, pooled_activations, split_by_problem
from auditlens.monitor.records import CodeSample
from auditlens.monitor.taxonomy import BackdoorType


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return tiny_model("llama", seed=0)


def _samples(n_problems: int = 16) -> list[CodeSample]:
    out = []
    for p in range(n_problems):
        for k, bad in enumerate([False, False, True, True]):
            body = "~~~~ ~~~~ ~~~~ ~~~~" if bad else "abc abc abc abc"
            out.append(
                CodeSample(
                    id=f"p{p}/{k}",
                    problem_id=f"p{p}",
                    code=f"def f{p}(x):\n    return x + {k}  # {body}\n",
                    reasoning=f"plan {k}: {body}",
                    label=BackdoorType.OUT_OF_PLACE if bad else BackdoorType.NO_BACKDOOR,
                )
            )
    return out


def test_split_by_problem_has_no_leak() -> None:
    samples = _samples()
    train, test = split_by_problem(samples, 0.25, seed=1)
    assert {s.problem_id for s in train}.isdisjoint({s.problem_id for s in test})
    assert len(train) + len(test) == len(samples) and len({s.problem_id for s in test}) == 4
    assert split_by_problem(samples, 0.25, seed=1) == (train, test)
    with pytest.raises(MonitorError):
        split_by_problem(samples[:4], 0.5)


def test_pooled_activations_ignore_padding(model) -> None:  # type: ignore[no-untyped-def]
    alone = pooled_activations(model, ["short"], "blocks.1.resid_post")
    batched = pooled_activations(model, ["short", "a much longer text than the first"], "blocks.1.resid_post")
    assert batched.shape == (2, model.d_model)
    np.testing.assert_allclose(alone[0], batched[0], atol=1e-5)


def test_probe_learns_on_train_and_scores_held_out(model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    train, test = split_by_problem(_samples(), 0.5, seed=0)
    probe = ProbeMonitor(model, ProbeConfig(max_tokens=64)).fit(train)
    assert probe.hook_point == "blocks.1.resid_post" and probe.name == "probe"
    res = apply_monitor(probe, test)
    assert all(r.ok and "blocks.1.resid_post" in r.rationale for r in res)
    h = [s.suspicion["probe"] for s in test if not s.is_backdoored]
    a = [s.suspicion["probe"] for s in test if s.is_backdoored]
    assert auroc(h, a) > 0.95
    # save / load round trip gives the same scores
    loaded = ProbeMonitor.load(probe.save(tmp_path / "probe"), model)
    again = [r.suspicion for r in loaded.score_many(test)]
    np.testing.assert_allclose(again, [r.suspicion for r in res], rtol=1e-6)
    assert (tmp_path / "probe" / "probe.safetensors").exists()
    # the random-label baseline is a different, named monitor
    base = ProbeMonitor(model, ProbeConfig(max_tokens=64, shuffle_labels=True)).fit(train)
    assert base.name == "probe-shuffled"


def test_probe_errors(model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    honest_only = [s for s in _samples(2) if not s.is_backdoored]
    with pytest.raises(MonitorError):
        ProbeMonitor(model).fit(honest_only)
    with pytest.raises(MonitorError):
        ProbeMonitor(model).score_many(honest_only)
    with pytest.raises(MonitorError):
        ProbeMonitor.load(tmp_path, model)
    with pytest.raises(Exception, match="hook point"):
        ProbeMonitor(model, ProbeConfig(hook_point="blocks.99.resid_post"))
