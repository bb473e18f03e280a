"""On-disk response cache: one JSON file per entry, written atomically, keyed by a hash of the request.

The key covers the full request, the backend identity and the resolved model — never an API key (keys are
not part of any of those). Only successful responses are stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from pydantic import ValidationError

from auditlens.llm.types import ChatRequest, ChatResponse
from auditlens.runs.io import write_json

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
"""Bumped when the entry layout changes, so old entries stop matching."""


def cache_key(request: ChatRequest, backend_identity: str, model: str) -> str:
    """SHA-256 hex digest of the canonical JSON of (format, backend identity, model, request)."""
    payload = {
        "format": CACHE_FORMAT,
        "backend": backend_identity,
        "model": model,
        "request": request.model_dump(mode="json"),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    """A folder of ``<key[:2]>/<key>.json`` files, each holding the request and its response."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """Where the entry for ``key`` lives."""
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> ChatResponse | None:
        """The stored response, or None when absent or unreadable (a corrupt entry is treated as a miss)."""
        path = self.path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return ChatResponse.model_validate(data["response"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
            log.warning("ignoring unreadable LLM cache entry %s (%s)", path, type(exc).__name__)
            return None

    def put(self, key: str, request: ChatRequest, response: ChatResponse) -> None:
        """Store an entry atomically (temp file in the same folder, then rename)."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "format": CACHE_FORMAT,
            "key": key,
            "request": request.model_dump(mode="json"),
            "response": response.model_dump(mode="json", exclude={"cached"}),
        }
        write_json(path, entry, indent=None)

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("??/*.json")) if self.root.exists() else 0
