"""Which features a run scores: the seed's draw (random, seeded, with spare candidates) or ids given by hand."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from auditlens.interpret.features import FeatureSource

__all__ = ["CANDIDATE_FACTOR", "choose_features", "draw_features", "parse_ids"]

CANDIDATE_FACTOR = 4
"""Candidates drawn per wanted feature: features the protocol skips (fewer than 20 varying fragments, dead) are
replaced by the next candidates."""


def draw_features(
    source: FeatureSource, n_features: int, *, seed: int = 0, candidate_factor: int = CANDIDATE_FACTOR
) -> list[int]:
    """``n_features · candidate_factor`` feature ids of ``source`` in a seeded random order (a seeded
    ``randperm`` over the source's features); a run scores them in order until ``n_features`` are scored."""
    perm = torch.randperm(source.n_features, generator=torch.Generator().manual_seed(seed))
    return source.feature_ids[perm][: n_features * candidate_factor].tolist()


def choose_features(
    source: FeatureSource, n_features: int, features: Sequence[int] | None = None, *, seed: int = 0
) -> tuple[list[int], int | None]:
    """The candidates and how many to score: ``features`` as given, all scored (``None``); else
    :func:`draw_features` with ``n_features`` to score."""
    if features:
        return [int(f) for f in features], None
    return draw_features(source, n_features, seed=seed), n_features


def parse_ids(text: str | None) -> list[int] | None:
    """``"3,17, 40"`` → ``[3, 17, 40]``; empty or None → None."""
    if not text:
        return None
    return [int(f) for f in text.split(",") if f.strip()]
