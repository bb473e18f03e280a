"""Shared fixtures for the sae tests: one torch thread (the CI box is small and shared), tiny synthetic data."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def make_batches(
    d_in: int = 16, n_feats: int = 48, batch: int = 64, n: int = 40, seed: int = 1
) -> list[torch.Tensor]:
    """Sparse combinations of random unit features plus an offset (so b_dec init matters)."""
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(n_feats, d_in, generator=g)
    feats = feats / feats.norm(dim=-1, keepdim=True)
    out = []
    for _ in range(n):
        c = (torch.rand(batch, n_feats, generator=g) < 0.06) * torch.rand(batch, n_feats, generator=g) * 4
        out.append(c @ feats + 1.5)
    return out


@pytest.fixture
def batches() -> Callable[..., list[torch.Tensor]]:
    return make_batches
