"""The page kit escapes everything, links figures relative to the page, embeds on request; it renders in Chromium."""

from __future__ import annotations

from pathlib import Path

from auditlens.runs.figures import new_figure, save_figure
from auditlens.runs.report import Page, link


def _png(path: Path) -> Path:
    fig, ax = new_figure(size=(2, 2))
    ax[0, 0].plot([0, 1], [1, 0])
    return save_figure(fig, path)


def test_page_escapes_and_links(tmp_path: Path) -> None:
    png = _png(tmp_path / "figs" / "a.png")
    page = Page("<b>title</b>", subtitle="x & y")
    page.table(["name", "value"], [["<script>", 0.123456], [link("sub/x.html", "open"), 3]])
    page.figure(png, "caption <i>")
    out = page.write(tmp_path / "pages" / "index.html")
    html = out.read_text()
    assert (
        "&lt;b&gt;title&lt;/b&gt;" in html
        and "<script>" not in html.split("<style>")[0] + html.split("</style>")[1]
    )
    assert "<a href='sub/x.html'>open</a>" in html and "0.1235" in html
    assert "src='../figs/a.png'" in html  # relative to the page's folder, whatever the cwd
    embedded = Page("e").figure(png, embed=True).html()
    assert "data:image/png;base64," in embedded


def test_page_renders_in_chromium(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    png = _png(tmp_path / "a.png")
    page = Page("Report").h2("Numbers").table(["k", "v"], [["a", 1.5]]).figure(png, "fig").bullets(["note"])
    out = page.write(tmp_path / "index.html")
    errors: list[str] = []
    tab = browser.new_page()
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(out.resolve().as_uri())
    assert tab.inner_text("h1") == "Report"
    assert tab.locator("td.num").inner_text() == "1.5"
    assert tab.evaluate("document.querySelector('img').naturalWidth") > 0  # the linked figure loads
    assert errors == []
