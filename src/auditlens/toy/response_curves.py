"""Response curves (seeds-digest §4.1 item 1; :func:`run_response_curves`): how a feature's direction relative to the
neuron basis meets an elementwise nonlinearity.

In d = 100, an *aligned* feature e₀ and a *distributed* feature (1,…,1)/√100; sweep the input x·v for x ∈ [−5, 5],
apply GELU elementwise, read the output along either direction (2×2); the distributed feature over a 10× range;
distributed features with n_neg ∈ {0, 10, 25, 40, 50, 75, 90, 100} entries −1; 2-D interaction maps of two features
(half- vs full-support in 100-d and in 2-d; two random ±1 features read along A and along (A+B)/‖A+B‖), input ranges
scaled by √(support size). Re-implements ``write_lw_100_example`` of ``HoagyC/transformers_toy_compute_model``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from auditlens.toy.config import ToyConfigModel, require
from auditlens.toy.nonlinearity import Nonlinearity, apply_nonlinearity, heldout_r2

__all__ = [
    "Curve",
    "InteractionMap",
    "ResponseCurvesConfig",
    "ResponseCurvesResult",
    "interaction_map",
    "response_curve",
    "run_response_curves",
]


def response_curve(
    direction_in: torch.Tensor,
    direction_out: torch.Tensor,
    xs: torch.Tensor,
    nonlinearity: Nonlinearity = "gelu",
) -> torch.Tensor:
    """``nonlin(x · direction_in) · direction_out`` for each x in ``xs`` (directions used as given)."""
    return apply_nonlinearity(torch.outer(xs, direction_in), nonlinearity) @ direction_out


def interaction_map(
    feat_a: torch.Tensor,
    feat_b: torch.Tensor,
    readout: torch.Tensor,
    input_range: torch.Tensor,
    nonlinearity: Nonlinearity = "gelu",
) -> torch.Tensor:
    """Output along ``readout`` of ``nonlin(a·feat_a + b·feat_b)`` on the grid a, b ∈ ``input_range``.

    Returns (len(range), len(range)) with rows indexed by a and columns by b (the seed's
    ``torch.meshgrid`` "ij" layout, shown with ``imshow``).
    """
    a, b = torch.meshgrid(input_range, input_range, indexing="ij")
    grid = torch.stack([a, b], dim=-1).reshape(-1, 2)
    out = apply_nonlinearity(grid @ torch.stack([feat_a, feat_b]), nonlinearity) @ readout
    return out.reshape(len(input_range), len(input_range))


class Curve(BaseModel):
    """One response curve: input level along a direction → output read along a direction."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Short label, e.g. 'aligned in, distributed out'.")
    x: list[float] = Field(description="Input levels along the input direction.")
    y: list[float] = Field(description="Output of the nonlinearity read along the output direction.")
    linear_r2: float = Field(
        description="In-sample R² of the best affine fit y ≈ a + b·x (1 = the nonlinearity acts linearly)."
    )
    quadratic_gain: float = Field(
        description="In-sample R² of a quadratic fit minus linear_r2 (the curve's visible bend)."
    )


def _curve(name: str, x: torch.Tensor, y: torch.Tensor) -> Curve:
    xn, yn = x.double().numpy(), y.double().numpy()
    lin = heldout_r2(xn[:, None], yn, xn[:, None], yn)
    quad_x = np.column_stack([xn, xn**2])
    quad = heldout_r2(quad_x, yn, quad_x, yn)
    return Curve(name=name, x=xn.tolist(), y=yn.tolist(), linear_r2=lin, quadratic_gain=quad - lin)


class InteractionMap(BaseModel):
    """Output along a read-out direction of nonlin(a·A + b·B) over a grid of (a, b)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Which pair of features and read-out.")
    input_range: list[float] = Field(description="Levels used for both a (rows) and b (columns).")
    values: list[list[float]] = Field(description="values[i][j] = output at a = range[i], b = range[j].")
    additivity_r2: float = Field(
        description="R² of the best additive fit g(a) + h(b) (1 = no interaction between the features)."
    )


def _additivity_r2(z: torch.Tensor) -> float:
    zn = z.double().numpy()
    fit = zn.mean(axis=1, keepdims=True) + zn.mean(axis=0, keepdims=True) - zn.mean()
    ss_tot = float(((zn - zn.mean()) ** 2).sum())
    return 1.0 if ss_tot == 0 else 1.0 - float(((zn - fit) ** 2).sum()) / ss_tot


def _map(name: str, rng: torch.Tensor, z: torch.Tensor) -> InteractionMap:
    return InteractionMap(
        name=name,
        input_range=rng.double().tolist(),
        values=z.double().tolist(),
        additivity_r2=_additivity_r2(z),
    )


class ResponseCurvesConfig(ToyConfigModel):
    """Constants of the seed's ``write_lw_100_example`` (§4.1 item 1)."""

    vector_dim: int = Field(100, description="Number of neurons (seed: 100).")
    x_max: float = Field(5.0, description="Input levels span [-x_max, x_max] (seed: 5).")
    n_points: int = Field(1000, description="Points on the 2×2 curves (seed: 1000).")
    large_range_factor: float = Field(
        10.0, description="Range multiplier for the distributed curve (seed: 10)."
    )
    large_n_points: int = Field(100, description="Points on the small/large-range curves (seed: 100).")
    n_negatives: list[int] = Field(
        [0, 10, 25, 40, 50, 75, 90, 100],
        description="Numbers of −1 entries in the distributed feature (seed list); each ≤ vector_dim.",
    )
    map_points: int = Field(100, description="Grid points per axis of the interaction maps (seed: 100).")
    nonlinearity: Nonlinearity = Field("gelu", description="Elementwise nonlinearity (seed: GELU).")
    seed: int = Field(0, description="Seed for the random ±1 features of the last interaction maps.")

    @model_validator(mode="after")
    def _check(self) -> ResponseCurvesConfig:
        hint = "use the seed's defaults: vector_dim=100, x_max=5, n_points=1000"
        require(self.vector_dim >= 2, f"vector_dim must be at least 2, got {self.vector_dim}", hint)
        require(self.x_max > 0, f"x_max must be positive, got {self.x_max}", hint)
        require(self.large_range_factor > 0, "large_range_factor must be positive", hint)
        for name in ("n_points", "large_n_points", "map_points"):
            require(getattr(self, name) >= 3, f"{name} must be at least 3, got {getattr(self, name)}", hint)
        require(
            all(0 <= k <= self.vector_dim for k in self.n_negatives),
            f"n_negatives must lie in [0, vector_dim={self.vector_dim}], got {self.n_negatives}",
            hint,
        )
        require(self.seed >= 0, f"seed must be non-negative, got {self.seed}", "use e.g. 0")
        return self


class ResponseCurvesResult(BaseModel):
    """All response curves and interaction maps of §4.1 item 1."""

    model_config = ConfigDict(frozen=True)

    config: ResponseCurvesConfig = Field(description="The configuration that produced this result.")
    aligned_vs_distributed: list[Curve] = Field(
        description="2×2: aligned/distributed input × aligned/distributed read-out, over [-x_max, x_max]."
    )
    small_vs_large_range: list[Curve] = Field(
        description="Aligned in/out over [-x_max, x_max] and distributed in/out over a large_range_factor× range."
    )
    negative_entries: list[Curve] = Field(
        description="Distributed in/out (large range) with n_neg entries −1, one curve per n_negatives value."
    )
    interaction_maps: list[InteractionMap] = Field(
        description="Two-feature maps: half vs full support (d and 2-d), random ±1 pair read along A and A+B."
    )


def run_response_curves(cfg: ResponseCurvesConfig | None = None) -> ResponseCurvesResult:
    """Compute every curve and map of the seed's 100-dimensional example (CPU, well under a second)."""
    cfg = cfg if cfg is not None else ResponseCurvesConfig()
    d, nl = cfg.vector_dim, cfg.nonlinearity
    aligned = torch.zeros(d, dtype=torch.float64)
    aligned[0] = 1.0
    distributed = torch.ones(d, dtype=torch.float64) / math.sqrt(d)
    xs = torch.linspace(-cfg.x_max, cfg.x_max, cfg.n_points, dtype=torch.float64)
    dirs = {"aligned": aligned, "distributed": distributed}
    grid = [
        _curve(f"{i} in, {o} out", xs, response_curve(dirs[i], dirs[o], xs, nl))
        for i in ("aligned", "distributed")
        for o in ("aligned", "distributed")
    ]
    small = torch.linspace(-cfg.x_max, cfg.x_max, cfg.large_n_points, dtype=torch.float64)
    large = small * cfg.large_range_factor
    ranges = [
        _curve("aligned in/out, small range", small, response_curve(aligned, aligned, small, nl)),
        _curve("distributed in/out, large range", large, response_curve(distributed, distributed, large, nl)),
    ]
    negatives = []
    for n_neg in cfg.n_negatives:
        v = torch.ones(d, dtype=torch.float64)
        v[:n_neg] = -1.0
        v /= v.norm()
        negatives.append(_curve(f"{n_neg} negative entries", large, response_curve(v, v, large, nl)))

    map_rng = torch.linspace(-cfg.x_max, cfg.x_max, cfg.map_points, dtype=torch.float64)
    maps = []
    half = torch.zeros(d, dtype=torch.float64)
    half[: d // 2] = 1.0
    half /= half.norm()
    rng = map_rng * math.sqrt(d // 2)  # √(support size) keeps the nonlinearity's scale constant
    maps.append(
        _map("half-support A, full-support B; read A", rng, interaction_map(half, distributed, half, rng, nl))
    )
    e0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    diag = torch.tensor([1.0, 1.0], dtype=torch.float64) / math.sqrt(2)
    rng2 = map_rng * math.sqrt(2)
    maps.append(_map("2-d: A = e0, B = (1,1)/√2; read A", rng2, interaction_map(e0, diag, e0, rng2, nl)))
    gen = torch.Generator().manual_seed(cfg.seed)
    signed = []
    for _ in range(2):
        v = torch.ones(d, dtype=torch.float64)
        v[torch.randperm(d, generator=gen)[: d // 2]] = -1.0
        signed.append(v / v.norm())
    rng_full = map_rng * math.sqrt(d)
    mixed = signed[0] + signed[1]
    mixed = mixed / mixed.norm().clamp_min(1e-12)
    maps.append(
        _map(
            "random ±1 A, B; read A", rng_full, interaction_map(signed[0], signed[1], signed[0], rng_full, nl)
        )
    )
    maps.append(
        _map("random ±1 A, B; read A+B", rng_full, interaction_map(signed[0], signed[1], mixed, rng_full, nl))
    )
    return ResponseCurvesResult(
        config=cfg,
        aligned_vs_distributed=grid,
        small_vs_large_range=ranges,
        negative_entries=negatives,
        interaction_maps=maps,
    )
