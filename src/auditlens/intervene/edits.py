"""Edits of the activations at one hook point, as splice functions for :meth:`auditlens.models.HookedModel.splice`.

Each edit changes codes of a :class:`~auditlens.intervene.basis.FeatureBasis` and moves the activation by the change
of the reconstruction (``x' = x + x̂(c') − x̂(c)``: the reconstruction error is kept), at every position or at the
positions given (an int or a list of ints per batch row, negative from the end). Steering adds a direction.

    with model.splice({hp: ablate(basis, [12, 40], mode="mean", mean_codes=mu)}):
        logits = model.logits(ids)

Every edit records the size of its last edit (``edit.magnitude``: mean L2 norm of ``x' − x`` over edited positions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor

from auditlens.errors import ConfigError
from auditlens.intervene.basis import FeatureBasis

__all__ = ["Edit", "ablate", "add_noise", "clamp", "patch_codes", "project_out", "steer"]

Positions = int | Sequence[int] | None


def _check_features(basis: FeatureBasis, features: Sequence[int]) -> list[int]:
    feats = [int(f) for f in features]
    bad = [f for f in feats if not 0 <= f < basis.n_features]
    if bad:
        raise ConfigError(
            f"feature ids {bad[:5]} are out of range for a basis of {basis.n_features} features",
            hint=f"use ids in [0, {basis.n_features - 1}]",
        )
    return feats


def _position_mask(x: Tensor, positions: Positions) -> Tensor:
    """(batch, seq) bool mask of the positions to edit."""
    b, s = x.shape[0], x.shape[1]
    mask = torch.zeros(b, s, dtype=torch.bool, device=x.device)
    if positions is None:
        mask[:] = True
        return mask
    for p in [positions] if isinstance(positions, int) else list(positions):
        if not -s <= p < s:
            raise ConfigError(
                f"position {p} is outside the sequence of length {s}", hint="count from 0 (or -1)"
            )
        mask[:, p] = True
    return mask


class Edit:
    """A splice function that replaces chosen codes (``new_codes(codes) -> codes``) at chosen positions."""

    def __init__(self, basis: FeatureBasis, positions: Positions = None):
        self.basis = basis
        self.positions = positions
        self.magnitude = 0.0

    def new_codes(self, codes: Tensor, mask: Tensor) -> Tensor:
        raise NotImplementedError

    def delta(self, x: Tensor, mask: Tensor) -> Tensor:
        codes = self.basis.encode(x)
        return self.basis.decode(self.new_codes(codes, mask)) - self.basis.decode(codes)

    @torch.no_grad()
    def __call__(self, x: Tensor) -> Tensor:
        if x.dim() != 3:
            raise ConfigError(
                f"expected (batch, seq, d) activations, got {tuple(x.shape)}", hint="edit a hook point"
            )
        mask = _position_mask(x, self.positions)
        d = self.delta(x, mask).to(x.dtype) * mask[..., None]
        self.magnitude = float(d.norm(dim=-1)[mask].mean()) if bool(mask.any()) else 0.0
        return x + d


class _Ablate(Edit):
    def __init__(
        self,
        basis: FeatureBasis,
        features: Sequence[int],
        mode: str,
        values: Tensor | None,
        positions: Positions,
    ):
        super().__init__(basis, positions)
        self.features = torch.tensor(_check_features(basis, features), dtype=torch.long)
        self.mode = mode
        self.values = values

    def new_codes(self, codes: Tensor, mask: Tensor) -> Tensor:
        out = codes.clone()
        f = self.features.to(codes.device)
        if self.mode == "zero":
            out[..., f] = 0.0
        elif self.mode == "mean":
            assert self.values is not None
            out[..., f] = self.values.to(codes)[f]
        else:  # resample: each edited row takes the codes of a random row of the pool
            assert self.values is not None
            pool = self.values.to(codes)
            idx = torch.randint(0, pool.shape[0], codes.shape[:-1], generator=self._gen)
            out[..., f] = pool[idx][..., f]
        return out


def ablate(
    basis: FeatureBasis,
    features: Sequence[int],
    *,
    mode: Literal["zero", "mean", "resample"] = "zero",
    mean_codes: Tensor | None = None,
    pool: Tensor | None = None,
    positions: Positions = None,
    seed: int = 0,
) -> Edit:
    """Ablate ``features``: set their codes to 0, to ``mean_codes`` (n_features,), or to those of random rows of
    ``pool`` (rows of codes, e.g. from other contexts)."""
    if mode == "mean" and (mean_codes is None or mean_codes.shape[-1] != basis.n_features):
        raise ConfigError("mean ablation needs mean_codes of shape (n_features,)", hint="pass codes.mean(0)")
    if mode == "resample" and (pool is None or pool.dim() != 2 or pool.shape[1] != basis.n_features):
        raise ConfigError(
            "resample ablation needs a pool of codes (rows, n_features)", hint="encode other contexts"
        )
    if mode not in ("zero", "mean", "resample"):
        raise ConfigError(f"unknown ablation mode {mode!r}", hint="use zero, mean or resample")
    edit = _Ablate(basis, features, mode, mean_codes if mode == "mean" else pool, positions)
    edit._gen = torch.Generator().manual_seed(seed)  # type: ignore[attr-defined]
    return edit


class _Clamp(Edit):
    def __init__(self, basis: FeatureBasis, values: dict[int, float], positions: Positions):
        super().__init__(basis, positions)
        self.values = dict(zip(_check_features(basis, list(values)), values.values(), strict=True))

    def new_codes(self, codes: Tensor, mask: Tensor) -> Tensor:
        out = codes.clone()
        for f, v in self.values.items():
            out[..., f] = v
        return out


def clamp(basis: FeatureBasis, values: dict[int, float], *, positions: Positions = None) -> Edit:
    """Set features to fixed code values (``{feature: value}``), e.g. a feature at 10× its usual maximum."""
    return _Clamp(basis, values, positions)


class _Patch(Edit):
    def __init__(
        self,
        basis: FeatureBasis,
        features: Sequence[int] | None,
        target: Tensor,
        positions: Positions,
        target_error: Tensor | None,
    ):
        super().__init__(basis, positions)
        self.features = (
            None if features is None else torch.tensor(_check_features(basis, features), dtype=torch.long)
        )
        self.target = target
        self.target_error = target_error

    def new_codes(self, codes: Tensor, mask: Tensor) -> Tensor:
        if self.target.shape != codes.shape:
            raise ConfigError(
                f"counterfactual codes have shape {tuple(self.target.shape)}, the run's have {tuple(codes.shape)}",
                hint="the base and counterfactual prompts must tokenise to the same length",
            )
        if self.features is None:
            return self.target.to(codes)
        out = codes.clone()
        f = self.features.to(codes.device)
        out[..., f] = self.target.to(codes)[..., f]
        return out

    def delta(self, x: Tensor, mask: Tensor) -> Tensor:
        d = super().delta(x, mask)
        if self.target_error is not None:  # swap the reconstruction error too: x' = x̂(c') + e(x̄)
            own_error = x.float() - self.basis.decode(self.basis.encode(x))
            d = d + self.target_error.to(d) - own_error.to(d)
        return d


def patch_codes(
    basis: FeatureBasis,
    target_codes: Tensor,
    features: Sequence[int] | None = None,
    *,
    positions: Positions = None,
    target_error: Tensor | None = None,
) -> Edit:
    """Counterfactual patching: ``x' = x + Σ_{j∈F}(c̄_j − c_j) f_j`` with ``c̄`` = ``target_codes`` (batch, seq, F)
    of the counterfactual run; ``features=None`` patches every feature. The run's own reconstruction error is kept
    (the seed's rule); with ``target_error`` (the counterfactual's ``x̄ − x̂(c̄)``) it is swapped too, so patching
    every feature then reproduces the counterfactual activations exactly."""
    return _Patch(basis, features, target_codes, positions, target_error)


class _Steer(Edit):
    def __init__(self, direction: Tensor, strength: float, positions: Positions, normalise: bool):
        self.direction = direction.float() / (direction.float().norm() if normalise else 1.0)
        self.strength = strength
        self.positions = positions
        self.magnitude = 0.0

    def delta(self, x: Tensor, mask: Tensor) -> Tensor:
        if x.shape[-1] != self.direction.shape[0]:
            raise ConfigError(
                f"steering direction has width {self.direction.shape[0]}, the hook point {x.shape[-1]}",
                hint="use a direction of this hook point",
            )
        return (self.strength * self.direction.to(x.device)).expand_as(x)


def steer(direction: Tensor, strength: float, *, positions: Positions = None, normalise: bool = True) -> Edit:
    """Add ``strength`` × ``direction`` (unit-normalised unless ``normalise=False``), e.g. a feature's decoder row."""
    return _Steer(direction, strength, positions, normalise)


class _ProjectOut(Edit):
    def __init__(self, directions: Tensor, positions: Positions):
        d = directions.float()
        d = d.unsqueeze(0) if d.dim() == 1 else d
        if d.dim() != 2 or d.shape[0] == 0:
            raise ConfigError("project_out needs a direction (d,) or directions (k, d)", hint="stack rows")
        q, _ = torch.linalg.qr(d.T)  # (d, k) orthonormal basis of the span
        self.q = q[:, : torch.linalg.matrix_rank(d)]
        self.positions = positions
        self.magnitude = 0.0

    def delta(self, x: Tensor, mask: Tensor) -> Tensor:
        if x.shape[-1] != self.q.shape[0]:
            raise ConfigError(
                f"direction has width {self.q.shape[0]}, the hook point {x.shape[-1]}",
                hint="use a direction of this hook point",
            )
        q = self.q.to(x.device)
        return -((x.float() @ q) @ q.T)


def project_out(directions: Tensor, *, positions: Positions = None) -> Edit:
    """Directional ablation: remove the component of the activation in the span of ``directions`` ((d,) or
    (k, d)), ``x' = x − Q Qᵀ x`` with ``Q`` an orthonormal basis of the span (Arditi et al. 2024, "Refusal is
    mediated by a single direction")."""
    return _ProjectOut(directions, positions)


class _Noise(Edit):
    def __init__(self, sigma: float, seed: int, positions: Positions):
        self.sigma = float(sigma)
        self.gen = torch.Generator().manual_seed(seed)
        self.positions = positions
        self.magnitude = 0.0

    def delta(self, x: Tensor, mask: Tensor) -> Tensor:
        noise = torch.randn(x.shape, generator=self.gen, dtype=torch.float32)
        return (self.sigma * noise).to(x.device)


def add_noise(sigma: float, *, seed: int = 0, positions: Positions = None) -> Edit:
    """Add isotropic Gaussian noise ``N(0, σ² I)`` at every forward pass (fresh noise each call, seeded), e.g.
    activation fuzzing; the expected norm of the noise is ``σ·√d``."""
    if sigma < 0:
        raise ConfigError(f"noise sigma must be >= 0, got {sigma}", hint="e.g. 0.5 × the stream's RMS / √d")
    return _Noise(sigma, seed, positions)
