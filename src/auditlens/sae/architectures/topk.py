"""TopK dictionary with the AuxK dead-latent loss (Gao et al. 2024; as sparsify).

pre = W_enc (x - b_dec) + b_enc; keep the k largest per input, ReLU them; x̂ = Σ_j v_j W_dec[i_j] + b_dec.
Loss = FVU + aux_coefficient · AuxK, AuxK reconstructing the residual from the top ``k_aux`` dead latents
(``k_aux`` = d_in / 2, coefficient 1/32 by default). With ``sparse_kernels`` the decoder is an ``embedding_bag``
gather and the encoder backward touches only the selected latents (:mod:`auditlens.sae.kernels`); the dense
twin (``sparse_kernels=False``) computes the same numbers with plain matmuls.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field
from torch import Tensor

from auditlens.sae.architectures._encdec import EncDecDictionary, KSparseConfig
from auditlens.sae.base import DictionaryOutput, auxk_loss, auxk_select, standard_aux
from auditlens.sae.kernels import dense_decode, selected_preacts, sparse_decode, sparse_encode_values
from auditlens.sae.registry import register


class TopKConfig(KSparseConfig):
    """TopK + AuxK."""

    architecture: Literal["topk"] = "topk"
    sparse_kernels: bool = Field(default=True, description="Sparse decode + sparse encoder backward.")
    selection_dtype: Literal["float32", "bfloat16"] = Field(
        default="float32",
        description="Precision of the dense encoder matmul that only *selects* the top-k latents. With bfloat16 "
        "the selected pre-activations are recomputed exactly in fp32 (values and gradients stay fp32); "
        "near-ties may pick a different latent. Needs sparse_kernels.",
    )


@register("topk", TopKConfig)
class TopK(EncDecDictionary):
    def forward(
        self, x: Tensor, *, dead_mask: Tensor | None = None, sparsity_scale: float = 1.0
    ) -> DictionaryOutput:
        cfg: TopKConfig = self.configs[0]  # type: ignore[assignment]
        k = cfg.k
        xn = self.normalise(x)
        xc = self.centred_input(xn)
        sparse = cfg.sparse_kernels
        low_precision = sparse and cfg.selection_dtype == "bfloat16"
        with torch.no_grad() if sparse else torch.enable_grad():
            pre = self.pre_acts(xc.to(torch.bfloat16)) if low_precision else self.pre_acts(xc)
        top_idx = pre.detach().topk(k, dim=-1, sorted=False).indices
        aux_sel = auxk_select(pre, dead_mask, cfg.k_aux_effective)
        idx = top_idx if aux_sel is None else torch.cat([top_idx, aux_sel[0]], dim=-1)
        if sparse:
            if low_precision:
                chosen = selected_preacts(xc.detach(), self.W_enc_NFD.detach(), self.b_enc_NF.detach(), idx)
            else:
                chosen = pre.gather(-1, idx)
            vals = sparse_encode_values(xc, self.W_enc_NFD, self.b_enc_NF, idx, chosen)
            decode = sparse_decode
        else:
            vals = pre.gather(-1, idx)
            decode = dense_decode
        vals = torch.relu(vals)
        top_vals = vals[..., :k]
        recon = decode(top_vals, top_idx, self.W_dec_NFD) + self.b_dec_ND[:, None, :]
        fvu = self.fvu(xn, recon)
        losses = {"reconstruction": fvu}
        total = fvu
        if aux_sel is not None and cfg.aux_coefficient > 0:
            aux_idx, scale = aux_sel
            assert dead_mask is not None
            valid = dead_mask.gather(1, aux_idx.reshape(self.n, -1)).view_as(aux_idx)
            aux_vals = vals[..., k:] * valid
            e_hat = decode(aux_vals, aux_idx, self.W_dec_NFD)
            aux_l = auxk_loss(e_hat, xn - recon, xn, scale, self.variance_override)
            losses["auxk"] = aux_l
            total = total + cfg.aux_coefficient * aux_l
        losses["total"] = total
        with torch.no_grad():
            active = top_vals > 0
            counts = torch.zeros(self.n, self.d_sae, dtype=top_vals.dtype, device=x.device)
            # scatter_add, not scatter_: a latent picked with value <= 0 in one row must not hide a firing elsewhere
            fired = (
                counts.scatter_add_(1, top_idx.reshape(self.n, -1), active.reshape(self.n, -1).to(counts)) > 0
            )
            aux = standard_aux(
                xn, recon.detach(), active.sum(-1).float().mean(-1), fired, self.variance_override
            )
        return DictionaryOutput(recon * self.act_scale, None, top_vals, top_idx, total.sum(), losses, aux)

    def encode(self, x: Tensor) -> Tensor:
        cfg: TopKConfig = self.configs[0]  # type: ignore[assignment]
        pre = self.pre_acts(self.centred_input(self.normalise(x)))
        v, i = pre.topk(cfg.k, dim=-1, sorted=False)
        return torch.zeros_like(pre).scatter(-1, i, torch.relu(v))

    def saelens_state(self, member: int) -> tuple[dict[str, Any], dict[str, Tensor]]:
        cfg: TopKConfig = self.configs[0]  # type: ignore[assignment]
        fields = {
            "architecture": "topk",
            "k": cfg.k,
            "apply_b_dec_to_input": cfg.apply_b_dec_to_input,
            "rescale_acts_by_decoder_norm": False,
        }
        return fields, self.base_weights(member)
