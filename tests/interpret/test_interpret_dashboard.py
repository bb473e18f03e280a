"""The dashboard: safe data files, and a real headless-Chromium run (render, search, open, sort, screenshot)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from auditlens.activations import ActivationStore
from auditlens.interpret import (
    ExampleTable,
    FeatureExplanation,
    InterpretError,
    ScanConfig,
    interpret_features,
    load_explanations,
    rebuild_dashboard,
    save_explanations,
)

from .conftest import LinearReLU

NASTY = '</script><img src=x onerror="window.__pwned=1">&amp; "q"\n\u2028é'


def _visible(s: str) -> str:
    return s.replace("\n", "↵")


@pytest.fixture(scope="module")
def result(tmp_path_factory, interp_store: ActivationStore, linear_source: LinearReLU, tiny_hm):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("interp-dashboard")
    interpret_features(linear_source, interp_store, out, model=tiny_hm, scan=ScanConfig(top_k=8, window=6))
    # Give the token at the max of feature 5's best example a hostile text, then rebuild with explanations.
    table = ExampleTable.load(out)
    row = table.row_of(5)
    peak = int(table.top.tokens[row, 0, 0, int(table.top.pos[row, 0, 0] - table.top.start[row, 0, 0])])
    known = json.loads((out / "token_text.json").read_text())
    known[str(peak)] = NASTY
    (out / "token_text.json").write_text(json.dumps(known))
    save_explanations(
        [
            FeatureExplanation(
                feature=5, explanation="detects <b>bold</b> & 'quotes'", score=0.7, scores={"top_only": 0.8}
            ),
            FeatureExplanation(feature=3, explanation="a weaker one", score=0.2),
        ],
        out,
    )
    rebuild_dashboard(out)
    return out, peak


def _load_js(path: Path, prefix: str) -> dict:
    text = path.read_text()
    assert text.startswith(prefix) and text.endswith(";\n")
    return json.loads(text[len(prefix) : -2])


def test_dashboard_files_are_self_contained_and_escaped(result) -> None:  # type: ignore[no-untyped-def]
    out, peak = result
    page = (out / "dashboard" / "index.html").read_text()
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    assert '<script src="data/index.js"></script>' in page and "fetch(" not in page
    raw = (out / "dashboard" / "data" / "index.js").read_text()
    data = json.loads(raw[len("window.AUDITLENS={chunks:{},data:") : -len("};\n")])
    assert data["id"] == list(range(24)) and data["expl"][5].startswith("detects") and data["score"][3] == 0.2
    chunk = _load_js(out / "dashboard" / "data" / "chunk_0000.js", "window.AUDITLENS.chunks[0]=")
    assert chunk["vocab"][str(peak)] == NASTY and chunk["5"]["interp"]["scores"] == {"top_only": 0.8}
    js = (out / "dashboard" / "data" / "chunk_0000.js").read_text()
    assert js.isascii() and "</script" not in js and "\u2028" not in js  # everything non-ASCII is \u-escaped
    assert raw.isascii()
    f5 = chunk["5"]
    assert len(f5["top"]) == 8 and len(f5["quantiles"]) == 5 and len(f5["hist"]) == 32
    _ctx, start, mpos, mval, ids, q = f5["top"][0]
    assert len(ids) == len(q) == 13 and q[mpos - start] == 1000 and mval == pytest.approx(f5["max"])


def test_explanations_file_round_trip_and_errors(tmp_path: Path) -> None:
    save_explanations([FeatureExplanation(feature=2, explanation="x", score=None)], tmp_path)
    assert load_explanations(tmp_path)[2].explanation == "x"
    assert load_explanations(tmp_path / "missing") == {}
    (tmp_path / "explanations.jsonl").write_text('{"feature": "two"}\n')
    with pytest.raises(InterpretError, match="not a valid explanation"):
        load_explanations(tmp_path)


def test_dashboard_in_headless_chromium(result, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, _ = result
    url = (out / "dashboard" / "index.html").resolve().as_uri()
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    rows = page.locator("#feature-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 24 and "24 of 24 features" in page.inner_text("#count")
    # Search by id: the exact id comes first.
    page.fill("#search", "#5")
    page.wait_for_function("document.querySelector('#feature-table tbody tr').dataset.feature === '5'")
    # Search by top-token text.
    stats = json.loads((out / "stats.json").read_text())["features"]
    tok = next(t["token"] for t in stats[7]["top_tokens"] if t["token"].strip())
    page.fill("#search", tok)
    page.wait_for_selector("#feature-table tbody tr[data-feature='7']")
    assert (
        tok.lower()
        in page.locator("#feature-table tbody tr[data-feature='7'] td.toks").text_content().lower()
    )
    # Search by explanation text.
    page.fill("#search", "BOLD")
    page.wait_for_function("document.querySelectorAll('#feature-table tbody tr').length === 1")
    rows.first.click()
    page.wait_for_selector("#panel h2")
    assert page.inner_text("#panel h2").startswith("Feature #5")
    expl = page.locator("#panel .explanation div").first
    assert expl.text_content() == "detects <b>bold</b> & 'quotes'"
    assert page.locator("#panel .explanation b").count() == 0
    assert page.locator("#panel svg rect.bar").count() == 32
    assert page.locator("#panel .example").count() >= 8
    peak = page.locator("#panel .example").first.locator(".tok.peak").first
    assert peak.text_content() == _visible(NASTY)
    assert page.evaluate("window.__pwned") is None and page.locator("img").count() == 0
    assert "#f=5" in page.url
    # Sorting.
    page.fill("#search", "")
    page.select_option("#sort", "score")
    page.wait_for_function("document.querySelector('#feature-table tbody tr').dataset.feature === '5'")
    page.select_option("#sort", "id")
    page.wait_for_function("document.querySelector('#feature-table tbody tr').dataset.feature === '0'")
    page.locator("th[data-key=max]").click()
    page.wait_for_function("document.querySelector('th.sorted').dataset.key === 'max'")
    first = int(page.locator("#feature-table tbody tr").first.get_attribute("data-feature") or -1)
    assert first == max(stats, key=lambda f: f["max_activation"])["feature"]
    shot = tmp_path / "dashboard.png"
    page.fill("#search", "#5")
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("AUDITLENS_SCREENSHOT"):
        shutil.copy(shot, os.environ["AUDITLENS_SCREENSHOT"])
    # Deep link opens a panel on load.
    page.goto(url + "#f=3")
    page.wait_for_function(
        "document.querySelector('#panel h2') && "
        "document.querySelector('#panel h2').textContent.startsWith('Feature #3')"
    )
    assert errors == []
