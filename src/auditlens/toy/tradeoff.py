"""The non-homogeneity vs interference trade-off (seeds-digest §4.1 items 2–4; :func:`run_tradeoff`).

* **Non-homogeneity score** (:func:`nonhomogeneity_score`): held-out R² of a quadratic fit of a probed feature's
  output on its input level minus that of a linear fit.
* **Interference score** (:func:`interference_score`): mean over features of the max *signed* cosine to any other
  feature.
* **Trade-off grid**: non-homogeneity over (dims per feature × number of other active features) and interference
  over (dims per feature × number of features), and the summary: per dims-per-feature, the most active features
  tolerated while non-homogeneity > 0.1 and the most features with interference ≤ 0.30 (the page text said 0.25;
  the code uses 0.30). Re-implements ``write_homogeneity_testing`` / ``make_nonhomog_grid`` /
  ``make_interference_grid`` of ``HoagyC/transformers_toy_compute_model``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from auditlens.evals.mmcs import max_cosine
from auditlens.toy.config import ToyConfigModel, require
from auditlens.toy.nonlinearity import Nonlinearity, apply_nonlinearity, heldout_r2

__all__ = [
    "TradeoffConfig",
    "TradeoffResult",
    "feature_vectors",
    "interference_score",
    "nonhomogeneity_score",
    "probe_dataset",
    "run_tradeoff",
    "seed_grid",
]


def nonhomogeneity_score(
    levels: torch.Tensor | np.ndarray, outputs: torch.Tensor | np.ndarray, test_fraction: float = 0.9
) -> float:
    """Held-out R²(quadratic fit) − R²(linear fit) of ``outputs`` on ``levels`` (both 1-D, same length).

    As the seed's ``measure_nonhomogeneity``: the first ``int(n * (1 - test_fraction))`` samples fit both
    models (with intercept), the rest score them. Near 0: the probed output is (affinely) linear in the
    feature's level; larger: the nonlinearity bends it.
    """
    lv = np.asarray(torch.as_tensor(levels).detach().cpu(), dtype=np.float64).ravel()
    out = np.asarray(torch.as_tensor(outputs).detach().cpu(), dtype=np.float64).ravel()
    require(
        lv.shape == out.shape, f"levels {lv.shape} and outputs {out.shape} differ", "pass paired 1-D arrays"
    )
    require(0 < test_fraction < 1, f"test_fraction must be in (0, 1), got {test_fraction}", "use 0.9")
    split = int(len(lv) * (1 - test_fraction))
    require(
        split >= 3 and len(lv) - split >= 1,
        f"too few samples ({len(lv)}) to fit on {split} and test on the rest",
        "use at least a few hundred samples",
    )
    quad = np.column_stack([lv, lv**2])
    lin_r2 = heldout_r2(lv[:split, None], out[:split], lv[split:, None], out[split:])
    quad_r2 = heldout_r2(quad[:split], out[:split], quad[split:], out[split:])
    return quad_r2 - lin_r2


def interference_score(features: torch.Tensor) -> float:
    """Mean over features of the max signed cosine to any *other* feature of the set (seed:
    ``check_most_similar``)."""
    return float(max_cosine(features, features, exclude_self=True).values.mean())


def feature_vectors(
    vector_dim: int,
    dims_per_feature: int,
    n_feats: int,
    *,
    include_negative: bool,
    generator: torch.Generator,
) -> torch.Tensor:
    """Random unit feature vectors with exactly ``dims_per_feature`` non-zero coordinates each.

    Entries are U[0,1) (``include_negative``: U[−0.5, 0.5)) before masking, as the seed's
    ``compute_feature_vectors``; the support of each feature is a uniformly random subset.
    """
    require(
        1 <= dims_per_feature <= vector_dim,
        f"dims_per_feature must be in [1, vector_dim={vector_dim}], got {dims_per_feature}",
        "choose a support size no larger than the vector dimension",
    )
    vecs = torch.rand(n_feats, vector_dim, generator=generator, dtype=torch.float64)
    if include_negative:
        vecs -= 0.5
    keep = torch.rand(n_feats, vector_dim, generator=generator).argsort(dim=1)[:, :dims_per_feature]
    mask = torch.zeros(n_feats, vector_dim, dtype=torch.bool).scatter_(1, keep, True)
    vecs = vecs * mask
    return (vecs / vecs.norm(dim=1, keepdim=True).clamp_min(1e-12)).to(torch.float32)


def _random_subsets(
    n_probed: int, n_samples: int, n_feats: int, k: int, generator: torch.Generator
) -> torch.Tensor:
    """Bool (n_probed, n_samples, n_feats) masks, each row a uniformly random k-subset.

    Selection sampling (Knuth's Algorithm S), vectorised over rows: feature j is taken with probability
    (still needed) / (features left). Exact, and much cheaper than argsort-ing uniforms.
    """
    if k == 0:
        return torch.zeros(n_probed, n_samples, n_feats, dtype=torch.bool)
    rows = n_probed * n_samples
    u = torch.rand(n_feats, rows, generator=generator)  # feature-major: each step reads a contiguous row
    on = torch.empty(n_feats, rows, dtype=torch.bool)
    needed = torch.full((rows,), float(k))
    for j in range(n_feats):
        torch.lt(u[j] * (n_feats - j), needed, out=on[j])
        needed.sub_(on[j].to(needed.dtype))
    return on.T.reshape(n_probed, n_samples, n_feats)


def probe_dataset(
    feature_vecs: torch.Tensor,
    probed: torch.Tensor,
    *,
    n_samples: int,
    n_on: int,
    scale: float,
    biases: torch.Tensor,
    nonlinearity: Nonlinearity,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The seed's ``generate_dataset`` for several probed features at once; returns (levels, probed output).

    For each probed feature k (one dataset each): every sample switches on ``n_on`` features chosen
    uniformly among all ``n_feats`` (so the probed one may be among them, as in the seed) plus the probed
    feature; levels are U[−scale, scale); inputs = levels @ features; outputs = nonlin(inputs + biases);
    the probed output is outputs · feature_k. Shapes: levels (n_probed, n_samples), output the same.
    """
    n_feats = feature_vecs.shape[0]
    n_probed = probed.shape[0]
    require(0 <= n_on <= n_feats, f"n_on must be in [0, n_feats={n_feats}], got {n_on}", "lower n_on")
    on = _random_subsets(n_probed, n_samples, n_feats, n_on, generator)
    on[torch.arange(n_probed), :, probed] = True
    levels_all = torch.rand(n_probed, n_samples, n_feats, generator=generator).sub_(0.5).mul_(2 * scale)
    levels_all.mul_(on)
    outputs = apply_nonlinearity(levels_all @ feature_vecs + biases, nonlinearity)
    probed_vecs = feature_vecs[probed]  # (n_probed, d)
    probed_out = torch.einsum("psd,pd->ps", outputs, probed_vecs)
    probed_levels = levels_all[torch.arange(n_probed), :, probed]
    return probed_levels, probed_out


def seed_grid(low_log2: float, high_log2: float, n_points: int, extra: tuple[int, ...] = ()) -> list[int]:
    """``sorted(set(int(2**x) for x in linspace(low_log2, high_log2, n_points)) | set(extra))`` as the seed."""
    values = {int(2**x) for x in np.linspace(low_log2, high_log2, n_points)}
    return sorted(values | set(extra))


class TradeoffConfig(ToyConfigModel):
    """Constants of the seed's ``write_homogeneity_testing`` / ``make_nonhomog_grid`` /
    ``make_interference_grid`` (§4.1 item 2), defaults as the seed's page defaults."""

    vector_dim: int = Field(100, description="Number of neurons (seed: 100).")
    n_feats: int = Field(
        100, description="Features in the non-homogeneity datasets (seed page default: 100)."
    )
    n_feats_tested: int = Field(10, description="Probed features averaged per grid cell (seed: 10).")
    n_samples: int = Field(5000, description="Samples per non-homogeneity dataset (seed: 5000).")
    test_fraction: float = Field(0.9, description="Held-out share for the R² comparison (seed: 0.9).")
    bias_scale: float = Field(0.0, description="Biases ~ U[0, bias_scale) per neuron (seed page default: 0).")
    nonlinearity: Nonlinearity = Field("gelu", description="Elementwise nonlinearity (seed default: GELU).")
    n_grid_points: int = Field(20, description="linspace points behind each log2 grid (seed: 20).")
    n_feats_log2_min: float = Field(4.0, description="Interference grid: n_feats from 2**4 … (seed).")
    n_feats_log2_max: float = Field(14.0, description="… to 2**14 features (seed).")
    interference_tries: int = Field(
        1, description="Random feature sets averaged per interference cell (seed: 1)."
    )
    nonhomogeneity_threshold: float = Field(
        0.1, description="'Still non-homogeneous' means score > this (seed)."
    )
    interference_threshold: float = Field(
        0.30, description="'Limited interference' means ≤ this (seed code: 0.30)."
    )
    seed: int = Field(0, description="Seed for feature vectors, datasets and biases.")

    @model_validator(mode="after")
    def _check(self) -> TradeoffConfig:
        hint = "use the seed's defaults: vector_dim=100, n_feats=100, n_samples=5000"
        require(self.vector_dim >= 2, f"vector_dim must be at least 2, got {self.vector_dim}", hint)
        require(self.n_feats >= 1, f"n_feats must be positive, got {self.n_feats}", hint)
        require(
            1 <= self.n_feats_tested <= self.n_feats,
            f"n_feats_tested must be in [1, n_feats={self.n_feats}], got {self.n_feats_tested}",
            hint,
        )
        require(self.n_samples >= 50, f"n_samples must be at least 50, got {self.n_samples}", hint)
        require(
            0 < self.test_fraction < 1, f"test_fraction must be in (0, 1), got {self.test_fraction}", hint
        )
        require(self.bias_scale >= 0, f"bias_scale must be non-negative, got {self.bias_scale}", hint)
        require(self.n_grid_points >= 1, f"n_grid_points must be positive, got {self.n_grid_points}", hint)
        require(
            1 <= self.n_feats_log2_min <= self.n_feats_log2_max,
            f"need 1 <= n_feats_log2_min <= n_feats_log2_max, got {self.n_feats_log2_min}, "
            f"{self.n_feats_log2_max}",
            hint,
        )
        require(self.interference_tries >= 1, "interference_tries must be positive", hint)
        require(self.seed >= 0, f"seed must be non-negative, got {self.seed}", "use e.g. 0")
        return self

    def dims_per_feature_grid(self) -> list[int]:
        """{int(2**x): x ∈ linspace(1, log2 d, n)} ∪ {d} (seed)."""
        return seed_grid(1.0, math.log2(self.vector_dim), self.n_grid_points, (self.vector_dim,))

    def n_on_grid(self) -> list[int]:
        """{0} ∪ {int(2**x): x ∈ linspace(0, log2 d, n)} (seed), capped at n_feats."""
        grid = seed_grid(0.0, math.log2(self.vector_dim), self.n_grid_points, (0,))
        return [k for k in grid if k <= self.n_feats]

    def n_feats_grid(self) -> list[int]:
        """{int(2**x): x ∈ linspace(4, 14, n)} (seed)."""
        return seed_grid(self.n_feats_log2_min, self.n_feats_log2_max, self.n_grid_points)


class TradeoffResult(BaseModel):
    """Non-homogeneity and interference grids over dims per feature, and the trade-off summary."""

    model_config = ConfigDict(frozen=True)

    config: TradeoffConfig = Field(description="The configuration that produced this result.")
    dims_per_feature: list[int] = Field(
        description="Row labels of both grids: non-zero coordinates per feature."
    )
    n_on: list[int] = Field(description="Column labels of the non-homogeneity grid: other active features.")
    nonhomogeneity: list[list[float]] = Field(
        description="[i][j]: mean non-homogeneity score of n_feats_tested probed features at "
        "dims_per_feature[i], n_on[j]."
    )
    n_feats: list[int] = Field(description="Column labels of the interference grid: number of features.")
    interference: list[list[float]] = Field(
        description="[i][j]: interference (mean max signed cosine) of n_feats[j] random features with "
        "dims_per_feature[i] non-zero coordinates (entries U[−0.5, 0.5))."
    )
    max_active_while_nonhomogeneous: list[int | None] = Field(
        description="Per dims_per_feature: the largest n_on whose score is > nonhomogeneity_threshold "
        "(None if none is)."
    )
    max_features_below_interference: list[int | None] = Field(
        description="Per dims_per_feature: the largest n_feats before the first one whose interference "
        "exceeds interference_threshold (None if the smallest already does; the last grid value, a lower "
        "bound, if none does). The seed code stored the first exceeding n_feats instead (0 if none)."
    )


def _nonhomogeneity_cell(cfg: TradeoffConfig, dims: int, n_on: int, gen: torch.Generator) -> float:
    feats = feature_vectors(cfg.vector_dim, dims, cfg.n_feats, include_negative=False, generator=gen)
    biases = torch.rand(cfg.vector_dim, generator=gen) * cfg.bias_scale
    probed = torch.arange(cfg.n_feats_tested)
    scale = math.sqrt(cfg.vector_dim)
    levels, outputs = probe_dataset(
        feats,
        probed,
        n_samples=cfg.n_samples,
        n_on=n_on,
        scale=scale,
        biases=biases,
        nonlinearity=cfg.nonlinearity,
        generator=gen,
    )
    scores = [nonhomogeneity_score(levels[k], outputs[k], cfg.test_fraction) for k in range(len(probed))]
    return float(np.mean(scores))


def run_tradeoff(cfg: TradeoffConfig | None = None) -> TradeoffResult:
    """Compute both grids and the summary. With the seed's defaults this is ~18×18 non-homogeneity cells
    (10 probed features × 5,000 samples each) and ~18×20 interference cells up to 16,384 features — a minute
    or two of CPU (the 16k-feature cosine matrices dominate)."""
    cfg = cfg if cfg is not None else TradeoffConfig()
    gen = torch.Generator().manual_seed(cfg.seed)
    dims_grid, n_on_grid, n_feats_grid = cfg.dims_per_feature_grid(), cfg.n_on_grid(), cfg.n_feats_grid()
    nonhomog = [[_nonhomogeneity_cell(cfg, dims, n_on, gen) for n_on in n_on_grid] for dims in dims_grid]
    interference = [
        [
            float(
                np.mean(
                    [
                        interference_score(
                            feature_vectors(cfg.vector_dim, dims, n, include_negative=True, generator=gen)
                        )
                        for _ in range(cfg.interference_tries)
                    ]
                )
            )
            for n in n_feats_grid
        ]
        for dims in dims_grid
    ]
    max_active: list[int | None] = []
    for row in nonhomog:
        above = [
            n_on for n_on, score in zip(n_on_grid, row, strict=True) if score > cfg.nonhomogeneity_threshold
        ]
        max_active.append(max(above) if above else None)
    max_feats: list[int | None] = []
    for row in interference:
        best: int | None = None
        for n, value in zip(n_feats_grid, row, strict=True):
            if value > cfg.interference_threshold:
                break
            best = n
        max_feats.append(best)
    return TradeoffResult(
        config=cfg,
        dims_per_feature=dims_grid,
        n_on=n_on_grid,
        nonhomogeneity=nonhomog,
        n_feats=n_feats_grid,
        interference=interference,
        max_active_while_nonhomogeneous=max_active,
        max_features_below_interference=max_feats,
    )
