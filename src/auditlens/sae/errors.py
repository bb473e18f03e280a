"""Errors raised by :mod:`auditlens.sae` on bad input."""

from __future__ import annotations

from auditlens.errors import AuditlensError, ConfigError, DataError

__all__ = ["CheckpointError", "ConfigError", "DataError", "NonFiniteError", "SaeError"]


class SaeError(AuditlensError):
    """Base class for sparse-dictionary errors that are not plain config or data errors."""


class CheckpointError(SaeError):
    """A checkpoint folder is missing, truncated, or in a layout we cannot read."""


class NonFiniteError(SaeError):
    """Training produced (or was fed) NaN or inf; training stopped, the last good checkpoint is kept."""
