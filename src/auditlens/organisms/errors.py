"""Errors of the model-organism module (each says what was wrong and, in ``hint``, what to do)."""

from __future__ import annotations

from auditlens.errors import AuditlensError, ConfigError, RunFolderError


class ObjectiveSpecError(ConfigError):
    """An objective specification file is malformed or inconsistent."""


class JudgeError(AuditlensError):
    """A judge is unknown, mis-parameterised, or needs an LLM client that was not given."""


class SealedError(AuditlensError):
    """Sealed ground truth was read without ``unseal=True``, or the sealed file is missing/corrupted."""


class BuildError(RunFolderError):
    """An organism build folder is unusable (different spec/config, missing chat template, bad stage)."""
