"""Downstream metrics: next-token loss with a dictionary's reconstruction spliced into the model.

For each context the model runs clean, with the hook point's activations replaced by each member's
reconstruction, and with them zero-ablated. Reported per member: CE under reconstruction, fraction of loss
recovered = (CE_zero − CE_recon) / (CE_zero − CE_clean), KL(clean ‖ spliced) per token, and perplexity under
reconstruction. Positions holding a context start / document separator token keep their clean activations
and so do "massive activation" outliers — dictionaries are trained without either (see
:mod:`auditlens.activations.filters`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, Field

from auditlens.activations.filters import keep_rows
from auditlens.models import HookedModel
from auditlens.runs.progress import bar
from auditlens.runs.stats import Estimate, mean_ci, ratio_ci
from auditlens.sae import Dictionary


class DownstreamMetrics(BaseModel):
    """Effect of splicing one dictionary's reconstruction into the model. CIs are over contexts."""

    hook_point: str
    contexts: int = Field(description="Contexts evaluated.")
    tokens: int = Field(description="Next-token predictions scored.")
    positions_kept_clean: int = Field(
        description="Positions not spliced: special tokens and massive-activation outliers (see max_norm)."
    )
    ce_clean: Estimate = Field(description="Next-token cross-entropy (nats/token) of the unmodified model.")
    ce_spliced: Estimate = Field(description="Cross-entropy with the reconstruction spliced in.")
    ce_zero_ablated: Estimate = Field(description="Cross-entropy with the hook point's activations set to 0.")
    ce_increase: Estimate = Field(description="CE_spliced − CE_clean.")
    loss_recovered: Estimate = Field(
        description="(CE_zero − CE_spliced) / (CE_zero − CE_clean); 1 is perfect, 0 no better than ablation. "
        "CI by bootstrap over contexts."
    )
    kl_clean_spliced: Estimate = Field(
        description="KL(clean ‖ spliced) of next-token distributions, nats/token."
    )
    perplexity_clean: float = Field(description="exp(CE_clean).")
    perplexity_spliced: float = Field(description="exp(CE_spliced).")


def _ce_per_context(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    logp = logits[:, :-1].float().log_softmax(-1)
    return -logp.gather(-1, ids[:, 1:, None]).squeeze(-1).mean(-1)


def _kl_per_context(clean: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    p = clean[:, :-1].float().log_softmax(-1)
    q = other[:, :-1].float().log_softmax(-1)
    return F.kl_div(q, p, log_target=True, reduction="none").sum(-1).mean(-1)


def _score_batch(
    model: HookedModel,
    hook_point: str,
    dictionary: Dictionary,
    ids: torch.Tensor,
    special: torch.Tensor,
    max_norm: float | None,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray], int]:
    """Per-context CE clean / zero-ablated / per member spliced, per member KL, and the clean-kept count."""
    seen: dict[str, torch.Tensor] = {}
    with model.splice({hook_point: lambda x: seen.__setitem__("x", x)}):  # observe only
        clean = model.logits(ids)
    x = seen["x"]
    keep = ~keep_rows(x, ids, special, max_norm)[..., None]  # positions that stay clean
    # Upstream of the hook point nothing changes, so every member's reconstruction is computed once.
    x_hat = dictionary.decode(dictionary.encode(x.reshape(-1, x.shape[-1]).float()))
    x_hat = x_hat.reshape(dictionary.n, *x.shape).to(x.dtype)
    with model.splice({hook_point: lambda x: torch.where(keep, x, torch.zeros_like(x))}):
        zero = _ce_per_context(model.logits(ids), ids).numpy()
    recons, kls = [], []
    for i in range(dictionary.n):
        with model.splice({hook_point: lambda x, i=i: torch.where(keep, x, x_hat[i])}):
            spliced = model.logits(ids)
        recons.append(_ce_per_context(spliced, ids).numpy())
        kls.append(_kl_per_context(clean, spliced).numpy())
    return _ce_per_context(clean, ids).numpy(), zero, recons, kls, int(keep.sum())


@torch.no_grad()
def evaluate_downstream(
    model: HookedModel,
    hook_point: str,
    dictionary: Dictionary,
    contexts: Iterable[torch.Tensor],
    *,
    special_token_ids: Sequence[int] = (),
    max_norm: float | None = None,
    progress: bool = True,
) -> list[DownstreamMetrics]:
    """Score every member of ``dictionary`` spliced at ``hook_point`` on batches of token contexts.

    Positions holding ``special_token_ids``, or whose activation norm exceeds ``max_norm``, keep their clean
    activations (the rows dictionaries are not trained on; see :mod:`auditlens.activations.filters`).
    """
    n = dictionary.n
    special = torch.tensor(list(special_token_ids), dtype=torch.long)
    ce_clean: list[np.ndarray] = []
    ce_zero: list[np.ndarray] = []
    ce_recon: list[list[np.ndarray]] = [[] for _ in range(n)]
    kl: list[list[np.ndarray]] = [[] for _ in range(n)]
    batches = list(contexts)
    scored = 0
    kept_clean = 0
    for ids in bar(batches, desc=f"downstream eval {hook_point}", enabled=progress):
        ids = ids.long()
        clean, zero, recons, kls, kept = _score_batch(model, hook_point, dictionary, ids, special, max_norm)
        kept_clean += kept
        ce_clean.append(clean)
        ce_zero.append(zero)
        for i in range(n):
            ce_recon[i].append(recons[i])
            kl[i].append(kls[i])
        scored += ids.shape[0] * (ids.shape[1] - 1)
    c, z = np.concatenate(ce_clean), np.concatenate(ce_zero)
    out = []
    for i in range(n):
        r = np.concatenate(ce_recon[i])
        out.append(
            DownstreamMetrics(
                hook_point=hook_point,
                contexts=int(c.size),
                tokens=scored,
                positions_kept_clean=kept_clean,
                ce_clean=mean_ci(c),
                ce_spliced=mean_ci(r),
                ce_zero_ablated=mean_ci(z),
                ce_increase=mean_ci(r - c),
                loss_recovered=ratio_ci(z - r, z - c),
                kl_clean_spliced=mean_ci(np.concatenate(kl[i])),
                perplexity_clean=float(np.exp(c.mean())),
                perplexity_spliced=float(np.exp(r.mean())),
            )
        )
    return out
