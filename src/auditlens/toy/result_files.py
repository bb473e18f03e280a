"""Result models as JSON files: written atomically and read back validated, through :mod:`auditlens.runs.io`.

Every result of the toy lab (probe results, the toy grid, the tiny-transformer run, comparisons) is saved with
:func:`save_result` and loaded with :func:`load_result`; a missing or invalid file raises
:class:`~auditlens.errors.DataError` naming the file and the kind of result it should hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from auditlens.runs import read_json, write_json

__all__ = ["load_result", "save_result"]

R = TypeVar("R", bound=BaseModel)


def save_result(result: BaseModel, path: str | Path, *, indent: int = 2) -> Path:
    """Write a result model as indented JSON, atomically (parent folders created); returns the path."""
    path = Path(path)
    write_json(path, result, indent=indent)
    return path


def load_result(source: R | str | Path, kind: type[R]) -> R:
    """``source`` itself if it already is a ``kind``; otherwise the ``kind`` read from the JSON file it names
    (:class:`~auditlens.errors.DataError` when the file is missing or is not a ``kind``: regenerate it)."""
    if isinstance(source, kind):
        return source
    return read_json(Path(source), kind, what=f"{kind.__name__} result file")  # type: ignore[arg-type]
