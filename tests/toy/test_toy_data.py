"""The toy generator reproduces the seed's statistics (§7.0) and is deterministic."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from auditlens.errors import ConfigError
from auditlens.toy import ToyDataConfig, ToyDataset


def _active_stats(
    ds: ToyDataset, n_samples: int, batch_size: int = 1000, check_nonempty: bool = True
) -> tuple[float, np.ndarray]:
    counts = torch.zeros(ds.cfg.n_features, dtype=torch.float64)
    n_active = 0.0
    for batch in ds.batches_with_codes(batch_size, n_samples // batch_size):
        counts += batch.active.sum(dim=0)
        n_active += float(batch.active.sum())
        if check_nonempty:
            assert batch.active.any(dim=1).all(), "no row may be all-zero"
    return n_active / n_samples, (counts / n_samples).numpy()


@pytest.mark.parametrize("correlated", [True, False])
def test_mean_active_and_decay(correlated: bool) -> None:
    ds = ToyDataset(ToyDataConfig(correlated=correlated))
    mean_active, freq = _active_stats(ds, 100_000)
    assert abs(mean_active - 5.0) < 0.2
    idx = np.arange(freq.size)
    seen = freq > 0
    slope = np.polyfit(idx[seen], np.log(freq[seen]), 1)[0]
    assert slope == pytest.approx(math.log(0.99), abs=0.001)
    # frequencies follow the documented expectation
    np.testing.assert_allclose(freq[:50].mean(), ds.expected_probs()[:50].mean().item(), rtol=0.1)


def test_seed_literal_uncorrelated_has_fewer_active() -> None:
    # The seed's uncorrelated code multiplies decay by frac_nonzero without renormalising.
    ds = ToyDataset(ToyDataConfig(correlated=False, normalise_uncorrelated=False, fill_empty_rows=False))
    expected = 5.0 * float(ds.decay.mean())  # ≈ 0.97
    mean_active, _ = _active_stats(ds, 20_000, check_nonempty=False)
    assert mean_active == pytest.approx(expected, rel=0.05)


def test_batch_contents_and_shapes() -> None:
    cfg = ToyDataConfig(d_model=16, n_features=32, mean_active=3)
    ds = ToyDataset(cfg)
    assert ds.features.shape == (32, 16)
    assert ds.features.dtype == torch.float32
    torch.testing.assert_close(ds.features.norm(dim=1), torch.ones(32))
    batch = next(iter(ds.batches_with_codes(64)))
    assert batch.x.shape == (64, 16) and batch.x.dtype == torch.float32
    assert batch.codes.shape == (64, 32)
    # strengths are in [0, 1) exactly where active, zero elsewhere
    assert (batch.codes[~batch.active] == 0).all()
    assert ((batch.codes[batch.active] >= 0) & (batch.codes[batch.active] < 1)).all()
    torch.testing.assert_close(batch.x, batch.codes @ ds.features)
    x = next(iter(ds.batches(64)))
    torch.testing.assert_close(x, batch.x)


def test_correlation_matrix_is_seed_recipe() -> None:
    ds = ToyDataset(ToyDataConfig(n_features=64, d_model=8))
    sigma = ds.corr_matrix
    assert sigma is not None
    torch.testing.assert_close(sigma, sigma.T)
    assert torch.linalg.eigvalsh(sigma).min() > 0
    off = sigma[~torch.eye(64, dtype=torch.bool)]
    assert off.min() >= 0 and off.max() < 1  # (A + Aᵀ)/2 with A ~ U[0,1)


def test_determinism_and_seed_dependence() -> None:
    cfg = ToyDataConfig(d_model=8, n_features=40, mean_active=2)
    a = list(ToyDataset(cfg).batches(32, 3))
    b = list(ToyDataset(cfg).batches(32, 3))
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
    c = list(ToyDataset(cfg.model_copy(update={"seed": 1})).batches(32, 3))
    assert not torch.equal(a[0], c[0])
    assert not torch.equal(ToyDataset(cfg).features, ToyDataset(cfg.model_copy(update={"seed": 1})).features)
    assert len(list(ToyDataset(cfg).batches(8, 0))) == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"n_features": 0},
        {"d_model": -1},
        {"mean_active": -5},
        {"mean_active": 600},
        {"prob_decay": 0},
        {"prob_decay": 1.5},
        {"seed": -1},
        {"n_features": "many"},
        {"typo_field": 3},
    ],
)
def test_bad_config_raises_config_error(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as info:
        ToyDataConfig(**bad)  # type: ignore[arg-type]
    assert info.value.hint


def test_bad_batch_size() -> None:
    ds = ToyDataset(ToyDataConfig(d_model=4, n_features=8, mean_active=1))
    with pytest.raises(ConfigError):
        next(iter(ds.batches(0)))
