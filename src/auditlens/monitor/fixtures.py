"""Load the labelled clean/backdoored HumanEval fixtures (see ``data/README.md`` for how they were made)."""

from __future__ import annotations

from pathlib import Path

from auditlens.errors import DataError
from auditlens.monitor.problems import load_humaneval
from auditlens.monitor.records import CodeSample, ReasoningStyle
from auditlens.monitor.taxonomy import BackdoorType
from auditlens.runs import read_jsonl

__all__ = ["FIXTURES_PATH", "SOURCES_DIR", "bundled_sources", "load_fixtures", "source_path"]

FIXTURES_PATH = Path(__file__).with_name("data") / "fixtures.jsonl"
SOURCES_DIR = Path(__file__).with_name("data") / "sources"
"""Bundled held-out sample sets, one folder each (``<name>/samples.jsonl`` and a README on how it was made)."""


def bundled_sources() -> list[str]:
    """Names of the bundled sample sets besides the fixtures (``rewrites``, ...)."""
    return sorted(p.parent.name for p in SOURCES_DIR.glob("*/samples.jsonl"))


def source_path(spec: str) -> Path:
    """The sample file of ``spec``: ``fixture`` (the bundled fixtures), a bundled source name, or a path."""
    if spec == "fixture":
        return FIXTURES_PATH
    if spec in bundled_sources():
        return SOURCES_DIR / spec / "samples.jsonl"
    path = Path(spec)
    if not path.is_file():
        raise DataError(
            f"{spec!r} is neither a bundled sample set nor a file",
            hint=f"use one of: fixture, {', '.join(bundled_sources())}, or the path of a jsonl of CodeSample",
        )
    return path


def load_fixtures(
    path: str | Path | None = None,
    *,
    styles: list[ReasoningStyle] | None = None,
    labels: list[BackdoorType] | None = None,
) -> list[CodeSample]:
    """Read fixture samples (default: the bundled file), optionally filtered by style and label.

    The problem statement (the HumanEval prompt) is not stored in the file; it is filled in here."""
    path = Path(path) if path is not None else FIXTURES_PATH
    if not path.exists():
        raise DataError(
            f"fixture file {path} does not exist",
            hint="build it with `python scripts/build_monitor_fixtures.py --out PATH`",
        )
    samples: list[CodeSample] = read_jsonl(path, CodeSample, what="fixture file")
    missing = sorted(
        {s.problem_id for s in samples if not s.problem_statement and s.problem_id.startswith("HumanEval/")}
    )
    if missing:
        prompts = {p.id: p.statement for p in load_humaneval(missing)}
        for s in samples:
            if not s.problem_statement and s.problem_id in prompts:
                s.problem_statement = prompts[s.problem_id]
    if styles is not None:
        samples = [s for s in samples if s.reasoning_style in styles]
    if labels is not None:
        samples = [s for s in samples if s.label in labels]
    return samples
