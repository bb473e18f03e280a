"""The replication page links its figures relative to itself, whatever path the folder was given as."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditlens.toy.report import write_html_report


@pytest.mark.parametrize("given", ["relative", "absolute"])
def test_figures_are_linked_relative_to_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    monkeypatch.chdir(tmp_path)
    root = Path("docs") / "results" / "lab"
    (root / "toy_grid").mkdir(parents=True)
    (root / "toy_grid" / "heat.png").write_bytes(b"\x89PNG fake")
    (root / "top.png").write_bytes(b"\x89PNG fake")
    out = root if given == "relative" else (tmp_path / root)
    page = write_html_report(out, "t", claims=[])
    srcs = re.findall(r"<img src='([^']*)'", page.read_text())
    assert sorted(srcs) == ["top.png", "toy_grid/heat.png"]
    for src in srcs:  # each resolves from the page's own folder
        assert (page.parent / src).is_file()
