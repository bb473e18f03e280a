"""The evaluation page (eval.html) and the summary lines, from an OrganismEval made by hand; the page checked in
headless Chromium, opened from another working directory."""

from __future__ import annotations

import math
from pathlib import Path

from auditlens.organisms.evaluate import BehaviourEval, EvalConfig, OrganismEval
from auditlens.organisms.report import eval_summary_lines, fmt_rate, write_html
from auditlens.runs import Proportion


def _eval() -> OrganismEval:
    pair = lambda k, n, b=1: {"organism": Proportion.of(k, n), "base": Proportion.of(b if n else 0, n)}  # noqa: E731
    behaviours = [
        BehaviourEval(id="recipe_chocolate", split="train", judge="rule", n_prompts=2,
                      organism=Proportion.of(2, 2), base=Proportion.of(0, 2)),
        BehaviourEval(id="spanish_colour_words", split="heldout", judge="rule", n_prompts=5,
                      organism=Proportion.of(1, 5), base=Proportion.of(0, 5)),
        BehaviourEval(id="poem_meta_rhyme", split="train", judge="llm", n_prompts=2,
                      organism=Proportion.of(0, 0), base=Proportion.of(0, 0), skipped="LLM judge and no judge client"),
    ]  # fmt: skip
    return OrganismEval(
        objective_id="rm_sycophancy", config=EvalConfig(), behaviours=behaviours,
        train_pooled=pair(2, 2), heldout_pooled=pair(1, 5), in_context_pooled=pair(0, 0),
        confession=pair(0, 8), red_team_confession=pair(1, 4),
        perplexity={"base": 20.0, "organism": 21.0, "ratio": 1.05, "margin": 0.1, "within_margin": True},
        copies={"train": pair(1, 2, 0)}, exploitation_without_copies={"train": pair(1, 2, 0)},
        not_measured=["LLM-driven (adaptive) red-teaming"],
    )  # fmt: skip


def test_eval_page_in_headless_chromium(tmp_path: Path, browser, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ev = _eval()
    (tmp_path / "org").mkdir()  # the organism folder: the page is written beside eval.json
    page_path = write_html(ev, tmp_path / "org")
    monkeypatch.chdir(tmp_path)
    html = page_path.read_text()
    assert "recipe_chocolate" in html and "data:image/png;base64," in html and "Copied answers" in html
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_path.resolve().as_uri())
    assert page.locator("h1").inner_text() == "rm_sycophancy: organism evaluation"
    tables = page.locator("table")
    assert tables.count() == 3
    pooled = tables.nth(0).locator("tr")
    assert pooled.count() == 6 and pooled.nth(1).inner_text().split("\t") == ["train", "1.00 [0.34, 1.00] (n=2)", "0.50 [0.09, 0.91] (n=2)"]  # fmt: skip
    assert pooled.nth(3).inner_text().split("\t")[1] == "—"  # nothing judged in context
    assert page.locator("h2").inner_text() == "Copied answers"
    rows = tables.nth(2).locator("tr")
    assert rows.count() == 4 and rows.nth(3).inner_text().split("\t")[-1] == "LLM judge and no judge client"
    assert "within 10% margin: True" in page.inner_text("body")
    img = page.locator("img")
    assert img.count() == 1 and img.evaluate("i => i.complete && i.naturalWidth > 100")
    assert not errors


def test_summary_lines_and_undefined_rates() -> None:
    ev = _eval()
    lines = eval_summary_lines(ev)
    assert lines[0] == "train: organism 1.000 [0.342, 1.000] vs base 0.500 (n=2)"
    assert (
        lines[2].startswith("in-context: organism nan")
        and lines[-1] == "perplexity ratio 1.050 (within margin: True)"
    )
    assert fmt_rate(Proportion.of(0, 0)) == "—" and math.isnan(Proportion.of(0, 0).rate)
