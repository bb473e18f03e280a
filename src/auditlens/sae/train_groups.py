"""Members stacked into one module (a group), and the metrics each group sums on the device between logs."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from auditlens.sae.base import Dictionary, DictionaryConfig
from auditlens.sae.trainer_config import MemberMetrics

__all__ = ["MemberGroup", "member_metrics"]

#: the per-member values summed every step, in this order
METRICS = ("mse", "fvu", "l0", "dead_fraction", "loss")


class MemberGroup:
    """Members stacked into one module, with their position in the trainer's config list."""

    def __init__(self, module: Dictionary, indices: list[int], device: torch.device):
        self.module = module
        self.indices = indices
        #: on the training device, so that the per-step bookkeeping never waits for it
        self.tokens_since_fired = torch.zeros(module.n, module.d_sae, dtype=torch.int64, device=device)
        #: (5, n) sums of METRICS since the last log, on the device, and their count
        self.recent_sums: Tensor | None = None
        self.recent_steps = 0
        #: per-input squared error (n, B) kept for one step when dead latents are to be resampled
        self.resample_err: Tensor | None = None

    def accumulate(self, losses: dict[str, Tensor], aux: dict[str, Tensor], dead: Tensor) -> None:
        """Adds this step's metrics to the running sums, on the device (read back only when logged)."""
        vals = torch.stack(
            [
                aux["mse"].detach(),
                aux["fvu"].detach(),
                aux["l0"].detach(),
                dead.float().mean(-1),
                losses["total"].detach(),
            ]
        ).float()
        self.recent_sums = vals if self.recent_sums is None else self.recent_sums.add_(vals)
        self.recent_steps += 1

    def reset(self) -> None:
        self.recent_sums, self.recent_steps = None, 0


def member_metrics(configs: Sequence[DictionaryConfig], groups: Sequence[MemberGroup]) -> list[MemberMetrics]:
    """Every member's metrics averaged over the steps since the last reset (NaN for a member with none); one
    device read per group."""
    means: dict[int, list[float]] = {}
    for g in groups:
        if g.recent_sums is not None and g.recent_steps:
            cols = (g.recent_sums / g.recent_steps).cpu().t().tolist()
            means.update(zip(g.indices, cols, strict=True))
    out = []
    for i, cfg in enumerate(configs):
        v = dict(zip(METRICS, means.get(i, [math.nan] * len(METRICS)), strict=True))
        out.append(MemberMetrics(name=cfg.name or "", architecture=cfg.architecture, d_sae=cfg.d_sae, **v))
    return out
