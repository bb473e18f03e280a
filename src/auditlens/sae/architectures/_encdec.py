"""Shared pieces of the encoder/decoder dictionaries with a decoder bias (TopK, BatchTopK, JumpReLU, ...)."""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import Tensor, nn

from auditlens.sae.base import Dictionary, DictionaryConfig, stack_init, unit_rows
from auditlens.sae.errors import ConfigError


class EncDecConfig(DictionaryConfig):
    """Settings shared by dictionaries with encoder, decoder and decoder bias."""

    apply_b_dec_to_input: bool = Field(
        default=True, description="Subtract b_dec from the input before encoding."
    )


class KSparseConfig(EncDecConfig):
    """Settings shared by the k-sparse dictionaries trained with the AuxK dead-latent loss (TopK, BatchTopK, …)."""

    k: int = Field(default=32, gt=0, description="Active latents per input.")
    k_aux: int | None = Field(default=None, description="AuxK latents per input; None = d_in // 2.")
    aux_coefficient: float = Field(default=1 / 32, ge=0, description="Weight of the AuxK loss.")

    def model_post_init(self, context: Any, /) -> None:
        if self.k > self.d_sae:
            raise ConfigError(
                f"k = {self.k} is larger than the width d_sae = {self.d_sae}", hint="use k <= d_sae"
            )

    @property
    def k_aux_effective(self) -> int:
        return self.k_aux if self.k_aux is not None else max(1, self.d_in // 2)


class EncDecDictionary(Dictionary):
    """Parameters ``W_enc_NFD`` (n, d_sae, d_in), ``b_enc_NF``, ``W_dec_NFD`` (unit rows), ``b_dec_ND``.

    Init (as sparsify / dictionary_learning): random unit decoder rows, encoder = decoder (tied at init),
    zero biases; the trainer sets ``b_dec`` from the data.
    """

    def _init_params(self, generators: list[torch.Generator]) -> None:
        W = stack_init(lambda g: unit_rows(torch.randn(self.d_sae, self.d_in, generator=g)), generators)
        self.W_enc_NFD = nn.Parameter(W.clone())
        self.b_enc_NF = nn.Parameter(torch.zeros(self.n, self.d_sae))
        self.W_dec_NFD = nn.Parameter(W.clone())
        self.b_dec_ND = nn.Parameter(torch.zeros(self.n, self.d_in))
        self._apply_b_dec = bool(getattr(self.configs[0], "apply_b_dec_to_input", True))

    def centred_input(self, xn: Tensor) -> Tensor:
        """(B, D) normalised input -> (n or 1, B, D) encoder input."""
        return xn[None] - self.b_dec_ND[:, None, :] if self._apply_b_dec else xn[None]

    def pre_acts(self, xc: Tensor) -> Tensor:
        """(n|1, B, D) -> (n, B, F) encoder pre-activations."""
        if xc.shape[0] == 1 and self.n > 1:
            xc = xc.expand(self.n, -1, -1)
        W, b = self.W_enc_NFD, self.b_enc_NF
        if xc.dtype != W.dtype:  # low-precision selection pass (no grad)
            W, b = W.detach().to(xc.dtype), b.detach().to(xc.dtype)
        return torch.baddbmm(b[:, None, :], xc, W.transpose(1, 2))

    def decode(self, codes: Tensor) -> Tensor:
        return (torch.bmm(codes, self.W_dec_NFD) + self.b_dec_ND[:, None, :]) * self.act_scale

    def base_weights(self, member: int) -> dict[str, Tensor]:
        return {
            "W_enc": self.W_enc_NFD[member].detach().t().contiguous(),
            "W_dec": self.W_dec_NFD[member].detach().clone(),
            "b_enc": self.b_enc_NF[member].detach().clone(),
            "b_dec": self.b_dec_ND[member].detach().clone(),
        }

    @torch.no_grad()
    def load_saelens_state(self, member: int, weights: dict[str, Tensor]) -> None:
        self.W_enc_NFD[member].copy_(weights["W_enc"].t())
        self.b_enc_NF[member].copy_(weights["b_enc"])
        self.W_dec_NFD[member].copy_(weights["W_dec"])
        self.b_dec_ND[member].copy_(weights["b_dec"])
