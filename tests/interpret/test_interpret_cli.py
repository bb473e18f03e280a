"""`auditlens interpret dashboard` runs end to end on a saved dictionary and model folder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from auditlens.activations import ActivationStore
from auditlens.cli import app
from auditlens.cli import commands as _commands  # noqa: F401  (registers the verbs)
from auditlens.sae import TopK, TopKConfig, save_dictionary


def test_dashboard_command(tmp_path: Path, interp_store: ActivationStore, tiny_hm) -> None:  # type: ignore[no-untyped-def]
    model_dir = tmp_path / "model"
    tiny_hm.model.save_pretrained(model_dir)
    tiny_hm.tokenizer.save_pretrained(model_dir)
    ckpt = save_dictionary(TopK([TopKConfig(d_in=32, d_sae=48, k=4, name="tk")]), tmp_path / "tk")
    out = tmp_path / "out"
    args = ["interpret", "dashboard", str(ckpt), "--store", str(interp_store.path), "--out", str(out)]
    res = CliRunner().invoke(app, [*args, "--model", str(model_dir), "--features", "10", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "10 features over" in res.output and "file://" in res.output
    stats = json.loads((out / "stats.json").read_text())
    assert [f["feature"] for f in stats["features"]] == list(range(10))
    assert stats["features"][0]["promoted"] is not None and stats["source"] == "tk"
    assert (out / "dashboard" / "index.html").exists() and (out / "examples.safetensors").exists()
    res = CliRunner().invoke(app, ["interpret", "rebuild-dashboard", str(out)])
    assert res.exit_code == 0, res.output
    # A dictionary of the wrong width is refused with a clear message.
    bad = save_dictionary(TopK([TopKConfig(d_in=16, d_sae=8, k=2)]), tmp_path / "bad")
    res = CliRunner().invoke(app, ["interpret", "dashboard", str(bad), "--store", str(interp_store.path),
                                   "--out", str(tmp_path / "o2"), "--model", "none"])  # fmt: skip
    assert res.exit_code != 0 and "width 16" in str(res.exception)
