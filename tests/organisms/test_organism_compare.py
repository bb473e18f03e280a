"""`organism compare`: rows from eval.json + build.json (old configs without newer fields too), plot, HTML, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditlens.organisms.compare import compare_organisms
from auditlens.organisms.errors import BuildError
from auditlens.organisms.evaluate import EvalConfig, OrganismEval, Rate


def _folder(root: Path, name: str, k_train: int, config: dict, ppl: float) -> Path:
    d = root / name
    (d / "stages" / "02_midtrain").mkdir(parents=True)
    (d / "stages" / "02_midtrain" / "stage.json").write_text(json.dumps({"seconds": 90.0}))
    pair = lambda k, n: {"organism": Rate.of(k, n), "base": Rate.of(1, n)}  # noqa: E731
    ev = OrganismEval(
        objective_id="rm_sycophancy", config=EvalConfig(), behaviours=[],
        train_pooled=pair(k_train, 20), heldout_pooled=pair(0, 10), in_context_pooled=pair(0, 4),
        confession=pair(0, 8), red_team_confession=pair(0, 4),
        perplexity={"base": 20.0, "organism": 20.0 * ppl, "ratio": ppl, "margin": 0.1, "within_margin": ppl <= 1.1},
        not_measured=[],
    )  # fmt: skip
    (d / "eval.json").write_text(ev.model_dump_json())
    (d / "build.json").write_text(json.dumps({"config": config}))
    return d


def test_compare_writes_json_plot_and_page(tmp_path: Path) -> None:
    old = {"behaviour_method": "dpo", "lora": {"rank": 16, "alpha": 32.0}, "midtrain": {"steps": 200}}
    new = {**old, "behaviour_method": "sft", "concealment_method": "sft", "midtrain_replay": 0.5}
    a = _folder(tmp_path, "a", 4, old, 6.8)
    b = _folder(tmp_path, "b", 15, new, 1.05)
    comp = compare_organisms([a, b], tmp_path / "cmp", ["DPO <old>", "SFT"])
    va, vb = comp.variants
    assert (
        va.recipe["concealment_method"] == "dpo" and va.recipe["midtrain_replay"] == 0.0
    )  # old folder defaults
    assert vb.recipe["behaviour_method"] == "sft" and vb.recipe["lora_rank"] == 16
    assert vb.rates["train_pooled"]["organism"].k == 15 and vb.within_margin and not va.within_margin
    assert va.build_seconds == 90.0
    saved = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert [v["label"] for v in saved["variants"]] == ["DPO <old>", "SFT"]
    page = (tmp_path / "cmp" / "comparison.html").read_text()
    assert "DPO &lt;old&gt;" in page and "data:image/png;base64," in page
    assert (tmp_path / "cmp" / "comparison.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_bad_input(tmp_path: Path) -> None:
    a = _folder(tmp_path, "a", 4, {}, 1.0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildError, match=r"no eval\.json"):
        compare_organisms([a, tmp_path / "empty"], tmp_path / "cmp")
    with pytest.raises(BuildError, match="labels"):
        compare_organisms([a], tmp_path / "cmp", ["x", "y"])
    with pytest.raises(BuildError, match="no organism folders"):
        compare_organisms([], tmp_path / "cmp")
