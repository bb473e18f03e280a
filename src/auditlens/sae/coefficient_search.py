"""Find the sparsity coefficient that gives a target L0: a vectorised bisection in log space over short runs."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from pydantic import BaseModel, Field
from torch import Tensor

from auditlens.runs import bar
from auditlens.sae.base import DictionaryConfig
from auditlens.sae.errors import ConfigError
from auditlens.sae.trainer import Trainer
from auditlens.sae.trainer_config import TrainerConfig

__all__ = ["CoefficientSearchResult", "find_coefficient_for_l0"]


class CoefficientSearchResult(BaseModel):
    """What :func:`find_coefficient_for_l0` found."""

    target_l0: float = Field(description="Requested L0.")
    coefficient: float = Field(description="Best coefficient found.")
    l0: float = Field(description="L0 it gave at the end of its short run.")
    within_tolerance: bool = Field(description="|l0 - target| <= tolerance · target.")
    rounds: int = Field(description="Search rounds run.")
    tried: list[tuple[float, float]] = Field(description="(coefficient, L0) for every short run.")


def _log_grid(low: float, high: float, n: int, tried: set[float]) -> list[float]:
    """``n`` log-spaced coefficients over [low, high], leaving out an end already tried (so it is not retrained)."""
    skip_low, skip_high = low in tried, high in tried
    segments = n - 1 + skip_low + skip_high
    pts = [
        math.exp(math.log(low) + (math.log(high) - math.log(low)) * i / segments) for i in range(segments + 1)
    ]
    return pts[1 if skip_low else 0 : len(pts) - 1 if skip_high else len(pts)]


def _bracket(tried: list[tuple[float, float]], target_l0: float) -> tuple[float, float]:
    """The tightest [low, high] around the target over every run so far (L0 falls as the coefficient grows);
    ×10 beyond the tried range when the target lies outside it."""
    dense = [c for c, l0 in tried if l0 > target_l0]  # coefficient too small
    sparse = [c for c, l0 in tried if l0 <= target_l0]  # coefficient too large
    if not dense:
        return min(sparse) / 10, min(sparse)
    if not sparse:
        return max(dense), max(dense) * 10
    high = min(sparse)
    below = [c for c in dense if c < high]
    return (max(below) if below else high / 10), high


def find_coefficient_for_l0(
    base_config: DictionaryConfig,
    target_l0: float,
    batches: Callable[[], Iterable[Tensor]],
    trainer_config: TrainerConfig,
    *,
    low: float = 1e-5,
    high: float = 1.0,
    candidates_per_round: int = 4,
    max_rounds: int = 8,
    tolerance: float = 0.1,
) -> CoefficientSearchResult:
    """Find the sparsity coefficient that gives ``target_l0`` (± ``tolerance``) after short runs.

    A vectorised bisection in log space: each round trains ``candidates_per_round`` new coefficients stacked in
    one run (``batches()`` must yield the same data each call), then narrows [low, high] to the tightest pair of
    runs so far that brackets the target (L0 falls as the coefficient grows), whose ends are not retrained; the
    range widens ×10 when the target lies outside every run so far.
    """
    if "coefficient" not in type(base_config).model_fields:
        raise ConfigError(
            f"architecture {base_config.architecture!r} has no sparsity coefficient",
            hint="set k directly instead",
        )
    if not (0 < low < high):
        raise ConfigError("need 0 < low < high", hint="e.g. low=1e-5, high=1.0")
    tcfg = trainer_config.model_copy(update={"checkpoint_every": None, "progress": False})
    tried: list[tuple[float, float]] = []
    rounds = 0
    progress = bar(total=max_rounds, desc="coefficient search", unit="round", leave=False)
    for rounds in range(1, max_rounds + 1):  # noqa: B007
        coefs = _log_grid(low, high, max(2, candidates_per_round), {c for c, _ in tried})
        configs = [
            base_config.model_copy(update={"coefficient": a, "name": f"c{i}", "seed": base_config.seed})
            for i, a in enumerate(coefs)
        ]
        result = Trainer(configs, tcfg).train(batches())
        tried.extend(zip(coefs, [m.l0 for m in result.members], strict=True))
        best = min(tried, key=lambda t: abs(t[1] - target_l0))
        progress.update(1)
        progress.set_postfix(coefficient=f"{best[0]:.3g}", l0=f"{best[1]:.2f}", target=f"{target_l0:g}")
        if abs(best[1] - target_l0) <= tolerance * target_l0:
            break
        low, high = _bracket(tried, target_l0)
    progress.close()
    best = min(tried, key=lambda t: abs(t[1] - target_l0))
    return CoefficientSearchResult(
        target_l0=target_l0,
        coefficient=best[0],
        l0=best[1],
        within_tolerance=abs(best[1] - target_l0) <= tolerance * target_l0,
        rounds=rounds,
        tried=tried,
    )
