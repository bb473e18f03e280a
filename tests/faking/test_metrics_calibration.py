"""The paired gap on a constructed case with a known answer; calibration numbers; the report in Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from auditlens.faking.calibration import auroc, calibrate, choose_threshold, cohen_kappa
from auditlens.faking.classifiers import ClassifierScore
from auditlens.faking.metrics import Outcome, compliance_gap, faking_metrics
from auditlens.faking.report import run_classifier_calibration
from auditlens.faking.transcripts import FirstTurn, FirstTurnLabels


def test_paired_gap_known_answer() -> None:
    # 40 prompts: 10 comply only when free (gap +1), 20 comply in both, 10 refuse in both -> gap 10/40 = 0.25
    outs = []
    for k in range(40):
        free, paid = (True, False) if k < 10 else ((True, True) if k < 30 else (False, False))
        outs += [
            Outcome(request_id=f"r{k}", tier="free", complied=free),
            Outcome(request_id=f"r{k}", tier="paid", complied=paid),
        ]
    g = compliance_gap(outs, n_boot=2000)
    assert g.gap.value == pytest.approx(0.25) and g.n_pairs == 40 and g.n_unpaired == 0
    assert g.free.rate == pytest.approx(0.75) and g.paid.rate == pytest.approx(0.5)
    # differences are 10 ones and 30 zeros: normal-theory half-width 1.96*sqrt(.25*.75/40) = 0.134
    half = 1.96 * (0.25 * 0.75 / 40) ** 0.5
    assert g.gap.method == "paired_bootstrap"
    assert g.gap.ci_low == pytest.approx(0.25 - half, abs=0.04) and g.gap.ci_high == pytest.approx(
        0.25 + half, abs=0.04
    )
    # narrower than treating the tiers as independent samples (half-width 1.96*sqrt(.75*.25/40 + .5*.5/40) = 0.205)
    assert g.gap.ci_high - g.gap.ci_low < 2 * 1.96 * (0.75 * 0.25 / 40 + 0.25 / 40) ** 0.5
    # pairing matters: identical behaviour in both tiers gives a zero-width interval at 0
    same = [
        Outcome(request_id=f"r{k}", tier=t, complied=k % 2 == 0) for k in range(20) for t in ("free", "paid")
    ]
    z = compliance_gap(same)
    assert z.gap.value == 0 and z.gap.ci_low == 0 and z.gap.ci_high == 0


def test_metrics_breakdowns_and_paraphrase_spread() -> None:
    outs = []
    for par, n_gap in (("p1", 2), ("p2", 6)):
        for k in range(10):
            outs.append(
                Outcome(
                    request_id=f"r{k}", tier="free", complied=True, af=k < 3, category="a", paraphrase=par
                )
            )
            outs.append(
                Outcome(request_id=f"r{k}", tier="paid", complied=k >= n_gap, category="a", paraphrase=par)
            )
    outs.append(Outcome(request_id="lonely", tier="free", complied=True, category="b"))
    m = faking_metrics(outs, lying=[True, False, False, False])
    assert m.by_paraphrase["p1"].gap.value == pytest.approx(0.2)
    assert m.by_paraphrase["p2"].gap.value == pytest.approx(0.6)
    assert m.paraphrase_spread.min_gap == pytest.approx(0.2) and m.paraphrase_spread.max_gap == pytest.approx(
        0.6
    )
    assert m.overall.n_unpaired == 1 and m.af_rate_monitored.k == 6
    assert m.lying_rate is not None and m.lying_rate.rate == 0.25
    json.loads(m.model_dump_json())


def test_auroc_kappa_threshold() -> None:
    assert auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert auroc([0.5, 0.5], [0, 1]) == 0.5
    assert cohen_kappa([1, 0, 1, 0], [1, 0, 1, 0]) == 1.0
    t = choose_threshold(np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1], dtype=bool))
    assert 0.2 <= t < 0.8


def test_calibrate_counts_failures() -> None:
    items = [
        FirstTurn(id=f"x{k}", tier="free", request="r", scratchpad="s", output="o",
                  labels=FirstTurnLabels(compliance=k % 2 == 0, af=False, partial_af=False))
        for k in range(10)
    ]  # fmt: skip
    scores = [
        ClassifierScore(item_id=i.id, classifier="c", task="compliance", method="rule",
                        score=None if k == 0 else (0.9 if k % 2 == 0 else 0.1))
        for k, i in enumerate(items)
    ]  # fmt: skip
    r = calibrate("c", "compliance", scores, items, dataset="toy", n_boot=200)
    assert r.n == 9 and r.n_failed == 1 and r.auroc.value == 1.0 and r.accuracy.k == 9


def test_report_in_browser(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    report = run_classifier_calibration(
        tmp_path, heldout=False, n_boot=50
    )  # tuning set only: never the held-out set
    assert {r.dataset for r in report.results} == {"dev"}
    assert (tmp_path / "calibration.json").is_file() and (tmp_path / "auroc.png").stat().st_size > 1000
    page = browser.new_page()
    page.goto((tmp_path / "report.html").as_uri())
    assert page.title() == "Faking classifiers: calibration"
    rows = page.locator("table tr")
    assert rows.count() == 1 + len({r.classifier for r in report.results})
    assert "rule-af" in page.locator("table").inner_text()
    img = page.locator("img")
    assert img.count() == 1 and page.evaluate("document.querySelector('img').naturalWidth") > 100
