from __future__ import annotations

import random

import pytest
import torch

from auditlens.activations import ActivationStore, HarvestConfig, harvest
from auditlens.models.tiny import tiny_model

PIECES = ['<a href="x">', "&amp;", "\n", "'quote'", "naïve", "€", "x < y", "def f():", "\t", "中文", "🙂"]


class LinearReLU:
    """A minimal FeatureSource: ReLU(x W^T + b), directions W (what the baseline zoo will look like)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None, name: str = "linear") -> None:
        self.weight, self.bias, self._name = weight, bias, name

    @property
    def name(self) -> str:
        return self._name

    @property
    def d_in(self) -> int:
        return int(self.weight.shape[1])

    @property
    def n_features(self) -> int:
        return int(self.weight.shape[0])

    @property
    def feature_ids(self) -> torch.Tensor:
        return torch.arange(self.n_features)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        y = x @ self.weight.t()
        return (y if self.bias is None else y + self.bias).relu()

    def directions(self) -> torch.Tensor:
        return self.weight


@pytest.fixture(scope="session")
def tiny_hm():  # type: ignore[no-untyped-def]
    return tiny_model("llama", n_layers=2)


@pytest.fixture(scope="session")
def interp_store(tmp_path_factory: pytest.TempPathFactory, tiny_hm) -> ActivationStore:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("interp-store")
    rng = random.Random(0)
    words = [f"word{i}" for i in range(20)] + PIECES
    corpus = tmp / "corpus.txt"
    corpus.write_text(" ".join(rng.choice(words) for _ in range(2500)))
    cfg = HarvestConfig(
        model="tiny", hook_points=["blocks.0.resid_post"], source=str(corpus), tokens=4096, context_length=32,
        batch_size=8, shard_tokens=1024, out=tmp / "store",
    )  # fmt: skip
    harvest(cfg, model=tiny_hm, progress=False)
    return ActivationStore.open(tmp / "store")


@pytest.fixture(scope="session")
def linear_source(interp_store: ActivationStore) -> LinearReLU:
    """24 random unit-variance projections of the (centred) data, shifted so that each fires on ~10% of tokens."""
    x = next(iter(interp_store.batches(2048, seed=0)))
    g = torch.Generator().manual_seed(1)
    w = torch.randn(24, 32, generator=g) / (x.std(0).norm() + 1e-8)
    return LinearReLU(w, bias=-(x @ w.t()).mean(0) - 1.3 * (x @ w.t()).std(0))


def dense_codes(store: ActivationStore, source: LinearReLU, exclude_special: bool = True) -> tuple:
    """Brute force: every context's tokens and feature activations, all in memory."""
    toks, codes = [], []
    special = torch.tensor(store.manifest.special_token_ids, dtype=torch.int32)
    for tok, acts in store.contexts():
        c = source.encode(acts.reshape(-1, acts.shape[-1])).reshape(tok.shape[0], tok.shape[1], -1)
        if exclude_special:
            c[torch.isin(tok, special)] = 0
        toks.append(tok)
        codes.append(c)
    return torch.cat(toks), torch.cat(codes)
