"""Readers serve every row once per epoch, deterministically, and streaming has the same API."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from auditlens.activations import ActivationStore, HarvestConfig, StreamingActivations, harvest
from auditlens.data import open_source, pack_documents
from auditlens.models import load_model


@pytest.fixture()
def store(model_folder, corpus, tmp_path) -> ActivationStore:
    cfg = HarvestConfig(
        model=str(model_folder), hook_points=["blocks.1.resid_post"], source=str(corpus), tokens=2048,
        context_length=32, batch_size=8, shard_tokens=256, out=tmp_path / "s",
    )  # fmt: skip
    harvest(cfg, progress=False)
    return ActivationStore.open(tmp_path / "s")


def _sorted_rows(x: torch.Tensor) -> torch.Tensor:
    return x[torch.argsort(x[:, 0] * 1e4 + x[:, 1])]


def test_each_row_once_per_epoch_and_deterministic(store: ActivationStore) -> None:
    everything = torch.cat([store.read_shard(i).float() for i in range(store.n_shards)])
    batches = list(store.batches(100, seed=3, exclude_special=False, window_shards=3))
    assert all(b.shape == (100, 32) for b in batches[:-1]) and batches[-1].shape[0] == 2048 % 100
    served = torch.cat(batches)
    torch.testing.assert_close(_sorted_rows(served), _sorted_rows(everything))
    assert not torch.equal(served, everything)  # actually shuffled
    again = torch.cat(list(store.batches(100, seed=3, exclude_special=False, window_shards=3)))
    torch.testing.assert_close(again, served, rtol=0, atol=0)
    two = list(store.batches(100, seed=3, epochs=2, exclude_special=False, window_shards=3, drop_last=True))
    first, second = torch.cat(two[: len(two) // 2]), torch.cat(two[len(two) // 2 :])
    assert not torch.equal(first, second)  # a new permutation per epoch
    ordered = torch.cat(list(store.batches(256, shuffle=False, exclude_special=False)))
    torch.testing.assert_close(ordered, everything, rtol=0, atol=0)


def test_exclude_special_drops_start_token_rows(store: ActivationStore) -> None:
    n_special = sum(
        int(torch.isin(store.read_tokens(i), torch.tensor(store.manifest.special_token_ids)).sum())
        for i in range(store.n_shards)
    )
    assert n_special >= 64  # at least one start token per context
    served = torch.cat(list(store.batches(128, seed=0)))
    assert served.shape[0] == store.n_rows - n_special


def test_contexts_iterates_in_order(store: ActivationStore) -> None:
    tokens, acts = next(store.contexts())
    assert tokens.shape == (8, 32) and acts.shape == (8, 32, 32) and acts.dtype == torch.float32


def test_streaming_has_the_same_api(model_folder, corpus) -> None:
    model = load_model(str(model_folder))
    stream = StreamingActivations(
        model, "blocks.1.resid_post", source=str(corpus), context_length=32, tokens=1024,
        batch_contexts=4, buffer_rows=512, seed=0,
    )  # fmt: skip
    batches = list(stream.batches(64, exclude_special=False))
    rows = torch.cat(batches)
    assert rows.shape == (1024, 32) and stream.d_in() == 32
    again = torch.cat(list(stream.batches(64, exclude_special=False)))
    torch.testing.assert_close(again, rows, rtol=0, atol=0)
    ids = torch.tensor([[model.tokenizer.bos_token_id, 5, 6]])
    assert model.capture(ids, ["blocks.1.resid_post"])["blocks.1.resid_post"].shape == (1, 3, 32)
    fewer = torch.cat(list(stream.batches(64)))
    packed = np.concatenate(
        list(pack_documents(open_source(str(corpus)), model.tokenizer, 32, max_contexts=32))
    )
    n_special = int(np.isin(packed, stream.special_token_ids).sum())
    assert n_special >= 32 and fewer.shape[0] == 1024 - n_special  # start tokens and separators excluded


def test_massive_activation_rows_are_filtered(store: ActivationStore) -> None:
    median = store.norm_median()
    everything = torch.cat([store.read_shard(i).float() for i in range(store.n_shards)])
    tokens = torch.cat([store.read_tokens(i).reshape(-1) for i in range(store.n_shards)])
    ordinary = ~torch.isin(tokens, torch.tensor(store.manifest.special_token_ids, dtype=tokens.dtype))
    assert median == pytest.approx(float(store.read_shard(0).float()[ordinary[:256]].norm(dim=-1).median()))
    served = torch.cat(list(store.batches(128, max_norm_factor=1.0)))
    expected = int((ordinary & (everything.norm(dim=-1) <= median)).sum())
    assert served.shape[0] == expected and 0 < expected < store.n_rows
    assert float(served.norm(dim=-1).max()) <= median + 1e-4
    unfiltered = torch.cat(list(store.batches(128, max_norm_factor=None)))
    assert unfiltered.shape[0] == int(ordinary.sum())


def test_keep_rows() -> None:
    from auditlens.activations.filters import keep_rows

    acts = torch.tensor([[1.0, 0.0], [0.0, 100.0], [3.0, 4.0]])
    tokens = torch.tensor([7, 8, 0])
    assert keep_rows(acts).tolist() == [True, True, True]
    assert keep_rows(acts, tokens, torch.tensor([0])).tolist() == [True, True, False]
    assert keep_rows(acts, tokens, torch.tensor([0]), max_norm=10.0).tolist() == [True, False, False]
