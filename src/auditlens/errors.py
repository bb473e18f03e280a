"""Errors that users see. Each says what was wrong and what to do about it."""

from __future__ import annotations


class AuditlensError(Exception):
    """Base class for every error auditlens raises on bad input.

    The CLI prints these without a traceback, so the message must stand on its own: what was wrong, and
    (in ``hint``) what to do instead.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\n  hint: {hint}")


class ConfigError(AuditlensError):
    """A configuration value or combination is invalid."""


class ModelSpecError(AuditlensError):
    """A model spec could not be resolved to a loadable model."""


class HookPointError(AuditlensError):
    """A hook point name does not exist on this model."""


class DataError(AuditlensError):
    """A text source, corpus or store is empty, malformed or corrupted."""


class RunFolderError(AuditlensError):
    """An output folder holds a different run, or is otherwise unusable."""
