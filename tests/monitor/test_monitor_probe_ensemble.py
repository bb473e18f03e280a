"""The probe ensemble on a tiny random model: multi-hook pooled features in one pass (padding never pooled),
a feature table cached by text, a trainer that learns, a shuffled-label baseline that does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from auditlens.models.tiny import tiny_model
from auditlens.monitor.metrics import auroc
from auditlens.monitor.probe import pooled_features
from auditlens.monitor.probe_ensemble import (
    FeatureTable,
    compute_features,
    default_hook_points,
    ensemble_trainer,
)
from auditlens.monitor.records import CodeSample
from auditlens.monitor.taxonomy import BackdoorType
from auditlens.monitor.transfer import Learned, transfer_matrix
from auditlens.monitor.views import MonitorView


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return tiny_model("llama", seed=0)


def _samples(source: str, problems: range) -> list[CodeSample]:
    out = []
    for p in problems:
        for k, bad in enumerate([False, False, True, True]):
            body = "~~~~ ~~~~ ~~~~ ~~~~" if bad else "abc abc abc abc"
            out.append(
                CodeSample(
                    id=f"{source}/p{p}/{k}",
                    problem_id=f"p{p}",
                    code=f"def f{p}(x):\n    return x + {k}  # {body}\n",
                    reasoning=f"plan {k} of {source}: {body}",
                    label=BackdoorType.OUT_OF_PLACE if bad else BackdoorType.NO_BACKDOOR,
                    source=source,
                )
            )
    return out


def test_default_hook_points_spread_over_depth() -> None:
    assert default_hook_points(30) == [f"blocks.{i}.resid_post" for i in (6, 12, 15, 18, 24)]
    assert default_hook_points(2) == ["blocks.0.resid_post", "blocks.1.resid_post"]


def test_pooled_features_one_pass_every_pooling_ignores_padding(model) -> None:  # type: ignore[no-untyped-def]
    hooks = ["blocks.0.resid_post", "blocks.1.resid_post"]
    alone = pooled_features(model, ["short"], hooks, ["mean", "last", "max"])
    both = pooled_features(
        model, ["short", "a much longer text than the first one"], hooks, ["mean", "last", "max"]
    )
    assert set(both) == {f"{h}:{p}" for h in hooks for p in ("mean", "last", "max")}
    for k in both:
        np.testing.assert_allclose(alone[k][0], both[k][0], atol=1e-5)
    assert not np.allclose(both["blocks.1.resid_post:mean"][0], both["blocks.1.resid_post:last"][0])


def test_feature_table_is_cached_by_text(model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    samples = _samples("A", range(3))
    cache = tmp_path / "f.safetensors"
    hooks = ["blocks.1.resid_post"]
    t1, text_of = compute_features(model, samples, MonitorView.REASONING, hooks, cache=cache, max_tokens=32)
    assert len(t1.texts) == len(set(text_of.values())) == len(samples)
    more = _samples("B", range(2))
    t2, text_of2 = compute_features(
        model, samples + more, MonitorView.REASONING, hooks, cache=cache, max_tokens=32
    )
    assert t2.texts[: len(t1.texts)] == t1.texts and len(t2.texts) == len(samples) + len(more)
    loaded = FeatureTable.load(cache)
    for k in t2.keys:
        np.testing.assert_array_equal(loaded.data[k], t2.data[k])
    row = t2.rows([text_of2[samples[0].id]])
    np.testing.assert_allclose(t2.data[t2.keys[0]][row][0], t1.data[t1.keys[0]][0])


def test_trained_across_sources_and_baseline(model) -> None:  # type: ignore[no-untyped-def]
    samples = _samples("A", range(0, 12)) + _samples("B", range(12, 24)) + _samples("C", range(24, 36))
    hooks = default_hook_points(model.n_layers)
    table, text_of = compute_features(model, samples, MonitorView.REASONING, hooks, max_tokens=32)
    probe = Learned("probe-ensemble", ensemble_trainer(table, text_of))
    shuffled = Learned("probe-shuffled", ensemble_trainer(table, text_of, shuffle_labels=True))
    m = transfer_matrix(samples, [probe, shuffled])
    good, base = m.monitors
    assert good.worst is not None and good.worst.auroc.value > 0.9
    assert base.learns and len(base.cells) == len(good.cells)
    s = ensemble_trainer(table, text_of)(samples[:24])(samples[24:])
    s_base = ensemble_trainer(table, text_of, shuffle_labels=True)(samples[:24])(samples[24:])
    y = np.array([x.is_backdoored for x in samples[24:]])
    assert auroc(s[~y], s[y]) > 0.9 and ((s > 0) & (s < 1)).all()
    assert not np.allclose(s, s_base)  # trained on permuted labels
