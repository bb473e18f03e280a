"""Matryoshka BatchTopK dictionary (Bussmann et al. 2025; Nabeshima 2024; as dictionary_learning / SAELens).

Latents are split into nested groups; the loss is the weighted mean, over every prefix of groups, of the FVU of
the reconstruction that uses only that prefix's latents (plus b_dec). Selection, threshold and AuxK are BatchTopK's.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field
from torch import Tensor

from auditlens.sae.architectures.batchtopk import BatchTopK, BatchTopKConfig
from auditlens.sae.errors import ConfigError
from auditlens.sae.registry import register


class MatryoshkaConfig(BatchTopKConfig):
    """Matryoshka BatchTopK."""

    architecture: Literal["matryoshka"] = "matryoshka"  # type: ignore[assignment]
    group_sizes: tuple[int, ...] | None = Field(
        default=None,
        description="Sizes of the nested latent groups (sum = d_sae). None: fractions 1/16, 1/16, 1/8, 1/4, 1/2 "
        "(the remainder goes to the last group).",
    )
    group_weights: tuple[float, ...] | None = Field(
        default=None, description="Prefix loss weights; None = equal."
    )

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        sizes = self.sizes()
        if sum(sizes) != self.d_sae or min(sizes) <= 0:
            raise ConfigError(
                f"group_sizes {sizes} must be positive and sum to d_sae = {self.d_sae}",
                hint="give positive sizes that add up to the width",
            )
        if self.group_weights is not None and len(self.group_weights) != len(sizes):
            raise ConfigError(
                "group_weights must have one weight per group", hint=f"give {len(sizes)} weights"
            )

    def sizes(self) -> tuple[int, ...]:
        if self.group_sizes is not None:
            return tuple(self.group_sizes)
        fr = [1 / 16, 1 / 16, 1 / 8, 1 / 4]
        s = [max(1, int(self.d_sae * f)) for f in fr]
        return (*s, self.d_sae - sum(s))


@register("matryoshka", MatryoshkaConfig)
class Matryoshka(BatchTopK):
    def train_losses(self, xn: Tensor, codes: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        cfg: MatryoshkaConfig = self.configs[0]  # type: ignore[assignment]
        sizes = cfg.sizes()
        weights = cfg.group_weights or tuple(1.0 / len(sizes) for _ in sizes)
        partial = self.b_dec_ND[:, None, :].expand(self.n, xn.shape[0], self.d_in)
        loss = xn.new_zeros(self.n)
        start = 0
        for size, w in zip(sizes, weights, strict=True):
            end = start + size
            partial = partial + torch.bmm(codes[..., start:end], self.W_dec_NFD[:, start:end])
            loss = loss + w * self.fvu(xn, partial)
            start = end
        return partial, {"reconstruction": loss}
