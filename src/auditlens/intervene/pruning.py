"""Greedy pruning of a counterfactual patch to the fewest features that keep the KL low (seed §5.7).

The seed's procedure: patch every feature of a basis from the target (counterfactual) run into the base run
(``x' = x + Σ_{j∈F}(c̄_j − c_j) f_j``, the base run's reconstruction error kept); then, for thresholds in
``logspace(−5, 0, 50)`` ascending, visit the still-patched features in a random order and un-patch one whenever
that raises ``KL(target ‖ patched)`` at the answer position (averaged over the prompts) by less than the
threshold; after each threshold record how many features are still patched, the KL and the edit's magnitude.
A sparse basis that localises the behaviour reaches a low KL with few features and a small edit.

    curve = greedy_prune(model, "blocks.11.resid_post", basis, base_ids, target_ids)
    [(p.n_patched, p.kl, p.magnitude) for p in curve.points]

Only features whose code differs between the two runs at an edited position can change anything; they are the
candidates (the rest are patched or not at no cost). Each edit is precomputed once from the two runs' codes, so
a patched forward pass costs a plain forward pass plus one add at the hook point.

**Batched, and exactly the sequential algorithm.** The decision on a feature depends on every earlier decision,
so candidates are evaluated speculatively: the next ``sets_per_pass`` features in the visiting order are each
tried against the current patched set in one forward pass (rows = sets × prompts); decisions are then taken in
order up to and including the first un-patch, whose set becomes the current one, and the features after it are
tried again against it. Every decision is made on the KL the sequential loop would have seen (tested against a
one-at-a-time reference).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, Field
from torch import Tensor

from auditlens.errors import ConfigError
from auditlens.intervene.basis import FeatureBasis
from auditlens.intervene.edits import Positions, _position_mask
from auditlens.intervene.patching import check_basis, kl_divergence, paired_batches
from auditlens.runs import bar

__all__ = [
    "PruneCurve",
    "PrunePoint",
    "answer_logits",
    "default_thresholds",
    "greedy_prune",
    "plot_prune_curves",
]


def default_thresholds() -> list[float]:
    """The seed's thresholds: ``numpy.logspace(-5, 0, 50)``."""
    return [float(t) for t in np.logspace(-5, 0, 50)]


class PrunePoint(BaseModel):
    """The patched set after one threshold of the sweep."""

    threshold: float = Field(description="Un-patching was allowed to raise the mean KL by less than this.")
    n_patched: int = Field(description="Features still patched.")
    kl: float = Field(description="Mean over prompts of KL(target ‖ patched) at the answer position.")
    magnitude: float = Field(description="Mean L2 norm of x' − x over the prompts' edited positions.")
    features: list[int] = Field(description="The basis ids still patched, ascending.")


class PruneCurve(BaseModel):
    """One greedy-pruning sweep of one basis on one task."""

    hook_point: str
    n_features: int = Field(description="Size of the basis.")
    n_candidates: int = Field(
        description="Features whose code differs between the runs at an edited position."
    )
    n_prompts: int
    seed: int = Field(description="Seed of the visiting order.")
    kl_all_patched: float = Field(description="Mean KL with every candidate patched (the sweep's start).")
    kl_none_patched: float = Field(description="Mean KL of the unedited base run (the ceiling).")
    magnitude_all_patched: float = Field(description="Edit magnitude with every candidate patched.")
    points: list[PrunePoint] = Field(description="One per threshold, ascending.")
    patched_passes: int = Field(description="Patched forward passes run (each over all prompts).")

    def smallest_within(self, kl: float) -> PrunePoint | None:
        """The point with the fewest patched features whose KL is at most ``kl`` (None if none is)."""
        ok = [p for p in self.points if p.kl <= kl]
        return min(ok, key=lambda p: (p.n_patched, p.kl)) if ok else None


@torch.no_grad()
def answer_logits(model: Any, ids: Tensor, position: int = -1) -> Tensor:
    """(batch, vocab) logits at ``position`` only (honouring any active splice): the unembedding runs on that
    position alone where the model supports ``logits_to_keep``, which matters for a 49k-token vocabulary."""
    seq = ids.shape[1]
    if not -seq <= position < seq:
        raise ConfigError(
            f"answer position {position} is outside prompts of {seq} tokens", hint="count from 0 or -1"
        )
    keep = seq - position if position >= 0 else -position
    hf = getattr(model, "model", model)
    try:
        out = hf(input_ids=ids, use_cache=False, logits_to_keep=keep)
    except TypeError:  # a model without logits_to_keep: full logits
        return hf(input_ids=ids, use_cache=False).logits[:, position]
    return out.logits[:, 0]


class _Patcher:
    """The two runs' code differences and the decoder rows of the candidates; scores candidate sets."""

    def __init__(
        self,
        model: Any,
        hook_point: str,
        basis: FeatureBasis,
        base: Tensor,
        target: Tensor,
        positions: Positions,
        answer_position: int,
        max_rows: int,
    ) -> None:
        self.model, self.hp, self.base, self.pos = model, hook_point, base, answer_position
        acts = model.capture(torch.cat([target, base]), [hook_point])[hook_point].float()
        at, ab = acts[: len(target)], acts[len(target) :]
        mask = _position_mask(ab, positions)
        delta = (basis.encode(at) - basis.encode(ab)).float() * mask[..., None]
        moved = delta.abs().amax(dim=(0, 1)) > 0
        self.ids = torch.nonzero(moved).flatten()
        self.delta = delta[..., self.ids]  # (P, T, C)
        self.dirs = basis.directions().float()[self.ids]  # (C, d)
        self.mask = mask
        self.target = answer_logits(model, target, answer_position).double()
        self.max_rows = max_rows
        self.passes = 0

    @property
    def n_candidates(self) -> int:
        return int(self.ids.numel())

    def score(self, sets: Tensor) -> tuple[list[float], list[float]]:
        """Mean KL and edit magnitude of each candidate set ((R, C) bool rows) as a patch."""
        p = self.base.shape[0]
        kls: list[float] = []
        mags: list[float] = []
        step = max(1, self.max_rows // p)
        for s in range(0, sets.shape[0], step):
            m = sets[s : s + step].float()
            edit = torch.einsum("ptc,rc,cd->rptd", self.delta, m, self.dirs)  # (R, P, T, d)
            norms = edit.norm(dim=-1)[:, self.mask]  # (R, edited positions)
            mags += [float(v) for v in norms.mean(-1)] if norms.shape[-1] else [0.0] * m.shape[0]
            flat = edit.reshape(-1, *edit.shape[2:])

            def add(x: Tensor, flat: Tensor = flat) -> Tensor:
                return x + flat.to(x.dtype)

            with self.model.splice({self.hp: add}):
                z = answer_logits(self.model, self.base.repeat(m.shape[0], 1), self.pos)
            kl = kl_divergence(self.target.repeat(m.shape[0], 1), z).view(m.shape[0], p).mean(-1)
            kls += [float(v) for v in kl]
            self.passes += m.shape[0]
        return kls, mags


@torch.no_grad()
def greedy_prune(
    model: Any,
    hook_point: str,
    basis: FeatureBasis,
    base_ids: Tensor | Sequence[Sequence[int]],
    target_ids: Tensor | Sequence[Sequence[int]],
    *,
    thresholds: Sequence[float] | None = None,
    positions: Positions = None,
    answer_position: int = -1,
    seed: int = 0,
    sets_per_pass: int = 16,
    max_rows: int = 512,
    progress: bool = True,
) -> PruneCurve:
    """Sweep ``thresholds`` (default :func:`default_thresholds`) as the seed does; see the module doc.

    ``sets_per_pass``: candidate sets tried in one forward pass; ``max_rows``: rows (sets × prompts) per pass."""
    check_basis(model, hook_point, basis)
    base, target = paired_batches(base_ids, target_ids)
    ts = sorted(default_thresholds() if thresholds is None else [float(t) for t in thresholds])
    if not ts or ts[0] < 0:
        raise ConfigError(
            f"thresholds {ts[:3]}… must be non-negative and not empty", hint="e.g. logspace(-5, 0, 50)"
        )
    pt = _Patcher(model, hook_point, basis, base, target, positions, answer_position, max_rows)
    c = pt.n_candidates
    current = torch.ones(c, dtype=torch.bool)
    (kl_cur, kl_none), (mag_cur, _) = pt.score(torch.stack([current, ~current]))
    kl_all, mag_all = kl_cur, mag_cur
    rng = random.Random(seed)
    points: list[PrunePoint] = []
    for thr in bar(ts, desc="greedy pruning", unit="threshold", enabled=progress):
        order = [int(j) for j in torch.nonzero(current).flatten()]
        rng.shuffle(order)
        i = 0
        while i < len(order):
            chunk = order[i : i + sets_per_pass]
            sets = current.repeat(len(chunk), 1)
            sets[torch.arange(len(chunk)), torch.tensor(chunk)] = False
            kls, mags = pt.score(sets)
            for j, (kl, mag) in enumerate(zip(kls, mags, strict=True)):
                i += 1
                if kl - kl_cur < thr:
                    current, kl_cur, mag_cur = sets[j].clone(), kl, mag
                    break
        points.append(
            PrunePoint(
                threshold=thr,
                n_patched=int(current.sum()),
                kl=kl_cur,
                magnitude=mag_cur,
                features=sorted(int(f) for f in pt.ids[current]),
            )
        )
    return PruneCurve(
        hook_point=hook_point,
        n_features=basis.n_features,
        n_candidates=c,
        n_prompts=base.shape[0],
        seed=seed,
        kl_all_patched=kl_all,
        kl_none_patched=kl_none,
        magnitude_all_patched=mag_all,
        points=points,
        patched_passes=pt.passes,
    )


def plot_prune_curves(curves: Mapping[str, PruneCurve]) -> Any:
    """Two panels, one line per basis: KL against the number of patched features, and against edit magnitude."""
    from auditlens.runs.figures import new_figure

    fig, ax = new_figure(1, 2, size=(10.0, 4.0))
    for name, cv in curves.items():
        n = [cv.n_candidates] + [p.n_patched for p in cv.points]
        kl = [cv.kl_all_patched] + [p.kl for p in cv.points]
        mag = [cv.magnitude_all_patched] + [p.magnitude for p in cv.points]
        ax[0, 0].plot(n, kl, marker=".", label=name)
        ax[0, 1].plot(mag, kl, marker=".", label=name)
    for a, xl in zip(ax[0], ["features patched", "edit magnitude (mean ‖x′ − x‖)"], strict=True):
        a.set_xlabel(xl)
        a.set_ylabel("KL(target ‖ patched)")
        a.set_yscale("symlog", linthresh=1e-5)
        a.grid(alpha=0.3)
    ax[0, 0].legend(fontsize=8)
    return fig
