"""One HTML page kit for every report: a :class:`Page` of headings, paragraphs, tables and figures, one stylesheet.

Every text is escaped unless it is wrapped in :class:`Raw` (HTML the caller built, e.g. a link). Figures are linked
relative to the page's own folder (so a folder can be moved or opened from anywhere) or embedded as data URIs
(``embed=True``: a single self-contained file). The stylesheet (``assets/report.css``) is inlined in every page.
Pages are written atomically.

    page = Page("Monitor report", subtitle="1% FPR, 1000 bootstrap resamples")
    page.table(["monitor", "AUROC"], [["rule", est.text()]])
    page.figure(out / "roc.png", "ROC curves")
    page.write(out / "report.html")
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from auditlens.runs.io import atomic_write_text

__all__ = ["Page", "Raw", "esc", "link"]


class Raw(str):
    """HTML that is inserted as it is (never escaped)."""


def esc(value: Any) -> str:
    """Escape a value for HTML (a :class:`Raw` stays as it is)."""
    return value if isinstance(value, Raw) else html.escape(str(value))


def link(href: str, text: str) -> Raw:
    return Raw(f"<a href='{html.escape(href, quote=True)}'>{html.escape(text)}</a>")


@cache
def stylesheet() -> str:
    return resources.files("auditlens.runs").joinpath("assets/report.css").read_text(encoding="utf-8")


def _cell(value: Any, tag: str) -> str:
    cls = " class='num'" if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
    text = f"{value:.4g}" if isinstance(value, float) else esc(value)
    return f"<{tag}{cls}>{text}</{tag}>"


class Page:
    """An HTML report page, built top to bottom."""

    def __init__(self, title: str, subtitle: str | None = None):
        self.title = title
        #: HTML fragments, and (path, caption) of figures linked relative to the page (resolved when written)
        self.parts: list[str | tuple[Path, str]] = [f"<h1>{esc(title)}</h1>"]
        if subtitle:
            self.parts.append(f"<p class='subtitle'>{esc(subtitle)}</p>")

    def h2(self, text: str, anchor: str | None = None) -> Page:
        aid = f" id='{html.escape(anchor, quote=True)}'" if anchor else ""
        self.parts.append(f"<h2{aid}>{esc(text)}</h2>")
        return self

    def h3(self, text: str) -> Page:
        self.parts.append(f"<h3>{esc(text)}</h3>")
        return self

    def p(self, text: str, cls: str | None = None) -> Page:
        c = f" class='{cls}'" if cls else ""
        self.parts.append(f"<p{c}>{esc(text)}</p>")
        return self

    def pre(self, text: str) -> Page:
        self.parts.append(f"<pre>{esc(text)}</pre>")
        return self

    def bullets(self, items: Iterable[Any]) -> Page:
        lis = "".join(f"<li>{esc(i)}</li>" for i in items)
        if lis:
            self.parts.append(f"<ul>{lis}</ul>")
        return self

    def table(
        self, headers: Sequence[Any], rows: Iterable[Sequence[Any]], caption: str | None = None
    ) -> Page:
        """A table; floats are shown to 4 significant digits and right-aligned, other cells escaped."""
        cap = f"<caption>{esc(caption)}</caption>" if caption else ""
        head = "<tr>" + "".join(_cell(h, "th") for h in headers) + "</tr>"
        body = "".join("<tr>" + "".join(_cell(v, "td") for v in row) + "</tr>" for row in rows)
        self.parts.append(f"<table>{cap}{head}{body}</table>")
        return self

    def details(self, summary: str, body_html: str) -> Page:
        self.parts.append(f"<details><summary>{esc(summary)}</summary>{body_html}</details>")
        return self

    def raw(self, fragment: str) -> Page:
        self.parts.append(fragment)
        return self

    def figure(self, path: str | Path, caption: str | None = None, *, embed: bool = False) -> Page:
        """An image: embedded as a data URI (``embed``), or linked relative to the folder the page is written to."""
        p = Path(path)
        cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
        if embed:
            data = base64.b64encode(p.read_bytes()).decode()
            src = f"data:image/png;base64,{data}"
            self.parts.append(f"<figure><img alt='{esc(p.stem)}' src='{src}'>{cap}</figure>")
        else:
            self.parts.append((p, cap))
        return self

    def html(self, page_dir: str | Path | None = None) -> str:
        body = []
        base = Path(page_dir) if page_dir is not None else Path.cwd()
        for part in self.parts:
            if isinstance(part, tuple):
                p, cap = part
                rel = Path(os.path.relpath(p.resolve(), base.resolve())).as_posix()
                body.append(f"<figure><img alt='{esc(p.stem)}' src='{esc(rel)}'>{cap}</figure>")
            else:
                body.append(part)
        return (
            "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{esc(self.title)}</title><style>{stylesheet()}</style></head>\n<body>\n"
            + "\n".join(body)
            + "\n</body></html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the page to ``path`` (atomically); linked figures are made relative to its folder."""
        path = Path(path)
        atomic_write_text(path, self.html(path.parent))
        return path
