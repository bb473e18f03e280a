"""Tied ReLU + L1 dictionary, exactly as the seed (Cunningham et al. 2023, ``FunctionalTiedSAE``).

c = ReLU(M̂ x + b), x̂ = M̂ᵀ c with M̂ = M / max(‖M_row‖, 1e-8) applied inside the forward pass (the parameter stays
unconstrained); no decoder bias; M ~ xavier_uniform, b = 0; loss = mean over batch and dims of (x̂ - x)² plus
α · mean_batch Σ|c| (optionally ÷ d_sae).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor, nn

from auditlens.sae.architectures._l1 import (
    L1Config,
    l1_output,
    pick_resample_inputs,
    xavier_uniform,
)
from auditlens.sae.base import Dictionary, DictionaryOutput, stack_init, unit_rows
from auditlens.sae.registry import register


class ReluL1TiedConfig(L1Config):
    """Tied ReLU + L1 (seed exact)."""

    architecture: Literal["relu_l1_tied"] = "relu_l1_tied"


@register("relu_l1_tied", ReluL1TiedConfig)
class ReluL1Tied(Dictionary):
    supports_resampling = True
    latent_params = ("M_NFD", "b_enc_NF")

    def _init_params(self, generators: list[torch.Generator]) -> None:
        self.M_NFD = nn.Parameter(stack_init(lambda g: xavier_uniform(self.d_sae, self.d_in, g), generators))
        self.b_enc_NF = nn.Parameter(torch.zeros(self.n, self.d_sae))
        self.constrain_decoder_norm = False

    def dictionary_NFD(self) -> Tensor:
        return unit_rows(self.M_NFD)

    def forward(
        self, x: Tensor, *, dead_mask: Tensor | None = None, sparsity_scale: float = 1.0
    ) -> DictionaryOutput:
        xn = self.normalise(x)
        M = self.dictionary_NFD()
        codes = torch.relu(torch.matmul(xn, M.transpose(1, 2)) + self.b_enc_NF[:, None, :])
        recon = torch.bmm(codes, M)
        return l1_output(self, xn, recon, codes, sparsity_scale)

    def encode(self, x: Tensor) -> Tensor:
        M = self.dictionary_NFD()
        return torch.relu(torch.matmul(self.normalise(x), M.transpose(1, 2)) + self.b_enc_NF[:, None, :])

    def decode(self, codes: Tensor) -> Tensor:
        return torch.bmm(codes, self.dictionary_NFD()) * self.act_scale

    @torch.no_grad()
    def resample(self, dead_mask: Tensor, x_norm: Tensor, sq_err: Tensor, generator: torch.Generator) -> None:
        picks = pick_resample_inputs(dead_mask, sq_err, x_norm, generator)
        for m, rows in enumerate(picks):
            if rows.shape[0]:
                self.M_NFD[m, dead_mask[m]] = unit_rows(rows)
                self.b_enc_NF[m, dead_mask[m]] = 0.0

    @torch.no_grad()
    def saelens_state(self, member: int) -> tuple[dict[str, Any], dict[str, Tensor]]:
        M = self.dictionary_NFD()[member]
        weights = {
            "W_enc": M.t().contiguous(),
            "W_dec": M.clone(),
            "b_enc": self.b_enc_NF[member].clone(),
            "b_dec": torch.zeros(self.d_in, dtype=M.dtype),
        }
        return {"architecture": "standard", "apply_b_dec_to_input": False}, weights

    @torch.no_grad()
    def load_saelens_state(self, member: int, weights: dict[str, Tensor]) -> None:
        self.M_NFD[member].copy_(weights["W_dec"])
        self.b_enc_NF[member].copy_(weights["b_enc"])
