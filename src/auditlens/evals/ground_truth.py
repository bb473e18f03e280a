"""Scores of a learned dictionary against ground-truth features: recovery (precision / recall / F1 at a cosine
threshold), dead features, the mean correlation coefficient of codes, and all of them together.

Conventions are those of :mod:`auditlens.evals.mmcs` (rows are feature directions, thresholds are strict).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from scipy.optimize import linear_sum_assignment

from auditlens.evals.mmcs import (
    MetricInputError,
    _as_matrix,
    _same_dim,
    hungarian_match,
    hungarian_mmcs,
    max_cosine,
    mmcs,
    share_above,
)

__all__ = [
    "DeadFeatures",
    "GroundTruthScores",
    "MCCResult",
    "RecoveryScores",
    "dead_features",
    "ground_truth_scores",
    "mean_correlation_coefficient",
    "recovery_scores",
]


class DeadFeatures(BaseModel):
    """Features that never fired on a sample of codes."""

    model_config = ConfigDict(frozen=True)

    n_dead: int = Field(description="Number of features whose activation is exactly 0 on every sample.")
    n_features: int = Field(description="Dictionary size.")
    n_samples: int = Field(description="Number of samples (rows of codes) inspected.")
    dead_fraction: float = Field(description="n_dead / n_features.")
    dead_indices: list[int] = Field(description="Indices of the dead features, ascending.")


def dead_features(codes: torch.Tensor | Iterable[torch.Tensor]) -> DeadFeatures:
    """Count features whose activation is exactly 0 on every sample.

    ``codes`` is one (n_samples, n_features) tensor or an iterable of such batches (streamed, so a large
    sample need not fit in memory). For ReLU codes this equals the seed's "mean activation == 0" test.
    """
    batches = [codes] if isinstance(codes, torch.Tensor) else codes
    fired: torch.Tensor | None = None
    n_samples = 0
    for batch in batches:
        if batch.ndim != 2:
            raise MetricInputError(
                f"codes must be 2-D (n_samples, n_features), got shape {tuple(batch.shape)}",
                hint="flatten batch and position dimensions first",
            )
        f = (batch.detach() != 0).any(dim=0)
        if fired is None:
            fired = f
        elif f.shape != fired.shape:
            raise MetricInputError(
                f"code batches disagree on n_features: {fired.shape[0]} vs {f.shape[0]}",
                hint="pass codes from one dictionary",
            )
        else:
            fired = fired | f
        n_samples += batch.shape[0]
    if fired is None:
        raise MetricInputError("dead_features got no code batches", hint="pass at least one batch of codes")
    dead = (~fired).nonzero().squeeze(1).cpu().tolist()
    n = int(fired.shape[0])
    return DeadFeatures(
        n_dead=len(dead), n_features=n, n_samples=n_samples, dead_fraction=len(dead) / n, dead_indices=dead
    )


class RecoveryScores(BaseModel):
    """Precision / recall / F1 of learned features against ground-truth features at a cosine threshold."""

    model_config = ConfigDict(frozen=True)

    threshold: float = Field(description="A pair counts as a match when its cosine is strictly > threshold.")
    matching: Literal["max", "hungarian"] = Field(
        description="'max': each feature may match its best counterpart (many-to-one allowed); "
        "'hungarian': one-to-one optimal matching, each truth feature recovered by at most one learned one."
    )
    precision: float = Field(description="Share of (alive) learned features matching some true feature.")
    recall: float = Field(description="Share of true features matched by some (alive) learned feature.")
    f1: float = Field(description="Harmonic mean of precision and recall (0 when both are 0).")
    n_learned: int = Field(description="Number of learned features counted (alive ones if a mask was given).")
    n_true: int = Field(description="Number of ground-truth features.")


def recovery_scores(
    learned: torch.Tensor,
    truth: torch.Tensor,
    threshold: float = 0.9,
    *,
    matching: Literal["max", "hungarian"] = "max",
    alive: torch.Tensor | None = None,
) -> RecoveryScores:
    """Precision/recall/F1 of ``learned`` (n_learned, d) against ``truth`` (n_true, d) at ``threshold``.

    ``alive`` (bool, (n_learned,)) restricts the learned features counted (e.g. exclude dead ones, so
    precision is not diluted by features that never fire); by default all are counted.
    """
    learned = _as_matrix(learned, "learned")
    truth = _as_matrix(truth, "truth")
    _same_dim(learned, truth)
    if alive is not None:
        alive = torch.as_tensor(alive, dtype=torch.bool, device=learned.device)
        if alive.shape != (learned.shape[0],):
            raise MetricInputError(
                f"alive must have shape ({learned.shape[0]},), got {tuple(alive.shape)}",
                hint="pass one boolean per learned feature",
            )
        learned = learned[alive]
    n_learned, n_true = int(learned.shape[0]), int(truth.shape[0])
    if n_learned == 0:
        precision = recall = 0.0
    elif matching == "max":
        precision = share_above(max_cosine(learned, truth).values, threshold)
        recall = share_above(max_cosine(truth, learned).values, threshold)
    elif matching == "hungarian":
        n_hits = int((hungarian_match(learned, truth).cosines > threshold).sum())
        precision, recall = n_hits / n_learned, n_hits / n_true
    else:
        raise MetricInputError(f"unknown matching {matching!r}", hint="use 'max' or 'hungarian'")
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return RecoveryScores(
        threshold=threshold,
        matching=matching,
        precision=precision,
        recall=recall,
        f1=f1,
        n_learned=n_learned,
        n_true=n_true,
    )


class MCCResult(BaseModel):
    """Mean correlation coefficient between true and recovered latents (identifiability literature)."""

    model_config = ConfigDict(frozen=True)

    mcc: float = Field(
        description="Mean over Hungarian-matched (true, learned) pairs of the |Pearson correlation| of "
        "their activations across samples (Khemakhem et al. 2020 style); min(n_true, n_learned) pairs."
    )
    absolute: bool = Field(description="Whether correlations were taken in absolute value before matching.")
    n_pairs: int = Field(description="Number of matched pairs averaged.")
    n_samples: int = Field(description="Number of samples the correlations were computed over.")
    matched_correlations: list[float] = Field(
        description="Correlation of each matched pair, in order of true-latent index (of those matched)."
    )
    matched_learned: list[int] = Field(description="Learned-latent index matched to each true latent listed.")


def _standardise(codes: torch.Tensor) -> torch.Tensor:
    """Centre each column (mean in float64) and scale it to unit norm; returned as float32."""
    c = codes.detach()
    c = (c.to(torch.float64) - c.to(torch.float64).mean(dim=0, keepdim=True)).to(torch.float32)
    norm = c.norm(dim=0, keepdim=True)
    return c / norm.clamp_min(1e-12)  # a constant column becomes all-zero: correlation 0 with everything


def mean_correlation_coefficient(
    true_codes: torch.Tensor, learned_codes: torch.Tensor, *, absolute: bool = True
) -> MCCResult:
    """MCC of learned codes (n_samples, n_learned) against true codes (n_samples, n_true).

    Pearson correlations between every true and learned latent over the samples, Hungarian matching on
    the (absolute) correlation matrix, mean over matched pairs. Constant (e.g. dead) latents correlate 0.
    """
    t = _as_matrix(true_codes, "true_codes")
    lc = _as_matrix(learned_codes, "learned_codes")
    if t.shape[0] != lc.shape[0]:
        raise MetricInputError(
            f"true and learned codes cover different samples: {t.shape[0]} vs {lc.shape[0]} rows",
            hint="encode the same batch that produced the true codes",
        )
    if t.shape[0] < 2:
        raise MetricInputError("MCC needs at least 2 samples", hint="pass a batch of samples")
    corr = (_standardise(t).T @ _standardise(lc)).cpu().to(torch.float64).numpy()
    score = np.abs(corr) if absolute else corr
    rows, cols = linear_sum_assignment(score, maximize=True)
    matched = score[rows, cols]
    return MCCResult(
        mcc=float(matched.mean()),
        absolute=absolute,
        n_pairs=len(rows),
        n_samples=int(t.shape[0]),
        matched_correlations=matched.tolist(),
        matched_learned=cols.tolist(),
    )


class GroundTruthScores(BaseModel):
    """Everything known about one learned dictionary against the toy ground truth."""

    model_config = ConfigDict(frozen=True)

    mmcs_with_truth: float = Field(
        description="Mean over ground-truth features of max cosine to any learned feature (the seed's "
        "'MMCS with ground truth', Figure 3)."
    )
    hungarian_mmcs_with_truth: float | None = Field(
        description="Mean cosine over Hungarian-matched (truth, learned) pairs; None if skipped."
    )
    recovery: RecoveryScores = Field(description="Precision/recall/F1 at the cosine threshold.")
    dead: DeadFeatures | None = Field(description="Dead learned features on the given codes, if any given.")
    mcc: MCCResult | None = Field(
        description="Mean correlation coefficient, if true and learned codes given."
    )


def ground_truth_scores(
    learned: torch.Tensor,
    truth: torch.Tensor,
    *,
    threshold: float = 0.9,
    matching: Literal["max", "hungarian"] = "max",
    learned_codes: torch.Tensor | None = None,
    true_codes: torch.Tensor | None = None,
    hungarian: bool = True,
    exclude_dead: bool = True,
) -> GroundTruthScores:
    """All ground-truth scores of ``learned`` (n_learned, d) against ``truth`` (n_true, d).

    With ``learned_codes`` the dead count is reported and (``exclude_dead``) dead features are left out of
    precision; with both code tensors (same samples) the MCC is reported.
    """
    dead = dead_features(learned_codes) if learned_codes is not None else None
    alive = None
    if dead is not None and exclude_dead:
        alive = torch.ones(dead.n_features, dtype=torch.bool)
        alive[dead.dead_indices] = False
    return GroundTruthScores(
        mmcs_with_truth=mmcs(truth, learned),
        hungarian_mmcs_with_truth=hungarian_mmcs(truth, learned) if hungarian else None,
        recovery=recovery_scores(learned, truth, threshold, matching=matching, alive=alive),
        dead=dead,
        mcc=(
            mean_correlation_coefficient(true_codes, learned_codes)
            if true_codes is not None and learned_codes is not None
            else None
        ),
    )
