"""Model specs resolve to models, bad specs give clear errors, weights are hashed for provenance."""

from __future__ import annotations

import pytest
import torch

from auditlens.errors import ModelSpecError
from auditlens.models import DEFAULT_MODEL, load_model, weights_hash
from auditlens.models.tiny import tiny_model


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITLENS_CACHE", str(tmp_path / "cache"))


def test_hf_folder_round_trip(tmp_path) -> None:
    hm = tiny_model("gpt_neox")
    folder = tmp_path / "m"
    hm.model.save_pretrained(folder)
    hm.tokenizer.save_pretrained(folder)
    loaded = load_model(str(folder))
    assert loaded.family == "gpt_neox" and loaded.n_layers == hm.n_layers
    assert loaded.weights_hash == weights_hash(folder) and len(loaded.weights_hash) == 64
    ids = torch.randint(0, 256, (1, 8))
    torch.testing.assert_close(loaded.logits(ids), hm.logits(ids))
    # The hash follows the weights.
    other = tiny_model("gpt_neox", seed=1)
    folder2 = tmp_path / "m2"
    other.model.save_pretrained(folder2)
    assert weights_hash(folder2) != loaded.weights_hash


def test_bad_specs_are_clear(tmp_path, monkeypatch) -> None:
    with pytest.raises(ModelSpecError, match="cannot resolve model spec"):
        load_model("not a model")
    with pytest.raises(ModelSpecError, match="does not exist"):
        load_model(str(tmp_path / "missing.gguf"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelSpecError, match=r"no config\.json"):
        load_model(str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelSpecError, match=DEFAULT_MODEL):
        load_model("EleutherAI/pythia-70m-not-cached")


@pytest.mark.model
def test_embedded_default_model(monkeypatch) -> None:
    monkeypatch.delenv("AUDITLENS_CACHE")  # share the real cache: conversion happens once per machine
    model = load_model(DEFAULT_MODEL)
    assert (model.family, model.n_layers, model.d_model, model.d_mlp) == ("llama", 30, 576, 1536)
    assert len(model.weights_hash) == 64
    ids = model.tokenizer(["The capital of France is Paris."], return_tensors="pt").input_ids
    with torch.no_grad():
        hs = model.model(input_ids=ids, output_hidden_states=True).hidden_states
    got = model.capture(ids, ["blocks.9.resid_post", "blocks.3.mlp.post"])
    torch.testing.assert_close(got["blocks.9.resid_post"], hs[10], rtol=0, atol=0)
    assert got["blocks.3.mlp.post"].shape == (1, ids.shape[1], 1536)
    assert model.tokenizer.chat_template  # the chat template survives conversion
    # The converted model predicts sensibly: " Paris" is likely after "The capital of France is".
    prompt = model.tokenizer(["The capital of France is"], return_tensors="pt").input_ids
    top = model.logits(prompt)[0, -1].topk(5).indices.tolist()
    assert model.tokenizer(" Paris").input_ids[0] in top
