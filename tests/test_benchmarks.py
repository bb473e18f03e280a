"""Every benchmark still runs: ``python benchmarks/<name>.py --smoke`` exits 0 (tiny shapes, a few steps).

Speed targets are never asserted here; this only catches a benchmark that the code under it has broken.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py"))


def test_there_are_benchmarks() -> None:
    assert len(BENCHMARKS) >= 5


@pytest.mark.parametrize("script", BENCHMARKS, ids=[p.stem for p in BENCHMARKS])
def test_benchmark_smoke_mode_runs(script: Path, tmp_path: Path) -> None:
    assert "--smoke" in script.read_text(), f"{script.name} has no --smoke mode"
    env = {**os.environ, "AUDITLENS_PROGRESS": "0", "SPARSIFY_DISABLE_TRITON": "1", "MPLBACKEND": "Agg"}
    res = subprocess.run(
        [sys.executable, str(script), "--smoke"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, f"{script.name} --smoke failed:\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}"
