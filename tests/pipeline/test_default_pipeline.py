"""The main pipeline runs end to end on a tiny model, writes its run folder, and resumes without redoing work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditlens.errors import RunFolderError
from auditlens.models.tiny import tiny_model
from auditlens.pipeline import PipelineConfig, run_pipeline
from auditlens.pipeline.default import PipelineSummary
from auditlens.pipeline.report import summary_table


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[PipelineConfig, PipelineSummary]:
    tmp_path = tmp_path_factory.mktemp("pipeline")
    hm = tiny_model("llama", n_layers=2)
    folder = tmp_path / "model"
    hm.model.save_pretrained(folder)
    hm.tokenizer.save_pretrained(folder)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(30):
        (corpus / f"d{i}.txt").write_text(" ".join(f"w{(i * j) % 53}" for j in range(400)))
    cfg = PipelineConfig(
        out=tmp_path / "run", model=str(folder), source=str(corpus), hook_point="blocks.1.resid_post", tokens=8192, context_length=32,
        expansion=2, k=4, l1_coefficient=1e-2, batch_size=256, eval_tokens=2048, eval_contexts=8, progress=False,
    )  # fmt: skip
    return cfg, run_pipeline(cfg)


def test_pipeline_end_to_end_and_resume(pipeline_run: tuple[PipelineConfig, PipelineSummary]) -> None:
    cfg, summary = pipeline_run
    out = cfg.out
    for name in ("summary.json", "report.html", "l0_vs_fvu.png", "loss_recovered.png", "run.json"):
        assert (out / name).exists(), name
    rows = {r["architecture"]: r for r in summary.dictionaries}
    assert set(rows) == {"topk", "relu_l1_untied"}
    assert rows["topk"]["l0"] <= 4 + 1e-6 and 0 <= rows["topk"]["fvu"] < 1.5
    assert all(r["loss_recovered"] == r["loss_recovered"] for r in rows.values())  # not NaN
    for report in summary.reports:
        assert json.loads(Path(report).read_text())["downstream"]["contexts"] == 8
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "topk_k4_64" in html
    assert "topk_k4_64" in summary_table(summary.dictionaries)
    # A second run finds everything done: same numbers, no retraining.
    again = run_pipeline(cfg)
    assert again.dictionaries == summary.dictionaries and again.train_seconds == 0.0
    assert json.loads((out / "run.json").read_text())["status"] == "complete"
    # A folder of the previous version (config.json, no run.json) resumes through it.
    (out / "run.json").unlink()
    (out / "config.json").write_text(cfg.model_dump_json(indent=1))
    legacy = run_pipeline(cfg.model_copy(update={"progress": True}))
    assert legacy.dictionaries == summary.dictionaries and legacy.train_seconds == 0.0
    assert json.loads((out / "run.json").read_text())["legacy_source"] == "config.json"
    # Other settings in the same folder are refused, naming what differs, and nothing is touched.
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    with pytest.raises(RunFolderError, match="k: 4 → 8"):
        run_pipeline(cfg.model_copy(update={"k": 8}))
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_report_in_headless_chromium(pipeline_run: tuple[PipelineConfig, PipelineSummary], browser) -> None:  # type: ignore[no-untyped-def]
    cfg, summary = pipeline_run
    page = browser.new_page()
    page.goto((cfg.out / "report.html").resolve().as_uri())
    assert page.locator("table tr").count() == 1 + len(summary.dictionaries)
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert len(widths) == 2 and all(w > 100 for w in widths), widths  # both plots decode
