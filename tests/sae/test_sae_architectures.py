"""The dictionary family: registry, train-step contract, seed-exact losses, per-architecture mechanics."""

from __future__ import annotations

import math

import pytest
import torch

from auditlens.errors import AuditlensError
from auditlens.sae import (
    BatchTopKConfig,
    JumpReLU,
    JumpReLUConfig,
    Matryoshka,
    MatryoshkaConfig,
    ReluL1Tied,
    ReluL1TiedConfig,
    TopK,
    TopKConfig,
    config_from_dict,
    get_architecture,
    list_architectures,
)
from auditlens.sae.architectures.jumprelu import jumprelu, step
from auditlens.sae.errors import ConfigError, DataError

D, F = 12, 40
ALL = ["batchtopk", "jumprelu", "matryoshka", "relu_l1_tied", "relu_l1_untied", "topk"]


def _cfg(arch: str, **kw: object) -> object:
    _, cls = get_architecture(arch)
    extra: dict[str, object] = {"k": 4} if arch in ("topk", "batchtopk", "matryoshka") else {}
    return cls(d_in=D, d_sae=F, **{**extra, **kw})


def test_registry_lists_every_architecture() -> None:
    assert list_architectures() == ALL


def test_unknown_architecture_lists_valid_ones() -> None:
    with pytest.raises(ConfigError) as e:
        get_architecture("gated")
    assert "topk" in str(e.value) and "relu_l1_tied" in str(e.value)
    assert isinstance(e.value, AuditlensError)


def test_k_larger_than_width_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="larger than the width"):
        TopKConfig(d_in=4, d_sae=8, k=9)
    with pytest.raises(ConfigError, match="larger than the width"):
        config_from_dict({"architecture": "batchtopk", "d_in": 4, "d_sae": 8, "k": 9})


def test_unknown_config_keys_are_a_clear_error() -> None:
    with pytest.raises(ConfigError) as e:
        config_from_dict({"architecture": "topk", "d_in": 4, "d_sae": 8, "k": 2, "kk": 3})
    assert "kk" in str(e.value) and e.value.hint and "k_aux" in e.value.hint


@pytest.mark.parametrize("arch", ALL)
def test_train_step_contract(arch: str) -> None:
    cls, _ = get_architecture(arch)
    cfgs = [_cfg(arch, seed=1), _cfg(arch, seed=2)]
    m = cls(cfgs, [torch.Generator().manual_seed(s) for s in (1, 2)])  # type: ignore[arg-type]
    x = torch.randn(16, D) * 3
    dead = torch.zeros(2, F, dtype=torch.bool)
    dead[:, :3] = True
    out = m(x, dead_mask=dead)
    assert out.reconstruction.shape == (2, 16, D)
    assert out.loss.dim() == 0 and torch.isfinite(out.loss)
    assert {"reconstruction", "total"} <= set(out.losses)
    for v in out.losses.values():
        assert v.shape == (2,)
    torch.testing.assert_close(out.loss, out.losses["total"].sum())
    assert out.aux["fired"].shape == (2, F) and out.aux["fired"].dtype == torch.bool
    assert out.aux["l0"].shape == (2,)
    assert out.codes is not None or out.latent_indices is not None
    out.loss.backward()
    assert all(p.grad is not None for p in m.parameters())
    # members are independent: member 0's loss does not touch member 1's parameters
    for p in m.parameters():
        p.grad = None
    m(x, dead_mask=dead).losses["total"][0].backward()
    for p in m.parameters():
        if p.dim() >= 1 and p.shape[0] == 2:
            assert p.grad is not None and p.grad[1].abs().max() == 0
    codes = m.encode(x)
    assert codes.shape == (2, 16, F)
    assert m.decode(codes).shape == (2, 16, D)


def test_wrong_input_width_is_a_data_error() -> None:
    m = TopK([TopKConfig(d_in=D, d_sae=F, k=4)])
    with pytest.raises(DataError, match="d_in"):
        m(torch.randn(3, D + 1))


@pytest.mark.parametrize("divide", [False, True])
def test_relu_l1_tied_matches_seed_formula(divide: bool) -> None:
    torch.manual_seed(0)
    cfg = ReluL1TiedConfig(d_in=D, d_sae=F, coefficient=3e-3, divide_by_dict_size=divide)
    m = ReluL1Tied([cfg], [torch.Generator().manual_seed(0)])
    with torch.no_grad():
        m.M_NFD.mul_(2.5)  # unconstrained parameter; forward normalises rows
        m.b_enc_NF.normal_()
    x = torch.randn(20, D)
    M = m.M_NFD[0]
    Mh = M / M.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    c = torch.relu(x @ Mh.T + m.b_enc_NF[0])
    xh = c @ Mh
    l1 = 3e-3 * c.abs().sum(-1).mean() / (F if divide else 1)
    expected = (xh - x).pow(2).mean() + l1
    out = m(x)
    torch.testing.assert_close(out.losses["total"][0], expected)
    torch.testing.assert_close(out.reconstruction[0], xh)
    # xavier_uniform init bound and zero bias
    fresh = ReluL1Tied([cfg], [torch.Generator().manual_seed(5)])
    assert fresh.M_NFD.abs().max() <= math.sqrt(6 / (F + D)) and fresh.b_enc_NF.abs().max() == 0
    assert not fresh.constrain_decoder_norm


def test_sparsity_scale_multiplies_the_l1_term() -> None:
    m = ReluL1Tied([ReluL1TiedConfig(d_in=D, d_sae=F, coefficient=1e-2)])
    x = torch.randn(8, D)
    full, half = m(x), m(x, sparsity_scale=0.5)
    torch.testing.assert_close(half.losses["total"], full.losses["reconstruction"] + 0.5 * full.losses["l1"])


def test_fvu_definition() -> None:
    m = TopK([TopKConfig(d_in=D, d_sae=F, k=4)])
    x = torch.randn(30, D) + 2
    out = m(x)
    r = out.reconstruction[0]
    expected = (x - r).pow(2).mean() / (x - x.mean(0)).pow(2).mean()
    torch.testing.assert_close(out.aux["fvu"][0], expected)


def test_batchtopk_keeps_k_per_input_on_average_and_learns_threshold() -> None:
    from auditlens.sae import BatchTopK

    m = BatchTopK([BatchTopKConfig(d_in=D, d_sae=F, k=3)])
    x = torch.randn(10, D)
    assert m.threshold_N[0] < 0
    out = m(x)
    assert out.codes is not None and int((out.codes > 0).sum()) == 30
    thr = float(m.threshold_N[0])
    assert thr == pytest.approx(float(out.codes.detach()[out.codes.detach() > 0].min()))
    m(x)  # EMA with beta 0.999 moves slowly
    assert abs(float(m.threshold_N[0]) - thr) < 1e-3 + 1e-3 * thr
    m.eval()
    codes = m.encode(x)
    assert ((codes == 0) | (codes > thr - 1e-6)).all()


def test_matryoshka_loss_is_mean_of_prefix_fvus() -> None:
    cfg = MatryoshkaConfig(d_in=D, d_sae=F, k=4, group_sizes=(10, 10, 20))
    m = Matryoshka([cfg])
    x = torch.randn(16, D)
    out = m(x)
    codes = out.codes
    assert codes is not None
    total_var = (x - x.mean(0)).pow(2).mean()
    exp = 0.0
    for end in (10, 20, 40):
        r = codes[0, :, :end] @ m.W_dec_NFD[0, :end] + m.b_dec_ND[0]
        exp += float(((r - x).pow(2).mean() / total_var).detach()) / 3
    assert float(out.losses["reconstruction"][0].detach()) == pytest.approx(exp, rel=1e-5)
    with pytest.raises(ConfigError, match="sum to d_sae"):
        MatryoshkaConfig(d_in=D, d_sae=F, k=4, group_sizes=(10, 10))


def test_jumprelu_straight_through_gradients() -> None:
    pre = torch.tensor([[[0.5, 1.0, 1.0004, 2.0]]], requires_grad=True)
    theta = torch.tensor([[[1.0, 1.0, 1.0, 1.0]]], requires_grad=True)
    eps = 1e-3
    out = jumprelu(pre, theta, eps)
    assert out.tolist() == [[[0.0, 0.0, pytest.approx(1.0004), 2.0]]]
    out.sum().backward()
    # pre gets gradient where active; theta gets -(theta/eps) K((pre-theta)/eps): |0.0004/eps| < 0.5 -> K = 1
    assert pre.grad.tolist() == [[[0.0, 0.0, 1.0, 1.0]]]  # type: ignore[union-attr]
    expected = [0.0, 0.0, -1.0 / eps, 0.0]
    # pre == theta exactly: u = 0 -> inside the window too
    expected[1] = -1.0 / eps
    torch.testing.assert_close(theta.grad[0, 0], torch.tensor(expected))  # type: ignore[index]
    theta.grad = None
    step(pre, theta, eps).sum().backward()
    torch.testing.assert_close(theta.grad[0, 0], torch.tensor([0.0, -1 / eps, -1 / eps, 0.0]))  # type: ignore[index]


def test_jumprelu_threshold_receives_gradient_in_forward() -> None:
    m = JumpReLU([JumpReLUConfig(d_in=D, d_sae=F, coefficient=1.0, bandwidth=10.0)])
    out = m(torch.randn(32, D))
    assert "l0" in out.losses
    out.loss.backward()
    assert m.log_threshold_NF.grad is not None and m.log_threshold_NF.grad.abs().sum() > 0


def test_jumprelu_target_l0_penalty_is_quadratic_around_the_target() -> None:
    cfgs = [
        JumpReLUConfig(d_in=D, d_sae=F, coefficient=0.5, init_threshold=0.05, bandwidth=1.0, seed=1),
        JumpReLUConfig(
            d_in=D, d_sae=F, coefficient=2.0, init_threshold=0.05, bandwidth=1.0, seed=1, target_l0=3.0
        ),
    ]
    m = JumpReLU(cfgs, [torch.Generator().manual_seed(1) for _ in cfgs])  # both members: the same init
    x = torch.randn(64, D)
    out = m(x)
    l0 = (m.encode(x) > 0).sum(-1).float().mean(-1)
    assert float(l0[0]) > 3.5  # the target is below the current L0: the penalty pushes thresholds up
    torch.testing.assert_close(out.losses["l0"], torch.stack([0.5 * l0[0], 2.0 * (l0[1] / 3.0 - 1) ** 2]))
    out.losses["l0"][1].backward()
    grad = m.log_threshold_NF.grad
    assert grad is not None and float(grad[0].abs().sum()) == 0 and float(grad[1].sum()) < 0
    at_target = JumpReLU(
        [cfgs[1].model_copy(update={"target_l0": float(l0[1])})], [torch.Generator().manual_seed(1)]
    )
    assert float(at_target(x).losses["l0"][0].detach()) < 1e-10
    with pytest.raises(ConfigError):
        config_from_dict({"architecture": "jumprelu", "d_in": D, "d_sae": F, "target_l0": 0})


def test_jumprelu_target_l0_steers_training_to_the_target() -> None:
    """Members with targets 3 and 5 on toy data (3 true features active on average) end within 12% of them."""
    from auditlens.sae import Trainer, TrainerConfig
    from auditlens.toy.data import ToyDataConfig, ToyDataset

    torch.manual_seed(0)
    ds = ToyDataset(ToyDataConfig(d_model=32, n_features=64, mean_active=3))
    cfgs = [
        JumpReLUConfig(
            d_in=32, d_sae=128, coefficient=32.0, bandwidth=1.0, init_threshold=0.5, target_l0=t, name=f"t{t}"
        )
        for t in (3.0, 5.0)
    ]
    t = Trainer(cfgs, TrainerConfig(total_steps=1500, progress=False))
    t.train(ds.batches(256))
    held = ds.sample(4096, torch.Generator().manual_seed(1)).x
    for c in cfgs:
        module, j = t.member(c.name or "")
        with torch.no_grad():
            l0 = float((module.encode(held)[j] > 0).sum(-1).float().mean())
        assert abs(l0 / (c.target_l0 or 1) - 1) < 0.12, (c.target_l0, l0)


def test_stacked_members_equal_single_dictionaries() -> None:
    cfgs = [TopKConfig(d_in=D, d_sae=F, k=4, seed=s) for s in (7, 8)]
    stacked = TopK(cfgs, [torch.Generator().manual_seed(s) for s in (7, 8)])
    x = torch.randn(9, D)
    out = stacked(x)
    for j, s in enumerate((7, 8)):
        single = TopK([cfgs[j]], [torch.Generator().manual_seed(s)])
        torch.testing.assert_close(single(x).reconstruction[0], out.reconstruction[j])


@pytest.mark.parametrize("arch", ALL)
def test_member_extracts_a_standalone_copy(arch: str) -> None:
    cls, _ = get_architecture(arch)
    m = cls([_cfg(arch, seed=1), _cfg(arch, seed=2)], [torch.Generator().manual_seed(s) for s in (1, 2)])  # type: ignore[arg-type]
    x = torch.randn(12, D)
    m.train()
    m(x)  # sets BatchTopK thresholds
    m.eval()
    single = m.member(1)
    assert single.n == 1 and not single.training
    torch.testing.assert_close(single.reconstruct(x)[0], m.reconstruct(x)[1])
    with pytest.raises(ConfigError, match="out of range"):
        m.member(2)


def test_topk_fired_mask_counts_any_positive_selection() -> None:
    m = TopK([TopKConfig(d_in=2, d_sae=3, k=2)])
    with torch.no_grad():
        m.W_enc_NFD[0] = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
        m.b_enc_NF.zero_()
        m.b_dec_ND.zero_()
    # row 0 selects latents 0 and 1 with positive values; row 1 selects latent 1 with a negative value
    x = torch.tensor([[1.0, 1.0], [3.0, -0.5]])
    out = m(x)
    fired = out.aux["fired"][0]
    assert fired.tolist() == [True, True, False]
