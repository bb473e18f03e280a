"""`auditlens train`: dictionary specs, training from a store, resuming, and data parallel under torchrun."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from auditlens.activations import ActivationStore, HarvestConfig, harvest
from auditlens.errors import ConfigError
from auditlens.models.tiny import tiny_model
from auditlens.pipeline.train import parse_dictionary_spec, train_on_store
from auditlens.sae import TopKConfig


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("train")
    corpus = tmp / "corpus.txt"
    corpus.write_text(" ".join(f"tok{(i * 7) % 41}" for i in range(8000)))
    cfg = HarvestConfig(
        model="tiny", hook_points=["blocks.1.resid_post"], source=str(corpus), tokens=4096, context_length=32,
        batch_size=16, shard_tokens=1024, out=tmp / "store",
    )  # fmt: skip
    harvest(cfg, model=tiny_model("llama", n_layers=2), progress=False)
    return tmp / "store"


def test_parse_dictionary_spec() -> None:
    cfg = parse_dictionary_spec("topk:d_sae=64,k=4,name=a", d_in=32)
    assert isinstance(cfg, TopKConfig) and (cfg.d_in, cfg.d_sae, cfg.k, cfg.name) == (32, 64, 4, "a")
    l1 = parse_dictionary_spec("relu_l1_untied:d_sae=64,coefficient=3e-3", d_in=32)
    assert l1.coefficient == pytest.approx(3e-3)  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="key=value"):
        parse_dictionary_spec("topk:d_sae", d_in=32)
    with pytest.raises(ConfigError):
        parse_dictionary_spec("nope:d_sae=4", d_in=32)
    with pytest.raises(ConfigError, match="larger than the width"):
        parse_dictionary_spec("topk:d_sae=4,k=8", d_in=32)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditlens", *args], capture_output=True, text=True)


def test_train_command_trains_exports_and_resumes(store: Path, tmp_path: Path) -> None:
    args = ["train", str(store), "--out", str(tmp_path / "run"), "--dict", "topk:d_sae=64,k=4,name=topk",
            "--dict", "relu_l1_untied:d_sae=64,coefficient=1e-2,name=l1", "--batch-size", "256", "--steps", "12"]  # fmt: skip
    out = _cli(*args)
    assert out.returncode == 0, out.stderr
    assert "trained 12 steps" in out.stdout and "topk" in out.stdout
    for name in ("topk", "l1"):
        assert (tmp_path / "run" / name / "sae_weights.safetensors").exists()
    again = _cli(*args)
    assert again.returncode == 0 and "nothing to train" in again.stdout
    bad = _cli("train", str(store), "--out", str(tmp_path / "x"), "--dict", "topk:d_sae=64,k=4,d_in=7")
    assert bad.returncode == 2 and "d_in" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_torchrun_two_processes_match_one(store: Path, tmp_path: Path, torchrun: Any) -> None:
    # The geometric-median b_dec init can only be approximated across shards; the mean is exact.
    spec = ["--dict", "topk:d_sae=64,k=4,name=topk", "--batch-size", "256", "--steps", "6", "--seed", "3",
            "--b-dec-init", "mean"]  # fmt: skip
    dp = torchrun("-m", "auditlens", "train", str(store), "--out", str(tmp_path / "dp"), *spec, timeout=300)
    assert dp.returncode == 0, dp.stderr[-3000:]
    single = train_on_store(
        ActivationStore.open(store), [parse_dictionary_spec("topk:d_sae=64,k=4,name=topk", 32)], tmp_path / "one",
        batch_size=256, steps=6, seed=3, progress=False, b_dec_init="mean",
    )  # fmt: skip
    assert single.result is not None and single.result.steps == 6
    a = load_file(str(tmp_path / "dp" / "topk" / "sae_weights.safetensors"))
    b = load_file(str(tmp_path / "one" / "topk" / "sae_weights.safetensors"))
    for k in b:
        torch.testing.assert_close(a[k], b[k], atol=1e-5, rtol=1e-5, msg=k)
