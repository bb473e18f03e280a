"""Nonlinearity probes: how a feature's direction relative to the neuron basis meets an elementwise nonlinearity.

Re-implements the experiments of ``HoagyC/transformers_toy_compute_model`` (``streamlit_page.py``,
``write_all_lw_graphs``, Oct 2023; seeds-digest §4.1 items 1–2), the companion code of "Some additional SAE
thoughts" (Hoagy, Jan 2024), whose text we could not read. The toy MLP that computes new features (§4.1
item 4) is in :mod:`auditlens.toy.compute_mlp`; plots are in :mod:`auditlens.toy.plots`.

1. **Response curves** (:func:`run_response_curves`): in d = 100, an *aligned* feature e₀ and a
   *distributed* feature (1,…,1)/√100; sweep the input x·v for x ∈ [−5, 5], apply GELU elementwise, read the
   output along either direction (2×2); the distributed feature over a 10× range; distributed features with
   n_neg ∈ {0, 10, 25, 40, 50, 75, 90, 100} entries −1; 2-D interaction maps of two features (half- vs
   full-support in 100-d and in 2-d; two random ±1 features read along A and along (A+B)/‖A+B‖), input
   ranges scaled by √(support size).
2. **Non-homogeneity score** (:func:`nonhomogeneity_score`): held-out R² of a quadratic fit of a probed
   feature's output on its input level minus that of a linear fit.
3. **Interference score** (:func:`interference_score`): mean over features of the max *signed* cosine to
   any other feature.
4. **Trade-off grid** (:func:`run_tradeoff`): non-homogeneity over (dims per feature × number of other
   active features) and interference over (dims per feature × number of features), and the summary:
   per dims-per-feature, the most active features tolerated while non-homogeneity > 0.1 and the most
   features with interference ≤ 0.30 (the page text said 0.25; the code uses 0.30).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, model_validator

from auditlens.evals.mmcs import max_cosine
from auditlens.toy.config import ToyConfigModel, require

__all__ = [
    "Curve",
    "InteractionMap",
    "Nonlinearity",
    "ResponseCurvesConfig",
    "ResponseCurvesResult",
    "TradeoffConfig",
    "TradeoffResult",
    "apply_nonlinearity",
    "feature_vectors",
    "interaction_map",
    "interference_score",
    "nonhomogeneity_score",
    "probe_dataset",
    "response_curve",
    "run_response_curves",
    "run_tradeoff",
    "seed_grid",
]

Nonlinearity = Literal["gelu", "relu", "tanh"]

_NONLINEARITIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": F.gelu,  # exact (erf) GELU, as torch.nn.GELU() in the seed
    "relu": F.relu,
    "tanh": torch.tanh,
}


def apply_nonlinearity(x: torch.Tensor, nonlinearity: Nonlinearity) -> torch.Tensor:
    """Elementwise ``gelu`` (exact), ``relu`` or ``tanh``."""
    return _NONLINEARITIES[nonlinearity](x)


# --------------------------------------------------------------------------------------------------
# Shared scores
# --------------------------------------------------------------------------------------------------


def _heldout_r2(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """R² on the test split of a least-squares fit with intercept (sklearn ``LinearRegression().score``)."""
    a_train = np.column_stack([np.ones(len(x_train)), x_train])
    coef, *_ = np.linalg.lstsq(a_train, y_train, rcond=None)
    pred = np.column_stack([np.ones(len(x_test)), x_test]) @ coef
    ss_res = float(np.sum((y_test - pred) ** 2))
    ss_tot = float(np.sum((y_test - y_test.mean()) ** 2))
    if ss_tot == 0.0:  # sklearn's force_finite convention for a constant target
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


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
    lin_r2 = _heldout_r2(lv[:split, None], out[:split], lv[split:, None], out[split:])
    quad_r2 = _heldout_r2(quad[:split], out[:split], quad[split:], out[split:])
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


# --------------------------------------------------------------------------------------------------
# 1. Response curves
# --------------------------------------------------------------------------------------------------


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
    lin = _heldout_r2(xn[:, None], yn, xn[:, None], yn)
    quad_x = np.column_stack([xn, xn**2])
    quad = _heldout_r2(quad_x, yn, quad_x, yn)
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


# --------------------------------------------------------------------------------------------------
# 2–4. Non-homogeneity vs interference trade-off
# --------------------------------------------------------------------------------------------------


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
