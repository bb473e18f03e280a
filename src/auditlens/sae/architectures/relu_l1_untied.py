"""Untied ReLU + L1 dictionary (seed ``FunctionalSAE``).

c = ReLU(W_enc (x - b_dec·[apply]) + b_enc), x̂ = Ŵ_decᵀ c (+ b_dec). Seed-exact defaults: decoder rows normalised
inside the forward pass, encoder bias only (no decoder bias), xavier init, per-element MSE + α · mean_batch Σ|c|.
The options ``decoder_bias`` and ``normalize_decoder_in_forward=False`` cover SAELens's ``standard`` layout.

Training the seed layout (no decoder bias, decoder normalised in the forward pass) goes through one hand-derived
autograd function, :class:`_SeedStep`: the same loss and gradients as the autograd graph (a parity test checks them),
with two (n, batch, d_sae) buffers instead of autograd's half-dozen and fewer elementwise passes. Its speed-up over
the graph, by group size and option, is measured by ``benchmarks/seed_step.py``.
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
from auditlens.sae.base import Dictionary, DictionaryOutput, batch_fvu, stack_init, unit_rows
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
        self._apply_b_dec = cfg.decoder_bias and cfg.apply_b_dec_to_input

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
        return l1_output(self.configs, xn, recon, codes, sparsity_scale, self.act_scale)  # type: ignore[arg-type]

    def _seed_forward(self, xn: Tensor, sparsity_scale: float) -> DictionaryOutput:
        alpha = l1_weights(self.configs, self.d_sae, xn)  # type: ignore[arg-type]
        total, rec, l1, recon, codes, l0, fired = _SeedStep.apply(
            xn, self.W_enc_NFD, self.b_enc_NF, self.W_dec_NFD, alpha, float(sparsity_scale)
        )
        aux = {"mse": rec, "fvu": batch_fvu(xn, recon), "l0": l0, "fired": fired}
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
        self.b_dec_ND[member].copy_(weights["b_dec"])


class _SeedStep(torch.autograd.Function):
    """The seed's training loss for n stacked members on a shared batch, with a hand-derived backward.

    Forward: ``c = relu(x W_encᵀ + b_enc)``, ``Ŵ = W_dec / ‖W_dec‖_row``, ``x̂ = c Ŵ``,
    ``total = mean((x̂ - x)²) + s · α · mean_batch Σ c`` (α already ÷ d_sae for the divided convention; c ≥ 0, so
    Σ|c| = Σc). Outputs ``(total, reconstruction, l1, x̂, c, l0, fired)``; only ``total`` carries gradients.
    Backward, per member with upstream g_t: ``g = 2 g_t (x̂ - x) / (B·D)``, ``∂Ŵ = cᵀ g``,
    ``∂W_dec = (∂Ŵ - Ŵ ⟨∂Ŵ, Ŵ⟩_row) / ‖W_dec‖``, ``∂c = (g Ŵᵀ + g_t s α / B) ⊙ [c > 0]``, ``∂W_enc = ∂cᵀ x``,
    ``∂b_enc = Σ_batch ∂c`` (and ``∂x = Σ_members (∂c W_enc - g)`` when x needs a gradient).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, xn: Tensor, W_enc: Tensor, b_enc: Tensor, W_dec: Tensor, alpha: Tensor, scale: float
    ) -> tuple[Tensor, ...]:
        n, _, D = W_enc.shape
        B = xn.shape[0]
        # under torch.autocast (bfloat16) the two products run in bfloat16 and so do the codes; the backward
        # products follow the codes' dtype; parameters, gradients and losses stay float32
        codes = torch.baddbmm(b_enc[:, None, :], xn.expand(n, B, D), W_enc.transpose(1, 2)).relu_()
        norm = W_dec.norm(dim=-1, keepdim=True)
        W_hat = W_dec / norm.clamp_min(1e-8)
        recon = torch.bmm(codes, W_hat).to(xn.dtype)
        diff = recon - xn
        rec = diff.pow(2).mean(dim=(1, 2))
        l1 = alpha * codes.sum(-1, dtype=xn.dtype).mean(-1)
        active = codes > 0
        l0 = active.sum(-1).float().mean(-1)
        fired = active.any(1)
        ctx.scale = scale
        ctx.save_for_backward(xn, W_enc, codes, active, W_hat, norm, diff, alpha)
        ctx.mark_non_differentiable(rec, l1, recon, codes, l0, fired)
        return rec + scale * l1, rec, l1, recon, codes, l0, fired

    @staticmethod
    def backward(ctx: Any, g_total: Tensor, *_: Any) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        xn, W_enc, codes, active, W_hat, norm, diff, alpha = ctx.saved_tensors
        n, B, D = diff.shape
        low = codes.dtype  # the products' dtype (float32, or bfloat16 under autocast)
        g = diff * (g_total * (2.0 / (B * D)))[:, None, None]
        g_low = g.to(low)
        grad_W_dec = None
        if ctx.needs_input_grad[3]:
            g_hat = torch.bmm(codes.transpose(1, 2), g_low).to(W_hat.dtype)
            radial = (g_hat * W_hat).sum(-1, keepdim=True)
            tiny = norm < 1e-8  # clamp_min passes no gradient to a (numerically) zero row norm
            grad_W_dec = g_hat.addcmul_(W_hat, radial.masked_fill_(tiny, 0.0), value=-1.0).div_(
                norm.clamp_min(1e-8)
            )
        g_codes = torch.bmm(g_low, W_hat.to(low).transpose(1, 2))
        g_codes.add_((g_total * ctx.scale * alpha / B)[:, None, None]).masked_fill_(active.logical_not(), 0.0)
        grad_x = grad_W_enc = grad_b_enc = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.bmm(g_codes, W_enc.to(low)).sum(0, dtype=xn.dtype) - g.sum(0)
        if ctx.needs_input_grad[1]:
            grad_W_enc = torch.bmm(g_codes.transpose(1, 2), xn.to(low).expand(n, B, D)).to(W_enc.dtype)
        if ctx.needs_input_grad[2]:
            grad_b_enc = g_codes.sum(1, dtype=W_enc.dtype)
        return grad_x, grad_W_enc, grad_b_enc, grad_W_dec, None, None
