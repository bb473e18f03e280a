"""Keep freed memory in the process on CPU training runs (glibc malloc tuning).

A CPU training step allocates the same large temporaries every step (codes, reconstructions, gradients: megabytes
each). glibc's malloc serves blocks above its mmap threshold with fresh ``mmap`` pages and hands freed memory at the
top of the heap back to the OS above its trim threshold; both adapt at run time, and a training loop keeps tripping
them, so every step pays page faults on memory it just freed — on the toy grid's benchmark sub-grid, 1.6–2 million
minor faults in 200 steps, and steps 1.24x slower (``benchmarks/cpu_allocator.py``). Raising both thresholds once (mmap
to its 32 MiB maximum, trim to 1 GiB) lets the heap reuse those blocks. The cost: memory freed by the process is
kept for reuse rather than returned to the OS (the resident size stays near its peak instead of dropping between
steps).

Applied once per process, by the ``auditlens`` command and by :class:`~auditlens.sae.Trainer` on a CPU. Nothing is
changed when ``AUDITLENS_KEEP_FREED_MEMORY=0``, when the user set ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_TRIM_THRESHOLD_`` themselves, or when the C library is not glibc (musl, macOS, Windows; jemalloc or
tcmalloc preloaded replace glibc's malloc, and the settings then have no effect).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

#: glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: the largest mmap threshold glibc accepts on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX)
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 1024 * 1024 * 1024
_ENV = "AUDITLENS_KEEP_FREED_MEMORY"

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc malloc's mmap and trim thresholds for this process (once). Returns whether they are raised."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get(_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False  # the user tuned malloc themselves
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - glibc always has mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success; set mmap first (setting either one also turns off glibc's dynamic adjustment)
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return _applied
