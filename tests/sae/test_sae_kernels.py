"""Sparse kernels versus their dense twins: the TopK kernels' forward values and every gradient, and the products of
the stacked ReLU codes' block-diagonal CSR matrix."""

from __future__ import annotations

import pytest
import torch

from auditlens.sae import TopK, TopKConfig
from auditlens.sae.kernels import (
    StackedSparseCodes,
    dense_decode,
    dense_encode_values,
    sparse_decode,
    sparse_encode_values,
)


@pytest.mark.parametrize("shared_input", [True, False])
def test_sparse_encode_decode_match_dense_twin(shared_input: bool) -> None:
    torch.manual_seed(0)
    n, B, D, F, k = 2, 32, 12, 80, 6
    dt = torch.float64
    x = torch.randn(1 if shared_input else n, B, D, dtype=dt, requires_grad=True)
    W = torch.randn(n, F, D, dtype=dt, requires_grad=True)
    b = torch.randn(n, F, dtype=dt, requires_grad=True)
    Wd = torch.randn(n, F, D, dtype=dt, requires_grad=True)
    with torch.no_grad():
        pre = torch.matmul(x, W.transpose(1, 2)) + b[:, None]
        idx = pre.topk(k, dim=-1).indices  # value-sorted, so indices are unsorted within rows
    target = torch.randn(n, B, D, dtype=dt)

    def run(sparse: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        for t in (x, W, b, Wd):
            t.grad = None
        if sparse:
            vals = sparse_encode_values(x, W, b, idx, pre.gather(-1, idx))
            out = sparse_decode(vals.relu(), idx, Wd)
        else:
            vals = dense_encode_values(x, W, b, idx)
            out = dense_decode(vals.relu(), idx, Wd)
        (out - target).pow(2).sum().backward()
        return out.detach(), [t.grad.clone() for t in (x, W, b, Wd)]  # type: ignore[union-attr]

    out_s, grads_s = run(True)
    out_d, grads_d = run(False)
    torch.testing.assert_close(out_s, out_d)
    for gs, gd in zip(grads_s, grads_d, strict=True):
        torch.testing.assert_close(gs, gd)


def test_duplicate_indices_accumulate_like_dense() -> None:
    """Repeated indices add up, in the sparse path and its dense twin alike (values and gradients)."""
    torch.manual_seed(1)
    W = torch.randn(1, 10, 4, dtype=torch.float64, requires_grad=True)
    vals = torch.rand(1, 3, 4, dtype=torch.float64, requires_grad=True)
    idx = torch.tensor([[[1, 1, 2, 3], [0, 4, 4, 9], [5, 6, 7, 5]]])
    g = torch.randn(1, 3, 4, dtype=torch.float64)
    out_s = sparse_decode(vals, idx, W)
    (out_s * g).sum().backward()
    gs = (vals.grad.clone(), W.grad.clone())  # type: ignore[union-attr]
    vals.grad = W.grad = None
    out_d = dense_decode(vals, idx, W)
    (out_d * g).sum().backward()
    ref = torch.einsum("bk,bkd->bd", vals[0].detach(), W[0].detach()[idx[0]])
    torch.testing.assert_close(out_s[0].detach(), ref)
    torch.testing.assert_close(out_d[0].detach(), ref)
    torch.testing.assert_close(gs[0], vals.grad)
    torch.testing.assert_close(gs[1], W.grad)


def test_topk_module_sparse_and_dense_paths_agree_including_auxk() -> None:
    torch.manual_seed(2)
    D, F = 12, 64
    cfgs = [TopKConfig(d_in=D, d_sae=F, k=5, seed=s) for s in (3, 4)]
    sparse = TopK(cfgs, [torch.Generator().manual_seed(s) for s in (3, 4)]).double()
    dense_cfgs = [c.model_copy(update={"sparse_kernels": False}) for c in cfgs]
    dense = TopK(dense_cfgs, [torch.Generator().manual_seed(s) for s in (3, 4)]).double()
    dense.load_state_dict(sparse.state_dict())
    with torch.no_grad():
        sparse.b_dec_ND.normal_()
        dense.b_dec_ND.copy_(sparse.b_dec_ND)
    x = torch.randn(24, D, dtype=torch.float64)
    dead = torch.zeros(2, F, dtype=torch.bool)
    dead[0, :10] = True
    dead[1, 30:33] = True
    out_s = sparse(x, dead_mask=dead)
    out_d = dense(x, dead_mask=dead)
    assert "auxk" in out_s.losses
    torch.testing.assert_close(out_s.reconstruction, out_d.reconstruction)
    torch.testing.assert_close(out_s.losses["total"], out_d.losses["total"])
    out_s.loss.backward()
    out_d.loss.backward()
    for (name, ps), pd in zip(sparse.named_parameters(), dense.parameters(), strict=True):
        torch.testing.assert_close(ps.grad, pd.grad, msg=name)


def test_bf16_selection_keeps_exact_fp32_values() -> None:
    torch.manual_seed(3)
    D, F = 24, 96
    cfg = TopKConfig(d_in=D, d_sae=F, k=6, selection_dtype="bfloat16")
    m = TopK([cfg], [torch.Generator().manual_seed(0)])
    with torch.no_grad():
        m.b_dec_ND.normal_()
        m.b_enc_NF.normal_(std=0.1)
    x = torch.randn(40, D)
    dead = torch.zeros(1, F, dtype=torch.bool)
    dead[0, :8] = True
    out = m(x, dead_mask=dead)
    assert out.latent_indices is not None and out.latent_values is not None
    exact = (x - m.b_dec_ND[0]) @ m.W_enc_NFD[0].T + m.b_enc_NF[0]
    torch.testing.assert_close(out.latent_values[0], exact.gather(-1, out.latent_indices[0]).relu())
    ref = exact.topk(6, dim=-1).values.relu()
    chosen = out.latent_values[0].sort(-1, descending=True).values
    assert (chosen - ref).abs().max() < 0.05  # near-ties may swap latents, never by much
    out.loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in m.parameters() if p.grad is not None)


@pytest.mark.parametrize("n", [1, 3])
def test_stacked_sparse_codes_products_match_dense(n: int) -> None:
    """mm, t_mm (per-member right and one right shared by every member) and sample equal the dense products of the
    block-diagonal matrix; with ``out`` they write into the given slice (NaN before: beta = 0 must ignore it) and
    leave the rest of the buffer alone."""
    g = torch.Generator().manual_seed(0)
    B, F, D = 6, 10, 4
    codes = torch.relu(torch.randn(n, B, F, generator=g) - 0.8)  # ~20% non-zero, some empty rows and columns
    flat = codes.view(-1).nonzero().squeeze(1)
    sp = StackedSparseCodes(flat, codes.view(-1)[flat], n, B, F)
    dense = torch.block_diag(*codes)  # (n·B, n·F)
    right_F = torch.randn(n * F, D, generator=g)
    right_B = torch.randn(n * B, D, generator=g)
    shared = torch.randn(B, D, generator=g)
    torch.testing.assert_close(sp.mm(right_F), dense @ right_F)
    torch.testing.assert_close(sp.t_mm(right_B), dense.t() @ right_B)
    torch.testing.assert_close(sp.t_mm(shared), dense.t() @ shared.repeat(n, 1))
    values = torch.randn(flat.numel(), generator=g)
    other = torch.zeros(n * B * F).index_put_((flat,), values).view(n, B, F)
    torch.testing.assert_close(sp.t_mm(shared, values), torch.block_diag(*other).t() @ shared.repeat(n, 1))
    sampled = (right_B @ right_F.t())[dense != 0]
    torch.testing.assert_close(sp.sample(right_B, right_F), sampled)
    buf = torch.full((n + 2, F, D), float("nan"))
    out = sp.t_mm(shared, out=buf[1 : n + 1].view(-1, D))
    assert out.data_ptr() == buf[1].data_ptr()
    torch.testing.assert_close(buf[1 : n + 1].reshape(-1, D), dense.t() @ shared.repeat(n, 1))
    assert bool(buf[0].isnan().all()) and bool(buf[-1].isnan().all())
    buf = torch.full((n, B, D), float("nan"))
    sp.mm(right_F, out=buf.view(-1, D))
    torch.testing.assert_close(buf.view(-1, D), dense @ right_F)
