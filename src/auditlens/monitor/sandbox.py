"""Run untrusted (model-written) Python in a confined subprocess.

Every run gets a fresh temporary folder, a scrubbed environment (``PATH``, ``LANG``, ``HOME`` and
``TMPDIR`` only), an isolated interpreter (``python -I -S``), its own session/process group, and
resource limits (CPU, wall clock, address space, file size, process count). When the parent runs as
root (the usual case in CI containers) the child additionally gets, before any untrusted code runs
(see ``_sandbox_boot.py``):

- a new **network namespace** (no interface but a down loopback: connections fail with
  ``ENETUNREACH``), plus an audit hook that refuses socket creation as a second layer;
- a new **mount namespace** in which ``/`` is read-only and the home folder, the project, the parent's
  working directory, ``/tmp``, ``/var/tmp``, ``/dev/shm`` and ``/run`` are covered by empty read-only
  tmpfs mounts; only the run folder (read-write) and the interpreter's prefix (read-only) are exposed;
- a **dedicated unprivileged uid/gid** (unique per run) with ``no_new_privs``, so ``RLIMIT_NPROC`` is
  enforced and every leftover process of that uid can be killed at the end, even ones that left the
  process group with ``setsid``.

Which layers took effect is reported in every result (:class:`Isolation`). Without root, the
namespaces and the uid drop are skipped and only rlimits, the process group and the audit hook apply.

Known limitation: in the batched function-call mode the test harness and the untrusted code share one
interpreter, so a deliberately adversarial program can forge its own per-case results (stdin/stdout
problems run the program alone and are not affected).
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from auditlens.errors import AuditlensError

__all__ = [
    "BatchResult",
    "CaseResult",
    "ExecResult",
    "ExecStatus",
    "Isolation",
    "SandboxConfig",
    "SandboxError",
    "SandboxLimits",
    "run_calls",
    "run_function_tests",
    "run_many",
    "run_script",
]

_BOOT = Path(__file__).with_name("_sandbox_boot.py")
_MARKER = b"\x00AUDITLENS-ISOLATION "
_UID_BASE = 1_000_000
_uid_counter = itertools.count()
_uid_lock = threading.Lock()


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
    rlimits: bool = False
    socket_audit_hook: bool = False
    hidden: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


class ExecResult(BaseModel):
    """Result of running one program once (script mode)."""

    status: ExecStatus
    returncode: int | None = Field(None, description="Exit status; negative = killed by that signal.")
    stdout: str = ""
    stderr: str = Field("", description="Captured stderr (truncated to the byte cap).")
    stdout_truncated: bool = False
    wall_s: float = 0.0
    reason: str = Field("", description="Why the status is not ok, in one line.")
    isolation: Isolation | None = None


class CaseResult(BaseModel):
    """Result of one test case / one call in a batched run."""

    index: int
    status: ExecStatus
    is_case: bool = Field(True, description="False for setup statements of a test body.")
    reason: str = ""
    value: str | None = Field(None, description="repr of the return value (calls mode).")
    exception: str | None = Field(None, description="Exception type name when the call raised.")


class BatchResult(BaseModel):
    """Result of a batch of test cases or calls run for one program."""

    cases: list[CaseResult]
    processes: int = Field(description="Sandboxed processes started (1 unless a case hung or crashed).")
    wall_s: float
    stdout: str = ""
    stderr: str = ""
    isolation: Isolation | None = None

    @property
    def passed_all(self) -> bool:
        return bool(self.cases) and all(c.status == ExecStatus.OK for c in self.cases)

    @property
    def n_passed(self) -> int:
        return sum(c.status == ExecStatus.OK for c in self.cases if c.is_case)

    @property
    def n_cases(self) -> int:
        return sum(c.is_case for c in self.cases)


class _Raw(BaseModel):
    returncode: int | None
    stdout: bytes
    stderr: bytes
    results: list[dict[str, Any]]
    wall_s: float
    wall_timeout: bool
    stalled: bool
    overflow: str | None
    isolation: Isolation | None


def _alloc_uid() -> int:
    with _uid_lock:
        n = next(_uid_counter)
    return _UID_BASE + (os.getpid() % 4096) * 4096 + n % 4096


def _kill_uid(uid: int) -> None:
    """SIGKILL every process owned by ``uid`` (repeat until none are left: a fork bomb races us)."""
    for _ in range(50):
        found = False
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                if entry.stat().st_uid != uid:
                    continue
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    state = f.read().rpartition(b")")[2].split()[0]
                if state in (b"Z", b"X"):
                    continue  # already dead, waiting to be reaped
                os.kill(int(entry.name), signal.SIGKILL)
                found = True
            except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
                continue
        if not found:
            return
        time.sleep(0.005)


def _scrubbed_env(workdir: str) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": workdir, "TMPDIR": workdir}


def _launch(
    config: SandboxConfig,
    mode: str,
    *,
    stdin: bytes = b"",
    files: dict[str, str] | None = None,
    payload: dict[str, Any] | None = None,
    wall_s: float,
    cpu_s: int,
    stall_s: float | None = None,
) -> _Raw:
    if not Path(config.python).exists():
        raise SandboxError(
            f"interpreter {config.python!r} does not exist", hint="set SandboxConfig.python to a Python 3.11+"
        )
    is_root = os.geteuid() == 0
    uid = _alloc_uid() if is_root and config.drop_privileges else None
    workdir = tempfile.mkdtemp(prefix="auditlens-sbx-", dir=config.temp_root)
    proc: subprocess.Popen[bytes] | None = None
    read_fd = write_fd = -1
    try:
        for name, text in (files or {}).items():
            Path(workdir, name).write_text(text, encoding="utf-8")
        if payload is not None:
            Path(workdir, "payload.json").write_text(json.dumps(payload), encoding="utf-8")
        if uid is not None:
            for p in [workdir, *(str(x) for x in Path(workdir).iterdir())]:
                os.chown(p, uid, uid)
        os.chmod(workdir, 0o700)
        if mode != "script":
            read_fd, write_fd = os.pipe()
        lim = config.limits
        cfg = {
            "mode": mode,
            "workdir": workdir,
            "uid": uid,
            "payload": "payload.json",
            "results_fd": write_fd,
            "network_namespace": config.network_namespace,
            "mount_namespace": config.mount_namespace,
            "socket_audit_hook": config.socket_audit_hook,
            "hide": config.hidden_paths,
            "expose_ro": config.exposed_paths,
            "limits": {
                "cpu_s": int(cpu_s),
                "memory_bytes": lim.memory_mb * 1024 * 1024,
                "file_bytes": lim.file_mb * 1024 * 1024,
                "nproc": lim.nproc,
            },
        }
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [config.python, "-I", "-S", str(_BOOT), json.dumps(cfg)],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=workdir,
            env=_scrubbed_env(workdir),
            start_new_session=True,
            pass_fds=(write_fd,) if write_fd >= 0 else (),
        )
        if write_fd >= 0:
            os.close(write_fd)
            write_fd = -1
        if stdin:
            threading.Thread(target=_feed, args=(proc, stdin), daemon=True).start()
        raw = _pump(proc, read_fd, t0, wall_s, stall_s, lim.output_bytes, uid)
        return raw
    finally:
        if proc is not None:
            _terminate(proc, uid)
        for fd in (read_fd, write_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        shutil.rmtree(workdir, ignore_errors=True)


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    with contextlib.suppress(OSError):
        proc.stdin.write(data)
    with contextlib.suppress(OSError):
        proc.stdin.close()


def _terminate(proc: subprocess.Popen[bytes], uid: int | None) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if uid is not None:
        _kill_uid(uid)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _pump(
    proc: subprocess.Popen[bytes],
    results_fd: int,
    t0: float,
    wall_s: float,
    stall_s: float | None,
    cap: int,
    uid: int | None,
) -> _Raw:
    assert proc.stdout is not None and proc.stderr is not None
    sel = selectors.DefaultSelector()
    bufs: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray(), "results": bytearray()}
    sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
    if results_fd >= 0:
        sel.register(results_fd, selectors.EVENT_READ, "results")
    results: list[dict[str, Any]] = []
    overflow: str | None = None
    wall_timeout = stalled = False
    last_progress = t0
    exited_at: float | None = None
    while sel.get_map():
        now = time.monotonic()
        if now - t0 > wall_s:
            wall_timeout = True
            break
        if stall_s is not None and now - last_progress > stall_s:
            stalled = True
            break
        if exited_at is None and proc.poll() is not None:
            exited_at = now
            # Descendants may still hold the pipes open: kill them, then drain what is buffered.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            if uid is not None:
                _kill_uid(uid)
        if exited_at is not None and now - exited_at > 1.0:
            break
        for key, _ in sel.select(timeout=0.05):
            fd = key.fd if key.data == "results" else key.fileobj.fileno()  # type: ignore[union-attr]
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            buf = bufs[key.data]
            buf.extend(chunk)
            if key.data == "results":
                while b"\n" in buf:
                    line, _, rest = bytes(buf).partition(b"\n")
                    buf[:] = rest
                    with contextlib.suppress(ValueError):
                        results.append(json.loads(line))
                        last_progress = time.monotonic()
            elif len(buf) > cap + len(_MARKER) + 512:
                overflow = key.data
        if overflow:
            break
    sel.close()
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    if uid is not None:
        _kill_uid(uid)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    stderr = bytes(bufs["stderr"])
    isolation = None
    if stderr.startswith(_MARKER):
        line, _, stderr = stderr.partition(b"\n")
        with contextlib.suppress(ValueError):
            isolation = Isolation.model_validate_json(line[len(_MARKER) :])
    return _Raw(
        returncode=proc.returncode,
        stdout=bytes(bufs["stdout"][:cap]),
        stderr=stderr[:cap],
        results=results,
        wall_s=time.monotonic() - t0,
        wall_timeout=wall_timeout,
        stalled=stalled,
        overflow=overflow,
        isolation=isolation,
    )


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def _classify(raw: _Raw) -> tuple[ExecStatus, str]:
    """Map a finished process to a status and a one-line reason."""
    stderr = raw.stderr.decode("utf-8", "replace")
    rc = raw.returncode
    if raw.overflow:
        return ExecStatus.OUTPUT_LIMIT, f"{raw.overflow} exceeded the output cap; killed"
    if raw.wall_timeout:
        return ExecStatus.TIMEOUT, f"wall-clock limit hit after {raw.wall_s:.1f} s; killed"
    if raw.stalled:
        return ExecStatus.TIMEOUT, "a test case made no progress within its time limit; killed"
    if rc in (-signal.SIGXCPU, -signal.SIGKILL):
        return ExecStatus.TIMEOUT, "CPU time limit hit"
    if rc == -signal.SIGXFSZ or "File too large" in _last_line(stderr):
        return ExecStatus.FILE_LIMIT, "file-size limit hit (SIGXFSZ)"
    if "MemoryError" in _last_line(stderr) or (rc == -signal.SIGSEGV and "MemoryError" in stderr):
        return ExecStatus.MEMORY, "memory limit hit (MemoryError)"
    if raw.isolation is None and rc != 0:
        return ExecStatus.SANDBOX_ERROR, "sandbox failed before the program ran: " + _last_line(stderr)
    if rc == 0:
        return ExecStatus.OK, ""
    if rc is not None and rc < 0:
        return ExecStatus.CRASH, f"killed by signal {signal.Signals(-rc).name}"
    return ExecStatus.CRASH, _last_line(stderr) or f"exit status {rc}"


def _syntax_error(source: str, filename: str) -> str | None:
    try:
        compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        return f"{type(e).__name__}: {e}"
    return None


def run_script(source: str, stdin: str = "", config: SandboxConfig | None = None) -> ExecResult:
    """Run ``source`` as ``__main__`` with ``stdin`` and capture stdout/stderr.

    Never raises for anything the program does: hangs, crashes, floods and limits become statuses.
    """
    config = config or SandboxConfig()
    err = _syntax_error(source, "main.py")
    if err:
        return ExecResult(status=ExecStatus.SYNTAX_ERROR, reason=err)
    lim = config.limits
    raw = _launch(
        config,
        "script",
        stdin=stdin.encode("utf-8"),
        files={"main.py": source},
        wall_s=lim.wall_s,
        cpu_s=lim.cpu_s,
    )
    status, reason = _classify(raw)
    return ExecResult(
        status=status,
        returncode=raw.returncode,
        stdout=raw.stdout.decode("utf-8", "replace"),
        stderr=raw.stderr.decode("utf-8", "replace"),
        stdout_truncated=raw.overflow == "stdout",
        wall_s=raw.wall_s,
        reason=reason,
        isolation=raw.isolation,
    )


_STEP_STATUS = {
    "pass": ExecStatus.OK,
    "fail": ExecStatus.WRONG,
    "timeout": ExecStatus.TIMEOUT,
    "memory": ExecStatus.MEMORY,
    "error": ExecStatus.CRASH,
    "load_error": ExecStatus.CRASH,
}


def _run_batched(
    mode: str,
    base_payload: dict[str, Any],
    n: int,
    is_case: Sequence[bool],
    config: SandboxConfig,
) -> BatchResult:
    lim = config.limits
    t = lim.step_timeout_s
    out: dict[int, CaseResult] = {}
    start = 0
    processes = 0
    stdout = stderr = ""
    isolation: Isolation | None = None
    t0 = time.monotonic()
    while start < n:
        payload = dict(base_payload, start=start, step_timeout_s=t)
        remaining = n - start
        raw = _launch(
            config,
            mode,
            payload=payload,
            wall_s=lim.wall_s + 4 * t + remaining * (t + 0.5),
            cpu_s=int(lim.cpu_s + 4 * t + remaining * t) + 1,
            stall_s=4 * t + 2.0,
        )
        processes += 1
        stdout += raw.stdout.decode("utf-8", "replace")
        stderr += raw.stderr.decode("utf-8", "replace")
        isolation = isolation or raw.isolation
        for r in raw.results:
            i = int(r.get("i", -2))
            status = _STEP_STATUS.get(str(r.get("status")), ExecStatus.CRASH)
            if i == -1:  # the program (or the test module) did not load: every remaining case fails
                if str(r.get("status")) == "timeout":
                    status = ExecStatus.TIMEOUT
                for j in range(start, n):
                    out.setdefault(
                        j, CaseResult(index=j, status=status, is_case=is_case[j], reason=str(r.get("reason")))
                    )
                start = n
                break
            if 0 <= i < n and i not in out:
                out[i] = CaseResult(
                    index=i,
                    status=status,
                    is_case=is_case[i],
                    reason=str(r.get("reason", "")),
                    value=r.get("value"),
                    exception=r.get("exception"),
                )
        missing = [j for j in range(start, n) if j not in out and (is_case[j] or mode == "calls")]
        if not missing:
            break
        first = missing[0]
        status, reason = _classify(raw)
        if status == ExecStatus.OK:
            status, reason = ExecStatus.CRASH, "the harness exited before reporting this case"
        if status == ExecStatus.SANDBOX_ERROR:
            for j in missing:
                out[j] = CaseResult(index=j, status=status, is_case=is_case[j], reason=reason)
            break
        out[first] = CaseResult(index=first, status=status, is_case=is_case[first], reason=reason)
        start = first + 1
    cases = [out[i] for i in sorted(out)]
    return BatchResult(
        cases=cases,
        processes=processes,
        wall_s=time.monotonic() - t0,
        stdout=stdout[: lim.output_bytes],
        stderr=stderr[: lim.output_bytes],
        isolation=isolation,
    )


def split_check_body(test_module: str, check_name: str = "check") -> list[tuple[str, bool]]:
    """Split the body of ``def check(candidate)`` into steps ``(source, is_case)``.

    Top-level ``assert`` statements and loops/ifs/withs containing an assert are test cases; other
    statements (imports, assignments, helper calls) are setup steps re-run before every case.
    """
    tree = ast.parse(test_module)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == check_name:
            steps: list[tuple[str, bool]] = []
            for stmt in node.body:
                has_assert = any(isinstance(x, ast.Assert) for x in ast.walk(stmt))
                steps.append((ast.unparse(stmt), has_assert))
            return steps
    raise SandboxError(
        f"the test code defines no function {check_name}()",
        hint="HumanEval-style tests must define `def check(candidate): ...` with assert statements",
    )


def run_function_tests(
    program: str,
    test_module: str,
    entry_point: str,
    config: SandboxConfig | None = None,
    steps: Sequence[tuple[str, bool]] | None = None,
) -> BatchResult:
    """Run every assert of a HumanEval-style ``check(candidate)`` against ``program`` in one process.

    Each step of the check body runs under its own timer; a case that hangs past the timer (or kills
    the harness) is recorded and the harness restarts at the next case. ``cases`` holds one entry per
    step (``is_case`` False for setup statements).
    """
    config = config or SandboxConfig()
    err = _syntax_error(program, "solution.py")
    steps = list(steps) if steps is not None else split_check_body(test_module)
    if err:
        return BatchResult(
            cases=[
                CaseResult(index=i, status=ExecStatus.SYNTAX_ERROR, is_case=c, reason=err)
                for i, (_, c) in enumerate(steps)
            ],
            processes=0,
            wall_s=0.0,
        )
    # The test module minus its check body is loaded once; each step then runs in that namespace.
    payload = {
        "program": program,
        "test_module": test_module,
        "entry_point": entry_point,
        "steps": [[s, c] for s, c in steps],
    }
    return _run_batched("function", payload, len(steps), [c for _, c in steps], config)


def run_calls(
    program: str,
    entry_point: str,
    calls: Sequence[str],
    config: SandboxConfig | None = None,
) -> BatchResult:
    """Call ``entry_point(*args)`` for each literal argument tuple in ``calls`` (Python source such as
    ``"([1, 2], 3)"``), in one process; each case's ``value`` is the repr of the return value and
    ``exception`` the exception type if it raised."""
    config = config or SandboxConfig()
    err = _syntax_error(program, "solution.py")
    if err:
        return BatchResult(
            cases=[
                CaseResult(index=i, status=ExecStatus.SYNTAX_ERROR, reason=err) for i in range(len(calls))
            ],
            processes=0,
            wall_s=0.0,
        )
    payload = {"program": program, "entry_point": entry_point, "calls": list(calls)}
    return _run_batched("calls", payload, len(calls), [True] * len(calls), config)


T = TypeVar("T")
R = TypeVar("R")


def run_many(fn: Callable[[T], R], items: Sequence[T], workers: int = 2) -> list[R]:
    """Apply ``fn`` (e.g. a closure over :func:`run_script`) to ``items`` with a small thread pool,
    keeping the input order. Sandboxed runs are separate processes, so threads suffice."""
    if workers <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))
