"""Process isolation: one untrusted program in one confined child process.

:func:`launch` starts ``python -I -S _boot.py`` in a fresh temporary folder with a scrubbed environment, its own
process group and (as root) a dedicated uid; its configuration (and, in the harness modes, the payload) goes
down its stdin, never on its command line. The child confines itself (``_boot.py``) and reports which layers
took effect; in the harness modes only result lines carrying the batch key's MAC are kept. The parent pumps stdout, stderr and the results pipe under the wall-clock, stall and output limits,
then kills everything the run left (the process group, and every process of the uid). :func:`classify` maps a
finished process to an :class:`~auditlens.monitor.sandbox.ExecStatus`. :func:`run_script` runs a program as
``__main__``; :func:`run_many` runs several sandboxed jobs in a small thread pool.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import marshal
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from auditlens.monitor.sandbox.config import ExecStatus, Isolation, SandboxConfig, SandboxError

__all__ = ["ExecResult", "RawRun", "classify", "launch", "run_many", "run_script", "syntax_error"]

_BOOT = Path(__file__).with_name("_boot.py")
_MARKER = b"\x00AUDITLENS-ISOLATION "
_UID_BASE = 1_000_000
_uid_counter = itertools.count()
_uid_lock = threading.Lock()


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


class RawRun(BaseModel):
    """What one sandboxed process left: its exit, output, result lines and why it stopped."""

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


def _frame(obj: Any) -> bytes:
    data = marshal.dumps(obj, 4)
    return len(data).to_bytes(4, "big") + data


def launch(
    config: SandboxConfig,
    mode: str,
    *,
    stdin: bytes = b"",
    files: dict[str, str] | None = None,
    payload: dict[str, Any] | None = None,
    wall_s: float,
    cpu_s: int,
    stall_s: float | None = None,
) -> RawRun:
    """Run ``_boot.py`` in ``mode`` in a fresh run folder (holding ``files``) and collect what it left.

    The child's configuration, then ``payload`` (harness modes), then ``stdin`` go down its stdin as marshalled
    frames (nothing on its command line or in its environment); in the harness modes every result line must
    carry the MAC of a key sent only in the payload, or it is dropped."""
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
        if uid is not None:
            for p in [workdir, *(str(x) for x in Path(workdir).iterdir())]:
                os.chown(p, uid, uid)
        os.chmod(workdir, 0o700)
        key: bytes | None = None
        if mode != "script":
            read_fd, write_fd = os.pipe()
            key = os.urandom(16)
        lim = config.limits
        cfg = {
            "mode": mode,
            "workdir": workdir,
            "uid": uid,
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
        feed = _frame(cfg)
        if payload is not None:
            feed += _frame({**payload, "key": key or b""})
        feed += stdin
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [config.python, "-I", "-S", str(_BOOT)],
            stdin=subprocess.PIPE,
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
        threading.Thread(target=_feed, args=(proc, feed), daemon=True).start()
        raw = _pump(proc, read_fd, key, t0, wall_s, stall_s, lim.output_bytes, uid)
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


def _kill_all(proc: subprocess.Popen[bytes], uid: int | None, *, group: bool = True) -> None:
    """SIGKILL the child's process group (when ``group``) and every process of ``uid``, then reap the child."""
    if group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    if uid is not None:
        _kill_uid(uid)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _terminate(proc: subprocess.Popen[bytes], uid: int | None) -> None:
    _kill_all(proc, uid)
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _result_line(line: bytes, key: bytes | None) -> dict[str, Any] | None:
    """A result line's JSON object if its MAC is right, else None."""
    body, _, tag = line.rpartition(b"\t")
    if key is None or not hmac.compare_digest(tag, hashlib.blake2s(body, key=key).hexdigest().encode()):
        return None
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _pump(
    proc: subprocess.Popen[bytes],
    results_fd: int,
    mac_key: bytes | None,
    t0: float,
    wall_s: float,
    stall_s: float | None,
    cap: int,
    uid: int | None,
) -> RawRun:
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
                    obj = _result_line(line, mac_key)
                    if obj is not None:
                        results.append(obj)
                        last_progress = time.monotonic()
            elif len(buf) > cap + len(_MARKER) + 512:
                overflow = key.data
        if overflow:
            break
    sel.close()
    _kill_all(proc, uid, group=proc.poll() is None)
    stderr = bytes(bufs["stderr"])
    isolation = None
    if stderr.startswith(_MARKER):
        line, _, stderr = stderr.partition(b"\n")
        with contextlib.suppress(ValueError):
            isolation = Isolation.model_validate_json(line[len(_MARKER) :])
    return RawRun(
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


def classify(raw: RawRun) -> tuple[ExecStatus, str]:
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


def syntax_error(source: str, filename: str) -> str | None:
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
    err = syntax_error(source, "main.py")
    if err:
        return ExecResult(status=ExecStatus.SYNTAX_ERROR, reason=err)
    lim = config.limits
    raw = launch(
        config,
        "script",
        stdin=stdin.encode("utf-8"),
        files={"main.py": source},
        wall_s=lim.wall_s,
        cpu_s=lim.cpu_s,
    )
    status, reason = classify(raw)
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


T = TypeVar("T")
R = TypeVar("R")


def run_many(fn: Callable[[T], R], items: Sequence[T], workers: int = 2) -> list[R]:
    """Apply ``fn`` (e.g. a closure over :func:`run_script`) to ``items`` with a small thread pool,
    keeping the input order. Sandboxed runs are separate processes, so threads suffice."""
    if workers <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))
