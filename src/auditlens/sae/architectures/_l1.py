"""Shared pieces of the ReLU + L1 dictionaries (seed §5.2)."""

from __future__ import annotations

import math

import torch
from pydantic import Field
from torch import Tensor

from auditlens.sae.base import Dictionary, DictionaryConfig, DictionaryOutput, standard_aux


class L1Config(DictionaryConfig):
    """ReLU + L1 settings: loss = mean((x̂ - x)²) + α · mean_batch Σ_i |c_i|  (÷ d_sae if asked)."""

    coefficient: float = Field(
        default=8.6e-4, ge=0, description="L1 coefficient α (seed residual value 8.6e-4)."
    )
    divide_by_dict_size: bool = Field(
        default=False,
        description="Use the original convention: the L1 term is divided by the dictionary size.",
    )

    def default_lr(self) -> float:
        """1e-3, the seed's Adam learning rate for ReLU + L1 dictionaries (§5.2)."""
        return 1e-3


def xavier_uniform(F_: int, D: int, g: torch.Generator) -> Tensor:
    """``nn.init.xavier_uniform_`` on a (F, D) matrix, drawn from generator ``g``."""
    bound = math.sqrt(6.0 / (F_ + D))
    return (torch.rand(F_, D, generator=g) * 2 - 1) * bound


def l1_weights(cfgs: list[L1Config], d_sae: int, like: Tensor) -> Tensor:
    """Per-member weight of mean_batch Σ|c| in the loss: α, ÷ d_sae in the divided convention (dtype/device of
    ``like``)."""
    alpha = torch.tensor([c.coefficient for c in cfgs], dtype=like.dtype, device=like.device)
    return alpha / d_sae if cfgs[0].divide_by_dict_size else alpha


def l1_terms(cfgs: list[L1Config], codes_NBF: Tensor) -> Tensor:
    """Per-member α · mean_batch Σ|c| (÷ d_sae when configured)."""
    return l1_weights(cfgs, codes_NBF.shape[-1], codes_NBF) * codes_NBF.abs().sum(-1).mean(-1)


def l1_output(
    module: Dictionary, xn: Tensor, recon: Tensor, codes: Tensor, sparsity_scale: float
) -> DictionaryOutput:
    """The train-step output of a ReLU + L1 dictionary (normalised units in, raw units out); the FVU diagnostic honours
    the module's ``variance_override`` (data parallel)."""
    cfgs: list[L1Config] = module.configs  # type: ignore[assignment]
    act_scale, variance = module.act_scale, module.variance_override
    rec = (recon - xn).pow(2).mean(dim=(1, 2))
    l1 = l1_terms(cfgs, codes)
    total = rec + sparsity_scale * l1
    with torch.no_grad():
        active = codes > 0
        aux = standard_aux(xn, recon, active.sum(-1).float().mean(-1), active.any(1), variance)
    return DictionaryOutput(
        recon * act_scale,
        codes,
        None,
        None,
        total.sum(),
        {"reconstruction": rec, "l1": l1, "total": total},
        aux,
    )


def pick_resample_inputs(
    dead_NF: Tensor, sq_err_NB: Tensor, x_BD: Tensor, g: torch.Generator
) -> list[Tensor]:
    """For each member, draw one input per dead latent with probability ∝ its squared error (Anthropic 2023)."""
    out = []
    for m in range(dead_NF.shape[0]):
        n_dead = int(dead_NF[m].sum())
        if n_dead == 0:
            out.append(x_BD.new_zeros(0, x_BD.shape[1]))
            continue
        p = sq_err_NB[m].double().clamp_min(0).cpu()
        if float(p.sum()) <= 0:
            p = torch.ones_like(p)
        rows = torch.multinomial(p, n_dead, replacement=True, generator=g)
        out.append(x_BD[rows.to(x_BD.device)])
    return out
