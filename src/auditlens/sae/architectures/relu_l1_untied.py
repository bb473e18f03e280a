"""Untied ReLU + L1 dictionary (seed ``FunctionalSAE``).

c = ReLU(W_enc (x - b_dec·[apply]) + b_enc), x̂ = Ŵ_decᵀ c (+ b_dec). Seed-exact defaults: decoder rows normalised
inside the forward pass, encoder bias only (no decoder bias), xavier init, per-element MSE + α · mean_batch Σ|c|.
The options ``decoder_bias`` and ``normalize_decoder_in_forward=False`` cover SAELens's ``standard`` layout.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from auditlens.sae.architectures._l1 import (
    L1Config,
    l1_output,
    pick_resample_inputs,
    xavier_uniform,
)
from auditlens.sae.base import Dictionary, DictionaryOutput, stack_init, unit_rows
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
        xn = self.normalise(x)
        codes = self._encode_norm(xn)
        recon = torch.bmm(codes, self.decoder_NFD()) + self.b_dec_ND[:, None, :]
        return l1_output(self.configs, xn, recon, codes, sparsity_scale, self.act_scale)  # type: ignore[arg-type]

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
