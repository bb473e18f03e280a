"""The basic metrics the trainer logs; one small pure function each (seed §5.4 definitions).

Richer evaluations (CE/KL splicing, MMCS, confidence intervals) live in :mod:`auditlens.evals`.
"""

from __future__ import annotations

from torch import Tensor


def mse(x: Tensor, x_hat: Tensor) -> Tensor:
    """Mean over batch and dimensions of (x - x̂)²; ``x_hat`` may carry a leading member axis -> per member."""
    return (x_hat - x).pow(2).mean(dim=(-2, -1))


def fvu(x: Tensor, x_hat: Tensor) -> Tensor:
    """Fraction of variance unexplained: mean((x - x̂)²) / mean((x - mean_batch x)²)."""
    return mse(x, x_hat) / (x - x.mean(-2, keepdim=True)).pow(2).mean(dim=(-2, -1)).clamp_min(1e-12)


def l0(codes: Tensor) -> Tensor:
    """Mean over inputs of the number of latents with c_i > 0 (codes (..., batch, d_sae))."""
    return (codes > 0).sum(-1).float().mean(-1)


def dead_fraction(tokens_since_fired: Tensor, window_tokens: int) -> Tensor:
    """Fraction of latents that have not fired in the last ``window_tokens`` tokens (``>=``: exactly a full
    window without firing counts as dead)."""
    return (tokens_since_fired >= window_tokens).float().mean(-1)


def firing_rate(codes: Tensor) -> Tensor:
    """Per-latent mean over inputs of 1[c_i ≠ 0]."""
    return (codes != 0).float().mean(-2)


__all__ = ["dead_fraction", "firing_rate", "fvu", "l0", "mse"]
