"""The seed layout's hand-derived training step (relu_l1_untied._SeedStep) equals the autograd graph."""

from __future__ import annotations

import pytest
import torch

from auditlens.sae import ReluL1Untied, ReluL1UntiedConfig


def _module(divided: bool, rare: tuple[int, ...] = (2,)) -> torch.nn.Module:
    cfgs = [
        ReluL1UntiedConfig(d_in=12, d_sae=40, coefficient=a, divide_by_dict_size=divided, seed=i)
        for i, a in enumerate([0.0, 0.3, 3.0])
    ]
    m = ReluL1Untied(cfgs).double()
    with torch.no_grad():
        m.b_enc_NF.copy_(
            torch.randn(3, 40, generator=torch.Generator().manual_seed(1)) * 0.3
        )  # some latents dead, some alive on the batch
        m.W_dec_NFD[1, 5].zero_()  # a zero decoder row: the clamp branch
        for i in rare:
            m.b_enc_NF[i] -= 4.0  # members that fire rarely (sparse in the mixed tests)
    return m


@pytest.mark.parametrize("divided", [False, True])
@pytest.mark.parametrize("path", ["dense", "sparse", "mixed", "scattered"])
def test_seed_step_matches_autograd(divided: bool, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dense; with every member's codes as a sparse matrix (density threshold 1); mixed (threshold 0.3: the member
    with the very negative encoder bias goes sparse, the others stay dense); scattered (members 0 and 2 sparse,
    1 dense: gathered and scattered rather than sliced)."""
    import auditlens.sae.architectures.relu_l1_untied as mod

    threshold = {"dense": 0.0, "sparse": 1.0, "mixed": 0.3, "scattered": 0.3}[path]
    monkeypatch.setattr(ReluL1Untied, "sparse_density", threshold)
    members: list[int] = []
    real = mod._sparse_grads
    monkeypatch.setattr(mod, "_sparse_grads", lambda g, *a: members.append(g.shape[0]) or real(g, *a))
    torch.manual_seed(0)
    x = torch.randn(32, 12, dtype=torch.float64) * 2
    grads, outs = [], []
    for fused in (True, False):
        m = _module(divided, (0, 2) if path == "scattered" else (2,))
        m.fused_step = fused
        xin = x.clone().requires_grad_(True)
        out = m(xin, sparsity_scale=0.7)
        (out.loss * 1.5).backward()
        grads.append([xin.grad, *(p.grad for p in m.parameters())])
        outs.append(out)
    fused, plain = outs
    for key in ("total", "reconstruction", "l1"):
        torch.testing.assert_close(fused.losses[key], plain.losses[key])
    for key in ("mse", "fvu", "l0", "fired"):
        torch.testing.assert_close(fused.aux[key], plain.aux[key])
    torch.testing.assert_close(fused.reconstruction, plain.reconstruction)
    torch.testing.assert_close(fused.codes, plain.codes)
    assert len(grads[0]) == len(grads[1]) == 4  # x, W_enc, b_enc, W_dec
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)
    assert float(grads[0][1].abs().sum()) > 0 and float(grads[0][3].abs().sum()) > 0
    grad_fn = fused.losses["total"].grad_fn
    assert grad_fn is not None and "SeedStep" in type(grad_fn).__name__
    density = float((fused.codes > 0).float().mean())
    assert 0.1 < density < 0.9  # a mix of zero and non-zero codes, so the sparse pattern matters
    assert members == {"dense": [], "sparse": [3], "mixed": [1], "scattered": [2]}[path]


def test_seed_step_only_when_training_the_seed_layout() -> None:
    m = ReluL1Untied([ReluL1UntiedConfig(d_in=8, d_sae=16, decoder_bias=True)])
    x = torch.randn(4, 8)
    out = m(x)
    assert out.loss.grad_fn is not None and "SeedStep" not in type(out.loss.grad_fn).__name__
    seed = ReluL1Untied([ReluL1UntiedConfig(d_in=8, d_sae=16)])
    assert "SeedStep" in type(seed(x).losses["total"].grad_fn).__name__
    with torch.no_grad():
        assert seed(x).loss.grad_fn is None


def test_bfloat16_products_train_like_float32() -> None:
    """matmul_dtype='bfloat16' (autocast) follows the float32 run closely on the seed layout and on TopK."""
    from auditlens.sae import TopKConfig, Trainer, TrainerConfig

    g = torch.Generator().manual_seed(0)
    truth = torch.nn.functional.normalize(torch.randn(48, 16, generator=g), dim=-1)
    batches = [
        (torch.rand(128, 48, generator=g) * (torch.rand(128, 48, generator=g) < 0.06)) @ truth
        for _ in range(150)
    ]
    final = {}
    for dtype in ("float32", "bfloat16"):
        cfgs = [
            ReluL1UntiedConfig(d_in=16, d_sae=64, coefficient=0.1, name="l1"),
            TopKConfig(d_in=16, d_sae=64, k=4, name="topk"),
        ]
        tr = Trainer(
            cfgs,
            TrainerConfig(total_steps=150, lr=3e-3, progress=False, matmul_dtype=dtype, log_every=150),  # type: ignore[arg-type]
        )
        tr.train(batches)
        final[dtype] = {m.name: m.fvu for m in tr.member_metrics()}
        assert all(p.dtype == torch.float32 for d in tr.modules for p in d.parameters())
    for name in ("l1", "topk"):
        assert final["bfloat16"][name] == pytest.approx(final["float32"][name], rel=0.15, abs=0.02)
        assert final["float32"][name] < 0.6


def test_seed_layout_has_no_decoder_bias_after_data_init_or_loading() -> None:
    """The seed layout has no decoder bias: the trainer's data-centre init must not write one into its zero buffer
    (the training step would ignore it and decode() would add it: evaluation FVU then differs from training FVU), and
    a checkpoint written before the fix, with the centre stored, loads with the buffer zeroed."""
    from auditlens.sae import Trainer, TrainerConfig

    g = torch.Generator().manual_seed(0)
    batches = [
        torch.randn(64, 8, generator=g) + 3.0 for _ in range(30)
    ]  # far from the origin: the centre matters
    tr = Trainer(
        [ReluL1UntiedConfig(d_in=8, d_sae=32, coefficient=1e-2)],
        TrainerConfig(
            total_steps=30, lr=1e-2, progress=False, log_every=30
        ),  # default b_dec_init: geometric median
    )
    tr.train(batches)
    (m,) = tr.modules
    assert float(m.b_dec_ND.abs().max()) == 0.0
    x = batches[-1]
    with torch.no_grad():
        eval_mse = float((m.decode(m.encode(x)) / m.act_scale - x / m.act_scale).pow(2).mean())
    out = m(x)  # with gradients on: the training step (_SeedStep), which never reads b_dec
    assert "SeedStep" in type(out.losses["total"].grad_fn).__name__
    assert eval_mse == pytest.approx(float(out.aux["mse"][0]), rel=1e-4)
    state = {k: v.clone() for k, v in m.state_dict().items()}
    state["b_dec_ND"] = torch.full_like(state["b_dec_ND"], 0.7)  # what an older checkpoint holds
    fresh = ReluL1Untied([ReluL1UntiedConfig(d_in=8, d_sae=32, coefficient=1e-2)])
    fresh.load_state_dict(state)
    assert float(fresh.b_dec_ND.abs().max()) == 0.0
    with_bias = ReluL1Untied([ReluL1UntiedConfig(d_in=8, d_sae=32, decoder_bias=True)])
    with_bias.load_state_dict(state)
    # a learned decoder bias loads as stored
    assert float(with_bias.b_dec_ND.detach().min()) == pytest.approx(0.7)
