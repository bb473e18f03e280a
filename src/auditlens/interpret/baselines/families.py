"""The baseline feature families: affine read-outs (optionally ReLU or ± split), top-K of another source, and
NMF codes. Each is a :class:`~auditlens.interpret.features.FeatureSource`; the fitted ones save as safetensors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from auditlens.interpret._files import load_tensors, save_tensors
from auditlens.interpret.errors import InterpretError

__all__ = ["LinearFeatures", "NMFFeatures", "TopKFeatures", "split_nonnegative", "unit_rows"]


def unit_rows(w: Tensor) -> Tensor:
    return w / w.norm(dim=1, keepdim=True).clamp_min(1e-12)


class LinearFeatures:
    """Affine features ``y = (x − center) · Wᵀ + b``, then optionally ReLU, or a ± split into ``relu(y)``,
    ``relu(−y)`` (features ``0..F−1`` are the + side, ``F..2F−1`` the − side).

    Args:
        weight: ``(F, d_in)`` read-out rows.
        name: display name.
        bias: ``(F,)`` added before the nonlinearity.
        center: ``(d_in,)`` subtracted from the input first.
        relu: apply ReLU.
        split: ± split (implies ReLU on both sides).
        directions: ``(F, d_in)`` direction of each feature in activation space (default: unit weight rows).
    """

    def __init__(
        self,
        weight: Tensor,
        *,
        name: str,
        bias: Tensor | None = None,
        center: Tensor | None = None,
        relu: bool = False,
        split: bool = False,
        directions: Tensor | None = None,
    ) -> None:
        self.weight = weight.float()
        self.bias = None if bias is None else bias.float()
        self.center = None if center is None else center.float()
        self.relu, self.split = relu, split
        self._dirs = unit_rows(self.weight if directions is None else directions.float())
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def d_in(self) -> int:
        return int(self.weight.shape[1])

    @property
    def n_features(self) -> int:
        return int(self.weight.shape[0]) * (2 if self.split else 1)

    @property
    def feature_ids(self) -> Tensor:
        return torch.arange(self.n_features)

    @torch.no_grad()
    def pre(self, x: Tensor) -> Tensor:
        x = x.float()
        if self.center is not None:
            x = x - self.center.to(x.device)
        y = x @ self.weight.to(x.device).t()
        return y if self.bias is None else y + self.bias.to(x.device)

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        y = self.pre(x)
        if self.split:
            return torch.cat([y.relu(), (-y).relu()], 1)
        return y.relu() if self.relu else y

    def directions(self) -> Tensor:
        return torch.cat([self._dirs, -self._dirs]) if self.split else self._dirs

    def variant(self, name: str, *, relu: bool | None = None, split: bool | None = None) -> LinearFeatures:
        """The same read-out with another nonlinearity."""
        return LinearFeatures(
            self.weight,
            name=name,
            bias=self.bias,
            center=self.center,
            relu=self.relu if relu is None else relu,
            split=self.split if split is None else split,
            directions=self._dirs,
        )

    def save(self, path: str | Path) -> Path:
        """Write the read-out as safetensors (``weight``, ``directions``, optional ``bias``/``center``)."""
        t = {"weight": self.weight, "directions": self._dirs}
        if self.bias is not None:
            t["bias"] = self.bias
        if self.center is not None:
            t["center"] = self.center
        meta = {"name": self._name, "relu": json.dumps(self.relu), "split": json.dumps(self.split)}
        return save_tensors(path, t, meta)

    @classmethod
    def load(cls, path: str | Path) -> LinearFeatures:
        t, meta = load_tensors(path)
        return cls(
            t["weight"],
            name=meta["name"],
            bias=t.get("bias"),
            center=t.get("center"),
            relu=json.loads(meta["relu"]),
            split=json.loads(meta["split"]),
            directions=t["directions"],
        )


class TopKFeatures:
    """Another source keeping, per token, only its ``k`` largest features (the rest set to 0)."""

    def __init__(self, inner: Any, k: int, *, name: str) -> None:
        if k < 1:
            raise InterpretError(f"top-K needs k >= 1, got {k}", hint="pass the dictionary's mean L0 (>= 1)")
        self.inner, self.k, self._name = inner, int(k), name

    @property
    def name(self) -> str:
        return self._name

    @property
    def d_in(self) -> int:
        return int(self.inner.d_in)

    @property
    def n_features(self) -> int:
        return int(self.inner.n_features)

    @property
    def feature_ids(self) -> Tensor:
        return torch.arange(self.n_features)

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        y = self.inner.encode(x)
        k = min(self.k, y.shape[1])
        top = y.topk(k, dim=1)
        return torch.zeros_like(y).scatter_(1, top.indices, top.values.clamp_min(0))

    def directions(self) -> Tensor:
        return self.inner.directions()


class NMFFeatures:
    """NMF codes of the split data ``[relu(x), relu(−x)]`` for fixed components ``H`` (F, 2·d_in), solved with
    sklearn's ``non_negative_factorization(update_H=False)`` (coordinate descent)."""

    def __init__(self, components: Tensor, *, name: str = "nmf", max_iter: int = 200) -> None:
        self.H = components.double()
        self._name, self.max_iter = name, max_iter

    @property
    def name(self) -> str:
        return self._name

    @property
    def d_in(self) -> int:
        return int(self.H.shape[1]) // 2

    @property
    def n_features(self) -> int:
        return int(self.H.shape[0])

    @property
    def feature_ids(self) -> Tensor:
        return torch.arange(self.n_features)

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        from sklearn.decomposition import non_negative_factorization

        xs = split_nonnegative(x.double().cpu()).numpy()
        w, _, _ = non_negative_factorization(
            xs, H=self.H.numpy(), n_components=self.n_features, update_H=False, max_iter=self.max_iter
        )
        return torch.from_numpy(np.asarray(w)).float().to(x.device)

    def directions(self) -> Tensor:
        d = self.d_in
        return unit_rows((self.H[:, :d] - self.H[:, d:]).float())

    def save(self, path: str | Path) -> Path:
        return save_tensors(path, {"components": self.H.float()}, {"name": self._name})

    @classmethod
    def load(cls, path: str | Path) -> NMFFeatures:
        t, meta = load_tensors(path)
        return cls(t["components"], name=meta.get("name", "nmf"))


def split_nonnegative(x: Tensor) -> Tensor:
    """``[relu(x), relu(−x)]`` along the last axis."""
    return torch.cat([x.clamp_min(0), (-x).clamp_min(0)], -1)
