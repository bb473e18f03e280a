"""The evaluator's side of its two channels (standard library only; see ``_evaluate.py``).

- :class:`Worker`: one worker process (``_worker.py``) and the evaluator's ends of its request and reply pipes.
  The first worker of a run is forked from the boot process right after confinement, *before* the payload (test
  code, expected values, the result key) is read, and runs the worker loop in that image; every later one is a
  fresh interpreter (``python -I -S -c <_worker.py>``) exec'd from the evaluator, so no worker ever has the
  payload in its address space. Either way its descriptors are exactly 0 (/dev/null), 1, 2 (the run's stdout
  and stderr), 3 (requests) and 4 (replies).
- :func:`decode`: a reply value (data-only JSON, format in ``_worker.py``) as plain Python data, or ValueError.
- :func:`program_exception`: the trusted exception standing for one the program raised.
- :class:`Results`: the result channel to the parent, every line followed by its keyed BLAKE2s MAC.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import marshal
import os
import signal
import sys
import time

try:
    from _blake2 import blake2s
except ImportError:  # pragma: no cover - CPython builds _blake2 in
    from hashlib import blake2s

if __package__:  # imported as part of auditlens (the tests)
    from auditlens.monitor.sandbox import _worker
else:  # imported by _boot.py from the package folder
    import _worker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker.py"), encoding="utf-8") as _f:
    WORKER_SOURCE = _f.read()  # read at import, before confinement hides the package folder
_MAX_DEPTH = 200


class StepTimeout(BaseException):
    """The step (or the load) ran past its time."""


class WorkerFailed(BaseException):
    """The worker died, wrote something that is not a reply, or replied more than the cap allows (``drop``: the
    worker is dead or no longer trusted to stay in step, and is replaced). A BaseException, like the timeout, so
    that no ``except Exception`` of the test code can turn a broken protocol into a pass."""

    def __init__(self, status: str, reason: str, *, drop: bool = True) -> None:
        super().__init__(reason)
        self.status, self.drop = status, drop


class Unrepresentable(BaseException):
    """The program returned something that is not plain data (``args[0]``: its repr, as the program made it)."""


class ProgramError(Exception):
    """An exception raised by the program with no built-in equivalent here."""


class ProgramBaseException(BaseException):
    """A BaseException the program raised that is no Exception (SystemExit, KeyboardInterrupt, its own)."""


def on_alarm(signum: int, frame: object) -> None:
    raise StepTimeout()


def exception_name(exc: BaseException) -> str:
    return str(getattr(exc, "program_name", type(exc).__name__))


def describe(exc: BaseException) -> str:
    return f"{exception_name(exc)}: {getattr(exc, 'program_message', exc)}"[:500]


def decode(v: Any, depth: int = 0) -> Any:
    """A reply VALUE (parsed JSON, see ``_worker.py``) as a plain Python value; ValueError if malformed."""
    t = type(v)
    if v is None or t is bool or t is int or t is float or t is str:
        return v
    if t is not list or not v or type(v[0]) is not str or depth > _MAX_DEPTH:
        raise ValueError("not a value")
    tag, rest = v[0], v[1:]
    if tag in ("l", "t", "s", "f", "d"):
        items = [decode(x, depth + 1) for x in rest]
        try:
            if tag == "d":
                if len(items) % 2:
                    raise ValueError("odd dict")
                return dict(zip(items[::2], items[1::2], strict=True))
            return {"l": list, "t": tuple, "s": set, "f": frozenset}[tag](items)
        except TypeError as e:  # an unhashable key or member
            raise ValueError(str(e)) from None
    if tag in ("u", "b", "i") and len(rest) == 1 and type(rest[0]) is str:
        text = rest[0]
        if tag == "i":
            body = text[1:] if text.startswith("-") else text
            if not body.startswith("0x") or not body[2:].isalnum() or not body[2:].isascii():
                raise ValueError("bad integer")
            return int(text, 16)
        raw = bytes.fromhex(text)
        return raw.decode("utf-8", "surrogatepass") if tag == "u" else raw
    if tag == "c" and len(rest) == 2 and all(type(x) in (int, float) for x in rest):
        return complex(rest[0], rest[1])
    raise ValueError("unknown tag")


def program_exception(name: str, message: str, is_exception: bool) -> BaseException:
    """The trusted exception standing for one the program raised: the built-in Exception of that name when there
    is one (so ``except ValueError`` in test code works as in HumanEval's harness), else :class:`ProgramError`,
    or :class:`ProgramBaseException` when the program's was no Exception."""
    exc: BaseException | None = None
    cls = getattr(builtins, name, None) if name.isidentifier() else None
    if is_exception and isinstance(cls, type) and issubclass(cls, Exception):
        try:
            exc = cls(message)
        except Exception:
            exc = None
    if exc is None:
        exc = ProgramError(message) if is_exception else ProgramBaseException(message)
    exc.program_name = name  # type: ignore[attr-defined]
    exc.program_message = message  # type: ignore[attr-defined]
    return exc


class Results:
    """The result channel to the parent: one JSON line per event, each followed by its MAC."""

    def __init__(self, fd: int, key: bytes) -> None:
        self.fd, self.key = fd, key

    def emit(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj).encode()
        data = line + b"\t" + blake2s(line, key=self.key).hexdigest().encode() + b"\n"
        while data:
            data = data[os.write(self.fd, data) :]


def exit_reason(status: int) -> tuple[str, str]:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            return "timeout", "CPU time limit hit"
        if sig == signal.SIGXFSZ:
            return "file_limit", "file-size limit hit (SIGXFSZ)"
        return "error", f"the program's process was killed by signal {signal.Signals(sig).name}"
    return "error", f"the program's process exited (status {os.waitstatus_to_exitcode(status)})"


class Worker:
    """One worker process and the evaluator's ends of its pipes."""

    def __init__(self, *, fresh: bool = True) -> None:
        """Start a worker: ``fresh`` execs a new interpreter; else the child runs the worker loop in this
        process's image (only before the payload has been read: see the module docstring)."""
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        self.cap = 1 << 22
        self.buf = bytearray()
        self.busy = False
        self.status: int | None = None
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            try:
                hi_req, hi_rep = os.dup(req_r), os.dup(rep_w)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(hi_req, 3)
                os.dup2(hi_rep, 4)
                os.closerange(5, 1 << 16)
                if fresh:
                    os.execv(sys.executable, [sys.executable, "-I", "-S", "-c", WORKER_SOURCE])
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                _worker.main()
            finally:
                os._exit(127)
        self.pid = pid
        os.close(req_r)
        os.close(rep_w)

    def send(self, msg: tuple[Any, ...]) -> None:
        data = marshal.dumps(msg, 4)
        data = len(data).to_bytes(4, "big") + data
        self.busy = True
        try:
            while data:
                data = data[os.write(self.req_w, data) :]
        except OSError as e:  # EPIPE: the worker is gone
            raise self._gone() from e

    def receive(self, seq: int) -> list[Any]:
        """The next reply for request ``seq`` (replies to other requests are dropped)."""
        while True:
            while b"\n" not in self.buf:
                if len(self.buf) > self.cap + 4096:
                    self.kill()
                    raise WorkerFailed("output_limit", f"the program's reply exceeded {self.cap} bytes")
                chunk = os.read(self.rep_r, 1 << 16)
                if not chunk:
                    raise self._gone()
                self.buf.extend(chunk)
            end = self.buf.index(b"\n")
            line = bytes(self.buf[:end])
            del self.buf[: end + 1]
            try:
                reply = json.loads(line)
            except (ValueError, RecursionError):
                reply = None
            if (
                type(reply) is not list
                or len(reply) < 2
                or type(reply[0]) is not str
                or type(reply[1]) is not int
            ):
                self.kill()
                raise WorkerFailed("error", "the program's process wrote something that is not a reply")
            if reply[1] == seq:
                self.busy = False
                return reply

    def _gone(self) -> WorkerFailed:
        """The failure for a worker whose pipe closed: how it ended, if it did (it may only have closed its end)."""
        for _ in range(20):
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                break
            time.sleep(0.005)
        if self.status is None:
            self.kill()
            return WorkerFailed("error", "the program's process closed its pipes")
        self.kill()
        return WorkerFailed(*exit_reason(self.status))

    def close(self, wait_s: float) -> None:
        """Ask the worker to flush its output and exit; kill it if it has not within ``wait_s`` (so that no
        process of the run outlives the evaluator holding the run's stdout and stderr)."""
        with contextlib.suppress(WorkerFailed, OSError):
            self.send(("exit",))
            os.close(self.req_w)
            self.req_w = -1
            try:
                signal.setitimer(signal.ITIMER_REAL, wait_s)
                self.status = os.waitpid(self.pid, 0)[1]
            except StepTimeout:
                pass
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        self.kill()

    def kill(self) -> None:
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.status = os.waitpid(self.pid, 0)[1]
        for fd in (self.req_w, self.rep_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.req_w = self.rep_r = -1
