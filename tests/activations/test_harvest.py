"""Harvest writes exactly what the model computes, resumes after any interruption, refuses bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from auditlens.activations import ActivationStore, HarvestConfig, harvest
from auditlens.activations import harvester as harvest_mod
from auditlens.errors import ConfigError, DataError, HookPointError, RunFolderError
from auditlens.models import load_model

HPS = ["blocks.1.resid_post", "blocks.0.mlp.post"]


def _cfg(model_folder: Path, corpus: Path, out: Path, **kw) -> HarvestConfig:
    base = dict(
        model=str(model_folder), hook_points=HPS, source=str(corpus), tokens=1024,
        context_length=32, batch_size=4, shard_tokens=256, out=out,
    )  # fmt: skip
    base.update(kw)
    return HarvestConfig(**base)


def _digests(out: Path) -> dict[str, str]:
    m = json.loads((out / "manifest.json").read_text())
    d = {}
    for s in m["shards"]:
        d[s["tokens"]["path"]] = s["tokens"]["sha256"]
        d.update({f["path"]: f["sha256"] for f in s["activations"].values()})
    return d


def test_store_holds_exactly_what_the_model_computes(model_folder, corpus, tmp_path) -> None:
    model = load_model(str(model_folder))
    m = harvest(_cfg(model_folder, corpus, tmp_path / "s"), model=model, progress=False)
    assert m.status == "complete" and m.contexts == 32 and m.rows == 1024 and len(m.shards) == 4
    assert m.hook_points == {"blocks.1.resid_post": 32, "blocks.0.mlp.post": 64}
    assert m.model.weights_sha256 == model.weights_hash and m.dtype == "float16"
    assert m.packing["contexts"] >= 32 and "truncated_tokens" in m.packing
    store = ActivationStore.open(tmp_path / "s")
    for shard in range(store.n_shards):
        tokens = store.read_tokens(shard).long()
        want = model.capture(tokens, HPS)
        for hp in HPS:
            got = store.read_shard(shard, hp)
            assert got.dtype == torch.float16
            torch.testing.assert_close(got, want[hp].reshape(-1, store.d_in(hp)).half(), rtol=0, atol=0)
    # Every context starts with the tokenizer's start token (the tiny llama adds BOS).
    assert (store.read_tokens(0)[:, 0] == model.tokenizer.bos_token_id).all()


def test_budget_extension_resumes_and_matches_a_single_run(model_folder, corpus, tmp_path) -> None:
    model = load_model(str(model_folder))
    harvest(_cfg(model_folder, corpus, tmp_path / "a", tokens=512), model=model, progress=False)
    harvest(_cfg(model_folder, corpus, tmp_path / "a", tokens=1024), model=model, progress=False)
    harvest(_cfg(model_folder, corpus, tmp_path / "b", tokens=1024), model=model, progress=False)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")


_SCRIPT = """
import signal, sys, time
# a shell that starts jobs in the background (nohup … &) makes them ignore SIGINT, and the child would inherit that:
# restore Python's own handler so that SIGINT means Ctrl-C however the suite was launched
signal.signal(signal.SIGINT, signal.default_int_handler)
from pathlib import Path
from auditlens.activations import HarvestConfig, harvest
from auditlens.models import load_model
model = load_model(sys.argv[1])
capture = model.capture
def slow(*a, **k):
    time.sleep(0.15)
    return capture(*a, **k)
model.capture = slow
cfg = HarvestConfig(model=sys.argv[1], hook_points={hps!r}, source=sys.argv[2], tokens=1024,
                    context_length=32, batch_size=4, shard_tokens=256, out=Path(sys.argv[3]))
harvest(cfg, model=model, progress=False)
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_harvest_resumes_with_nothing_lost_or_duplicated(model_folder, corpus, tmp_path, sig) -> None:
    out = tmp_path / "killed"
    script = _SCRIPT.format(hps=HPS)
    proc = subprocess.Popen([sys.executable, "-c", script, str(model_folder), str(corpus), str(out)])
    deadline = time.time() + 60
    while time.time() < deadline:
        mf = out / "manifest.json"
        if mf.exists() and len(json.loads(mf.read_text())["shards"]) >= 1:
            break
        time.sleep(0.05)
    os.kill(proc.pid, sig)
    proc.wait(timeout=30)
    partial = json.loads((out / "manifest.json").read_text())
    assert partial["status"] == "in_progress" and 1 <= len(partial["shards"]) < 4
    with pytest.raises(DataError, match="unfinished"):
        ActivationStore.open(out)
    # Re-run the same harvest: it continues where the manifest says.
    rerun = subprocess.run(
        [sys.executable, "-c", script, str(model_folder), str(corpus), str(out)], timeout=120
    )
    assert rerun.returncode == 0
    harvest(_cfg(model_folder, corpus, tmp_path / "clean"), progress=False)
    assert _digests(out) == _digests(tmp_path / "clean")
    assert not list(out.rglob(".*.tmp-*"))


def test_failed_write_keeps_committed_shards_and_resumes(model_folder, corpus, tmp_path, monkeypatch) -> None:
    out = tmp_path / "s"
    real = harvest_mod.atomic_write_bytes
    calls = {"n": 0}

    def flaky(path, data):
        calls["n"] += 1
        if calls["n"] == 4:  # the second shard's first file (manifest writes count too)
            raise OSError(28, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(harvest_mod, "atomic_write_bytes", flaky)
    with pytest.raises(DataError, match="No space left"):
        harvest(_cfg(model_folder, corpus, out), progress=False)
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "in_progress" and len(m["shards"]) >= 1
    monkeypatch.setattr(harvest_mod, "atomic_write_bytes", real)
    harvest(_cfg(model_folder, corpus, out), progress=False)
    harvest(_cfg(model_folder, corpus, tmp_path / "clean"), progress=False)
    assert _digests(out) == _digests(tmp_path / "clean")


def test_output_folder_holding_another_run_is_refused(model_folder, corpus, tmp_path) -> None:
    out = tmp_path / "s"
    harvest(_cfg(model_folder, corpus, out, tokens=256), progress=False)
    before = _digests(out)
    with pytest.raises(RunFolderError, match="different activation store"):
        harvest(_cfg(model_folder, corpus, out, tokens=256, seed=1), progress=False)
    assert _digests(out) == before  # nothing touched
    harvest(_cfg(model_folder, corpus, out, tokens=256, seed=1), overwrite=True, progress=False)
    assert _digests(out) != before
    other = tmp_path / "not-a-store"
    other.mkdir()
    (other / "precious.txt").write_text("keep me")
    with pytest.raises(RunFolderError, match="not empty"):
        harvest(_cfg(model_folder, corpus, other), progress=False)
    with pytest.raises(RunFolderError, match="not an activation store"):
        harvest(_cfg(model_folder, corpus, other), overwrite=True, progress=False)
    assert (other / "precious.txt").read_text() == "keep me"


def test_bad_input_is_clear(model_folder, corpus, tmp_path) -> None:
    with pytest.raises(HookPointError, match="valid names"):
        harvest(_cfg(model_folder, corpus, tmp_path / "a", hook_points=["blocks.1.resid"]), progress=False)
    with pytest.raises(HookPointError, match="has 3 layers"):
        harvest(
            _cfg(model_folder, corpus, tmp_path / "b", hook_points=["blocks.5.resid_post"]), progress=False
        )
    with pytest.raises(ConfigError, match="longer than"):
        harvest(_cfg(model_folder, corpus, tmp_path / "c", context_length=4096), progress=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("   \n")
    with pytest.raises(DataError):
        harvest(_cfg(model_folder, empty, tmp_path / "d"), progress=False)
    with pytest.raises(DataError, match="ran out"):
        harvest(_cfg(model_folder, corpus, tmp_path / "e", tokens=10_000_000), progress=False)
    assert not (tmp_path / "a" / "manifest.json").exists()


def test_corrupted_shard_is_named(model_folder, corpus, tmp_path) -> None:
    out = tmp_path / "s"
    harvest(_cfg(model_folder, corpus, out, tokens=512), progress=False)
    shard = out / "blocks.1.resid_post" / "shard_00001.safetensors"
    data = bytearray(shard.read_bytes())
    data[-5] ^= 0xFF
    shard.write_bytes(bytes(data))
    store = ActivationStore.open(out)
    store.read_shard(0, "blocks.1.resid_post")
    with pytest.raises(DataError, match=r"shard_00001\.safetensors is corrupted"):
        store.read_shard(1, "blocks.1.resid_post")
    with pytest.raises(DataError, match="corrupted"):
        list(store.batches(64, hook_point="blocks.1.resid_post"))


def test_a_store_made_before_run_json_resumes(model_folder, corpus, tmp_path) -> None:
    out = tmp_path / "s"
    harvest(_cfg(model_folder, corpus, out, tokens=256), progress=False)
    (out / "run.json").unlink()  # as written by versions before the run kit
    before = _digests(out)
    m = harvest(_cfg(model_folder, corpus, out, tokens=512), progress=False)
    assert m.status == "complete" and m.contexts == 16
    assert all(_digests(out)[k] == v for k, v in before.items())  # the old shards were kept, not redone
    rec = json.loads((out / "run.json").read_text())
    assert (
        rec["kind"] == "harvest"
        and rec["fingerprint"] == m.run_id
        and rec["legacy_source"] == "manifest.json"
    )
    with pytest.raises(RunFolderError, match="different activation store"):
        harvest(_cfg(model_folder, corpus, out, tokens=256, seed=2), progress=False)
