"""The seed posts' claims (seeds-digest §7, issue item 6), checked against this run's numbers.

Every verdict is computed from a result model; the thresholds are stated in each claim's text. Claims (a)–(d)
read the toy grid (:class:`~auditlens.toy.replicate_toy.ToyGridResult`), (e)–(f) the tiny-transformer sweep
(:class:`~auditlens.toy.tiny_transformer.SizeSweepResult`). A claim the run cannot decide (e.g. (d) when only
one convention was run) has ``holds = None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from pydantic import Field
from scipy import stats

from auditlens.toy.probe_suite import ProbeClaim

__all__ = [
    "Claim",
    "best_coefficient_band",
    "bimodality_coefficient",
    "participation_ratio",
    "toy_claims",
    "transformer_claims",
]

RECOVERY_MMCS = 0.9
HIGH_MODE = 0.8
"""Lower edge of the 'recurring feature' mode of the cross-size MCS histogram (claim e)."""
HIGH_SHARE = 0.1
"""Share of live latents that must lie in that mode for the histogram to count as bimodal."""


class Claim(ProbeClaim):
    """A seed claim and its verdict; ``holds`` is None when this run cannot decide it."""

    holds: bool | None = Field(description="True/False from the numbers; None when not decidable here.")  # type: ignore[assignment]


def bimodality_coefficient(values: Sequence[float] | np.ndarray | torch.Tensor) -> float:
    """Sarle's bimodality coefficient with the sample-size correction (SAS):
    BC = (g² + 1) / (κ + 3 (n−1)² / ((n−2)(n−3))), g the sample skewness and κ the excess kurtosis (both
    bias-corrected). BC > 5/9 ≈ 0.555 (the uniform distribution's value) suggests bimodality."""
    v = np.asarray(
        values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float64
    ).ravel()
    n = v.size
    if n < 4 or float(v.std()) == 0.0:
        return float("nan")
    g = float(stats.skew(v, bias=False))
    k = float(stats.kurtosis(v, bias=False))
    return (g * g + 1) / (k + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def participation_ratio(w: torch.Tensor) -> torch.Tensor:
    """Per row: (Σ w²)² / Σ w⁴ ∈ [1, d]; 1 for a one-hot (neuron-aligned) row, ≈ d/3 for a random Gaussian one."""
    sq = w.double().pow(2)
    return (sq.sum(-1).pow(2) / sq.pow(2).sum(-1).clamp_min(1e-300)).float()


def best_coefficient_band(row: Sequence[float], coefficients: Sequence[float], tol: float = 0.02) -> float:
    """Geometric centre of the coefficients whose MMCS is within ``tol`` of the row's best (robust argmax)."""
    best = max(row)
    logs = [math.log10(a) for a, v in zip(coefficients, row, strict=True) if v >= best - tol and a > 0]
    if not logs:
        return float(coefficients[int(np.argmax(row))])
    return 10 ** (sum(logs) / len(logs))


def _slope(x: list[float], y: list[float]) -> float:
    if len(x) < 2:
        return float("nan")
    return float(np.polyfit(np.log10(x), np.log10(y), 1)[0])


def toy_claims(result: Any) -> list[Claim]:
    """Claims (a)–(d) from a :class:`~auditlens.toy.replicate_toy.ToyGridResult`."""
    ratios: list[float] = result.ratios
    coefs: list[float] = result.coefficients
    convs = list(result.mmcs_with_truth)
    cells = {c.key: c for c in result.cells}
    claims: list[Claim] = []

    # (a) recovery for ratio >= 1
    big = [i for i, r in enumerate(ratios) if r >= 1]
    parts, ok = [], True
    for conv in convs:
        grid = result.mmcs_with_truth[conv]
        for i in big:
            j = int(np.argmax(grid[i]))
            v = grid[i][j]
            ok = ok and v > RECOVERY_MMCS
            note = ""
            if v <= RECOVERY_MMCS:
                cell = next(
                    (
                        c
                        for c in cells.values()
                        if c.convention == conv and c.ratio == ratios[i] and c.coefficient == coefs[j]
                    ),
                    None,
                )
                if cell is not None:
                    n_true = result.config.data.mean_active
                    note = (
                        f" [best cell: L0 {cell.l0:.1f} vs {n_true:g} true active, {cell.n_dead} dead, "
                        f"FVU {cell.fvu:.3f}{'; too few steps?' if cell.fvu > 0.05 else ''}]"
                    )
            parts.append(f"{conv} r={ratios[i]:g}: best {v:.3f} at α={coefs[j]:.3g}{note}")
    claims.append(
        Claim(
            name="a_recovery",
            statement=f"For every dictionary ratio ≥ 1 some sparsity coefficient recovers the ground truth "
            f"(MMCS with truth > {RECOVERY_MMCS}).",
            holds=ok if big else None,
            evidence="; ".join(parts) if big else "no ratio ≥ 1 in the grid",
        )
    )

    # (b) MMCS falls for too-large coefficients and for ratios below 1
    parts, falls_alpha, falls_ratio = [], True, True
    one = ratios.index(1.0) if 1.0 in ratios else None
    for conv in convs:
        grid = result.mmcs_with_truth[conv]
        drops = [max(row) - row[-1] for row in grid]
        # a ratio whose best coefficient is the grid's largest cannot show the fall: left out, and said so
        decided = [d for d, row in zip(drops, grid, strict=True) if int(np.argmax(row)) < len(row) - 1]
        falls_alpha = falls_alpha and bool(decided) and all(d > 0.1 for d in decided)
        parts.append(
            f"{conv}: drop from best to largest α per ratio "
            + ", ".join(f"{d:.2f}" if d > 0 else "n/a (best at the largest α)" for d in drops)
        )
        if one is not None:
            small = [(ratios[i], max(grid[i])) for i, r in enumerate(ratios) if r < 1]
            falls_ratio = falls_ratio and all(v < max(grid[one]) - 0.05 for _, v in small)
            parts.append(
                f"{conv}: best MMCS at ratios < 1 "
                + ", ".join(f"{r:g}→{v:.3f}" for r, v in small)
                + f" vs {max(grid[one]):.3f} at ratio 1"
            )
    has_small = any(r < 1 for r in ratios)
    claims.append(
        Claim(
            name="b_falls_off",
            statement="MMCS with truth falls (by > 0.1 from the row's best) at the largest coefficient (ratios whose "
            "best is the largest coefficient are left out), and "
            "dictionaries smaller than the feature count (ratio < 1) score lower (by > 0.05) than ratio 1.",
            holds=(falls_alpha and falls_ratio) if (one is not None and has_small) else None,
            evidence="; ".join(parts),
        )
    )

    # (c) dead features grow with dictionary size at a fixed coefficient
    rhos, parts = [], []
    for conv in convs:
        grid = np.array(result.n_dead[conv], dtype=float)
        for j, a in enumerate(coefs):
            col = grid[:, j]
            if col.max() > 0 and len(set(col.tolist())) > 1:
                rho = float(stats.spearmanr(ratios, col).statistic)
                rhos.append(rho)
                parts.append(f"{conv} α={a:.3g}: ρ={rho:.2f}")
    med = float(np.median(rhos)) if rhos else float("nan")
    claims.append(
        Claim(
            name="c_dead_grow",
            statement="At a fixed coefficient the number of dead latents grows with dictionary size (median "
            "Spearman ρ(ratio, dead count) over coefficients with any dead latent > 0.5).",
            holds=(med > 0.5) if rhos and len(ratios) > 2 else None,
            evidence=f"median ρ {med:.2f} over {len(rhos)} columns; " + "; ".join(parts)
            if rhos
            else "no dead latents anywhere in the grid",
        )
    )

    # (d) diagonal with division, one coefficient across sizes without
    slopes: dict[str, float] = {}
    parts = []
    use = [i for i, r in enumerate(ratios) if r >= 1] or list(range(len(ratios)))
    for conv in convs:
        grid = result.mmcs_with_truth[conv]
        best = [best_coefficient_band(grid[i], coefs) for i in use]
        slopes[conv] = _slope([ratios[i] for i in use], best)
        parts.append(
            f"{conv}: best-band α per ratio "
            + ", ".join(f"{ratios[i]:g}→{b:.3g}" for i, b in zip(use, best, strict=True))
            + f" (slope of log α* vs log ratio {slopes[conv]:.2f})"
        )
    decidable = {"divided", "undivided"} <= set(convs) and len(use) >= 2
    claims.append(
        Claim(
            name="d_diagonal",
            statement="With the L1 term divided by dictionary size the good region lies on a diagonal (best α grows "
            "with size: slope of log α* vs log ratio > 0.5); without the division one coefficient works across "
            "sizes (|slope| < 0.5).",
            holds=(slopes["divided"] > 0.5 and abs(slopes["undivided"]) < 0.5) if decidable else None,
            evidence="; ".join(parts) if decidable else "needs both conventions and two ratios ≥ 1",
        )
    )
    return claims


def _rises_then_plateaus(curve: list[float]) -> bool | None:
    """Rises (last − first > 0.02) and plateaus (last step at most half the largest); None below three points."""
    if len(curve) < 3:
        return None
    inc = np.diff(curve)
    return bool(curve[-1] - curve[0] > 0.02 and abs(float(inc[-1])) <= 0.5 * float(np.max(np.abs(inc))))


def transformer_claims(sweep: Any) -> list[Claim]:
    """Claims (e) and (f) from a :class:`~auditlens.toy.tiny_transformer.SizeSweepResult`."""
    claims: list[Claim] = []
    bc, bc_all = sweep.bimodality_coefficient_alive, sweep.bimodality_coefficient
    high = total = 0
    for p in sweep.pairs:
        h = p.histogram_alive
        total += sum(h.counts)
        high += sum(c for c, left in zip(h.counts, h.bin_edges, strict=False) if left >= HIGH_MODE - 1e-9)
    share_high = high / total if total else float("nan")
    claims.append(
        Claim(
            name="e_bimodal",
            statement="On the tiny transformer the max cosine similarities (MCS) between dictionaries of different "
            f"sizes are bimodal: Sarle's bimodality coefficient > 5/9 ≈ 0.555 over latents that fire on held-out "
            f"rows, and a high mode holds ≥ {HIGH_SHARE:.0%} of them (MCS ≥ {HIGH_MODE}); the second condition "
            "guards against BC's known inflation by plain skewness.",
            holds=(bc > 5 / 9 and share_high >= HIGH_SHARE) if math.isfinite(bc) and total else None,
            evidence=f"BC = {bc:.3f} over {sweep.n_mcs_values_alive} live latents' MCS (each dictionary vs the next "
            f"larger), share with MCS ≥ {HIGH_MODE}: {share_high:.3f}; with dead latents included BC = {bc_all:.3f} "
            f"over {sweep.n_mcs_values}",
        )
    )

    def by_size(field: str, digits: int = 3) -> str:
        """``size→value`` for one field of every pair (the pair's smaller size)."""
        return ", ".join(f"{p.d_sae}→{getattr(p, field):.{digits}f}" for p in sweep.pairs)

    dead = ", ".join(f"{z}:{d}" for z, d in zip(sweep.sizes, sweep.n_dead, strict=True))
    claims.append(
        Claim(
            name="e_plateau",
            statement="MMCS with the next larger dictionary (live latents) rises with size (by > 0.02) and then "
            "plateaus (its last step is at most half its largest step).",
            holds=_rises_then_plateaus([p.mmcs_alive for p in sweep.pairs]),
            evidence=f"live-latent MMCS vs size: {by_size('mmcs_alive')}; all latents: {by_size('mmcs')}; "
            f"dead per size: {dead}",
        )
    )
    claims.append(
        Claim(
            name="e_plateau_seed_metric",
            statement="The same test on the seed's own metric: Hungarian-matched MMCS with the next larger "
            "dictionary over all its latents, dead ones included (rises by > 0.02, last step at most half the "
            "largest).",
            holds=_rises_then_plateaus([p.hungarian_mmcs for p in sweep.pairs]),
            evidence=f"Hungarian MMCS (all latents) vs size: {by_size('hungarian_mmcs')}; share matched above 0.9: "
            f"{by_size('share_matched_above', 2)}; dead per size: {dead}",
        )
    )
    d = sweep.d_in
    pr = sweep.median_participation_ratio
    claims.append(
        Claim(
            name="f_not_neuron_sparse",
            statement=f"Learned features are not sparse in the neuron basis (median participation ratio of decoder "
            f"rows ≥ 5% of the {d} neurons, and fewer than half of the features put > 50% of their norm² on one "
            "neuron).",
            holds=pr >= 0.05 * d and sweep.share_top_neuron_dominant < 0.5,
            evidence=f"largest dictionary: median participation ratio {pr:.1f} of {d}; share with one neuron "
            f"> 50% of norm² {sweep.share_top_neuron_dominant:.3f}",
        )
    )
    return claims
