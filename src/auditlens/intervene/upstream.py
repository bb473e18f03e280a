"""The upstream causal tree of a feature (seed §5.8): which earlier-layer features it depends on, recursively.

For a target feature of the basis at a later hook point: take its largest activation ``M`` over a set of contexts,
sample up to ``n_contexts`` (context, position) pairs where it is in ``[M/2, M]``, zero-ablate each candidate
feature of the basis one hook point earlier (its reconstruction error kept, at every position), and rank the
candidates by the mean drop of the target's activation at its position. The ``top_k`` with a positive drop
become children, and each is expanded the same way (its own contexts) down to ``depth`` levels or the first basis.

    tree = upstream_tree(model, [("blocks.4.resid_post", b4), ("blocks.5.resid_post", b5)], 2027, ids)
    [(c.feature, c.drop.value) for c in tree.children]

Candidates are the earlier features active at or before the target's position in the chosen contexts, the
``max_candidates`` with the largest summed activation (a feature that never fires there cannot be ablated).
Ablations run batched: rows = candidates × contexts per forward pass, stopped at the target's hook point.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Any

import torch
from pydantic import BaseModel, Field
from torch import Tensor

from auditlens.errors import ConfigError
from auditlens.intervene.basis import FeatureBasis
from auditlens.intervene.edits import _check_features
from auditlens.intervene.patching import as_batch, check_basis
from auditlens.runs import Estimate, mean_ci

__all__ = ["UpstreamNode", "upstream_tree"]


class UpstreamNode(BaseModel):
    """One feature of the tree and the earlier features its activation depends on."""

    hook_point: str
    feature: int
    drop: Estimate | None = Field(
        default=None,
        description="Mean drop of the parent's activation (over the parent's contexts) when this feature is "
        "zero-ablated, with its 95% interval; None at the root.",
    )
    max_activation: float = Field(description="Its largest activation over the contexts (M).")
    n_contexts: int = Field(
        description="(context, position) pairs with activation in [M/2, M] it was read on."
    )
    n_candidates: int = Field(default=0, description="Earlier features tried as its causes.")
    children: list[UpstreamNode] = Field(default_factory=list)


def _codes(model: Any, hp: str, basis: FeatureBasis, ids: Tensor, batch: int) -> Tensor:
    out = [
        basis.encode(model.capture(ids[s : s + batch], [hp])[hp].float()) for s in range(0, len(ids), batch)
    ]
    return torch.cat(out)


class _Tree:
    def __init__(
        self,
        model: Any,
        layers: Sequence[tuple[str, FeatureBasis]],
        ids: Tensor,
        *,
        top_k: int,
        n_contexts: int,
        max_candidates: int,
        rng: random.Random,
        batch_rows: int,
    ) -> None:
        self.model, self.layers, self.ids = model, list(layers), ids
        self.top_k, self.n_contexts, self.max_candidates = top_k, n_contexts, max_candidates
        self.rng, self.batch_rows = rng, batch_rows
        self._cache: dict[int, Tensor] = {}

    def codes(self, level: int) -> Tensor:
        if level not in self._cache:
            hp, basis = self.layers[level]
            self._cache[level] = _codes(self.model, hp, basis, self.ids, self.batch_rows)
        return self._cache[level]

    def contexts(self, level: int, feature: int) -> tuple[float, list[tuple[int, int]]]:
        a = self.codes(level)[..., feature]
        m = float(a.max())
        if m <= 0:
            return m, []
        pairs = [(int(r), int(p)) for r, p in torch.nonzero(a >= m / 2)]
        self.rng.shuffle(pairs)
        return m, sorted(pairs[: self.n_contexts])

    def node(self, level: int, feature: int, depth: int, drop: Estimate | None) -> UpstreamNode:
        hp, _ = self.layers[level]
        m, ctx = self.contexts(level, feature)
        node = UpstreamNode(hook_point=hp, feature=feature, drop=drop, max_activation=m, n_contexts=len(ctx))
        if depth == 0 or level == 0 or not ctx:
            return node
        ranked, n_cand = self.rank(level, feature, ctx)
        node.n_candidates = n_cand
        for g, est in ranked[: self.top_k]:
            node.children.append(self.node(level - 1, g, depth - 1, est))
        return node

    @torch.no_grad()
    def rank(
        self, level: int, feature: int, ctx: list[tuple[int, int]]
    ) -> tuple[list[tuple[int, Estimate]], int]:
        hp, basis = self.layers[level]
        up_hp, up_basis = self.layers[level - 1]
        rows = torch.tensor([r for r, _ in ctx])
        pos = torch.tensor([p for _, p in ctx])
        up = self.codes(level - 1)[rows]  # (n, T, F_up)
        causal = torch.arange(up.shape[1])[None, :] <= pos[:, None]  # (n, T): at or before the target
        mass = (up * causal[..., None]).sum(dim=(0, 1))
        cand = [int(g) for g in torch.argsort(mass, descending=True) if mass[g] > 0][: self.max_candidates]
        if not cand:
            return [], 0
        dirs = up_basis.directions().float()
        a0 = self.codes(level)[rows, pos, feature]
        ids = self.ids[rows]
        n = len(ctx)
        per = max(1, self.batch_rows // n)
        drops: list[tuple[int, Estimate]] = []
        for s in range(0, len(cand), per):
            chunk = cand[s : s + per]
            edit = -torch.einsum("rnt,rd->rntd", up[..., chunk].permute(2, 0, 1), dirs[chunk])
            flat = edit.reshape(-1, *edit.shape[2:])

            def add(x: Tensor, flat: Tensor = flat) -> Tensor:
                return x + flat.to(x.dtype)

            with self.model.splice({up_hp: add}):
                acts = self.model.capture(ids.repeat(len(chunk), 1), [hp])[hp].float()
            a = basis.encode(acts)[torch.arange(len(chunk) * n), pos.repeat(len(chunk)), feature]
            d = (a0.repeat(len(chunk)) - a).view(len(chunk), n)
            drops += [(g, mean_ci(d[i].tolist())) for i, g in enumerate(chunk)]
        drops.sort(key=lambda x: -x[1].value)
        return [(g, e) for g, e in drops if e.value > 0], len(cand)


@torch.no_grad()
def upstream_tree(
    model: Any,
    layers: Sequence[tuple[str, FeatureBasis]],
    feature: int,
    ids: Tensor | Sequence[Sequence[int]],
    *,
    depth: int = 2,
    top_k: int = 3,
    n_contexts: int = 20,
    max_candidates: int = 256,
    seed: int = 0,
    batch_rows: int = 256,
) -> UpstreamNode:
    """The tree of ``feature`` of the last basis in ``layers`` ((hook point, basis) pairs, earliest first) over
    the contexts ``ids`` (batch, seq); see the module doc."""
    if len(layers) < 2:
        raise ConfigError(
            "an upstream tree needs at least two (hook point, basis) layers", hint="earliest first"
        )
    for hp, basis in layers:
        check_basis(model, hp, basis)
    order = [model.parse(hp).layer for hp, _ in layers]
    if any(b <= a for a, b in itertools.pairwise(order)):
        raise ConfigError(
            f"layers {[hp for hp, _ in layers]} are not in forward order", hint="earliest first"
        )
    _check_features(layers[-1][1], [feature])
    if depth < 0:
        raise ConfigError(f"depth {depth} is negative", hint="0 gives the root alone")
    tree = _Tree(
        model,
        layers,
        as_batch(ids, "context"),
        top_k=top_k,
        n_contexts=n_contexts,
        max_candidates=max_candidates,
        rng=random.Random(seed),
        batch_rows=batch_rows,
    )
    return tree.node(len(layers) - 1, feature, depth, None)
