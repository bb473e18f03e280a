"""The sandbox's vocabulary: what a run may use (:class:`SandboxLimits`), how it is confined (:class:`SandboxConfig`),
which layers took effect (:class:`Isolation`, reported by the child), and the outcome of a run or a test case
(:class:`ExecStatus`)."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field

from auditlens.errors import AuditlensError

__all__ = ["ExecStatus", "Isolation", "SandboxConfig", "SandboxError", "SandboxLimits"]


class SandboxError(AuditlensError):
    """The sandbox itself could not run (bad configuration, interpreter missing)."""


class ExecStatus(StrEnum):
    """Outcome of one execution or one test case."""

    OK = "ok"  # ran to completion (script exit 0, test case passed, call returned)
    WRONG = "wrong"  # ran but gave the wrong answer (assertion failed / output differs)
    TIMEOUT = "timeout"  # wall-clock, CPU or per-case time limit hit
    MEMORY = "memory"  # address-space limit hit (MemoryError)
    OUTPUT_LIMIT = "output_limit"  # stdout or stderr exceeded the byte cap; the process was killed
    FILE_LIMIT = "file_limit"  # wrote a file larger than the file-size limit (SIGXFSZ)
    CRASH = "crash"  # uncaught exception or non-zero exit
    SYNTAX_ERROR = "syntax_error"  # the source does not compile; nothing was run
    SANDBOX_ERROR = "sandbox_error"  # the sandbox failed before the program ran


class SandboxLimits(BaseModel):
    """Resource limits for one sandboxed process."""

    wall_s: float = Field(10.0, gt=0, description="Wall-clock limit for a script run (seconds).")
    cpu_s: int = Field(10, gt=0, description="RLIMIT_CPU for a script run (seconds; SIGXCPU then SIGKILL).")
    memory_mb: int = Field(1024, gt=64, description="RLIMIT_AS, address space in MiB.")
    file_mb: int = Field(16, gt=0, description="RLIMIT_FSIZE, largest file the program may write, MiB.")
    nproc: int = Field(32, gt=0, description="RLIMIT_NPROC for the sandbox uid (processes + threads).")
    output_bytes: int = Field(
        1_000_000, gt=0, description="Cap on captured stdout and on stderr, each; overflow kills the run."
    )
    step_timeout_s: float = Field(
        3.0, gt=0, description="Per-test-case limit in the batched function-call modes (seconds)."
    )
    reply_bytes: int = Field(
        4_000_000,
        gt=0,
        description="Cap on one encoded return value in the function-call modes (bytes); a larger one fails its case.",
    )


def _default_hidden() -> list[str]:
    hidden = ["/tmp", "/var/tmp", "/dev/shm", "/run", str(Path.home()), os.getcwd()]
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() or (parent / ".git").exists():
            hidden.append(str(parent))
            break
    return hidden


def _default_exposed() -> list[str]:
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent.parent)}
    return sorted(os.path.realpath(p) for p in paths)


class SandboxConfig(BaseModel):
    """How to confine a run. Defaults are the strictest the current user can get."""

    limits: SandboxLimits = Field(default_factory=SandboxLimits, description="Resource limits.")
    python: str = Field(default_factory=lambda: sys.executable, description="Interpreter to run.")
    network_namespace: bool = Field(True, description="(root) unshare a new, empty network namespace.")
    mount_namespace: bool = Field(
        True, description="(root) private mount namespace: read-only /, hidden paths, exposed run folder."
    )
    drop_privileges: bool = Field(True, description="(root) run as a fresh unprivileged uid/gid.")
    socket_audit_hook: bool = Field(True, description="Audit hook in the child refusing socket creation.")
    hidden_paths: list[str] = Field(
        default_factory=_default_hidden,
        description="Folders covered with an empty read-only tmpfs (mount namespace only).",
    )
    exposed_paths: list[str] = Field(
        default_factory=_default_exposed,
        description="Folders re-exposed read-only at their own path when under a hidden one (the interpreter).",
    )
    temp_root: str | None = Field(None, description="Where run folders are created (default: system temp).")


class Isolation(BaseModel):
    """Which confinement layers actually took effect in the child (reported by the child itself)."""

    network_namespace: bool = False
    mount_namespace: bool = False
    root_readonly: bool = False
    uid: int | None = None
    no_new_privs: bool = False
    non_dumpable: bool = False
    rlimits: bool = False
    socket_audit_hook: bool = False
    hidden: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
