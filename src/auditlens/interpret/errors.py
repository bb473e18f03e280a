"""Errors of the interpretation stage."""

from __future__ import annotations

from auditlens.errors import AuditlensError


class InterpretError(AuditlensError):
    """A feature source, store or result folder cannot be interpreted as asked."""
