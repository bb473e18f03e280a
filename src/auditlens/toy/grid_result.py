"""The toy grid's result models: one trained cell, the whole grid's numbers, and the up-front time estimate."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from auditlens.toy.grid_config import Convention, ToyGridConfig, fmt_number

__all__ = ["ToyCell", "ToyGridEstimate", "ToyGridResult"]


class ToyCell(BaseModel):
    """One trained dictionary of the grid."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="Cell name: <convention>-r<ratio>-a<coefficient>.")
    convention: Convention = Field(description="L1 convention.")
    ratio: float = Field(description="Dictionary size / n_features.")
    d_sae: int = Field(description="Dictionary size.")
    coefficient: float = Field(description="α on the divided-convention axis (the grid's column).")
    effective_coefficient: float = Field(description="α as passed to the loss (÷ n_features when undivided).")
    steps: int = Field(description="Training steps.")
    mmcs_with_truth: float = Field(description="Mean over true features of max cosine to a learned feature.")
    n_dead: int = Field(description="Latents that never fired on the held-out samples.")
    l0: float = Field(description="Mean active latents per held-out sample.")
    mse: float = Field(description="Per-element reconstruction MSE on the held-out samples.")
    fvu: float = Field(description="Fraction of variance unexplained on the held-out samples.")
    trained_on: str | None = Field(
        default=None,
        description="Where the cell was trained: device (with the GPU's name), matrix-product precision (float32, "
        "tf32 or bfloat16) and torch version. TF32 is not part of the fingerprint, so this is what tells such cells "
        "apart. None for cells written before it was recorded.",
    )
    chunk_train_seconds: float | None = Field(
        default=None,
        description="Wall seconds the chunk this cell was trained in took to train, over every call (resumes add "
        "up); shared by the chunk's cells. None for cells written before it was recorded.",
    )
    chunk_cells: int | None = Field(default=None, description="How many cells that chunk trained together.")


class ToyGridResult(BaseModel):
    """The grid's numbers: cells plus the derived matrices the figures show (rows = ratios, cols = coefficients)."""

    config: ToyGridConfig = Field(description="The grid that was run.")
    cells: list[ToyCell] = Field(description="Every cell, in grid order.")
    ratios: list[float] = Field(description="Row labels (ascending).")
    coefficients: list[float] = Field(description="Column labels (divided-convention α).")
    mmcs_with_truth: dict[str, list[list[float]]] = Field(description="Per convention: MMCS with truth grid.")
    n_dead: dict[str, list[list[int]]] = Field(description="Per convention: dead-latent grid.")
    l0: dict[str, list[list[float]]] = Field(description="Per convention: L0 grid.")
    mmcs_with_larger: dict[str, list[list[float | None]]] = Field(
        description="Per convention: MMCS with the next (up to two) larger dictionaries at the same α; "
        "None on the largest ratio (the seed's void row)."
    )
    seconds_training: float = Field(description="Wall seconds spent training in this call.")
    train_seconds_total: float | None = Field(
        default=None,
        description="Wall seconds of training every cell of the grid took, over all calls and machines (the sum of "
        "each chunk's time); None when no cell recorded it, and a lower bound when some did not.",
    )
    cells_trained: int = Field(description="Cells trained in this call (the rest were already finished).")
    trained_on: dict[str, int] = Field(
        default_factory=dict,
        description="How many cells were trained where (ToyCell.trained_on; 'not recorded' for older cells).",
    )

    def summary(self) -> str:
        """Each convention's best MMCS with truth and the whole grid's training time (what ``replicate toy``
        prints)."""
        lines = [
            f"{conv}: best MMCS with truth {max(max(row) for row in self.mmcs_with_truth[conv]):.3f}"
            for conv in self.config.conventions
        ]
        if self.train_seconds_total is not None:
            lines.append(
                f"training time of the whole grid (all calls): {self.train_seconds_total / 60:.1f} min"
            )
        return "\n".join(lines)


class ToyGridEstimate(BaseModel):
    """The up-front time estimate from timing a few steps of every group."""

    seconds_per_step: dict[str, float] = Field(description="Per (convention, ratio) group: seconds per step.")
    data_seconds_per_step: float = Field(
        default=0.0, description="Seconds to draw one batch of toy data (once per step of a chunk)."
    )
    remaining_cells: int = Field(description="Cells still to train.")
    estimated_seconds: float = Field(description="Estimated training wall time for the remaining cells.")
    upper_bound: bool = Field(
        default=False,
        description="True when the timed steps are slower than most of the run will be: on a CPU in float32, "
        "members whose codes turn sparse (large coefficients, within tens of steps) take the sparse training path, "
        "but the estimate times the first steps, where every member's codes are still dense.",
    )

    def chunk_seconds(self, chunk: list[tuple[Convention, float, float]], steps: int) -> float:
        """Estimated wall time of ``steps`` steps of one chunk (its groups' step times plus one data batch)."""
        groups = {f"{c[0]}-r{fmt_number(c[1])}" for c in chunk}
        return steps * (sum(self.seconds_per_step.get(g, 0.0) for g in groups) + self.data_seconds_per_step)

    def summary(self) -> str:
        """Seconds per step of every group and the total (what ``replicate toy --estimate-only`` prints)."""
        lines = [f"{group:18s} {sec * 1000:8.1f} ms/step" for group, sec in self.seconds_per_step.items()]
        lines.append(
            f"estimate: {self.remaining_cells} cells, {self.estimated_seconds / 3600:.2f} h of training"
        )
        return "\n".join(lines)
