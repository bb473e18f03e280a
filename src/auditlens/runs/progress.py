"""One channel for progress and messages: tqdm bars a caller can silence, ``logging`` underneath.

- Library code never prints. It logs through ``logging.getLogger(__name__)`` (every logger under ``auditlens``); the
  CLI installs :func:`cli_logging`, which writes INFO and above to stderr through ``tqdm.write`` so that messages never
  break a bar. A library user sees warnings by default and opts into more with ``logging.basicConfig``.
- :func:`bar` is ``tqdm`` with one switch: ``with quiet():`` (this thread and what it calls), ``AUDITLENS_PROGRESS=0``
  (the whole process), or ``enabled=False`` (one bar) turn bars off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from tqdm.auto import tqdm

__all__ = ["bar", "cli_logging", "progress_enabled", "quiet"]

T = TypeVar("T")
_enabled: ContextVar[bool | None] = ContextVar("auditlens_progress", default=None)


def progress_enabled() -> bool:
    """Whether bars are shown here (``quiet()`` and ``AUDITLENS_PROGRESS=0`` turn them off)."""
    v = _enabled.get()
    if v is not None:
        return v
    return os.environ.get("AUDITLENS_PROGRESS", "1").strip().lower() not in {"0", "false", "no", "off"}


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """No progress bars inside this block (in this thread and the calls it makes)."""
    token = _enabled.set(False)
    try:
        yield
    finally:
        _enabled.reset(token)


def bar(
    iterable: Iterable[T] | None = None,
    *,
    total: float | None = None,
    desc: str | None = None,
    unit: str = "it",
    enabled: bool = True,
    **kwargs: Any,
) -> Any:
    """A tqdm progress bar (``kwargs`` go to tqdm: ``initial``, ``unit_scale``, ``leave``, …), shown only when
    ``enabled`` and :func:`progress_enabled`."""
    return tqdm(
        iterable, total=total, desc=desc, unit=unit, disable=not (enabled and progress_enabled()), **kwargs
    )


class _TqdmHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


def cli_logging(level: int = logging.INFO) -> None:
    """Show auditlens messages of ``level`` and above on stderr, above any progress bar (idempotent)."""
    root = logging.getLogger("auditlens")
    root.setLevel(level)
    if not any(isinstance(h, _TqdmHandler) for h in root.handlers):
        h = _TqdmHandler()
        h.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(h)
