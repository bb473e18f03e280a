"""The test harness: many test cases of one program in one sandboxed process.

:func:`run_function_tests` runs the statements of a HumanEval-style ``check(candidate)`` body one by one, each under
its own timer; :func:`run_calls` calls the entry point on literal argument tuples. The child reports one JSON line
per case on a results pipe; a case that hangs past its timer, or kills the harness, is recorded and the harness
restarts at the next case, so one bad case costs one extra process, not the batch.

Known limitation: the harness and the untrusted code share one interpreter, so a deliberately adversarial
program can forge its own per-case results (stdin/stdout problems run the program alone, :func:`~auditlens.monitor.sandbox.run_script`).
"""

from __future__ import annotations

import ast
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from auditlens.monitor.sandbox.config import ExecStatus, Isolation, SandboxConfig, SandboxError
from auditlens.monitor.sandbox.process import classify, launch, syntax_error

__all__ = ["BatchResult", "CaseResult", "run_calls", "run_function_tests", "split_check_body"]


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
    out: dict[int, CaseResult] = {}
    start = 0
    processes = 0
    stdout = stderr = ""
    isolation: Isolation | None = None
    t0 = time.monotonic()
    while start < n:
        payload = dict(base_payload, start=start, step_timeout_s=t)
        remaining = n - start
        raw = launch(
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
    steps = list(steps) if steps is not None else split_check_body(test_module)
    # The test module minus its check body is loaded once; each step then runs in that namespace.
    payload = {
        "program": program,
        "test_module": test_module,
        "entry_point": entry_point,
        "steps": [[s, c] for s, c in steps],
    }
    return _run_batched("function", payload, [c for _, c in steps], config or SandboxConfig())


def run_calls(
    program: str,
    entry_point: str,
    calls: Sequence[str],
    config: SandboxConfig | None = None,
) -> BatchResult:
    """Call ``entry_point(*args)`` for each literal argument tuple in ``calls`` (Python source such as
    ``"([1, 2], 3)"``), in one process; each case's ``value`` is the repr of the return value and
    ``exception`` the exception type if it raised."""
    payload = {"program": program, "entry_point": entry_point, "calls": list(calls)}
    return _run_batched("calls", payload, [True] * len(calls), config or SandboxConfig())
