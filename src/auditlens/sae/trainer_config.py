"""The trainer's settings (:class:`TrainerConfig`) and what it reports (:class:`MemberMetrics`, :class:`TrainResult`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from auditlens.sae.data import BiasInit
from auditlens.sae.errors import ConfigError

__all__ = ["MemberMetrics", "TrainResult", "TrainerConfig"]


class TrainerConfig(BaseModel):
    """Optimisation and bookkeeping settings shared by every dictionary in one training run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    total_steps: int = Field(gt=0, description="Number of batches to train on (the schedules' length).")
    lr: float | None = Field(
        default=None,
        gt=0,
        description="Adam learning rate. None: the architecture's default (DictionaryConfig.default_lr: 1e-3 for "
        "ReLU+L1 as the seed, else 2e-4 / sqrt(d_sae / 2^14) as sparsify).",
    )
    lr_warmup_steps: int = Field(
        default=0, ge=0, description="Linear LR warm-up from 0 over this many steps."
    )
    lr_decay_start: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Fraction of total_steps after which the LR decays linearly to 0.",
    )
    sparsity_warmup_steps: int = Field(
        default=0, ge=0, description="Linear sparsity-coefficient warm-up steps."
    )
    betas: tuple[float, float] = Field(default=(0.9, 0.999), description="Adam betas.")
    eps: float = Field(default=1e-8, gt=0, description="Adam epsilon.")
    grad_clip_norm: float | None = Field(
        default=None, gt=0, description="Clip each member's grad norm (None: off)."
    )
    seed: int = Field(default=0, description="Seeds member inits (seed, member index) and the trainer's RNG.")
    normalize_activations: bool = Field(default=True, description="Divide inputs by a fixed data scale.")
    b_dec_init: BiasInit = Field(default="geometric_median", description="Decoder-bias init from the data.")
    stats_batches: int = Field(default=4, ge=1, description="Batches used to estimate the scale and b_dec.")
    dead_window_tokens: int = Field(
        default=10_000_000, gt=0, description="A latent is dead after this many tokens without firing."
    )
    resample_every_steps: int | None = Field(
        default=None,
        gt=0,
        description="Resample dead latents of ReLU+L1 dictionaries every N steps (None: off). Never within the "
        "last N steps: a latent resampled there would be exported untrained.",
    )
    checkpoint_every: int | None = Field(default=None, gt=0, description="Write a checkpoint every N steps.")
    keep_checkpoints: int = Field(default=2, ge=1, description="How many recent checkpoints to keep.")
    log_every: int = Field(default=10, gt=0, description="Record metrics every N steps.")
    progress: bool = Field(default=True, description="Show a tqdm progress bar.")
    device: str = Field(default="cpu", description="torch device for dictionaries and batches.")
    num_threads: int | None = Field(
        default=None, gt=0, description="torch.set_num_threads for training (None: keep)."
    )
    fused_adam: bool = Field(default=True, description="Use torch's fused Adam kernel where available.")
    keep_freed_memory: bool = Field(
        default=True,
        description="On a CPU, have glibc malloc keep freed memory for reuse (process-wide, once; "
        ":func:`auditlens.cpu_memory.keep_freed_memory`): without it a step's large temporaries come back as fresh "
        "pages every step (toy-grid steps 1.24x slower; benchmarks/cpu_allocator.py). Memory the process frees is then kept.",
    )
    matmul_dtype: Literal["float32", "bfloat16"] = Field(
        default="float32",
        description="'bfloat16': the forward and backward passes run under torch.autocast, so matrix products take "
        "bfloat16 inputs (float32 accumulation); parameters, optimizer state and losses stay float32. Products "
        "about 3x faster on CPUs with AVX512-BF16 (dev box), whole steps 1.1-1.5x at d_in 256; on the quick toy "
        "grid MMCS with truth stays within 0.001 of float32 in every cell.",
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainerConfig:
        """Validate a dict (e.g. from TOML/JSON); unknown keys or bad values raise :class:`ConfigError`."""
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in e.errors()
            )
            raise ConfigError(
                f"invalid trainer config: {problems}",
                hint=f"valid keys: {', '.join(sorted(cls.model_fields))}",
            ) from None


class MemberMetrics(BaseModel):
    """Metrics of one dictionary, averaged over the last ``log_every`` steps (normalised units)."""

    name: str = Field(description="Member name (its export folder).")
    architecture: str = Field(description="Architecture name.")
    d_sae: int = Field(description="Width.")
    mse: float = Field(description="Mean squared error per element, in normalised units.")
    fvu: float = Field(description="Fraction of variance unexplained (seed §5.4).")
    l0: float = Field(description="Mean number of active latents per input.")
    dead_fraction: float = Field(description="Fraction of latents that did not fire within the dead window.")
    loss: float = Field(description="Total training loss.")


class TrainResult(BaseModel):
    """What :meth:`Trainer.train` returns."""

    steps: int = Field(description="Steps completed (including steps before a resume).")
    tokens: int = Field(description="Activation rows consumed.")
    wall_seconds: float = Field(description="Wall time of this call.")
    train_seconds: float = Field(
        default=0.0,
        description="Wall seconds of the training loop up to the last step, over every call: a resumed run adds to "
        "the time saved in its checkpoint (steps lost after a checkpoint are not counted).",
    )
    activations_per_second: float = Field(description="Rows per second in this call (training steps only).")
    act_scale: float = Field(description="The data scale in use.")
    members: list[MemberMetrics] = Field(description="Final metrics per dictionary, in config order.")
    history: list[dict[str, Any]] = Field(description="Logged metrics every log_every steps.")
