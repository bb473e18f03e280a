"""Where auditlens keeps things on disk."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache directory: ``$AUDITLENS_CACHE``, else ``~/.cache/auditlens``. Created on demand."""
    root = os.environ.get("AUDITLENS_CACHE")
    path = Path(root).expanduser() if root else Path.home() / ".cache" / "auditlens"
    path.mkdir(parents=True, exist_ok=True)
    return path
