"""Resumable steps inside a run folder: a step's folder is finished when its marker file is there and current.

A step (an organism build stage, an audit technique, a training chunk) writes everything into its own folder and,
last, its marker (``stage.json`` by default) atomically. So a folder with a current marker is finished and is
skipped on a re-run; a folder without one was interrupted and is cleared and redone; a folder whose marker records
other settings is stale and is redone too. What "current" means is the caller's test on the marker's contents.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from auditlens.errors import DataError
from auditlens.runs.io import read_json, write_json

__all__ = ["MARKER", "StepTimer", "clear_step", "finish_step", "read_marker"]

MARKER = "stage.json"
R = TypeVar("R", bound=BaseModel)


def read_marker(folder: str | Path, model: type[R], marker: str = MARKER) -> R | None:
    """The marker of a step folder, or None when the step never finished (no marker, or an unreadable one)."""
    f = Path(folder) / marker
    if not f.is_file():
        return None
    try:
        return read_json(f, model, what="step marker")
    except DataError:
        return None


def clear_step(folder: str | Path) -> Path:
    """Empty a step folder before (re)running the step; returns it."""
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def finish_step(folder: str | Path, record: BaseModel | dict[str, Any], marker: str = MARKER) -> None:
    """Write the step's marker (last, atomically): from now on the step counts as finished."""
    write_json(Path(folder) / marker, record)


class StepTimer:
    """``with StepTimer() as t: ...; t.seconds`` — wall time of a step, rounded to the millisecond."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self._clock = clock
        self.seconds = 0.0

    def __enter__(self) -> StepTimer:
        self._t0 = self._clock()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = round(self._clock() - self._t0, 3)
