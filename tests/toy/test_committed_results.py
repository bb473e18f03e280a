"""The toy results committed under docs/results/ still load, resume and render with today's code (on copies: the
committed files are never rewritten)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from auditlens.runs import RunFolder, read_json
from auditlens.toy.architectures import ArchitecturesResult
from auditlens.toy.grid_compare import ToyGridComparison
from auditlens.toy.replicate_toy import (
    GRID_JSON,
    ToyGridConfig,
    claim_grid_folder,
    legacy_grid_record,
    load_toy_grid,
)
from auditlens.toy.report import build_report
from auditlens.toy.tiny_transformer import TinyTransformerResult

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"
TOY = sorted(RESULTS.glob("toy-*"))

pytestmark = pytest.mark.skipif(not TOY, reason="no committed toy results in this checkout")


def test_every_committed_toy_result_loads() -> None:
    kinds = {
        "toy_grid.json": load_toy_grid,
        "tiny_transformer.json": lambda f: read_json(f, TinyTransformerResult),
        "architectures.json": lambda f: read_json(f, ArchitecturesResult),
        "toy_compare.json": lambda f: read_json(f, ToyGridComparison),
    }
    seen = 0
    for root in TOY:
        for name, load in kinds.items():
            for f in root.rglob(name):
                assert load(f) is not None, f
                seen += 1
    assert seen >= 10


def test_committed_grid_config_is_read_with_the_same_fingerprint(tmp_path: Path) -> None:
    """The H100 grid (older layout: grid_config.json) rebuilds its record with the fingerprint it recorded, which is
    the hash today's config gives; a copy of the folder is claimed as the same run (resumed, nothing to train)."""
    folder = RESULTS / "toy-h100-2026-11-27" / "toy_grid"
    if not (folder / GRID_JSON).is_file():
        pytest.skip("no committed grid of the older layout")
    rec = legacy_grid_record(folder)
    assert rec is not None and rec.legacy_source == GRID_JSON
    cfg = ToyGridConfig(**rec.config)
    assert cfg.fingerprint() == rec.fingerprint
    assert load_toy_grid(folder).config.fingerprint() == rec.fingerprint
    copy = tmp_path / "toy_grid"
    shutil.copytree(folder, copy)
    claimed = claim_grid_folder(cfg, copy)
    assert claimed.resumed and claimed.fingerprint == rec.fingerprint
    assert RunFolder.read_record(copy) is not None


@pytest.mark.parametrize("root", TOY, ids=[p.name for p in TOY])
def test_committed_toy_pages_render(tmp_path: Path, root: Path) -> None:
    copy = tmp_path / root.name
    shutil.copytree(root, copy)
    page = build_report(copy).read_text()
    assert "Claims" in page and "<img" in page
    for f in copy.rglob("toy_grid.json"):
        assert "toy_mmcs_truth.png" in page and (f.parent / "toy_mmcs_truth.png").is_file()
