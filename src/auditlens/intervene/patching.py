"""Counterfactual patching of features on a live model (seed §5.7), and the KL metric it is scored with.

res = counterfactual_patch(model, "blocks.1.resid_post", basis, base_ids, target_ids, features=[3, 17])
res.kl          # KL(target ‖ patched) at the answer position, per prompt
res.magnitude   # mean L2 norm of the edit over edited positions
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor

from auditlens.errors import ConfigError
from auditlens.intervene.basis import FeatureBasis
from auditlens.intervene.edits import Positions, patch_codes

__all__ = [
    "PatchResult",
    "as_batch",
    "check_basis",
    "counterfactual_patch",
    "kl_divergence",
    "paired_batches",
]


class PatchResult(BaseModel):
    """One patched run against its counterfactual target."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kl: list[float] = Field(
        description="KL(target ‖ patched) of the next-token distributions at the answer position."
    )
    magnitude: float = Field(description="Mean L2 norm of x' − x over the edited positions.")
    n_features: int = Field(description="Features patched (the basis size when all were).")
    patched_logits: Tensor = Field(exclude=True, description="(batch, seq, vocab) logits of the patched run.")
    target_logits: Tensor = Field(exclude=True, description="(batch, seq, vocab) logits of the target run.")


def kl_divergence(p_logits: Tensor, q_logits: Tensor) -> Tensor:
    """KL(P ‖ Q) over the last axis, from logits (float64 for small values)."""
    lp = torch.log_softmax(p_logits.double(), dim=-1)
    lq = torch.log_softmax(q_logits.double(), dim=-1)
    return (lp.exp() * (lp - lq)).sum(-1)


def as_batch(prompts: Tensor | Sequence[Sequence[int]], what: str) -> Tensor:
    """Token ids as a (batch, seq) tensor; prompts of different lengths are refused, naming the first that differs."""
    if isinstance(prompts, Tensor):
        return prompts if prompts.dim() == 2 else prompts[None]
    rows = [list(p) for p in prompts]
    if not rows:
        raise ConfigError(f"no {what} prompts", hint="pass at least one prompt")
    for i, r in enumerate(rows):
        if len(r) != len(rows[0]):
            raise ConfigError(
                f"{what} prompt {i} has {len(r)} tokens, prompt 0 has {len(rows[0])}",
                hint="positions must align: choose templates and names that tokenise to the same length",
            )
    return torch.tensor(rows, dtype=torch.long)


def paired_batches(
    base_ids: Tensor | Sequence[Sequence[int]], target_ids: Tensor | Sequence[Sequence[int]]
) -> tuple[Tensor, Tensor]:
    """Base and target prompts as batches of one shape (each base prompt paired with one target prompt)."""
    base, target = as_batch(base_ids, "base"), as_batch(target_ids, "target")
    if base.shape != target.shape:
        raise ConfigError(
            f"base prompts {tuple(base.shape)} and target prompts {tuple(target.shape)} differ in shape",
            hint="pair every base prompt with one target prompt of the same length",
        )
    return base, target


def check_basis(model: object, hook_point: str, basis: FeatureBasis) -> None:
    """Refuse a basis made for another hook point or another width (saying which)."""
    if basis.hook_point is not None and basis.hook_point != hook_point:
        raise ConfigError(
            f"the basis was made for {basis.hook_point}, not {hook_point}",
            hint=f"patch at {basis.hook_point}",
        )
    name = getattr(basis, "model_name", None)
    model_id = getattr(model, "model_id", None)
    if name and model_id and name != model_id:
        raise ConfigError(
            f"the basis was made for model {name!r}, not {model_id!r}", hint="use a basis of this model"
        )


@torch.no_grad()
def counterfactual_patch(
    model: object,
    hook_point: str,
    basis: FeatureBasis,
    base_ids: Tensor | Sequence[Sequence[int]],
    target_ids: Tensor | Sequence[Sequence[int]],
    features: Sequence[int] | None = None,
    *,
    positions: Positions = None,
    answer_position: int = -1,
    patch_error: bool = False,
) -> PatchResult:
    """Run ``target_ids``, record its codes at ``hook_point``; run ``base_ids`` with ``features`` patched to the
    target's codes at ``positions`` (all by default), error kept (``patch_error``: swapped too); compare the
    next-token distributions at ``answer_position``."""
    check_basis(model, hook_point, basis)
    base, target = paired_batches(base_ids, target_ids)
    acts = model.capture(target, [hook_point])[hook_point]  # type: ignore[attr-defined]
    codes = basis.encode(acts)
    error = acts.float() - basis.decode(codes) if patch_error else None
    target_logits = model.logits(target)  # type: ignore[attr-defined]
    edit = patch_codes(basis, codes, features, positions=positions, target_error=error)
    with model.splice({hook_point: edit}):  # type: ignore[attr-defined]
        patched = model.logits(base)  # type: ignore[attr-defined]
    kl = kl_divergence(target_logits[:, answer_position], patched[:, answer_position])
    return PatchResult(
        kl=[float(v) for v in kl],
        magnitude=edit.magnitude,
        n_features=basis.n_features if features is None else len(features),
        patched_logits=patched,
        target_logits=target_logits,
    )
