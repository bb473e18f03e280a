"""The command line is a thin layer: it runs, prints summaries, and turns bad input into clean errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from auditlens.models.tiny import tiny_model


def _cli(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUDITLENS_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-m", "auditlens", *args], capture_output=True, text=True, env=env)


def test_info(tmp_path: Path) -> None:
    out = _cli("info", cache=tmp_path)
    assert out.returncode == 0 and str(tmp_path) in out.stdout


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    hm = tiny_model("gpt2", n_layers=2)
    hm.model.save_pretrained(folder)
    hm.tokenizer.save_pretrained(folder)
    corpus = folder / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps({"body": f"document {i} " * (10 + i)}) for i in range(40)) + "\n")
    return folder


def test_harvest_command(tiny_folder: Path, tmp_path: Path) -> None:
    args = [
        "harvest", "--out", str(tmp_path / "s"), "--model", str(tiny_folder), "-p", "blocks.1.resid_post",
        "-p", "blocks.0.mlp.post", "--tokens", "512", "--context-length", "32",
        "--source", str(tiny_folder / "corpus.jsonl"), "--text-field", "body",
    ]  # fmt: skip
    out = _cli(*args, cache=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "blocks.0.mlp.post  d_in=128" in out.stdout and "512 tokens in 16 contexts" in out.stdout
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["config"]["text_field"] == "body"
    # Same command again: nothing to do, same store.
    again = _cli(*args, cache=tmp_path)
    assert again.returncode == 0 and json.loads((tmp_path / "s" / "manifest.json").read_text()) == manifest


def test_bad_input_gives_a_clean_error(tiny_folder: Path, tmp_path: Path) -> None:
    out = _cli("harvest", "--out", str(tmp_path / "s"), "--model", "no-such-model", cache=tmp_path)
    assert out.returncode == 2
    assert "error: cannot resolve model spec" in out.stderr and "Traceback" not in out.stderr
    out = _cli(
        "harvest", "--out", str(tmp_path / "s"), "--model", str(tiny_folder), "-p", "blocks.9.resid_post",
        cache=tmp_path,
    )  # fmt: skip
    assert out.returncode == 2 and "has 2 layers" in out.stderr
    out = _cli(
        "harvest",
        "--out",
        str(tmp_path / "s"),
        "--model",
        str(tiny_folder),
        "--dtype",
        "int8",
        cache=tmp_path,
    )
    assert out.returncode == 2 and "invalid configuration" in out.stderr and "dtype" in out.stderr
