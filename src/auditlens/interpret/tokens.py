"""Token ids -> display text, one token at a time (cached)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditlens.runs.io import atomic_write_text, read_json


class TokenText:
    """Decodes single token ids with a tokenizer; without one, shows ``<id>``.

    Each id is decoded alone (``tokenizer.decode([id])``), so a byte-level token that is part of a multi-byte
    character reads as the replacement character "\\ufffd" — the auto-interp protocol drops such fragments.
    """

    def __init__(self, tokenizer: Any | None = None, known: dict[int, str] | None = None) -> None:
        self.tokenizer = tokenizer
        self._cache: dict[int, str] = dict(known or {})

    def known(self) -> dict[int, str]:
        """Every id decoded so far (save it to decode the same ids later without the tokenizer)."""
        return dict(self._cache)

    def save(self, path: str | Path) -> Path:
        """Write the decoded ids as JSON ``{"id": "text"}``."""
        path = Path(path)
        atomic_write_text(path, json.dumps({str(k): v for k, v in sorted(self._cache.items())}))
        return path

    @classmethod
    def load(cls, path: str | Path, tokenizer: Any | None = None) -> TokenText:
        data = read_json(path, what="token text")
        return cls(tokenizer, {int(k): v for k, v in data.items()})

    def __call__(self, token_id: int) -> str:
        token_id = int(token_id)
        text = self._cache.get(token_id)
        if text is None:
            if self.tokenizer is None:
                text = f"<{token_id}>"
            else:
                try:
                    text = self.tokenizer.decode(
                        [token_id], skip_special_tokens=False, clean_up_tokenization_spaces=False
                    )
                except Exception:
                    text = f"<{token_id}>"
            self._cache[token_id] = text
        return text

    def many(self, token_ids: list[int]) -> list[str]:
        return [self(t) for t in token_ids]
