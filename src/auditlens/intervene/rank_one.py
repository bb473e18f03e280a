"""Less-than-rank-one ablation of a feature and its effect on the next-token logits (seed §5.8).

Zero-ablating feature ``j`` moves an activation by its whole contribution ``c_j f_j``; projecting out ``f_j``
removes every component along it. The seed's "less-than-rank-one" ablation moves the activation against ``f_j``
only **until the feature stops firing**: ``x' = x − t* f̂_j`` with the smallest ``t*`` for which the basis encodes
``x'`` with ``c_j = 0`` (``f̂_j`` the unit decoder direction). It needs nothing of the encoder but ``encode``, so it
works for any basis: ``t*`` is found by bisection per position (for a linear code, e.g. PCA, it is exactly the
coordinate). The seed then reads which next-token logits the edit moves most (an apostrophe feature mainly
lowered the logit of "s").

    edit = stop_firing(basis, 123)
    eff = logit_effects(model, "blocks.5.resid_post", edit, ids, tokenizer=tok)
    eff.decreased[:3]   # [("s", -2.1), ...]
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import BaseModel, Field
from torch import Tensor

from auditlens.intervene.basis import FeatureBasis
from auditlens.intervene.edits import Edit, Positions, _check_features

__all__ = ["LogitEffects", "logit_effects", "stop_firing"]

BISECTION_STEPS = 30
"""Halvings of the step length: the feature's code at the result is 0 and within 2⁻³⁰ of the start of firing."""


class _StopFiring(Edit):
    def __init__(self, basis: FeatureBasis, feature: int, positions: Positions, steps: int):
        super().__init__(basis, positions)
        self.feature = _check_features(basis, [feature])[0]
        self.steps = steps
        self.moved_fraction = 0.0  # t* / (c_j ‖f_j‖), mean over positions where the feature fired

    @torch.no_grad()
    def delta(self, x: Tensor, mask: Tensor) -> Tensor:
        flat = x.reshape(-1, x.shape[-1]).float()
        codes = self.basis.encode(flat)[:, self.feature]
        fire = (codes > 0) & mask.reshape(-1)
        out = torch.zeros_like(flat)
        if not bool(fire.any()):
            self.moved_fraction = 0.0
            return out.view_as(x)
        f = self.basis.directions()[self.feature].float().to(flat.device)
        u = f / f.norm()
        xs = flat[fire]
        full = codes[fire] * f.norm()  # the length of the zero-ablation's move
        hi = full.clone()

        def firing(t: Tensor) -> Tensor:
            return self.basis.encode(xs - t[:, None] * u)[:, self.feature] > 0

        for _ in range(8):  # a non-linear encoder may need more than its whole contribution
            still = firing(hi)
            if not bool(still.any()):
                break
            hi = torch.where(still, hi * 2, hi)
        lo = torch.zeros_like(hi)
        for _ in range(self.steps):
            mid = (lo + hi) / 2
            f_mid = firing(mid)
            lo, hi = torch.where(f_mid, mid, lo), torch.where(f_mid, hi, mid)
        out[fire] = -hi[:, None] * u
        self.moved_fraction = float((hi / full.clamp_min(1e-12)).mean())
        return out.view_as(x)


def stop_firing(
    basis: FeatureBasis, feature: int, *, positions: Positions = None, steps: int = BISECTION_STEPS
) -> Edit:
    """Less-than-rank-one ablation of ``feature``: at each (chosen) position where it fires, move the activation
    against its decoder direction just far enough that it stops (see the module doc). After a call,
    ``edit.magnitude`` is the mean move and ``edit.moved_fraction`` the mean share of the zero-ablation's move."""
    return _StopFiring(basis, feature, positions, steps)


class LogitEffects(BaseModel):
    """How an edit moves the next-token logits, averaged over the positions it changed."""

    n_positions: int = Field(description="(row, position) pairs the edit changed.")
    decreased: list[tuple[str, float]] = Field(
        description="Tokens whose logit fell most, with the mean change."
    )
    increased: list[tuple[str, float]] = Field(
        description="Tokens whose logit rose most, with the mean change."
    )
    mean_abs_change: float = Field(description="Mean |Δ logit| over the vocabulary and those positions.")


@torch.no_grad()
def logit_effects(
    model: Any,
    hook_point: str,
    edit: Edit,
    ids: Tensor,
    *,
    tokenizer: Any | None = None,
    top: int = 10,
) -> LogitEffects:
    """Run ``ids`` with and without ``edit`` at ``hook_point``; average the logit change over the positions the
    edit moved; the ``top`` most lowered and raised tokens (decoded with ``tokenizer`` when given)."""
    ids = ids if ids.dim() == 2 else ids[None]
    moved: dict[str, Tensor] = {}

    def record(x: Tensor) -> Tensor:
        y = edit(x)
        moved["mask"] = (y - x).norm(dim=-1) > 0
        return y

    plain = model.logits(ids).float()
    with model.splice({hook_point: record}):
        edited = model.logits(ids).float()
    mask = moved["mask"]
    n = int(mask.sum())
    if n == 0:
        return LogitEffects(n_positions=0, decreased=[], increased=[], mean_abs_change=0.0)
    diff = (edited - plain)[mask].mean(0)

    def name(t: int) -> str:
        return tokenizer.decode([t]) if tokenizer is not None else str(t)

    k = min(top, diff.numel())
    low, high = torch.topk(-diff, k), torch.topk(diff, k)
    return LogitEffects(
        n_positions=n,
        decreased=[(name(int(i)), round(-float(v), 5)) for v, i in zip(low.values, low.indices, strict=True)],
        increased=[
            (name(int(i)), round(float(v), 5)) for v, i in zip(high.values, high.indices, strict=True)
        ],
        mean_abs_change=float((edited - plain)[mask].abs().mean()),
    )
