"""The test harness: many test cases of one program, with the program kept away from the verdicts.

:func:`run_function_tests` runs the statements of a HumanEval-style ``check(candidate)`` body one by one, each under
its own timer; :func:`run_calls` calls the entry point on literal argument tuples. Each batch is one sandboxed
process tree (``_boot.py``) with two roles:

- the **evaluator** (trusted; ``_evaluate.py``) holds the test module, the check body and so every expected
  value, and runs them itself, with ``candidate`` (and each name the test code needs from the program, see
  :func:`program_names`) bound to a proxy;
- the **worker** (``_worker.py``) is the only process that runs the program. A proxy call sends the arguments
  (marshalled) to it on a pipe; it replies the return value in a data-only JSON encoding that the evaluator
  parses into plain ``int``/``str``/``list``/``dict``/... values. So the ``==`` of ``assert candidate(x) == y``,
  ``abs(candidate(x) - y) < 1e-6``, loops and helper calls all run on the trusted side on trusted objects: an
  object with a hostile ``__eq__`` cannot cross, and a value that is not plain data fails its case.

The worker never holds the test code, the expected values or the result channel: the first one is forked before
the payload is read, later ones are fresh interpreters; it has only descriptors 0 (/dev/null), 1, 2 (the run's
stdout/stderr, which nothing parses), 3 and 4 (its request and reply pipes); nothing is in its (or the
evaluator's) command line or environment; the evaluator is non-dumpable, so the worker cannot open its
``/proc/<pid>/fd`` or memory. The evaluator's result lines carry a MAC keyed by a per-batch secret the parent sent
only to the evaluator: a line that fails the check is dropped (this matters for unprivileged runs, where the
worker shares the parent's uid and could open the parent's pipes through ``/proc``). Whatever the program does
to its own process (patching builtins, ``json``, ``sys.exit``, the worker loop; writing to any descriptor;
``os._exit``; raising ``SystemExit``) can therefore only change or fail its own return values.

Timers: a call that overruns the step's time is interrupted by the worker's own alarm (the worker survives); one
that does not answer within a grace period more is killed, and a fresh worker takes the next case, so one bad
case costs one extra process. A worker that dies fails the case it was in, likewise; a return value over
:attr:`~auditlens.monitor.sandbox.SandboxLimits.reply_bytes` fails its case (``output_limit``).

State between cases: the program's module globals (and anything else in the worker process) persist from call to
call and case to case within one worker, as in HumanEval's own harness; a worker replaced after a hang or crash
starts from a fresh load of the program. That state can only change the program's own later return values. The
trusted namespace of the check body also persists from step to step (setup statements bind names for later
cases, as in ``check``); it holds only trusted objects and plain data the program returned. Arguments are sent
by value: a program that mutates its arguments does not mutate the test's objects.

Helpers: the checks of HumanEval/32, 38 and 50 call a helper from the prompt (``poly``, ``encode_cyclic``,
``encode_shift``). Given ``trusted_prelude`` (the prompt), the evaluator runs those trusted definitions; without
it they resolve to the program's own globals, as in HumanEval's harness (where a program could redefine them),
and :attr:`BatchResult.untrusted_helpers` names them.
"""

from __future__ import annotations

import ast
import builtins
import marshal
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from auditlens.monitor.sandbox.config import ExecStatus, Isolation, SandboxConfig, SandboxError
from auditlens.monitor.sandbox.process import classify, launch, syntax_error

__all__ = [
    "BatchResult",
    "CaseResult",
    "program_names",
    "run_calls",
    "run_function_tests",
    "split_check_body",
]


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
    processes: int = Field(
        description="Processes the program ran in (1 unless a case hung past its timer or killed the worker)."
    )
    wall_s: float
    stdout: str = ""
    stderr: str = ""
    isolation: Isolation | None = None
    untrusted_helpers: list[str] = Field(
        default_factory=list,
        description="Names the test code calls that only the program defined (no trusted prelude had them): "
        "a verdict that relies on them trusts the program's own helper, as HumanEval's harness does.",
    )

    @property
    def passed_all(self) -> bool:
        return bool(self.cases) and all(c.status == ExecStatus.OK for c in self.cases)

    @property
    def n_passed(self) -> int:
        return sum(c.status == ExecStatus.OK for c in self.cases if c.is_case)

    @property
    def n_cases(self) -> int:
        return sum(c.is_case for c in self.cases)


_STEP_STATUS = {
    "pass": ExecStatus.OK,
    "fail": ExecStatus.WRONG,
    "timeout": ExecStatus.TIMEOUT,
    "memory": ExecStatus.MEMORY,
    "error": ExecStatus.CRASH,
    "load_error": ExecStatus.CRASH,
    "output_limit": ExecStatus.OUTPUT_LIMIT,
    "file_limit": ExecStatus.FILE_LIMIT,
}


def _run_batched(
    mode: str,
    base_payload: dict[str, Any],
    is_case: Sequence[bool],
    config: SandboxConfig,
) -> BatchResult:
    """Run the ``len(is_case)`` cases of ``base_payload`` (which holds the ``program``), restarting the harness
    after a case that hung or killed it; a program that does not compile fails every case unrun."""
    n = len(is_case)
    err = syntax_error(base_payload["program"], "solution.py")
    if err:
        cases = [
            CaseResult(index=i, status=ExecStatus.SYNTAX_ERROR, is_case=c, reason=err)
            for i, c in enumerate(is_case)
        ]
        return BatchResult(cases=cases, processes=0, wall_s=0.0)
    lim = config.limits
    t = lim.step_timeout_s
    grace = max(0.2, t / 2)  # the evaluator's allowance past t before it kills a worker that did not answer
    out: dict[int, CaseResult] = {}
    start = 0
    processes = 0
    stdout = stderr = ""
    isolation: Isolation | None = None
    t0 = time.monotonic()
    while start < n:
        payload = dict(base_payload, mode=mode, start=start, step_timeout_s=t, reply_bytes=lim.reply_bytes)
        remaining = n - start
        raw = launch(
            config,
            mode,
            payload=payload,
            # A case may cost t + grace and, after a hang, a fresh worker loading the program (up to 4 t).
            wall_s=lim.wall_s + 4 * t + remaining * (t + grace + 0.5),
            cpu_s=int(lim.cpu_s + 4 * t + remaining * t) + 1,
            stall_s=5 * t + grace + 2.0,
        )
        processes += sum(1 for r in raw.results if r.get("spawn"))
        stdout += raw.stdout.decode("utf-8", "replace")
        stderr += raw.stderr.decode("utf-8", "replace")
        isolation = isolation or raw.isolation
        for r in raw.results:
            if "i" not in r:
                continue
            i = int(r["i"])
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
        status, reason = classify(raw)
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


def program_names(
    test_module: str, steps: Sequence[tuple[str, bool]] = (), prelude: str | None = None
) -> list[str]:
    """Names the test code reads but never binds (nor are they built-ins): in HumanEval they come from the
    program (the prompt's helpers, such as ``poly`` of HumanEval/32, or the entry point itself). The evaluator
    binds each one the trusted code leaves undefined to a call into the program's global of that name."""
    bound: set[str] = set(dir(builtins)) | {"candidate"}
    loaded: set[str] = set()
    for src in [prelude or "", test_module, *(s for s, _ in steps)]:
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Name):
                (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                bound.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
    return sorted(loaded - bound)


def run_function_tests(
    program: str,
    test_module: str,
    entry_point: str,
    config: SandboxConfig | None = None,
    steps: Sequence[tuple[str, bool]] | None = None,
    trusted_prelude: str | None = None,
) -> BatchResult:
    """Run every assert of a HumanEval-style ``check(candidate)`` against ``program``, the program in one worker
    process and the test code on the trusted side (see the module docstring).

    Each step of the check body runs under its own timer; a case that hangs past the timer (or kills the
    worker) is recorded and a fresh worker takes the next case. ``cases`` holds one entry per step
    (``is_case`` False for setup statements). ``trusted_prelude`` (e.g. the HumanEval prompt) is executed on
    the trusted side before the test module, so helpers the checks call (``poly``, ``encode_cyclic``) are the
    trusted definitions rather than the program's; the entry point itself always means the program's.
    """
    steps = list(steps) if steps is not None else split_check_body(test_module)
    names = [n for n in program_names(test_module, steps, trusted_prelude) if n != entry_point]
    helpers = [n for n in names if trusted_prelude is None or n not in _defined(trusted_prelude)]
    payload = {
        "program": program,
        "entry_point": entry_point,
        "test_module": test_module,
        "prelude": trusted_prelude,
        "steps": [(s, bool(c)) for s, c in steps],
        "remote_names": [entry_point, *names],
    }
    batch = _run_batched("function", payload, [c for _, c in steps], config or SandboxConfig())
    batch.untrusted_helpers = helpers
    return batch


def _defined(source: str) -> set[str]:
    """Names a module binds at its top level (functions, classes, assignments, imports)."""
    out: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            out.update(
                x.id for x in ast.walk(node) if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Store)
            )
    return out


def _parse_call(src: str) -> tuple[str, Any, ...]:
    """``("args", tuple)`` for a literal argument tuple (or list), else ``("bad", exception name, reason)``."""
    try:
        value = ast.literal_eval(src)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as e:
        return ("bad", type(e).__name__, f"{type(e).__name__}: {e}"[:500])
    if not isinstance(value, (tuple, list)):
        return ("bad", "TypeError", f"TypeError: the arguments must be a tuple, not {type(value).__name__}")
    try:
        marshal.dumps(tuple(value), 4)
    except ValueError as e:
        return ("bad", "TypeError", f"TypeError: the arguments are not plain data: {e}")
    return ("args", tuple(value))


def run_calls(
    program: str,
    entry_point: str,
    calls: Sequence[str],
    config: SandboxConfig | None = None,
) -> BatchResult:
    """Call ``entry_point(*args)`` for each literal argument tuple in ``calls`` (Python source such as
    ``"([1, 2], 3)"``), in one worker process; each case's ``value`` is the repr of the return value (received
    as plain data; the program's own repr for a value that is not) and ``exception`` the exception type if it
    raised."""
    payload = {"program": program, "entry_point": entry_point, "calls": [_parse_call(c) for c in calls]}
    return _run_batched("calls", payload, [True] * len(calls), config or SandboxConfig())
