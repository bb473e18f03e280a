"""Where each portable hook point lives inside each supported architecture family.

A hook point name means the same tensor in every family:

============================  ==========================================================================
name                          tensor (shape ``(batch, seq, d)``)
============================  ==========================================================================
``embed``                     the residual stream entering the first block (token + position embeddings,
                              after any embedding scaling) — equal to ``hidden_states[0]``
``blocks.{i}.resid_pre``      the residual stream entering block ``i`` (``blocks.0.resid_pre == embed``)
``blocks.{i}.attn_out``       the attention sub-layer's contribution added to the residual stream
                              (after Gemma-2's post-attention norm, where the family has one)
``blocks.{i}.mlp.post``       the MLP's hidden activations after the nonlinearity (for gated MLPs,
                              ``act(gate) * up``): the input of the MLP's down projection, width d_mlp
``blocks.{i}.mlp_out``        the MLP sub-layer's contribution added to the residual stream
``blocks.{i}.resid_post``     the residual stream leaving block ``i`` (before the final norm)
============================  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FamilyLayout:
    """Module paths of one architecture family, relative to the causal-LM object or to a block."""

    family: str
    """Short family name used in manifests (``llama``, ``gpt2``, ``gpt_neox``, ``gemma2``)."""
    blocks: str
    """Dotted path from the causal LM to the ``ModuleList`` of transformer blocks."""
    attn: str
    """Path inside a block to the module whose output (or ``output[0]``) is ``attn_out``."""
    mlp: str
    """Path inside a block to the module whose output is ``mlp_out``."""
    mlp_down: str
    """Path inside a block to the MLP's down projection; its input is ``mlp.post``."""
    final_norm: str
    """Dotted path from the causal LM to the final normalisation before the unembedding."""
    d_mlp_attr: str
    """Config attribute holding the MLP width."""


_LLAMA = FamilyLayout(
    "llama", "model.layers", "self_attn", "mlp", "mlp.down_proj", "model.norm", "intermediate_size"
)
_GEMMA2 = FamilyLayout(
    "gemma2",
    "model.layers",
    "post_attention_layernorm",
    "post_feedforward_layernorm",
    "mlp.down_proj",
    "model.norm",
    "intermediate_size",
)
_GPT2 = FamilyLayout("gpt2", "transformer.h", "attn", "mlp", "mlp.c_proj", "transformer.ln_f", "n_inner")
_NEOX = FamilyLayout(
    "gpt_neox",
    "gpt_neox.layers",
    "attention",
    "mlp",
    "mlp.dense_4h_to_h",
    "gpt_neox.final_layer_norm",
    "intermediate_size",
)

LAYOUTS: dict[str, FamilyLayout] = {
    "llama": _LLAMA,
    "mistral": _LLAMA,
    "qwen2": _LLAMA,
    "qwen3": _LLAMA,
    "gemma": _LLAMA,
    "gemma2": _GEMMA2,
    "gemma3_text": _GEMMA2,
    "gpt2": _GPT2,
    "gpt_neox": _NEOX,
}
"""HF ``config.model_type`` → layout. Every entry is tested on a tiny random model."""

SITES_IN_ORDER: tuple[str, ...] = ("resid_pre", "attn_out", "mlp.post", "mlp_out", "resid_post")
"""Per-block hook sites, in the order a sequential block computes them."""
