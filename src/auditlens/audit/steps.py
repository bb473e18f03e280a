"""Resumable audit steps: each technique run is written to ``steps/<key>.json`` when it finishes, and a re-run
of the same audit loads it instead of running it again (an interrupted audit loses at most the step in flight)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from auditlens.audit.evidence import TechniqueResult
from auditlens.audit.report_schema import TechniqueRun
from auditlens.runs import read_json, write_json

__all__ = ["StepStore"]

log = logging.getLogger(__name__)


class StepStore:
    """Runs or reloads steps, and keeps the list of runs for the report."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.runs: list[TechniqueRun] = []
        self.results: dict[str, TechniqueResult] = {}
        self.reused = 0

    def _path(self, key: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / "steps" / (re.sub(r"[^A-Za-z0-9_.-]", "_", key) + ".json")

    def run(self, key: str, phase: str, fn: Callable[[], TechniqueResult]) -> TechniqueResult:
        path = self._path(key)
        if path is not None and path.is_file():
            res = read_json(path, TechniqueResult, what="audit step")
            self.reused += 1
        else:
            log.info("audit step %s", key)
            res = fn()
            if path is not None:
                write_json(path, res.model_dump(mode="json"))
        self.results[key] = res
        rel = str(path.relative_to(self.folder)) if path is not None and self.folder is not None else ""
        self.runs.append(
            TechniqueRun(
                step=key,
                technique=res.technique,
                phase=phase,
                file=rel,
                items=len(res.items),
                error=res.error,
                hit_rate=res.hit_rate,
                base_hit_rate=res.base_hit_rate,
                cost=res.cost,
            )
        )
        return res
