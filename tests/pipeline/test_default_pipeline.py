"""The main pipeline runs end to end on a tiny model, writes its run folder, and resumes without redoing work."""

from __future__ import annotations

import json
from pathlib import Path

from auditlens.models.tiny import tiny_model
from auditlens.pipeline import PipelineConfig, run_pipeline
from auditlens.pipeline.report import summary_table


def test_pipeline_end_to_end_and_resume(tmp_path: Path) -> None:
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
    summary = run_pipeline(cfg)
    out = tmp_path / "run"
    for name in ("summary.json", "report.html", "l0_vs_fvu.png", "loss_recovered.png", "config.json"):
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
