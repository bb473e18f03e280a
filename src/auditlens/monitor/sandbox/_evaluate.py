"""The trusted side of the function-call harness, inside the sandbox (imported by ``_boot.py``, standard library
only).

The confined boot process becomes the *evaluator*: it holds the test code, runs the statements of the check body
(or the literal calls) one by one under a per-step timer, and decides pass or fail itself. The program runs in a
separate *worker* process (``_worker.py``), a fresh interpreter exec'd with only a request and a reply pipe
(plus /dev/null and the run's stdout/stderr). ``candidate`` and every other name the test code needs from the
program are bound to :class:`_Remote` proxies: a call sends the (marshalled) arguments to the worker and returns
the value it replies, parsed from data-only JSON (:func:`_decode`) into plain ``list``/``dict``/``int``/...
objects, so ``assert candidate(x) == y`` compares two trusted values. Nothing the worker writes can reach the
result channel (``results_fd``, never open in the worker), whose lines are moreover tagged with a keyed BLAKE2s
MAC the parent checks (a second layer for unprivileged runs, where the worker shares the parent's uid).

This process is non-dumpable (``_boot.py``), so the worker, although it runs as the same uid, can neither ptrace
it nor open its ``/proc/<pid>/fd``, ``mem`` or ``environ``; its command line is ``python -I -S _boot.py`` and
its configuration and payload arrived on stdin, read before the worker was started.

Timers: each step has ``step_timeout_s`` (t); each call tells the worker the time left in the step, and the
worker's own alarm turns an overrun into a ``timeout`` reply (the worker survives: a Python-level hang costs no
process). The evaluator's alarm fires at t + grace: a worker that has not answered by then (a C-level loop, a
program that swallowed the alarm) is killed, and a fresh one is started at the next step, so one such case costs
one extra process. A worker that dies (``os._exit``, a signal) fails the call it was in, likewise.
"""

from __future__ import annotations

import signal
import time

from _channel import (
    Results,
    StepTimeout,
    Unrepresentable,
    Worker,
    WorkerFailed,
    decode,
    describe,
    exception_name,
    on_alarm,
    program_exception,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _Remote:
    """Stands for a function of the program: calls go to the worker, values come back as plain data."""

    __slots__ = ("_ev", "_name")

    def __init__(self, ev: Evaluator, name: str | None) -> None:
        self._ev, self._name = ev, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._ev.call(self._name, args, kwargs)

    def __repr__(self) -> str:
        return f"<the program's {self._name or 'entry point'}>"


class Evaluator:
    """Runs one payload (``function`` or ``calls`` mode) and reports every case on the result channel."""

    def __init__(self, cfg: dict[str, Any], payload: dict[str, Any], first: Worker | None) -> None:
        self.payload = payload
        self.first = first
        self.out = Results(cfg["results_fd"], payload["key"])
        self.t: float = payload["step_timeout_s"]
        self.grace = max(0.2, self.t / 2)
        self.hook: bool = cfg["socket_audit_hook"]
        self.worker: Worker | None = None
        self.deadline = 0.0
        self.seq = 0
        self.ns: dict[str, Any] = {"__name__": "__tests__"}
        signal.signal(signal.SIGALRM, on_alarm)

    # -- the worker --------------------------------------------------------------------------------------------

    def _spawn(self) -> None:
        p = self.payload
        self.worker, self.first = self.first or Worker(fresh=True), None
        self.worker.cap = p["reply_bytes"]
        self.out.emit({"spawn": 1})
        self.worker.send(("load", p["program"], p["entry_point"], 4 * self.t, self.hook, p["reply_bytes"]))

    def _loaded(self) -> bool:
        """Wait for the worker's load reply (the alarm is running); on failure report case -1 and return False."""
        assert self.worker is not None
        try:
            reply = self.worker.receive(0)
        except StepTimeout:
            self._drop_worker()
            return self._load_failed("timeout", f"loading the program exceeded {4 * self.t} s")
        except WorkerFailed as e:
            self._drop_worker()
            return self._load_failed("load_error", f"while loading the program: {e}")
        if reply[0] == "loaded":
            return True
        self._drop_worker()
        if reply[0] == "timeout":
            return self._load_failed("timeout", f"loading the program exceeded {4 * self.t} s")
        if reply[0] == "raise" and len(reply) == 5:
            try:
                name, msg = decode(reply[2]), decode(reply[3])
            except ValueError:
                name, msg = "?", "?"
            return self._load_failed("load_error", f"{name}: {msg}"[:500])
        return self._load_failed("load_error", "the program's process wrote something that is not a reply")

    def _load_failed(self, status: str, reason: str) -> bool:
        self.out.emit({"i": -1, "status": status, "reason": reason})
        return False

    def _drop_worker(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    def _ensure_worker(self) -> bool:
        if self.worker is not None:
            return True
        try:
            signal.setitimer(signal.ITIMER_REAL, 4 * self.t + self.grace)
            self._spawn()
            ok = self._loaded()
        except StepTimeout:
            self._drop_worker()
            ok = self._load_failed("timeout", f"loading the program exceeded {4 * self.t} s")
        except WorkerFailed as e:
            self._drop_worker()
            ok = self._load_failed("load_error", f"while loading the program: {e}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        return ok

    def call(self, name: str | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """One call of the program's ``name`` (None: the entry point), within the current step's time."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise StepTimeout()
        if self.worker is None:
            raise WorkerFailed(
                "error", "the program's process is gone (an earlier call in this step killed it)"
            )
        self.seq += 1
        seq = self.seq
        try:
            self.worker.send(("call", seq, name, args, kwargs, left))
        except ValueError:  # marshal refused it; nothing was sent
            raise TypeError("an argument is not plain data; it cannot be sent to the program") from None
        reply = self.worker.receive(seq)
        kind, n = reply[0], len(reply)
        if kind == "timeout" and n == 2:
            raise StepTimeout()
        if kind == "big" and n == 3:
            raise WorkerFailed(
                "output_limit", f"the return value exceeded {self.worker.cap} bytes", drop=False
            )
        try:
            fields = [decode(x) for x in reply[2:]]
        except ValueError:
            fields = None
        if fields is not None:
            if kind == "ok" and n == 3:
                return fields[0]
            if kind == "opaque" and n == 3 and type(fields[0]) is str:
                raise Unrepresentable(fields[0])
            if kind == "raise" and n == 5 and type(fields[0]) is type(fields[1]) is str:
                raise program_exception(fields[0], fields[1], fields[2] is True)
        self._drop_worker()
        raise WorkerFailed("error", "the program's process wrote something that is not a reply")

    # -- the modes ---------------------------------------------------------------------------------------------

    def run(self) -> None:
        if self.payload["mode"] == "function":
            self._run_function()
        else:
            self._run_calls()
        if self.worker is not None:
            self.worker.close(self.grace)
            self.worker = None

    def _start(self, trusted: dict[str, Any] | None) -> bool:
        """Start the worker and load the program, loading the test module meanwhile (function mode)."""
        p = self.payload
        try:
            signal.setitimer(signal.ITIMER_REAL, 4 * self.t + self.grace)
            self._spawn()
            if trusted is not None:
                try:
                    # Precedence: ``candidate``, the test module, the entry point (always the program's), the
                    # trusted prelude, and last the program's globals for the names the test code needs.
                    if p["prelude"]:
                        exec(compile(p["prelude"], "prelude.py", "exec"), trusted)
                    for name in p["remote_names"]:
                        trusted.setdefault(name, _Remote(self, name))
                    trusted[p["entry_point"]] = _Remote(self, p["entry_point"])
                    exec(compile(p["test_module"], "tests.py", "exec"), trusted)
                    trusted["candidate"] = _Remote(self, None)
                except StepTimeout:
                    raise
                except BaseException as e:
                    self._drop_worker()
                    return self._load_failed("load_error", "in the test module: " + describe(e))
            return self._loaded()
        except StepTimeout:
            self._drop_worker()
            return self._load_failed("timeout", f"loading the program exceeded {4 * self.t} s")
        except WorkerFailed as e:
            self._drop_worker()
            return self._load_failed("load_error", f"while loading the program: {e}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _step(self, i: int, body: Any, *, calls: bool = False) -> dict[str, Any]:
        """Run one step (a code object, or an argument tuple in calls mode) under the step timer."""
        try:
            self.deadline = time.monotonic() + self.t
            signal.setitimer(signal.ITIMER_REAL, self.t + self.grace)
            try:
                if calls:
                    value = self.call(None, body, {})
                else:
                    exec(body, self.ns)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if calls:
                return {"i": i, "status": "pass", "value": repr(value)[:100_000]}
            return {"i": i, "status": "pass"}
        except StepTimeout:
            if self.worker is not None and self.worker.busy:
                self._drop_worker()
            return {"i": i, "status": "timeout", "reason": f"step exceeded {self.t} s"}
        except WorkerFailed as e:
            if e.drop:
                self._drop_worker()
            return {"i": i, "status": e.status, "reason": str(e)}
        except Unrepresentable as e:
            if calls:  # the caller asked for the value: its repr, as the program made it
                return {"i": i, "status": "pass", "value": str(e.args[0])[:100_000]}
            reason = f"TypeError: the program returned a value that is not plain data: {e.args[0]}"
            return {"i": i, "status": "error", "reason": reason[:500]}
        except AssertionError as e:
            return {"i": i, "status": "fail", "reason": describe(e)}
        except BaseException as e:
            r = {
                "i": i,
                "status": "memory" if isinstance(e, MemoryError) else "error",
                "reason": describe(e),
            }
            if calls:
                r["exception"] = exception_name(e)
            return r

    def _run_function(self) -> None:
        p = self.payload
        if not self._start(self.ns):
            return
        for i, (src, is_case) in enumerate(p["steps"]):
            if i < p["start"] and is_case:
                continue
            if not self._ensure_worker():
                return
            try:
                code = compile(src, f"step{i}", "exec")
            except SyntaxError as e:
                self.out.emit({"i": i, "status": "error", "reason": describe(e)})
                continue
            self.out.emit(self._step(i, code))

    def _run_calls(self) -> None:
        p = self.payload
        if not self._start(None):
            return
        for i, call in enumerate(p["calls"]):
            if i < p["start"]:
                continue
            if call[0] == "bad":
                self.out.emit({"i": i, "status": "error", "reason": call[2], "exception": call[1]})
                continue
            if not self._ensure_worker():
                return
            self.out.emit(self._step(i, call[1], calls=True))


def prefork() -> Worker:
    """The run's first worker, forked before the payload is read (called by ``_boot.py`` after confinement)."""
    return Worker(fresh=False)


def main(cfg: dict[str, Any], payload: dict[str, Any], first: Worker | None) -> None:
    Evaluator(cfg, payload, first).run()
