"""`organism compare`: rows from eval.json + build.json (old configs without newer fields too) or run.json, plot,
HTML (also in headless Chromium), errors; the committed organism results still load and compare."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from auditlens.organisms.compare import compare_organisms
from auditlens.organisms.errors import BuildError
from auditlens.organisms.evaluate import EvalConfig, OrganismEval
from auditlens.runs import Proportion, read_json

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"


def _folder(root: Path, name: str, k_train: int, config: dict, ppl: float) -> Path:
    d = root / name
    (d / "stages" / "02_midtrain").mkdir(parents=True)
    (d / "stages" / "02_midtrain" / "stage.json").write_text(json.dumps({"seconds": 90.0}))
    pair = lambda k, n: {"organism": Proportion.of(k, n), "base": Proportion.of(1, n)}  # noqa: E731
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


def _committed_copies(tmp_path: Path, result: str) -> tuple[Path, list[Path]]:
    """Copies of the evaluated organisms of a committed result folder (eval.json, build.json, stage markers)."""
    src = RESULTS / result
    folders = []
    for ev in sorted(src.glob("*/eval.json")):
        d = tmp_path / result / ev.parent.name
        for f in [ev, ev.parent / "build.json", *ev.parent.glob("stages/*/stage.json")]:
            (d / f.relative_to(ev.parent)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, d / f.relative_to(ev.parent))
        folders.append(d)
    return src, folders


@pytest.mark.parametrize(
    "result", ["organisms-h100-old-recipe", "organisms-cpu-2026-11-27", "organisms-cpu-2026-11-27-edits"]
)
def test_committed_evaluations_load_and_compare_as_before(tmp_path: Path, result: str) -> None:
    """eval.json files written with Rate (lo/hi, null where nothing was judged) load as Proportions, and comparing
    copies of the committed folders reproduces the committed comparison.json numbers."""
    src, folders = _committed_copies(tmp_path, result)
    assert folders
    old = read_json(src / "comparison.json")["variants"]
    by_name = {Path(v["folder"]).name: v for v in old}
    comp = compare_organisms(folders, tmp_path / "cmp", [by_name[f.name]["label"] for f in folders])
    for f, v in zip(folders, comp.variants, strict=True):
        want = by_name[f.name]
        assert v.label == want["label"] and v.build_seconds == want["build_seconds"]
        assert v.perplexity_ratio == want["perplexity_ratio"] and v.within_margin == want["within_margin"]
        assert {k: want["recipe"].get(k, v.recipe[k]) for k in v.recipe} == v.recipe
        for metric, pair in want["rates"].items():
            for who, r in pair.items():
                got = v.rates[metric][who]
                assert (got.k, got.n) == (r.get("k", r.get("caught")), r["n"])
                for new, key in (("rate", "rate"), ("ci_low", "lo"), ("ci_high", "hi")):
                    x = getattr(got, new)
                    assert math.isnan(x) if r[key] is None else x == pytest.approx(r[key], abs=1e-12)
    ev = read_json(folders[0] / "eval.json", OrganismEval)
    assert (
        ev.train_pooled["organism"].defined
        and ev.train_pooled["organism"].ci_low < ev.train_pooled["organism"].rate
    )


def test_compare_reads_run_json_of_new_builds(tmp_path: Path) -> None:
    d = _folder(tmp_path, "new", 7, {}, 1.0)
    (d / "build.json").unlink()
    config = {"behaviour_method": "sft", "lora": {"rank": 8, "alpha": 16.0}, "midtrain": {"steps": 10}}
    record = {"kind": "organism-build", "fingerprint": "0" * 16, "config": {"spec_id": "x", "config": config}}
    (d / "run.json").write_text(json.dumps(record))
    (v,) = compare_organisms([d], tmp_path / "cmp").variants
    assert v.recipe["lora_rank"] == 8 and v.rates["train_pooled"]["organism"].k == 7
    (d / "run.json").unlink()
    with pytest.raises(BuildError, match="not an organism build"):
        compare_organisms([d], tmp_path / "cmp")


def test_comparison_page_in_headless_chromium(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    old = {"behaviour_method": "dpo", "lora": {"rank": 16, "alpha": 32.0}}
    a = _folder(tmp_path, "a", 4, old, 6.8)
    b = _folder(tmp_path, "b", 15, {**old, "behaviour_method": "sft"}, 1.05)
    compare_organisms([a, b], tmp_path / "cmp", ["DPO <old>", "SFT"])
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((tmp_path / "cmp" / "comparison.html").resolve().as_uri())
    assert page.locator("h1").inner_text().startswith("Organism recipes compared (rm_sycophancy)")
    tables = page.locator("table")
    assert tables.count() == 2
    rates = tables.nth(0).locator("tr")
    assert rates.count() == 3 and rates.nth(1).locator("td").first.inner_text() == "DPO <old>"
    assert "0.75 [" in rates.nth(2).inner_text() and "base 0.05 [" in rates.nth(2).inner_text()
    assert tables.nth(1).locator("tr").nth(2).inner_text().split("\t")[1] == "sft"
    img = page.locator("img")
    assert img.count() == 1 and img.evaluate("i => i.complete && i.naturalWidth > 100")
    assert not errors
