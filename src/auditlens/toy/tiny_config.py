"""The tiny-transformer replication's settings (seeds-digest §7.2/7.3) and the language model's training record."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from auditlens.runs import fingerprint
from auditlens.toy.config import ToyConfigModel, require

__all__ = ["TinyTransformerConfig", "TrainLMResult"]


class TinyTransformerConfig(ToyConfigModel):
    """The whole replication. Defaults: the seed's model shape (§7.2) with a CPU-sized training budget;
    :meth:`quick` runs the same code in a few minutes."""

    n_layer: int = Field(6, description="Transformer blocks (seed 6).")
    d_model: int = Field(32, description="Residual width (seed 32; Conjecture used 16).")
    n_head: int = Field(8, description="Attention heads (seed 8).")
    d_mlp: int = Field(128, description="MLP width (seed 128 = 4 × d_model).")
    context_length: int = Field(256, description="Context length in tokens (seed block_size 256).")
    dropout: float = Field(0.2, description="Dropout on embeddings and the residual stream (seed 0.2).")
    attn_dropout: float = Field(
        0.0,
        description="Dropout on the attention weights (seed 0.2, as its other dropouts). 0 here on purpose: with "
        "it the CPU cannot use the fused flash-attention kernel and materialises every attention matrix, 3.8x slower "
        "per step (measured on the dev box, one core, batch 32 x 256: 4.6 s vs 1.2 s).",
    )
    batch_size: int = Field(32, description="Contexts per language-model step (seed 64).")
    steps: int = Field(3000, description="Language-model steps (the seed's checkpoint had ~70k).")
    lr: float = Field(1e-3, description="AdamW learning rate (cosine decay to 10% after a 100-step warm-up).")
    weight_decay: float = Field(0.1, description="AdamW weight decay.")
    checkpoint_every: int = Field(250, description="Write the LM checkpoint every N steps.")
    layer: int = Field(2, description="Block whose post-GELU MLP activations are harvested (seed: index 2).")
    harvest_tokens: int = Field(2_000_000, description="Activation rows to harvest.")
    ratios: list[int] = Field(
        default_factory=lambda: [2, 4, 8, 16, 32, 64],
        description="Dictionary sizes as multiples of d_mlp (seed 2…64).",
    )
    sae_steps: int = Field(8000, description="Dictionary training steps (batch sae_batch_size).")
    sae_batch_size: int = Field(256, description="Activation rows per dictionary step (seed 256).")
    coefficient: float | None = Field(
        None,
        description="L1 coefficient (undivided, normalised activations) for every size; None: search the one "
        "giving target_l0 at the smallest size with short runs.",
    )
    target_l0: float = Field(12.0, description="L0 the coefficient search aims at.")
    resample_every: int | None = Field(
        None,
        description="Resample the dictionaries' dead latents every N steps (Anthropic 2023; a latent is dead when it "
        "did not fire in those N steps). None: never (the seed's replication did not).",
    )
    seed: int = Field(0, description="Seed of the model init, the document order and the dictionaries.")
    sae_seed: int | None = Field(
        None,
        description="Seed of the dictionaries' init and of the order they see the activation rows in (None: seed). "
        "Another value re-runs only the size sweep: the language model and the store are reused — a check that a "
        "curve is not one draw's accident.",
    )
    num_threads: int | None = Field(None, description="torch threads (None: keep).")

    @model_validator(mode="after")
    def _check(self) -> TinyTransformerConfig:
        hint = "use positive sizes (seed: 6 layers, d_model 32, 8 heads, MLP 128, context 256)"
        for name in ("n_layer", "d_model", "n_head", "d_mlp", "context_length", "batch_size", "steps",
                     "checkpoint_every", "harvest_tokens", "sae_steps", "sae_batch_size"):  # fmt: skip
            require(getattr(self, name) > 0, f"{name} must be positive, got {getattr(self, name)}", hint)
        require(self.d_model % self.n_head == 0, "d_model must be a multiple of n_head", hint)
        require(
            0 <= self.layer < self.n_layer, f"layer must lie in [0, {self.n_layer}), got {self.layer}", hint
        )
        require(0 <= self.dropout < 1, f"dropout must lie in [0, 1), got {self.dropout}", "e.g. 0.2")
        require(
            0 <= self.attn_dropout < 1, f"attn_dropout must lie in [0, 1), got {self.attn_dropout}", "e.g. 0"
        )
        require(self.lr > 0, f"lr must be positive, got {self.lr}", "e.g. 1e-3")
        require(len(self.ratios) >= 2, "the size sweep needs at least two ratios", "e.g. 2 4 8 16 32 64")
        for r in self.ratios:
            require(r > 0, f"dictionary ratios must be positive, got {r}", "ratios are multiples of d_mlp")
        require(len(set(self.ratios)) == len(self.ratios), "duplicate ratios", "list each ratio once")
        require(
            self.coefficient is None or self.coefficient >= 0,
            f"coefficient must be non-negative, got {self.coefficient}",
            "e.g. 1e-3, or leave it unset to search",
        )
        require(self.target_l0 > 0, "target_l0 must be positive", "e.g. 12")
        require(
            self.resample_every is None or self.resample_every > 0,
            f"resample_every must be positive, got {self.resample_every}",
            "e.g. 1000, or leave it unset",
        )
        return self

    @classmethod
    def quick(cls) -> TinyTransformerConfig:
        """A few minutes on one idle CPU core: 100 LM steps of 8 contexts, 128k activation rows, sizes 2…16×."""
        return cls(
            batch_size=8,
            steps=100,
            checkpoint_every=50,
            harvest_tokens=131_072,
            ratios=[2, 4, 8, 16],
            sae_steps=1000,
        )

    def model_fingerprint(self) -> str:
        """Hash of the settings the language model depends on (its checkpoint resumes only under the same one)."""
        keep = self.model_dump(include={"n_layer", "d_model", "n_head", "d_mlp", "context_length", "dropout",
                                        "attn_dropout", "batch_size", "lr", "weight_decay", "seed"})  # fmt: skip
        return fingerprint(keep)

    def sae_seed_value(self) -> int:
        """Seed of the dictionaries' init and row order (``sae_seed``, else ``seed``)."""
        return self.seed if self.sae_seed is None else self.sae_seed


class TrainLMResult(BaseModel):
    """The language model's training record."""

    steps: int = Field(description="Steps completed.")
    loss_steps: list[int] = Field(description="Steps at which the loss was recorded.")
    losses: list[float] = Field(description="Mean training loss (nats/token) over each recording interval.")
    seconds: float = Field(description="Wall seconds of this call.")
    resumed_from: int = Field(description="Step the call started at (0 for a fresh run).")
    n_parameters: int = Field(description="Model parameters (tied embedding counted once).")
