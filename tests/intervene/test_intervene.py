"""Ablation, clamping, steering and counterfactual patching on a tiny random model."""

from __future__ import annotations

import pytest
import torch

from auditlens.errors import ConfigError
from auditlens.intervene import (
    DictionaryBasis,
    PCABasis,
    ablate,
    clamp,
    counterfactual_patch,
    kl_divergence,
    steer,
)
from auditlens.models.tiny import tiny_model
from auditlens.sae import ReluL1UntiedConfig, TopKConfig
from auditlens.sae.registry import get_architecture

HP = "blocks.0.resid_post"


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    return tiny_model("llama", n_layers=2)


def _ids(seed: int, b: int = 3, s: int = 9) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(5, 200, (b, s), generator=g)


def _pca(model, n_components: int | None = None, signed: bool = False) -> PCABasis:  # type: ignore[no-untyped-def]
    acts = model.capture(_ids(99, 16, 12), [HP])[HP]
    return PCABasis(acts, n_components=n_components, signed=signed, hook_point=HP)


def _dictionary(model, arch: str = "relu_l1_untied") -> DictionaryBasis:  # type: ignore[no-untyped-def]
    d = model.d_model
    cfg = (
        ReluL1UntiedConfig(d_in=d, d_sae=4 * d, coefficient=1e-3)
        if arch == "relu_l1_untied"
        else TopKConfig(d_in=d, d_sae=4 * d, k=8)
    )
    cls, _ = get_architecture(cfg.architecture)
    return DictionaryBasis(cls([cfg]), hook_point=HP)


@pytest.mark.parametrize("signed", [False, True])
def test_patching_every_pca_feature_reproduces_the_counterfactual(model, signed: bool) -> None:  # type: ignore[no-untyped-def]
    basis = _pca(model, signed=signed)  # full rank: no reconstruction error
    base, target = _ids(1), _ids(2)
    res = counterfactual_patch(model, HP, basis, base, target)
    torch.testing.assert_close(res.patched_logits, res.target_logits, atol=2e-4, rtol=1e-4)
    assert max(res.kl) < 1e-6 and res.magnitude > 0
    none = counterfactual_patch(model, HP, basis, base, target, features=[])
    torch.testing.assert_close(none.patched_logits, model.logits(base))
    assert min(none.kl) > 1e-4 and none.magnitude == 0.0


@pytest.mark.parametrize("arch", ["relu_l1_untied", "topk"])
def test_dictionary_patch_keeps_the_error_and_with_it_swapped_is_exact(model, arch: str) -> None:  # type: ignore[no-untyped-def]
    basis = _dictionary(model, arch)
    base, target = _ids(3), _ids(4)
    x = model.capture(base, [HP])[HP]
    xt = model.capture(target, [HP])[HP]
    # all features, error kept: x' = x + x̂(c̄) − x̂(c)
    expected = x + basis.decode(basis.encode(xt)) - basis.decode(basis.encode(x))
    with model.splice({HP: lambda _: expected}):
        manual = model.logits(base)
    res = counterfactual_patch(model, HP, basis, base, target)
    torch.testing.assert_close(res.patched_logits, manual, atol=1e-4, rtol=1e-4)
    exact = counterfactual_patch(model, HP, basis, base, target, patch_error=True)
    torch.testing.assert_close(exact.patched_logits, exact.target_logits, atol=2e-4, rtol=1e-4)


def test_patching_at_one_position_changes_only_that_position_and_later(model) -> None:  # type: ignore[no-untyped-def]
    basis = _pca(model)
    base, target = _ids(5), _ids(6)
    res = counterfactual_patch(model, HP, basis, base, target, positions=4)
    clean = model.logits(base)
    torch.testing.assert_close(res.patched_logits[:, :4], clean[:, :4])
    assert not torch.allclose(res.patched_logits[:, 4], clean[:, 4])


def test_ablation_modes_and_magnitudes(model) -> None:  # type: ignore[no-untyped-def]
    basis = _pca(model, n_components=8)
    ids = _ids(7)
    x = model.capture(ids, [HP])[HP]
    codes = basis.encode(x)
    zero = ablate(basis, [0, 1])
    edited = zero(x)
    after = basis.encode(edited)
    assert torch.allclose(after[..., :2], torch.zeros_like(after[..., :2]), atol=1e-4)
    torch.testing.assert_close(after[..., 2:], codes[..., 2:], atol=1e-4, rtol=1e-4)
    assert zero.magnitude == pytest.approx(float(codes[..., :2].norm(dim=-1).mean()), rel=1e-4)
    mean = ablate(basis, [0], mode="mean", mean_codes=codes.reshape(-1, 8).mean(0))
    mean(x)
    assert 0 < mean.magnitude < zero.magnitude * 2
    pool = codes.reshape(-1, 8)
    res = ablate(basis, [3], mode="resample", pool=pool, seed=1)
    out = basis.encode(res(x))[..., 3].reshape(-1)
    assert all(bool((pool[:, 3] - v).abs().min() < 1e-3) for v in out)


def test_clamp_and_steer(model) -> None:  # type: ignore[no-untyped-def]
    basis = _dictionary(model)
    ids = _ids(8)
    x = model.capture(ids, [HP])[HP]
    c = clamp(basis, {5: 3.0})
    moved = c(x) - x  # exactly (3 − c₅) f₅ at every position: the error and every other feature stay
    expected = (3.0 - basis.encode(x)[..., 5:6]) * basis.directions()[5]
    torch.testing.assert_close(moved, expected, atol=1e-4, rtol=1e-4)
    direction = basis.directions()[5]
    s = steer(direction, 2.5, positions=[-1])
    y = s(x)
    assert s.magnitude == pytest.approx(2.5, rel=1e-5)
    torch.testing.assert_close(y[:, :-1], x[:, :-1])
    with model.splice({HP: s}):
        steered = model.logits(ids)
    assert float(kl_divergence(model.logits(ids)[:, -1], steered[:, -1]).min()) > 0


def test_bad_input_is_refused(model) -> None:  # type: ignore[no-untyped-def]
    basis = _pca(model, n_components=4)
    with pytest.raises(ConfigError, match="out of range"):
        ablate(basis, [4])
    with pytest.raises(ConfigError, match=r"made for blocks\.0\.resid_post"):
        counterfactual_patch(model, "blocks.1.resid_post", basis, _ids(1), _ids(2))
    with pytest.raises(ConfigError, match="prompt 1 has 3 tokens"):
        counterfactual_patch(model, HP, basis, [[5, 6, 7, 8], [5, 6, 7]], [[5, 6, 7, 8], [5, 6, 7, 9]])
    other = PCABasis(torch.randn(50, model.d_model + 3))
    with pytest.raises(ConfigError, match="width"):
        ablate(other, [0])(model.capture(_ids(1), [HP])[HP])
