"""The identity of a run: a short hash of the settings that determine its results.

``fingerprint(x)`` is ``sha256(json.dumps(x, sort_keys=True, default=str))`` cut to ``length`` hex digits. Pydantic
models are dumped in JSON mode first. The encoding is fixed (the default separators, keys sorted, ``str`` for
anything JSON does not know): every fingerprint already written into a run folder keeps its value, so old folders
still resume. Hash only what changes the results, never machine settings (device, threads, progress bars).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

__all__ = ["fingerprint"]


def fingerprint(value: BaseModel | Any, length: int = 16) -> str:
    """Short stable hash of a JSON-able value (a pydantic model is dumped in JSON mode)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]
