"""The replication page links its figures relative to itself, whatever path the folder was given as (and, in a
browser, every figure loads from the page's folder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditlens.runs.figures import new_figure, save_figure
from auditlens.toy.report import write_html_report


def _png(path: Path) -> None:
    fig, axes = new_figure(1, 1, size=(3, 2))
    axes[0][0].plot([0, 1], [1, 0])
    save_figure(fig, path, dpi=60)


def _folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str) -> Path:
    monkeypatch.chdir(tmp_path)
    root = Path("docs") / "results" / "lab"
    (root / "toy_grid").mkdir(parents=True)
    _png(root / "toy_grid" / "heat.png")
    _png(root / "top.png")
    return root if given == "relative" else (tmp_path / root)


@pytest.mark.parametrize("given", ["relative", "absolute"])
def test_figures_are_linked_relative_to_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    page = write_html_report(_folder(tmp_path, monkeypatch, given), "t", claims=[])
    srcs = re.findall(r"<img [^>]*src='([^']*)'", page.read_text())
    assert sorted(srcs) == ["top.png", "toy_grid/heat.png"]
    for src in srcs:  # each resolves from the page's own folder
        assert (page.parent / src).is_file()


def test_page_shows_every_figure_in_a_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser
) -> None:  # type: ignore[no-untyped-def]
    page_file = write_html_report(_folder(tmp_path, monkeypatch, "relative"), "toy page", claims=[]).resolve()
    monkeypatch.chdir("/")  # the page works whatever the working directory
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_file.as_uri())
    assert page.title() == "toy page" and not errors
    widths = page.eval_on_selector_all("img", "els => els.map(e => e.complete ? e.naturalWidth : 0)")
    assert len(widths) == 2 and min(widths) > 50
    assert page.locator("h2").all_inner_texts() == ["Claims", "Figures"]
