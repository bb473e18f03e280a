"""The train-step contract every dictionary follows.

A :class:`Dictionary` holds ``n`` *members* — dictionaries of one architecture and one shape that differ only in
per-member settings (sparsity coefficient, seed, name). Parameters are stacked along a leading member axis
(shape suffixes follow dictionary_learning: ``N`` members, ``F`` latents, ``D`` input dims, ``B`` batch), so one
batched matmul trains them all from one read of the data. A single dictionary is simply ``n == 1``.

Units: every public method takes activations in the data's own (raw) units. Internally inputs are multiplied by
``1 / act_scale`` (a fixed scale estimated from data, stored in the config); losses are in those normalised
units; reconstructions are returned in raw units. Checkpoints fold the scale into the weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from auditlens.sae.errors import ConfigError, DataError


class DictionaryConfig(BaseModel):
    """Fields every architecture shares. Subclasses add their own, each documented."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Fields that may differ between members trained stacked together.
    per_member_fields: ClassVar[frozenset[str]] = frozenset({"name", "seed", "coefficient"})

    architecture: str = Field(description="Registered architecture name (see list_architectures()).")
    d_in: int = Field(gt=0, description="Input (activation) dimension.")
    d_sae: int = Field(gt=0, description="Number of latents (dictionary width).")
    name: str | None = Field(default=None, description="Member name; the trainer's output folder name.")
    seed: int | None = Field(default=None, description="Init seed; None = trainer seed + member index.")
    act_scale: float = Field(
        default=1.0,
        gt=0,
        description="Fixed activation scale: inputs are divided by it before encoding (set by the trainer "
        "from data so that E||x||^2 = d_in; folded into the weights on save).",
    )

    def default_lr(self) -> float:
        """Adam learning rate the trainer uses when none is given: sparsify's width-scaled rule,
        2e-4 / sqrt(d_sae / 2^14). An architecture with another rule overrides this."""
        return 2e-4 / math.sqrt(self.d_sae / 2**14)

    def stack_key(self) -> tuple[Any, ...]:
        """Members whose keys are equal are stacked into one :class:`Dictionary` and vectorised."""
        data = self.model_dump(exclude=set(self.per_member_fields))
        return tuple(sorted((k, repr(v)) for k, v in data.items()))


class DictionaryOutput(NamedTuple):
    """What :meth:`Dictionary.forward` returns (one entry per member along the leading axis)."""

    reconstruction: Tensor
    """(n, batch, d_in) reconstruction, in the input's raw units."""
    codes: Tensor | None
    """(n, batch, d_sae) dense latent activations, or ``None`` when the architecture keeps them sparse."""
    latent_values: Tensor | None
    """(n, batch, k) values of the active latents for sparse (TopK) architectures, else ``None``."""
    latent_indices: Tensor | None
    """(n, batch, k) indices of the active latents for sparse (TopK) architectures, else ``None``."""
    loss: Tensor
    """Scalar to back-propagate: the sum over members of each member's total loss (members are independent)."""
    losses: dict[str, Tensor]
    """Per-member (n,) loss terms in normalised units; always holds ``reconstruction`` and ``total``."""
    aux: dict[str, Tensor]
    """Per-member diagnostics: ``mse`` (n,), ``fvu`` (n,), ``l0`` (n,), ``fired`` (n, d_sae) bool."""


class Dictionary(nn.Module):
    """Base class: ``n`` stacked members of one architecture and shape."""

    architecture: ClassVar[str] = ""
    #: Dead latents may be resampled (Anthropic 2023) — only meaningful for L1 dictionaries.
    supports_resampling: ClassVar[bool] = False
    #: Parameters whose axis 1 indexes latents (their Adam state is reset for resampled latents).
    latent_params: ClassVar[tuple[str, ...]] = ("W_enc_NFD", "b_enc_NF", "W_dec_NFD")

    def __init__(
        self, configs: Sequence[DictionaryConfig], generators: Sequence[torch.Generator] | None = None
    ):
        super().__init__()
        if not configs:
            raise ConfigError(
                "a dictionary needs at least one member config", hint="pass one or more configs"
            )
        keys = {c.stack_key() for c in configs}
        if len(keys) != 1:
            raise ConfigError(
                "configs stacked into one dictionary must match in everything but "
                f"{sorted(DictionaryConfig.per_member_fields)}",
                hint="let the trainer group configs (Trainer does this automatically)",
            )
        self.configs: list[DictionaryConfig] = list(configs)
        cfg = configs[0]
        self.n = len(configs)
        self.d_in = cfg.d_in
        self.d_sae = cfg.d_sae
        if generators is None:
            generators = [
                torch.Generator().manual_seed(c.seed if c.seed is not None else i)
                for i, c in enumerate(configs)
            ]
        self.register_buffer("act_scale", torch.tensor(float(cfg.act_scale)), persistent=True)
        #: Per-element variance of the *global* batch in normalised units, set by a data-parallel trainer around
        #: each forward so FVU-style losses use the global denominator; None = the local batch's own.
        self.variance_override: Tensor | None = None
        #: The trainer keeps ``W_dec_NFD`` rows at unit norm (projection + parallel-gradient removal).
        self.constrain_decoder_norm = True
        self._init_params(list(generators))

    # --- to implement -------------------------------------------------------------------------------
    def _init_params(self, generators: list[torch.Generator]) -> None:
        raise NotImplementedError

    def forward(
        self, x: Tensor, *, dead_mask: Tensor | None = None, sparsity_scale: float = 1.0
    ) -> DictionaryOutput:
        """Train step on a (batch, d_in) batch. ``dead_mask`` (n, d_sae) marks latents dead over the trainer's
        window (used by AuxK); ``sparsity_scale`` in [0, 1] is the sparsity-coefficient warm-up factor."""
        raise NotImplementedError

    def encode(self, x: Tensor) -> Tensor:
        """(batch, d_in) raw activations -> (n, batch, d_sae) dense latent activations (inference)."""
        raise NotImplementedError

    def decode(self, codes: Tensor) -> Tensor:
        """(n, batch, d_sae) latent activations -> (n, batch, d_in) reconstruction in raw units."""
        raise NotImplementedError

    def saelens_state(self, member: int) -> tuple[dict[str, Any], dict[str, Tensor]]:
        """SAELens cfg fields and weights for one member, acting on *normalised* inputs (scale not folded)."""
        raise NotImplementedError

    def load_saelens_state(self, member: int, weights: dict[str, Tensor]) -> None:
        """Inverse of :meth:`saelens_state`: set one member from SAELens-layout weights (normalised units)."""
        raise NotImplementedError

    # --- shared helpers ---------------------------------------------------------------------------
    def fvu(self, xn: Tensor, recon: Tensor) -> Tensor:
        """:func:`batch_fvu` honouring :attr:`variance_override`."""
        return batch_fvu(xn, recon, self.variance_override)

    def reconstruct(self, x: Tensor) -> Tensor:
        """(batch, d_in) -> (n, batch, d_in) reconstruction in raw units (inference, no grad bookkeeping)."""
        return self.decode(self.encode(x))

    def member_config(self, i: int) -> DictionaryConfig:
        return self.configs[i]

    @torch.no_grad()
    def member(self, i: int) -> Dictionary:
        """A standalone single-member copy (n = 1) of member ``i``, in eval mode, on the same device."""
        if not 0 <= i < self.n:
            raise ConfigError(f"member {i} out of range (dictionary has {self.n})", hint="pick a valid index")
        single = type(self)([self.configs[i]]).to(self.act_scale.device)
        _, weights = self.saelens_state(i)
        single.load_saelens_state(0, weights)
        return single.eval()

    def normalise(self, x: Tensor) -> Tensor:
        """Check shape and finiteness, then divide by the activation scale."""
        if x.dim() != 2 or x.shape[-1] != self.d_in:
            raise DataError(
                f"expected activations of shape (batch, {self.d_in}), got {tuple(x.shape)}",
                hint="the store's d_in must match the dictionary config's d_in",
            )
        return x / self.act_scale

    def set_act_scale(self, scale: float) -> None:
        self.act_scale.fill_(float(scale))
        self.configs = [c.model_copy(update={"act_scale": float(scale)}) for c in self.configs]

    def init_decoder_bias(self, center: Tensor) -> None:
        """Set the decoder bias of every member to ``center`` (normalised units), if the architecture learns one. A
        layout without a decoder bias keeps its zero buffer: the seed layout's training step never reads it, so a
        data centre written there would be added by :meth:`decode` alone (evaluation and export, not training)."""
        b = getattr(self, "b_dec_ND", None)
        if isinstance(b, nn.Parameter):
            with torch.no_grad():
                b.copy_(center.to(b).expand_as(b))

    @torch.no_grad()
    def normalize_decoder(self) -> None:
        """Project decoder rows onto the unit sphere."""
        W = self.W_dec_NFD
        W.div_(W.norm(dim=-1, keepdim=True).clamp_min(1e-8))

    @torch.no_grad()
    def remove_parallel_decoder_grad(self) -> None:
        """Remove the gradient component parallel to each (unit-norm) decoder row."""
        W = self.W_dec_NFD
        if W.grad is None:
            return
        parallel = (W.grad * W).sum(-1, keepdim=True)
        W.grad.sub_(parallel * W)

    def resample(
        self, dead_mask: Tensor, x_norm: Tensor, sq_err: Tensor, generator: torch.Generator
    ) -> None:  # pragma: no cover - overridden where supported
        """Re-initialise dead latents from high-loss inputs (L1 dictionaries only)."""
        raise NotImplementedError


def batch_fvu(x: Tensor, x_hat: Tensor, variance: Tensor | None = None) -> Tensor:
    """Per-member FVU (seed §5.4): mean((x - x̂)²) / mean((x - mean_batch x)²). x (B,D), x_hat (n,B,D) -> (n,).

    ``variance`` replaces the denominator (data parallel: the variance of the global batch)."""
    return fvu_of_mse((x_hat - x).pow(2).mean(dim=(1, 2)), x, variance)


def fvu_of_mse(mse: Tensor, x: Tensor, variance: Tensor | None = None) -> Tensor:
    """:func:`batch_fvu` from the per-member mean squared error already computed."""
    total = (x - x.mean(0, keepdim=True)).pow(2).mean() if variance is None else variance
    return mse / total.clamp_min(1e-12)


def standard_aux(
    x_norm: Tensor, recon_norm: Tensor, codes_l0: Tensor, fired: Tensor, variance: Tensor | None = None
) -> dict[str, Tensor]:
    """Diagnostics every architecture reports (detached); ``variance`` as in :func:`batch_fvu` (pass the module's
    :attr:`~Dictionary.variance_override`, so that data-parallel runs log the global batch's FVU)."""
    with torch.no_grad():
        mse = (recon_norm - x_norm).pow(2).mean(dim=(1, 2))
        return {"mse": mse, "fvu": fvu_of_mse(mse, x_norm, variance), "l0": codes_l0, "fired": fired}


def stack_init(fn: Any, generators: list[torch.Generator]) -> Tensor:
    """Stack ``fn(generator)`` over members (each member's init depends only on its own generator)."""
    return torch.stack([fn(g) for g in generators])


def unit_rows(t: Tensor) -> Tensor:
    return t / t.norm(dim=-1, keepdim=True).clamp_min(1e-8)


def auxk_select(pre_NBF: Tensor, dead_mask_NF: Tensor | None, k_aux: int) -> tuple[Tensor, Tensor] | None:
    """Pick the top ``k_aux`` *dead* latents per input (AuxK, Gao et al. 2024; as sparsify).

    Returns ``(indices (n, B, k), scale (n,))`` with ``scale = min(num_dead / k_aux, 1)`` (0 for members with no
    dead latent), or ``None`` when no member has a dead latent. Selection only — no gradient.
    """
    if dead_mask_NF is None:
        return None
    num_dead = dead_mask_NF.sum(-1)
    max_dead = int(num_dead.max())
    if max_dead == 0:
        return None
    k = min(k_aux, max_dead)
    with torch.no_grad():
        masked = pre_NBF.detach().masked_fill(~dead_mask_NF[:, None, :], float("-inf"))
        idx = masked.topk(k, dim=-1, sorted=False).indices
    scale = (num_dead.to(torch.promote_types(pre_NBF.dtype, torch.float32)) / k_aux).clamp(max=1.0)
    return idx, scale


def auxk_loss(
    e_hat_NBD: Tensor, residual_NBD: Tensor, x_norm: Tensor, scale_N: Tensor, variance: Tensor | None = None
) -> Tensor:
    """Per-member AuxK loss ``scale * ||ê - e||² / ||x - mean x||²`` (residual ``e`` is detached).
    ``variance`` (per element) replaces the batch's own, as in :func:`batch_fvu`."""
    if variance is None:
        total = (x_norm - x_norm.mean(0, keepdim=True)).pow(2).sum().clamp_min(1e-12)
    else:
        total = (variance * x_norm.numel()).clamp_min(1e-12)
    return scale_N * (e_hat_NBD - residual_NBD.detach()).pow(2).sum(dim=(1, 2)) / total
