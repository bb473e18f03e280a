"""Toy superposition data with known ground-truth features (Sharkey, Braun & Millidge 2022).

The generator follows the replication code (``HoagyC/sparse_coding`` ``toy_model.py``, data generation by
Pierre Peigné, with Robert Huben's 2023-06-29 strength fix), seeds-digest §7.0:

* ``n_features`` ground-truth directions g_i in R^``d_model``: Gaussian vectors normalised to unit norm.
* per-feature decay ``decay_i = prob_decay ** i`` and ``frac_nonzero = mean_active / n_features``.
* **correlated** variant (the one the replication sweeps used): a random symmetric matrix
  Σ = (A + Aᵀ)/2 with A ~ U[0,1), shifted by ``1.001 * |λ_min| * I`` when λ_min < 0. For **each batch**
  one z ~ N(0, Σ) is drawn, ``p_i = Φ(z_i) * decay_i`` rescaled so ``mean(p) = frac_nonzero`` (so the
  expected number of active features per row is exactly ``mean_active``).
* **uncorrelated** variant: ``p_i = decay_i * frac_nonzero`` in the seed code. With ``prob_decay = 0.99``
  and 512 features that gives only ≈0.97 active features per row on average (Σ decay_i ≈ 99.4, not 512),
  contradicting "on average 5 active". With ``normalise_uncorrelated=True`` (default) we divide by
  ``mean(decay)`` so the expectation is ``mean_active`` as in the correlated variant; ``False`` reproduces
  the seed code literally.
* ``active_{b,i} = 1[u_{b,i} <= p_i]`` (``<=`` as in the seed); rows with no active feature get one
  uniformly random feature switched on (the seed does this in the correlated variant only; with
  ``fill_empty_rows=True``, the default, we do it in both, so no row is all-zero).
* strengths ``s_{b,i} ~ U[0,1)`` (drawn only where active); true codes ``c = active * s``;
  data ``x_b = Σ_i c_{b,i} g_i``.

Probabilities are clamped to at most 1 (not reached with the seed's constants: the largest p_i over 2,000
correlated batches was 0.22).

Everything is drawn with CPU :class:`torch.Generator` objects seeded from ``seed``, so a stream is a pure
function of (config, batch size); the codes are identical on every device (they are drawn on the CPU and
moved to ``device`` before the matmul). Cost: one (batch × n_features) uniform draw, a comparison and one (batch × n_features) @
(n_features × d_model) matmul per batch — measured 55–75k samples/s on one loaded CPU core at the seed's
sizes (batch 256 or 4,096), i.e. ~30 s for the 2M samples of one 8,000-step, batch-256 run, shared by
every dictionary trained on the stream.

Note the seed's choice of one copula draw per *batch*: the correlated stream's statistics depend on the
batch size (a sweep must use the same batch size to share data).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import torch
from pydantic import Field, model_validator

from auditlens.toy.config import ToyConfigModel, require

__all__ = ["ToyBatch", "ToyDataConfig", "ToyDataset"]

# Offsets that separate the generator used to build the fixed world (features, Σ) from the stream.
_WORLD_STREAM = 0
_DATA_STREAM = 1


class ToyDataConfig(ToyConfigModel):
    """Configuration of the toy ground-truth generator; defaults are the seed's constants (§7.0/7.1)."""

    d_model: int = Field(256, description="Activation dimension (seed: activation_dim = 256).")
    n_features: int = Field(512, description="Number of ground-truth features (seed: 512).")
    mean_active: float = Field(
        5.0, description="Expected number of active features per row (seed: feature_num_nonzero = 5)."
    )
    prob_decay: float = Field(
        0.99, description="Geometric decay of per-feature probability, decay_i = prob_decay**i (seed 0.99)."
    )
    correlated: bool = Field(
        True, description="Gaussian-copula correlated variant (the one the seed's sweeps used)."
    )
    normalise_uncorrelated: bool = Field(
        True,
        description="Uncorrelated variant only: rescale p so the expected number active is mean_active "
        "(False reproduces the seed code, whose mean is mean_active * mean(decay)).",
    )
    fill_empty_rows: bool = Field(
        True, description="Switch on one random feature in rows with none active (seed: correlated only)."
    )
    seed: int = Field(0, description="Seed for features, correlation matrix and the sample stream.")

    @model_validator(mode="after")
    def _check(self) -> ToyDataConfig:
        hint = "use positive sizes, e.g. the seed's d_model=256, n_features=512, mean_active=5"
        require(self.d_model > 0, f"d_model must be positive, got {self.d_model}", hint)
        require(self.n_features > 0, f"n_features must be positive, got {self.n_features}", hint)
        require(
            0 < self.mean_active <= self.n_features,
            f"mean_active must lie in (0, n_features={self.n_features}], got {self.mean_active}",
            hint,
        )
        require(
            0 < self.prob_decay <= 1,
            f"prob_decay must lie in (0, 1], got {self.prob_decay}",
            "use 0.99 (the seed) or 1.0 for equal feature frequencies",
        )
        require(self.seed >= 0, f"seed must be non-negative, got {self.seed}", "use e.g. seed=0")
        return self


class ToyBatch(NamedTuple):
    """One batch of toy data with its ground truth."""

    x: torch.Tensor
    """Data, shape (batch, d_model), float32."""
    codes: torch.Tensor
    """True feature activations (strength where active, else 0), shape (batch, n_features), float32."""
    active: torch.Tensor
    """Which features are active, shape (batch, n_features), bool."""


def _random_corr_matrix(n: int, generator: torch.Generator) -> torch.Tensor:
    """The seed's "correlation" matrix: (A+Aᵀ)/2 with A ~ U[0,1), made positive definite (float64)."""
    a = torch.rand(n, n, generator=generator, dtype=torch.float64)
    sigma = (a + a.T) / 2
    min_eig = torch.linalg.eigvalsh(sigma).min()
    if min_eig < 0:
        sigma = sigma - 1.001 * min_eig * torch.eye(n, dtype=torch.float64)
    return sigma


class ToyDataset:
    """Streaming generator of toy superposition data (see the module docstring for the exact recipe).

    ``ToyDataset(cfg).batches(256)`` yields float32 tensors of shape (256, d_model) forever (or
    ``n_batches`` times); two calls with the same config and batch size yield identical streams.
    ``features`` holds the ground truth as (n_features, d_model) unit-norm rows.
    """

    def __init__(self, cfg: ToyDataConfig | None = None, device: str | torch.device = "cpu") -> None:
        self.cfg = cfg if cfg is not None else ToyDataConfig()
        self.device = torch.device(device)
        n = self.cfg.n_features
        world = torch.Generator().manual_seed(self._seed(_WORLD_STREAM))
        feats = torch.randn(n, self.cfg.d_model, generator=world, dtype=torch.float64)
        feats = feats / feats.norm(dim=1, keepdim=True)
        self.features: torch.Tensor = feats.to(torch.float32).to(self.device)
        """Ground-truth features, (n_features, d_model), unit-norm rows, float32."""
        self.decay: torch.Tensor = self.cfg.prob_decay ** torch.arange(n, dtype=torch.float64)
        """decay_i = prob_decay**i, (n_features,), float64 on CPU."""
        self.frac_nonzero = self.cfg.mean_active / n
        self._chol: torch.Tensor | None = None
        self._probs: torch.Tensor | None = None
        if self.cfg.correlated:
            self.corr_matrix: torch.Tensor | None = _random_corr_matrix(n, world)
            """The copula covariance Σ, (n_features, n_features), float64 (None when uncorrelated)."""
            self._chol = torch.linalg.cholesky(self.corr_matrix)
        else:
            self.corr_matrix = None
            probs = self.decay * self.frac_nonzero
            if self.cfg.normalise_uncorrelated:
                probs = probs / self.decay.mean()
            self._probs = probs.clamp(max=1.0).to(torch.float32).to(self.device)

    def _seed(self, stream: int) -> int:
        return self.cfg.seed * 1_000_003 + stream

    def expected_probs(self) -> torch.Tensor:
        """Per-feature activation probability, averaged over copula draws for the correlated variant.

        Uncorrelated: exact. Correlated: ``decay_i`` rescaled to sum to ``mean_active`` (the copula's
        E[Φ(z_i)] = 1/2 for every i, so the frequencies decay as ``prob_decay**i`` up to the per-batch
        normaliser's fluctuation). Ignores the small extra mass from ``fill_empty_rows``.
        """
        if self._probs is not None:
            return self._probs.to(torch.float64).cpu()
        return self.decay * (self.cfg.mean_active / self.decay.sum())

    def _batch_probs(self, generator: torch.Generator) -> torch.Tensor:
        if self._probs is not None:
            return self._probs
        assert self._chol is not None
        n = self.cfg.n_features
        z = self._chol @ torch.randn(n, generator=generator, dtype=torch.float64)
        cdf = 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))
        p = cdf * self.decay
        mean_p = p.mean()
        if mean_p <= 0:  # every Φ(z_i) underflowed: fall back to the decay profile
            p, mean_p = self.decay.clone(), self.decay.mean()
        p = (p * (self.frac_nonzero / mean_p)).clamp(max=1.0)
        return p.to(torch.float32).to(self.device)

    def sample(self, batch_size: int, generator: torch.Generator) -> ToyBatch:
        """Draw one batch using ``generator`` (a CPU :class:`torch.Generator`)."""
        require(batch_size > 0, f"batch_size must be positive, got {batch_size}", "use e.g. 256")
        n = self.cfg.n_features
        p = self._batch_probs(generator)
        u = torch.rand(batch_size, n, generator=generator).to(self.device)
        active = u <= p
        if self.cfg.fill_empty_rows:
            empty = ~active.any(dim=1)
            fill = torch.randint(0, n, (batch_size,), generator=generator).to(self.device)
            rows = empty.nonzero().squeeze(1)
            active[rows, fill[rows]] = True
        # Strengths U[0,1) are drawn only for the active entries (row-major order): the same distribution
        # as the seed's dense draw, at half the random-number cost.
        codes = torch.zeros(batch_size, n, device=self.device)
        n_active = int(active.sum())
        codes[active] = torch.rand(n_active, generator=generator).to(self.device)
        return ToyBatch(x=codes @ self.features, codes=codes, active=active)

    def batches(self, batch_size: int, n_batches: int | None = None) -> Iterator[torch.Tensor]:
        """Stream data batches, float32 tensors of shape (batch_size, d_model).

        Each call restarts the stream from the config's seed, so it is reproducible; ``n_batches=None``
        streams forever. The same stream as :meth:`batches_with_codes` (same seed, same batch size).
        """
        for batch in self.batches_with_codes(batch_size, n_batches):
            yield batch.x

    def batches_with_codes(self, batch_size: int, n_batches: int | None = None) -> Iterator[ToyBatch]:
        """Stream :class:`ToyBatch` es (data plus true codes); see :meth:`batches`."""
        require(batch_size > 0, f"batch_size must be positive, got {batch_size}", "use e.g. 256")
        require(
            n_batches is None or n_batches >= 0,
            f"n_batches must be None or non-negative, got {n_batches}",
            "pass None for an endless stream",
        )
        gen = torch.Generator().manual_seed(self._seed(_DATA_STREAM))
        i = 0
        while n_batches is None or i < n_batches:
            yield self.sample(batch_size, gen)
            i += 1
