"""BatchTopK dictionary with a learned inference threshold (Bussmann et al. 2024; as dictionary_learning).

Training keeps the ``k · batch`` largest ReLU pre-activations across the whole batch (so L0 averages k but varies
per input), with FVU + AuxK loss. A running threshold — an EMA (β = ``threshold_beta``) of the smallest kept
activation per batch — replaces the batch-level selection at inference: c = pre · 1[pre > θ]. Saved for SAELens as
``jumprelu`` with θ for every latent.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field
from torch import Tensor

from auditlens.sae.architectures._encdec import EncDecDictionary, KSparseConfig
from auditlens.sae.base import DictionaryOutput, auxk_loss, auxk_select, standard_aux
from auditlens.sae.registry import register


class BatchTopKConfig(KSparseConfig):
    """BatchTopK + AuxK + learned inference threshold."""

    architecture: Literal["batchtopk"] = "batchtopk"
    k: int = Field(default=32, gt=0, description="Mean active latents per input (k · batch kept per batch).")
    threshold_beta: float = Field(
        default=0.999, ge=0, lt=1, description="EMA factor of the inference threshold."
    )


@register("batchtopk", BatchTopKConfig)
class BatchTopK(EncDecDictionary):
    def _init_params(self, generators: list[torch.Generator]) -> None:
        super()._init_params(generators)
        # -1 = not yet set; the first training batch sets it.
        self.register_buffer("threshold_N", torch.full((self.n,), -1.0))

    def select(self, pre: Tensor) -> Tensor:
        """(n, B, F) ReLU pre-activations -> codes keeping the top k·B per member across the batch."""
        cfg: BatchTopKConfig = self.configs[0]  # type: ignore[assignment]
        n, B, F_ = pre.shape
        flat = pre.reshape(n, -1)
        vals, idx = flat.topk(min(cfg.k * B, B * F_), dim=-1, sorted=False)
        return torch.zeros_like(flat).scatter(-1, idx, vals).view(n, B, F_)

    @torch.no_grad()
    def _update_threshold(self, codes: Tensor) -> None:
        cfg: BatchTopKConfig = self.configs[0]  # type: ignore[assignment]
        pos = torch.where(codes > 0, codes, torch.full_like(codes, float("inf")))
        mins = pos.flatten(1).min(-1).values
        ok = torch.isfinite(mins)
        new = torch.where(
            self.threshold_N < 0,
            mins,
            cfg.threshold_beta * self.threshold_N + (1 - cfg.threshold_beta) * mins,
        )
        self.threshold_N.copy_(torch.where(ok, new, self.threshold_N))

    def reconstruct_from_codes(self, codes: Tensor) -> Tensor:
        return torch.bmm(codes, self.W_dec_NFD) + self.b_dec_ND[:, None, :]

    def train_losses(self, xn: Tensor, codes: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Reconstruction (normalised units) and the reconstruction loss terms (overridden by Matryoshka)."""
        recon = self.reconstruct_from_codes(codes)
        fvu = self.fvu(xn, recon)
        return recon, {"reconstruction": fvu}

    def forward(
        self, x: Tensor, *, dead_mask: Tensor | None = None, sparsity_scale: float = 1.0
    ) -> DictionaryOutput:
        cfg: BatchTopKConfig = self.configs[0]  # type: ignore[assignment]
        xn = self.normalise(x)
        pre = torch.relu(self.pre_acts(self.centred_input(xn)))
        codes = self.select(pre)
        if self.training:
            self._update_threshold(codes.detach())
        recon, losses = self.train_losses(xn, codes)
        total = sum(losses.values())
        aux_sel = auxk_select(pre, dead_mask, cfg.k_aux_effective)
        if aux_sel is not None and cfg.aux_coefficient > 0:
            assert dead_mask is not None
            aux_idx, scale = aux_sel
            valid = dead_mask.gather(1, aux_idx.reshape(self.n, -1)).view_as(aux_idx)
            aux_vals = pre.gather(-1, aux_idx) * valid
            e_hat = torch.zeros_like(pre).scatter(-1, aux_idx, aux_vals).bmm(self.W_dec_NFD)
            aux_l = auxk_loss(e_hat, xn - recon, xn, scale, self.variance_override)
            losses["auxk"] = aux_l
            total = total + cfg.aux_coefficient * aux_l
        losses["total"] = total
        with torch.no_grad():
            active = codes > 0
            aux = standard_aux(
                xn, recon.detach(), active.sum(-1).float().mean(-1), active.any(1), self.variance_override
            )
        return DictionaryOutput(recon * self.act_scale, codes, None, None, total.sum(), losses, aux)

    def encode(self, x: Tensor) -> Tensor:
        """Inference: c = ReLU(pre) · 1[pre > θ] with the learned threshold (per input, no batch coupling)."""
        pre = torch.relu(self.pre_acts(self.centred_input(self.normalise(x))))
        thr = self.threshold_N.clamp_min(0)[:, None, None]
        return pre * (pre > thr)

    def saelens_state(self, member: int) -> tuple[dict[str, Any], dict[str, Tensor]]:
        cfg: BatchTopKConfig = self.configs[0]  # type: ignore[assignment]
        weights = self.base_weights(member)
        weights["threshold"] = torch.full((self.d_sae,), float(self.threshold_N[member].clamp_min(0)))
        return {"architecture": "jumprelu", "apply_b_dec_to_input": cfg.apply_b_dec_to_input}, weights

    @torch.no_grad()
    def load_saelens_state(self, member: int, weights: dict[str, Tensor]) -> None:
        super().load_saelens_state(member, weights)
        self.threshold_N[member] = weights["threshold"].max()
