"""The toy grid's settings (seeds-digest §7.1): what a cell's numbers depend on, and the grid's axes.

A grid is every (L1 convention, dictionary ratio, sparsity coefficient). The axes may change in a run folder (a cell
is trained the same whichever grid it belongs to); the :meth:`ToyGridConfig.recipe` — data, optimisation, evaluation —
and ``bf16`` may not: they are the folder's identity (:meth:`ToyGridConfig.identity`, hashed by
:meth:`ToyGridConfig.fingerprint` with :func:`auditlens.runs.fingerprint`, the same value every older grid recorded).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from auditlens.runs import fingerprint
from auditlens.toy.config import ToyConfigModel, require
from auditlens.toy.data import ToyDataConfig

__all__ = ["Convention", "ToyGridConfig", "cell_key", "fmt_number", "seed_coefficients", "seed_ratios"]

Convention = Literal["divided", "undivided"]


def seed_coefficients() -> list[float]:
    """α ∈ {10^(k/4) : k = −8…8}: 17 values from 0.01 to 100 (§7.1)."""
    return [10 ** (k / 4) for k in range(-8, 9)]


def seed_ratios() -> list[float]:
    """Dictionary size / n_features ∈ {2^k : k = −2…5} = 0.25 … 32 (§7.1)."""
    return [2.0**k for k in range(-2, 6)]


class ToyGridConfig(ToyConfigModel):
    """The grid. Defaults are the seed's full sweep (hours of CPU); :meth:`quick` is a small one (same code)."""

    data: ToyDataConfig = Field(
        default_factory=ToyDataConfig, description="The toy ground truth (seed: 256/512/5)."
    )
    coefficients: list[float] = Field(
        default_factory=seed_coefficients,
        description="L1 coefficients α of the divided convention (seed: 10^(k/4), k=−8…8).",
    )
    ratios: list[float] = Field(
        default_factory=seed_ratios,
        description="Dictionary sizes as multiples of n_features (seed: 0.25…32).",
    )
    conventions: list[Convention] = Field(
        default_factory=lambda: ["divided", "undivided"],
        description="L1 conventions: 'divided' (÷ dictionary size, the original) and/or 'undivided'.",
    )
    steps: int = Field(8000, description="Training steps per dictionary (seed 8000).")
    batch_size: int = Field(256, description="Rows per batch (seed 256).")
    lr: float = Field(1e-3, description="Adam learning rate, constant (seed 1e-3).")
    eval_samples: int = Field(4096, description="Held-out samples for the dead count and L0.")
    checkpoint_every: int = Field(1000, description="Checkpoint each training chunk every N steps.")
    memory_budget_gib: float = Field(
        6.0, description="Approximate training memory per chunk; groups are packed into chunks under it."
    )
    num_threads: int | None = Field(None, description="torch threads while training (None: keep).")
    device: str = Field(
        "cpu", description="torch device for training (data is drawn on the CPU, then moved)."
    )
    tf32: bool = Field(
        False,
        description="Allow TF32 matrix products on CUDA (10-bit mantissa inputs, fp32 accumulation; several "
        "times faster on Ampere/Hopper). Not part of the fingerprint: a grid may resume with it on or off.",
    )
    bf16: bool = Field(
        False,
        description="bfloat16 matrix products while training (TrainerConfig.matmul_dtype; float32 weights, optimizer "
        "and evaluation). About 3x faster products on CPUs with AVX512-BF16/AMX. Part of the fingerprint: "
        "a bfloat16 grid is its own recipe and never mixes cells with a float32 one.",
    )
    seed: int = Field(0, description="Dictionary init seed.")

    @model_validator(mode="after")
    def _check(self) -> ToyGridConfig:
        require(len(self.coefficients) > 0, "no sparsity coefficients given", "pass at least one, e.g. 1.0")
        for a in self.coefficients:
            require(
                math.isfinite(a) and a >= 0,
                f"sparsity coefficients must be finite and non-negative, got {a}",
                "use values like 0.01 … 100 (the seed's grid)",
            )
        require(len(self.ratios) > 0, "no dictionary ratios given", "pass at least one, e.g. 1")
        for r in self.ratios:
            require(
                math.isfinite(r) and r > 0,
                f"dictionary ratios must be positive, got {r}",
                "a ratio is dictionary size / n_features, e.g. 0.25 … 32",
            )
            require(
                round(r * self.data.n_features) >= 1,
                f"ratio {r} gives an empty dictionary for {self.data.n_features} features",
                "use a larger ratio",
            )
        require(len(set(self.ratios)) == len(self.ratios), "duplicate ratios", "list each ratio once")
        require(
            len(set(self.coefficients)) == len(self.coefficients), "duplicate coefficients", "list each once"
        )
        require(len(self.conventions) > 0, "no L1 convention given", "use 'divided' and/or 'undivided'")
        hint = "use positive values (seed: steps 8000, batch 256, lr 1e-3)"
        require(self.steps > 0, f"steps must be positive, got {self.steps}", hint)
        require(self.batch_size > 0, f"batch_size must be positive, got {self.batch_size}", hint)
        require(self.lr > 0, f"lr must be positive, got {self.lr}", hint)
        require(self.eval_samples > 0, f"eval_samples must be positive, got {self.eval_samples}", hint)
        require(
            self.checkpoint_every > 0, f"checkpoint_every must be positive, got {self.checkpoint_every}", hint
        )
        require(self.memory_budget_gib > 0, "memory_budget_gib must be positive", "e.g. 6")
        return self

    @classmethod
    def quick(cls) -> ToyGridConfig:
        """A CI-sized grid (a few minutes on one loaded core): 32-d data with 64 features and 3 active on average,
        ratios 0.25…4, 9 coefficients 10^(k/4) (k = −4…4, i.e. 0.1…10), 1,500 steps."""
        return cls(
            data=ToyDataConfig(d_model=32, n_features=64, mean_active=3),
            coefficients=[10 ** (k / 4) for k in range(-4, 5)],
            ratios=[0.25, 0.5, 1.0, 2.0, 4.0],
            steps=1500,
            eval_samples=2048,
            checkpoint_every=500,
        )

    def d_sae(self, ratio: float) -> int:
        return max(1, round(ratio * self.data.n_features))

    def undivided_coefficient(self, coefficient: float) -> float:
        return coefficient / self.data.n_features

    def cells(self) -> list[tuple[Convention, float, float]]:
        """Every (convention, ratio, divided-convention coefficient) in the grid."""
        return [(c, r, a) for c in self.conventions for r in sorted(self.ratios) for a in self.coefficients]

    def recipe(self) -> dict[str, object]:
        """What one cell's result depends on besides the matrix-product precision: the data, the optimisation and
        the evaluation — not the grid axes (a cell is trained the same whichever grid it is part of, so a folder can
        grow: small ratios on a CPU today, the large ones on a GPU later) and not the machine settings."""
        return self.model_dump(
            mode="json",
            exclude={
                "coefficients",
                "ratios",
                "conventions",
                "checkpoint_every",
                "memory_budget_gib",
                "num_threads",
                "device",
                "tf32",
                "bf16",
            },
        )

    def identity(self) -> dict[str, object]:
        """What a run folder of this grid is keyed on: the :meth:`recipe` and ``bf16`` (a bfloat16 grid is its own
        recipe and never mixes cells with a float32 one; TF32 is left out on purpose)."""
        return {**self.recipe(), "bf16": self.bf16}

    def fingerprint(self) -> str:
        """Hash of :meth:`identity` (the value every toy grid folder has recorded, old ones included)."""
        return fingerprint(self.identity())


def fmt_number(v: float) -> str:
    """A ratio or coefficient as it appears in cell keys and group names (``0.25``, ``1``, ``1e-05``)."""
    return f"{v:.6g}".replace("+", "")


def cell_key(convention: str, ratio: float, coefficient: float) -> str:
    """A cell's name: ``<convention>-r<ratio>-a<coefficient>``."""
    return f"{convention}-r{fmt_number(ratio)}-a{fmt_number(coefficient)}"
