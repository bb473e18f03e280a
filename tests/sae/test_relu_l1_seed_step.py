"""The seed layout's hand-derived training step (relu_l1_untied._SeedStep) equals the autograd graph."""

from __future__ import annotations

import pytest
import torch

from auditlens.sae import ReluL1Untied, ReluL1UntiedConfig


def _module(divided: bool) -> torch.nn.Module:
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
    return m


@pytest.mark.parametrize("divided", [False, True])
def test_seed_step_matches_autograd(divided: bool) -> None:
    torch.manual_seed(0)
    x = torch.randn(32, 12, dtype=torch.float64) * 2
    grads, outs = [], []
    for fused in (True, False):
        m = _module(divided)
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


def test_seed_step_only_when_training_the_seed_layout() -> None:
    m = ReluL1Untied([ReluL1UntiedConfig(d_in=8, d_sae=16, decoder_bias=True)])
    x = torch.randn(4, 8)
    out = m(x)
    assert out.loss.grad_fn is not None and "SeedStep" not in type(out.loss.grad_fn).__name__
    seed = ReluL1Untied([ReluL1UntiedConfig(d_in=8, d_sae=16)])
    assert "SeedStep" in type(seed(x).losses["total"].grad_fn).__name__
    with torch.no_grad():
        assert seed(x).loss.grad_fn is None
