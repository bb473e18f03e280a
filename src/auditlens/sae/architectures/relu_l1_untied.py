"""Untied ReLU + L1 dictionary (seed ``FunctionalSAE``).

c = ReLU(W_enc (x - b_dec·[apply]) + b_enc), x̂ = Ŵ_decᵀ c (+ b_dec). Seed-exact defaults: decoder rows normalised
inside the forward pass, encoder bias only (no decoder bias), xavier init, per-element MSE + α · mean_batch Σ|c|.
The options ``decoder_bias`` and ``normalize_decoder_in_forward=False`` cover SAELens's ``standard`` layout.

Training the seed layout (no decoder bias, decoder normalised in the forward pass) goes through one hand-derived
autograd function, :class:`_SeedStep`: the same loss and gradients as the autograd graph (a parity test checks them),
with two (n, batch, d_sae) buffers instead of autograd's half-dozen and fewer elementwise passes. On a CPU, members
whose codes are at most ``ReluL1Untied.sparse_density`` non-zero (8%) run four of its five matrix products over the
non-zero codes only (a block-diagonal CSR matrix; the encoder product stays dense). The break-even, re-measured on one
core after the copy-free step (``benchmarks/sparse_threshold.py``, 2026-11-27): 10–14% at 4,096 latents (sparse 1.37×
faster at 8%), ~10% at 16,384 (1.15× at 8%); 8% keeps a margin for the noise of a shared core. Both speed-ups are
measured by ``benchmarks/seed_step.py`` (``--trained N`` for the sparse one).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from auditlens.sae.architectures._l1 import (
    L1Config,
    l1_output,
    l1_weights,
    pick_resample_inputs,
    xavier_uniform,
)
from auditlens.sae.base import Dictionary, DictionaryOutput, fvu_of_mse, stack_init, unit_rows
from auditlens.sae.kernels import StackedSparseCodes
from auditlens.sae.registry import register


class ReluL1UntiedConfig(L1Config):
    """Untied ReLU + L1."""

    architecture: Literal["relu_l1_untied"] = "relu_l1_untied"
    decoder_bias: bool = Field(default=False, description="Learn a decoder bias b_dec (seed: no).")
    apply_b_dec_to_input: bool = Field(
        default=True, description="Subtract b_dec before encoding (with a bias)."
    )
    normalize_decoder_in_forward: bool = Field(
        default=True,
        description="Seed: decoder rows are normalised inside forward. False: raw decoder, and the trainer keeps "
        "its rows at unit norm instead.",
    )


@register("relu_l1_untied", ReluL1UntiedConfig)
class ReluL1Untied(Dictionary):
    supports_resampling = True
    #: Train the seed layout through :class:`_SeedStep` (False: the plain autograd graph, kept for parity tests).
    fused_step: bool = True
    #: On a CPU, members with at most this share of non-zero codes run the decoder product and the three backward
    #: products of :class:`_SeedStep` as sparse ones (0: never; ``benchmarks/seed_step.py --trained N``).
    sparse_density: float = 0.08

    def _init_params(self, generators: list[torch.Generator]) -> None:
        cfg: ReluL1UntiedConfig = self.configs[0]  # type: ignore[assignment]
        self.W_enc_NFD = nn.Parameter(
            stack_init(lambda g: xavier_uniform(self.d_sae, self.d_in, g), generators)
        )
        self.b_enc_NF = nn.Parameter(torch.zeros(self.n, self.d_sae))
        W_dec = stack_init(lambda g: xavier_uniform(self.d_sae, self.d_in, g), generators)
        self.W_dec_NFD = nn.Parameter(W_dec if cfg.normalize_decoder_in_forward else unit_rows(W_dec))
        if cfg.decoder_bias:
            self.b_dec_ND = nn.Parameter(torch.zeros(self.n, self.d_in))
        else:
            self.register_buffer("b_dec_ND", torch.zeros(self.n, self.d_in))
        self.constrain_decoder_norm = not cfg.normalize_decoder_in_forward
        self._decoder_bias = cfg.decoder_bias
        self._apply_b_dec = cfg.decoder_bias and cfg.apply_b_dec_to_input

    def _load_from_state_dict(
        self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        # Without a decoder bias b_dec_ND is a zero buffer. Checkpoints written before 2026-11-27 stored the data
        # centre there (Trainer.initialize_from_data), which training ignored and decode() added: it is zeroed here.
        key = prefix + "b_dec_ND"
        if not self._decoder_bias and key in state_dict:
            state_dict[key] = torch.zeros_like(state_dict[key])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def decoder_NFD(self) -> Tensor:
        cfg: ReluL1UntiedConfig = self.configs[0]  # type: ignore[assignment]
        return unit_rows(self.W_dec_NFD) if cfg.normalize_decoder_in_forward else self.W_dec_NFD

    def _encode_norm(self, xn: Tensor) -> Tensor:
        xc = xn[None] - self.b_dec_ND[:, None, :] if self._apply_b_dec else xn[None]
        return torch.relu(torch.matmul(xc, self.W_enc_NFD.transpose(1, 2)) + self.b_enc_NF[:, None, :])

    def forward(
        self, x: Tensor, *, dead_mask: Tensor | None = None, sparsity_scale: float = 1.0
    ) -> DictionaryOutput:
        cfg: ReluL1UntiedConfig = self.configs[0]  # type: ignore[assignment]
        xn = self.normalise(x)
        if (
            self.fused_step
            and torch.is_grad_enabled()
            and cfg.normalize_decoder_in_forward
            and not cfg.decoder_bias
        ):
            return self._seed_forward(xn, sparsity_scale)
        codes = self._encode_norm(xn)
        recon = torch.bmm(codes, self.decoder_NFD()) + self.b_dec_ND[:, None, :]
        return l1_output(self, xn, recon, codes, sparsity_scale)

    def _seed_forward(self, xn: Tensor, sparsity_scale: float) -> DictionaryOutput:
        alpha = l1_weights(self.configs, self.d_sae, xn)  # type: ignore[arg-type]
        total, rec, l1, recon, codes, l0, fired = _SeedStep.apply(
            xn,
            self.W_enc_NFD,
            self.b_enc_NF,
            self.W_dec_NFD,
            alpha,
            float(sparsity_scale),
            self.sparse_density,
        )
        aux = {"mse": rec, "fvu": fvu_of_mse(rec, xn, self.variance_override), "l0": l0, "fired": fired}
        losses = {"reconstruction": rec, "l1": l1, "total": total}
        return DictionaryOutput(recon * self.act_scale, codes, None, None, total.sum(), losses, aux)

    def encode(self, x: Tensor) -> Tensor:
        return self._encode_norm(self.normalise(x))

    def decode(self, codes: Tensor) -> Tensor:
        return (torch.bmm(codes, self.decoder_NFD()) + self.b_dec_ND[:, None, :]) * self.act_scale

    @torch.no_grad()
    def resample(self, dead_mask: Tensor, x_norm: Tensor, sq_err: Tensor, generator: torch.Generator) -> None:
        picks = pick_resample_inputs(dead_mask, sq_err, x_norm, generator)
        alive_norm = self.W_enc_NFD.norm(dim=-1)
        for m, rows in enumerate(picks):
            if rows.shape[0]:
                d = unit_rows(rows - self.b_dec_ND[m])
                alive = ~dead_mask[m]
                scale = float(alive_norm[m][alive].mean()) if bool(alive.any()) else 1.0
                self.W_dec_NFD[m, dead_mask[m]] = d
                self.W_enc_NFD[m, dead_mask[m]] = d * 0.2 * scale
                self.b_enc_NF[m, dead_mask[m]] = 0.0

    @torch.no_grad()
    def saelens_state(self, member: int) -> tuple[dict[str, Any], dict[str, Tensor]]:
        weights = {
            "W_enc": self.W_enc_NFD[member].t().contiguous(),
            "W_dec": self.decoder_NFD()[member].clone(),
            "b_enc": self.b_enc_NF[member].clone(),
            "b_dec": self.b_dec_ND[member].clone(),
        }
        return {"architecture": "standard", "apply_b_dec_to_input": self._apply_b_dec}, weights

    @torch.no_grad()
    def load_saelens_state(self, member: int, weights: dict[str, Tensor]) -> None:
        self.W_enc_NFD[member].copy_(weights["W_enc"].t())
        self.b_enc_NF[member].copy_(weights["b_enc"])
        self.W_dec_NFD[member].copy_(weights["W_dec"])
        if self._decoder_bias:  # without one, b_dec stays zero (see _load_from_state_dict)
            self.b_dec_ND[member].copy_(weights["b_dec"])


class _SeedStep(torch.autograd.Function):
    """The seed's training loss for n stacked members on a shared batch, with a hand-derived backward.

    Forward: ``c = relu(x W_encᵀ + b_enc)``, ``Ŵ = W_dec / ‖W_dec‖_row``, ``x̂ = c Ŵ``,
    ``total = mean((x̂ - x)²) + s · α · mean_batch Σ c`` (α already ÷ d_sae for the divided convention; c ≥ 0, so
    Σ|c| = Σc). Outputs ``(total, reconstruction, l1, x̂, c, l0, fired)``; only ``total`` carries gradients.
    Backward, per member with upstream g_t: ``g = 2 g_t (x̂ - x) / (B·D)``, ``∂Ŵ = cᵀ g``,
    ``∂W_dec = (∂Ŵ - Ŵ ⟨∂Ŵ, Ŵ⟩_row) / ‖W_dec‖``, ``∂c = (g Ŵᵀ + g_t s α / B) ⊙ [c > 0]``, ``∂W_enc = ∂cᵀ x``,
    ``∂b_enc = Σ_batch ∂c`` (and ``∂x = Σ_members (∂c W_enc - g)`` when x needs a gradient).

    On a CPU, members whose share of non-zero codes is at most ``sparse_density`` take the decoder product and the
    three backward products as sparse ones (:class:`StackedSparseCodes`); the others stay dense. In a grid group the
    small-coefficient members stay dense (a fifth to a third of their codes fire) while the large-coefficient ones
    fall below 1% within a few dozen steps, so the split is per member.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        xn: Tensor,
        W_enc: Tensor,
        b_enc: Tensor,
        W_dec: Tensor,
        alpha: Tensor,
        scale: float,
        sparse_density: float = 0.0,
    ) -> tuple[Tensor, ...]:
        n, F, D = W_enc.shape
        B = xn.shape[0]
        # under torch.autocast (bfloat16) the two products run in bfloat16 and so do the codes; the backward
        # products follow the codes' dtype; parameters, gradients and losses stay float32
        # bmm then add_: baddbmm first copies the broadcast bias into its (n, B, F) output, 20% slower on a CPU
        codes = torch.bmm(xn.expand(n, B, D), W_enc.transpose(1, 2)).add_(b_enc[:, None, :]).relu_()
        norm = W_dec.norm(dim=-1, keepdim=True)
        W_hat = W_dec / norm.clamp_min(1e-8)
        active = codes > 0
        # codes ≥ 0, so sign() is the 0/1 mask as floats (a bool mask's sum copies it into int64 first)
        per_row = _sum_as(codes.sign(), -1, torch.float32)
        l0 = per_row.mean(-1)
        fired = codes.amax(1) > 0  # 3-5x faster than active.any(1), a reduction over the middle axis
        if sparse_density > 0 and codes.device.type == "cpu" and codes.dtype == W_hat.dtype:
            split = _Split(per_row.sum(-1) <= sparse_density * B * F)
        else:  # GPU, bfloat16 or switched off: no per-step decision (and no device sync)
            split = _Split(None)
        ctx.split = split
        ctx.sparse_codes = None
        # only ``total`` is differentiable: no zero tensors for the other outputs' gradients
        ctx.set_materialize_grads(False)
        dense_saved: tuple[Tensor, ...] = ()
        # a mixed split runs in one dtype (bfloat16 never splits), so both paths write into one output
        recon = codes.new_empty(n, B, D) if split.mixed else None
        if split.dense is not None:
            c_d, a_d = split.take_dense(codes), split.take_dense(active)
            into = split.view_dense(recon)
            part = torch.bmm(c_d, split.take_dense(W_hat), out=into)
            if recon is None:
                recon = part
            elif into is None:
                split.put_dense(recon, part)
            dense_saved = (c_d, a_d)
        if split.sparse is not None:
            c_s = split.take_sparse(codes)
            # nonzero over the bool mask: faster than over the float codes
            flat = split.take_sparse(active).reshape(-1).nonzero().squeeze(1)
            sp = StackedSparseCodes(flat, c_s.reshape(-1)[flat], c_s.shape[0], B, F)
            into = split.view_sparse(recon)
            part = sp.mm(
                split.take_sparse(W_hat).reshape(-1, D), out=None if into is None else into.view(-1, D)
            )
            if recon is None:
                recon = part.view(-1, B, D)
            elif into is None:
                split.put_sparse(recon, part.view(-1, B, D))
            ctx.sparse_codes = sp
        assert recon is not None
        recon = recon.to(xn.dtype)
        diff = recon - xn
        rec = diff.pow(2).mean(dim=(1, 2))
        l1 = alpha * _sum_as(codes, -1, xn.dtype).mean(-1)
        ctx.scale = scale
        ctx.save_for_backward(xn, W_enc, W_hat, norm, diff, alpha, *dense_saved)
        ctx.mark_non_differentiable(rec, l1, recon, codes, l0, fired)
        return rec + scale * l1, rec, l1, recon, codes, l0, fired

    @staticmethod
    def backward(ctx: Any, g_total: Tensor, *_: Any) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        xn, W_enc, W_hat, norm, diff, alpha, *dense_saved = ctx.saved_tensors
        B, D = diff.shape[1:]
        split: _Split = ctx.split
        g = diff * (g_total * (2.0 / (B * D)))[:, None, None]
        l1_grad = g_total * ctx.scale * alpha / B  # ∂total/∂c for an active code, from the L1 term
        dense = (_dense_grads, tuple(dense_saved))
        sparse = (_sparse_grads, (ctx.sparse_codes,))
        if not split.mixed:
            # one path has every member: its gradients as they are, no gather or scatter
            grads, saved = dense if split.sparse is None else sparse
            gx, grad_W_enc, grad_b_enc, grad_W_dec = grads(
                g, xn, W_enc, W_hat, norm, l1_grad, saved, ctx.needs_input_grad, (None, None, None)
            )
            grad_x = gx - g.sum(0) if gx is not None else None
            return grad_x, grad_W_enc, grad_b_enc, grad_W_dec, None, None, None
        need_x, need_enc, need_b, need_dec = ctx.needs_input_grad[:4]
        # empty is safe: every member's rows are written by exactly one of the two paths below
        grad_W_enc = torch.empty_like(W_enc) if need_enc else None
        grad_b_enc = torch.empty(W_enc.shape[:2], dtype=W_enc.dtype, device=W_enc.device) if need_b else None
        grad_W_dec = torch.empty_like(W_hat) if need_dec else None
        grad_x = -g.sum(0) if need_x else None
        outputs = (grad_W_enc, grad_b_enc, grad_W_dec)
        for take, view, put, (grads, saved) in (
            (split.take_dense, split.view_dense, split.put_dense, dense),
            (split.take_sparse, split.view_sparse, split.put_sparse, sparse),
        ):
            # a contiguous run of members writes straight into its slice of the outputs; a scattered one is put
            views = (view(grad_W_enc), view(grad_b_enc), view(grad_W_dec))
            gx, ge, gb, gd = grads(
                take(g),
                xn,
                take(W_enc),
                take(W_hat),
                take(norm),
                take(l1_grad),
                saved,
                ctx.needs_input_grad,
                views,
            )
            if grad_x is not None:
                grad_x += gx
            for out, into, value in zip(outputs, views, (ge, gb, gd), strict=True):
                if out is not None and into is None:
                    put(out, value)
        return grad_x, grad_W_enc, grad_b_enc, grad_W_dec, None, None, None


class _Split:
    """Which stacked members take the dense path and which the sparse one. A path's members form a slice when they
    are contiguous — the usual case, as a grid group's coefficients are sorted and the large ones go sparse — so
    ``take`` is a view and ``view`` gives the slice of an output to write into; otherwise they are gathered and
    ``put`` scatters (``view`` gives None)."""

    def __init__(self, sparse: Tensor | None) -> None:
        """``sparse``: (n,) bool, which members go sparse; None: all dense."""
        self.sparse = None if sparse is None else self._members(sparse.nonzero().squeeze(1))
        self.dense: Tensor | slice | None = (
            slice(None) if sparse is None else self._members((~sparse).nonzero().squeeze(1))
        )
        self.mixed = self.sparse is not None and self.dense is not None

    @staticmethod
    def _members(idx: Tensor) -> Tensor | slice | None:
        if idx.numel() == 0:
            return None
        first, last = int(idx[0]), int(idx[-1])
        return slice(first, last + 1) if last - first + 1 == idx.numel() else idx

    @staticmethod
    def _take(t: Tensor, idx: Tensor | slice | None) -> Tensor:
        return t[idx] if isinstance(idx, slice) else t.index_select(0, idx)  # type: ignore[arg-type]

    @staticmethod
    def _view(out: Tensor | None, idx: Tensor | slice | None) -> Tensor | None:
        return out[idx] if out is not None and isinstance(idx, slice) else None

    @staticmethod
    def _put(out: Tensor, idx: Tensor | slice | None, value: Tensor) -> None:
        if isinstance(idx, slice):
            out[idx].copy_(value)
        else:
            out.index_copy_(0, idx, value.to(out.dtype))  # type: ignore[arg-type]

    def take_dense(self, t: Tensor) -> Tensor:
        return self._take(t, self.dense)

    def take_sparse(self, t: Tensor) -> Tensor:
        return self._take(t, self.sparse)

    def view_dense(self, out: Tensor | None) -> Tensor | None:
        return self._view(out, self.dense)

    def view_sparse(self, out: Tensor | None) -> Tensor | None:
        return self._view(out, self.sparse)

    def put_dense(self, out: Tensor, value: Tensor) -> None:
        self._put(out, self.dense, value)

    def put_sparse(self, out: Tensor, value: Tensor) -> None:
        self._put(out, self.sparse, value)


#: (∂W_enc, ∂b_enc, ∂W_dec) slices to write into, or None to allocate
_Into = tuple[Tensor | None, Tensor | None, Tensor | None]


def _sum_as(t: Tensor, dim: int, dtype: torch.dtype, out: Tensor | None = None) -> Tensor:
    """``t.sum(dim)`` in ``dtype``, into ``out`` when given. The dtype argument is passed only when it differs from
    ``t``'s: ``sum(dtype=...)`` copies its whole input first, even to the same dtype."""
    kw: dict[str, Any] = {} if t.dtype == dtype else {"dtype": dtype}
    return torch.sum(t, dim, **kw) if out is None else torch.sum(t, dim, **kw, out=out)


def _bmm(a: Tensor, b: Tensor, dtype: torch.dtype, out: Tensor | None) -> Tensor:
    """``bmm(a, b)`` in ``dtype``, into ``out`` when given."""
    if out is None:
        return torch.bmm(a, b).to(dtype)
    if a.dtype == out.dtype:
        return torch.bmm(a, b, out=out)
    return out.copy_(torch.bmm(a, b))


def _dense_grads(
    g: Tensor,
    xn: Tensor,
    W_enc: Tensor,
    W_hat: Tensor,
    norm: Tensor,
    l1_grad: Tensor,
    saved: tuple[Tensor, ...],
    needs: tuple[bool, ...],
    into: _Into,
) -> tuple[Tensor | None, ...]:
    """(Σ_members ∂c W_enc, ∂W_enc, ∂b_enc, ∂W_dec) of the members in ``g`` with dense codes."""
    codes, active = saved
    n, B, D = g.shape
    low = codes.dtype  # the products' dtype (float32, or bfloat16 under autocast)
    g_low = g.to(low)
    grad_W_dec = None
    if needs[3]:
        grad_W_dec = _through_row_norm(_bmm(codes.transpose(1, 2), g_low, W_hat.dtype, into[2]), W_hat, norm)
    g_codes = torch.bmm(g_low, W_hat.to(low).transpose(1, 2))
    g_codes.add_(l1_grad[:, None, None]).masked_fill_(active.logical_not(), 0.0)
    grad_x = grad_W_enc = grad_b_enc = None
    if needs[0]:
        grad_x = torch.bmm(g_codes, W_enc.to(low)).sum(0, dtype=xn.dtype)
    if needs[1]:
        grad_W_enc = _bmm(g_codes.transpose(1, 2), xn.to(low).expand(n, B, D), W_enc.dtype, into[0])
    if needs[2]:
        grad_b_enc = _sum_as(g_codes, 1, W_enc.dtype, out=into[1])
    return grad_x, grad_W_enc, grad_b_enc, grad_W_dec


def _sparse_grads(
    g: Tensor,
    xn: Tensor,
    W_enc: Tensor,
    W_hat: Tensor,
    norm: Tensor,
    l1_grad: Tensor,
    saved: tuple[Any, ...],
    needs: tuple[bool, ...],
    into: _Into,
) -> tuple[Tensor | None, ...]:
    """:func:`_dense_grads` with the codes as a sparse matrix (float32 or float64)."""
    (sp,) = saved
    n, B, D = g.shape
    F = sp.F
    g_flat = g.reshape(n * B, D)

    def flat(t: Tensor | None) -> Tensor | None:
        return None if t is None else t.view(-1, D)

    grad_W_dec = None
    if needs[3]:
        grad_W_dec = _through_row_norm(sp.t_mm(g_flat, out=flat(into[2])).view(n, F, D), W_hat, norm)
    # ∂c at the non-zeros (where c > 0): the sampled product g Ŵᵀ plus the L1 term of the code's member
    g_vals = sp.sample(g_flat, W_hat.reshape(n * F, D))
    g_vals += l1_grad[sp.cols // F]
    grad_x = grad_W_enc = grad_b_enc = None
    if needs[0]:
        grad_x = sp.mm(W_enc.reshape(n * F, D), g_vals).view(n, B, D).sum(0)
    if needs[1]:
        grad_W_enc = sp.t_mm(xn, g_vals, out=flat(into[0])).view(n, F, D)  # xn is shared by every member
    if needs[2]:
        b = torch.zeros(n * F, dtype=W_enc.dtype) if into[1] is None else into[1].view(-1).zero_()
        grad_b_enc = b.index_add_(0, sp.cols, g_vals).view(n, F)
    return grad_x, grad_W_enc, grad_b_enc, grad_W_dec


def _through_row_norm(g_hat: Tensor, W_hat: Tensor, norm: Tensor) -> Tensor:
    """Gradient w.r.t. W_dec from the gradient w.r.t. Ŵ = W_dec / ‖W_dec‖_row (in place on ``g_hat``)."""
    radial = (g_hat * W_hat).sum(-1, keepdim=True)
    tiny = norm < 1e-8  # clamp_min passes no gradient to a (numerically) zero row norm
    return g_hat.addcmul_(W_hat, radial.masked_fill_(tiny, 0.0), value=-1.0).div_(norm.clamp_min(1e-8))
