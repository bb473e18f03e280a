"""Greedy pruning (seed §5.7): batched speculation equals the one-at-a-time loop; the points agree with patching."""

from __future__ import annotations

import random

import pytest
import torch

from auditlens.errors import ConfigError
from auditlens.intervene import PCABasis, counterfactual_patch, greedy_prune, plot_prune_curves
from auditlens.intervene.pruning import answer_logits
from auditlens.models.tiny import tiny_model

HP = "blocks.0.resid_post"
THRESHOLDS = [1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 1.0]


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    return tiny_model("llama", n_layers=2)


def _ids(seed: int, b: int = 4, s: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(5, 200, (b, s), generator=g)


@pytest.fixture(scope="module")
def basis(model):  # type: ignore[no-untyped-def]
    acts = model.capture(_ids(99, 16, 12), [HP])[HP]
    return PCABasis(acts, n_components=12, hook_point=HP)


def _sequential(model, basis, base, target, thresholds, seed):  # type: ignore[no-untyped-def]
    """The seed's loop, one patched run per decision, through counterfactual_patch."""
    feats = sorted(
        int(f)
        for f in torch.nonzero(
            (basis.encode(model.capture(target, [HP])[HP]) - basis.encode(model.capture(base, [HP])[HP]))
            .abs()
            .amax(dim=(0, 1))
            > 0
        ).flatten()
    )

    def kl(fs: list[int]) -> float:
        return sum(counterfactual_patch(model, HP, basis, base, target, features=fs).kl) / base.shape[0]

    rng, current, cur = random.Random(seed), list(feats), kl(feats)
    out = []
    for thr in thresholds:
        order = list(current)
        rng.shuffle(order)
        for j in order:
            trial = [f for f in current if f != j]
            k = kl(trial)
            if k - cur < thr:
                current, cur = trial, k
        out.append((len(current), cur, sorted(current)))
    return out


@pytest.mark.parametrize("sets_per_pass", [1, 5])
def test_batched_sweep_equals_the_sequential_loop(model, basis, sets_per_pass: int) -> None:  # type: ignore[no-untyped-def]
    base, target = _ids(1), _ids(2)
    curve = greedy_prune(
        model, HP, basis, base, target, thresholds=THRESHOLDS, sets_per_pass=sets_per_pass, progress=False
    )
    ref = _sequential(model, basis, base, target, THRESHOLDS, seed=0)
    assert [(p.n_patched, p.features) for p in curve.points] == [(n, f) for n, _, f in ref]
    for p, (_, k, _) in zip(curve.points, ref, strict=True):
        assert p.kl == pytest.approx(k, rel=1e-4, abs=1e-9)
    # the sweep prunes: fewer features as the threshold grows, and everything at a threshold above the ceiling
    ns = [p.n_patched for p in curve.points]
    assert ns == sorted(ns, reverse=True) and ns[0] <= curve.n_candidates
    assert curve.kl_none_patched > curve.kl_all_patched >= 0
    assert curve.points[-1].n_patched < curve.n_candidates


def test_points_agree_with_counterfactual_patching_and_the_edit_magnitude(model, basis) -> None:  # type: ignore[no-untyped-def]
    base, target = _ids(3), _ids(4)
    curve = greedy_prune(model, HP, basis, base, target, thresholds=[1e-3, 1e-1], progress=False)
    for p in curve.points:
        res = counterfactual_patch(model, HP, basis, base, target, features=p.features)
        assert p.kl == pytest.approx(sum(res.kl) / len(res.kl), rel=1e-4, abs=1e-9)
        assert p.magnitude == pytest.approx(res.magnitude, rel=1e-4, abs=1e-7)
    full = counterfactual_patch(model, HP, basis, base, target)
    assert curve.kl_all_patched == pytest.approx(sum(full.kl) / len(full.kl), rel=1e-4, abs=1e-9)
    best = curve.smallest_within(curve.points[-1].kl)
    assert best is not None and best.n_patched == min(p.n_patched for p in curve.points)
    fig = plot_prune_curves({"pca": curve})
    assert len(fig.axes) == 2


def test_answer_logits_match_full_logits_at_any_position(model) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(5)
    full = model.logits(ids)
    for pos in (-1, -3, 0, 4):
        torch.testing.assert_close(answer_logits(model, ids, pos), full[:, pos], atol=1e-5, rtol=1e-5)
    with pytest.raises(ConfigError, match="outside"):
        answer_logits(model, ids, 7)


def test_bad_input_is_refused(model, basis) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="differ in shape"):
        greedy_prune(model, HP, basis, _ids(1, s=7), _ids(2, s=8), progress=False)
    with pytest.raises(ConfigError, match="prompt 1 has"):
        greedy_prune(model, HP, basis, [[5, 6, 7], [5, 6]], [[5, 6, 7], [5, 6, 8]], progress=False)
    with pytest.raises(ConfigError, match="made for"):
        greedy_prune(model, "blocks.1.resid_post", basis, _ids(1), _ids(2), progress=False)
    with pytest.raises(ConfigError, match="non-negative"):
        greedy_prune(model, HP, basis, _ids(1), _ids(2), thresholds=[-1.0], progress=False)
