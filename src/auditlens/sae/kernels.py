"""Sparse TopK kernels in plain PyTorch (CPU and GPU), each with a dense twin for parity tests.

* :func:`sparse_encode_values` — gathers the selected pre-activations with a custom backward that touches only
  the selected latents: the encoder-weight gradient is a sparse (d_sae x batch) @ (batch x d_in) product, the
  bias gradient a scatter-add, the input gradient an ``embedding_bag`` over the selected encoder rows. The dense
  (batch, d_sae) gradient is never materialised.
* :func:`sparse_decode` — decodes (values, indices) with ``embedding_bag`` over decoder rows; its backward uses a
  sampled dense-dense product (``torch.sparse.sampled_addmm``) for the value gradient and a sparse product for the
  decoder gradient.

* :class:`StackedSparseCodes` — the non-zero codes of n stacked members (ReLU codes made sparse by L1) as one
  block-diagonal CSR matrix, with the products the seed layout's training step needs.

All tensors carry a leading member axis ``n`` (stacked dictionaries).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor


def _stack(parts: list[Tensor]) -> Tensor:
    """torch.stack without the copy when there is one member."""
    return parts[0].unsqueeze(0) if len(parts) == 1 else torch.stack(parts)


def _coo_latent_by_batch(idx_BK: Tensor, val_BK: Tensor, d_sae: int) -> Tensor:
    """COO (d_sae, batch) matrix with ``val[b, j]`` at ``(idx[b, j], b)``."""
    B, K = idx_BK.shape
    cols = torch.arange(B, device=idx_BK.device).repeat_interleave(K)
    ind = torch.stack([idx_BK.reshape(-1), cols])
    return torch.sparse_coo_tensor(ind, val_BK.reshape(-1), (d_sae, B), check_invariants=False)


def _sparse_t_matmul(idx_BK: Tensor, val_BK: Tensor, dense_BD: Tensor, d_sae: int) -> Tensor:
    """Dense (d_sae, D) result of Sᵀ @ dense where S (batch, d_sae) holds ``val`` at ``idx`` (duplicates add)."""
    return torch.sparse.mm(_coo_latent_by_batch(idx_BK, val_BK.to(dense_BD.dtype), d_sae), dense_BD)


def _row_dots(idx_BK: Tensor, rows_FD: Tensor, dense_BD: Tensor) -> Tensor:
    """out[b, j] = dense[b] · rows[idx[b, j]] without materialising (B, K, D): a sampled dense-dense product."""
    B, K = idx_BK.shape
    d_sae = rows_FD.shape[0]
    if dense_BD.device.type == "cpu" or dense_BD.dtype in (torch.float32, torch.float64):
        crow = torch.arange(0, B * K + 1, K, device=idx_BK.device, dtype=torch.int64)
        zeros = torch.zeros(B * K, dtype=dense_BD.dtype, device=dense_BD.device)
        pattern = _csr(crow, idx_BK.reshape(-1), zeros, (B, d_sae))
        out = torch.sparse.sampled_addmm(pattern, dense_BD, rows_FD.t(), beta=0.0, alpha=1.0)
        return out.values().view(B, K)
    return torch.einsum("bkd,bd->bk", rows_FD[idx_BK], dense_BD)  # pragma: no cover - half precision on GPU


@torch.no_grad()
def selected_preacts(x_NBD: Tensor, W_NFD: Tensor, b_NF: Tensor, idx_NBK: Tensor) -> Tensor:
    """Exact ``x[n, b] · W[n, idx] + b[n, idx]`` for the selected latents only (sampled dense-dense product)."""
    n = W_NFD.shape[0]
    xs = x_NBD.expand(n, -1, -1)
    dots = _stack([_row_dots(idx_NBK[m], W_NFD[m], xs[m].contiguous()) for m in range(n)])
    return dots + b_NF.gather(1, idx_NBK.reshape(n, -1)).view_as(idx_NBK)


class _SparseEncode(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, x_NBD: Tensor, W_NFD: Tensor, b_NF: Tensor, idx_NBK: Tensor, pre_NBK: Tensor
    ) -> Tensor:
        ctx.save_for_backward(x_NBD, W_NFD, idx_NBK)
        return pre_NBK.clone()

    @staticmethod
    def backward(ctx: Any, grad_NBK: Tensor) -> tuple[Tensor | None, ...]:
        x_NBD, W_NFD, idx_NBK = ctx.saved_tensors
        n, F_, D = W_NFD.shape
        B = idx_NBK.shape[1]
        grad_x = grad_W = grad_b = None
        if ctx.needs_input_grad[0]:
            offsets = (torch.arange(n, device=idx_NBK.device) * F_).view(n, 1, 1)
            flat_idx = (idx_NBK + offsets).reshape(n * B, -1)
            grad_x = F.embedding_bag(
                flat_idx,
                W_NFD.reshape(n * F_, D),
                per_sample_weights=grad_NBK.reshape(n * B, -1).to(W_NFD.dtype),
                mode="sum",
            ).view(n, B, D)
        if ctx.needs_input_grad[1]:
            xs = x_NBD.expand(n, B, D)
            grad_W = _stack([_sparse_t_matmul(idx_NBK[m], grad_NBK[m], xs[m], F_) for m in range(n)])
        if ctx.needs_input_grad[2]:
            grad_b = torch.zeros(n, F_, dtype=W_NFD.dtype, device=W_NFD.device)
            grad_b.scatter_add_(1, idx_NBK.reshape(n, -1), grad_NBK.reshape(n, -1).to(W_NFD.dtype))
        return grad_x, grad_W, grad_b, None, None


def sparse_encode_values(
    x_NBD: Tensor, W_NFD: Tensor, b_NF: Tensor, idx_NBK: Tensor, pre_NBK: Tensor
) -> Tensor:
    """Selected pre-activations ``pre[n, b, j] = x[n, b] · W[n, idx] + b[n, idx]`` with a sparse backward.

    ``pre_NBK`` are the already computed values (from the no-grad dense encoder matmul); ``x_NBD`` may have a
    member axis of 1 (shared input). Gradients flow to ``x``, ``W`` and ``b`` only through the selected latents.
    """
    return _SparseEncode.apply(x_NBD, W_NFD, b_NF, idx_NBK, pre_NBK)


def dense_encode_values(x_NBD: Tensor, W_NFD: Tensor, b_NF: Tensor, idx_NBK: Tensor) -> Tensor:
    """Dense twin of :func:`sparse_encode_values` (full matmul, then gather)."""
    pre = torch.matmul(x_NBD, W_NFD.transpose(1, 2)) + b_NF[:, None, :]
    return pre.gather(-1, idx_NBK)


class _SparseDecode(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, val_NBK: Tensor, idx_NBK: Tensor, W_NFD: Tensor) -> Tensor:
        n, F_, D = W_NFD.shape
        B = idx_NBK.shape[1]
        offsets = (torch.arange(n, device=idx_NBK.device) * F_).view(n, 1, 1)
        flat_idx = (idx_NBK + offsets).reshape(n * B, -1)
        out = F.embedding_bag(
            flat_idx,
            W_NFD.reshape(n * F_, D),
            per_sample_weights=val_NBK.reshape(n * B, -1).to(W_NFD.dtype),
            mode="sum",
        )
        ctx.save_for_backward(val_NBK, idx_NBK, W_NFD)
        return out.view(n, B, D)

    @staticmethod
    def backward(ctx: Any, grad_NBD: Tensor) -> tuple[Tensor | None, ...]:
        val_NBK, idx_NBK, W_NFD = ctx.saved_tensors
        n, F_, _ = W_NFD.shape
        grad_NBD = grad_NBD.contiguous()
        grad_val = grad_W = None
        if ctx.needs_input_grad[0]:
            grad_val = _stack([_row_dots(idx_NBK[m], W_NFD[m], grad_NBD[m]) for m in range(n)]).to(
                val_NBK.dtype
            )
        if ctx.needs_input_grad[2]:
            grad_W = _stack([_sparse_t_matmul(idx_NBK[m], val_NBK[m], grad_NBD[m], F_) for m in range(n)])
        return grad_val, None, grad_W


def sparse_decode(val_NBK: Tensor, idx_NBK: Tensor, W_NFD: Tensor) -> Tensor:
    """(n, B, k) values at (n, B, k) latent indices -> (n, B, D) = Σ_j val[j] · W[idx[j]] (no bias)."""
    return _SparseDecode.apply(val_NBK, idx_NBK, W_NFD)


def dense_decode(val_NBK: Tensor, idx_NBK: Tensor, W_NFD: Tensor) -> Tensor:
    """Dense twin of :func:`sparse_decode`: scatter into (n, B, d_sae) codes, then a dense matmul."""
    n, F_, _ = W_NFD.shape
    codes = torch.zeros(n, idx_NBK.shape[1], F_, dtype=val_NBK.dtype, device=val_NBK.device)
    codes = codes.scatter_add(-1, idx_NBK, val_NBK)  # duplicates add, like embedding_bag
    return torch.bmm(codes, W_NFD)


def _crow(sorted_rows: Tensor, n_rows: int) -> Tensor:
    """CSR row pointers of sorted COO row indices."""
    crow = torch.zeros(n_rows + 1, dtype=torch.int64, device=sorted_rows.device)
    torch.cumsum(torch.bincount(sorted_rows, minlength=n_rows), 0, out=crow[1:])
    return crow


def _sparse_mm(csr: Tensor, right: Tensor, out: Tensor | None) -> Tensor:
    """CSR @ dense into ``out`` (allocated when None). ``addmm`` with β = 0 and ``out`` skips the zero-filled result
    and the copy that ``torch.sparse.mm`` makes (1.6x faster on a CPU at the toy grid's shapes); β = 0 ignores what
    ``out`` held, NaN included."""
    if out is None:
        out = torch.empty(csr.shape[0], right.shape[1], dtype=right.dtype, device=right.device)
    return torch.addmm(out, csr, right, beta=0.0, out=out)


def _csr(crow: Tensor, cols: Tensor, values: Tensor, shape: tuple[int, int]) -> Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta" and similar notices
        return torch.sparse_csr_tensor(crow, cols, values, shape, dtype=values.dtype, check_invariants=False)


class StackedSparseCodes:
    """The non-zero codes of n stacked members as one block-diagonal (n·B) × (n·F) sparse matrix.

    Entry (m·B + b, m·F + f) holds member m's code f on row b; built from the flat indices of ``codes.view(-1)``.
    Products with it touch only the non-zeros: the decoder product and the three backward products of
    :class:`~auditlens.sae.architectures.relu_l1_untied._SeedStep` cost O(nnz · D) instead of O(n · B · F · D) (the encoder product stays dense).
    """

    def __init__(self, flat: Tensor, values: Tensor, n: int, B: int, F: int) -> None:
        self.shape = (n * B, n * F)
        self.F = F
        self.rows = flat // F  # m·B + b
        self.cols = flat // (B * F) * F + flat % F  # m·F + f
        self.values = values
        self.crow = _crow(self.rows, n * B)
        self._order: Tensor | None = None

    def mm(self, right: Tensor, values: Tensor | None = None, out: Tensor | None = None) -> Tensor:
        """S @ right, with S's values replaced by ``values`` when given: right (n·F, D) → (n·B, D), written into
        ``out`` (contiguous, (n·B, D)) when given."""
        return _sparse_mm(
            _csr(self.crow, self.cols, self.values if values is None else values, self.shape), right, out
        )

    def t_mm(self, right: Tensor, values: Tensor | None = None, out: Tensor | None = None) -> Tensor:
        """Sᵀ @ right: right (n·B, D) → (n·F, D), written into ``out`` when given. A right of B rows is shared by
        every member (as if repeated n times, without the copy)."""
        if self._order is None:
            self._order = torch.argsort(self.cols, stable=True)
            self._crow_t = _crow(self.cols[self._order], self.shape[1])
            self._rows_t = self.rows[self._order]
        v = (self.values if values is None else values)[self._order]
        rows, latents = self.shape
        batch = rows // (latents // self.F)
        if right.shape[0] == batch and rows != batch:
            return _sparse_mm(_csr(self._crow_t, self._rows_t % batch, v, (latents, batch)), right, out)
        return _sparse_mm(_csr(self._crow_t, self._rows_t, v, (latents, rows)), right, out)

    def sample(self, left: Tensor, right: Tensor) -> Tensor:
        """(left @ rightᵀ) at the non-zeros only: left (n·B, D), right (n·F, D) → values (nnz,)."""
        mask = _csr(self.crow, self.cols, torch.zeros_like(self.values), self.shape)
        return torch.sparse.sampled_addmm(mask, left, right.t(), beta=0.0).values()
