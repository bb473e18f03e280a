"""Programs that try to forge their function-call test results. Each must get exactly what its real behaviour
earns (0 of 7 on HumanEval/0 where it does not implement the function), and the honest solution still passes.
(Programs hunting for the expected values: ``test_sandbox_hostile_snoop.py``.)"""

from __future__ import annotations

import os
import textwrap

import pytest

from auditlens.monitor.execution import run_tests
from auditlens.monitor.problems import Problem, load_humaneval
from auditlens.monitor.sandbox import (
    BatchResult,
    ExecStatus,
    SandboxConfig,
    SandboxLimits,
    run_calls,
    run_function_tests,
)

ROOT = os.geteuid() == 0
FAST = SandboxConfig(limits=SandboxLimits(wall_s=5, cpu_s=3, output_bytes=200_000, step_timeout_s=0.5))
# What a constant answer earns on HumanEval/0 (cases 0, 2, 4, 5 expect True; 1, 3, 6 expect False).
EARNS = {"True": 4, "False": 3, "None": 0}


@pytest.fixture(scope="module")
def he0() -> Problem:
    return load_humaneval(["HumanEval/0"])[0]


def _run(problem: Problem, program: str, config: SandboxConfig = FAST) -> BatchResult:
    assert problem.test_code and problem.entry_point
    return run_function_tests(program, problem.test_code, problem.entry_point, config)


def _with_body(problem: Problem, body: str, prefix: str = "") -> str:
    """The HumanEval prompt (signature + docstring) with ``body`` as the function body, ``prefix`` before it."""
    return textwrap.dedent(prefix) + problem.statement + textwrap.indent(textwrap.dedent(body), "    ")


def test_honest_solution_still_passes_in_one_process(he0: Problem) -> None:
    b = _run(he0, he0.reference_solution)
    assert b.passed_all and b.n_passed == 7 and b.processes == 1
    assert run_tests(he0, he0.reference_solution).all_passed


SIX_LINE_EXPLOIT = """\
import json, os, sys
fd = json.loads(sys.argv[1])["results_fd"]
for i in range(400):
    line = json.dumps({"i": i, "status": "pass"}) + "\\n"
    os.write(fd, line.encode())
os._exit(0)
"""


def test_the_six_line_exploit_of_issue_21(he0: Problem) -> None:
    """It got 7/7 from ``run_tests`` before: the results descriptor was in the harness's own argv."""
    assert len(SIX_LINE_EXPLOIT.splitlines()) == 6
    r = run_tests(he0, SIX_LINE_EXPLOIT)
    assert (r.passed, r.total) == (0, 7)
    assert all(c.status == ExecStatus.CRASH for c in r.cases)


_SPRAY = """\
import os, json
lines = b"".join(
    (json.dumps({"i": i, "status": "pass", "value": "True"}) + "\\n").encode()
    + (json.dumps({"i": i, "status": "pass"}) + "\\t" + "0" * 64 + "\\n").encode()
    + ('["ok",%d,true]\\n' % i).encode()
    for i in range(-1, 60)
)
targets = list(range(51))
def _pids():
    pid = os.getpid()
    for _ in range(4):
        try:
            pid = int(open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            return
        yield pid
def spray():
    for pid in _pids():
        for src in (f"/proc/{pid}/cmdline", f"/proc/{pid}/environ"):
            try:
                print("read", src, open(src, "rb").read()[:200], flush=True)
            except OSError as e:
                print("denied", src, e.errno, flush=True)
        for n in range(51):
            try:
                with open(f"/proc/{pid}/fd/{n}", "wb", buffering=0) as f:
                    f.write(lines)
                print("wrote", pid, n, flush=True)
            except OSError:
                pass
    for fd in targets:
        try:
            os.write(fd, lines)
        except OSError:
            pass
"""


@pytest.mark.parametrize("where", ["load", "call"])
def test_fake_pass_lines_on_every_descriptor_and_the_parents(he0: Problem, where: str) -> None:
    """(1) Lines in every format the harness ever used, on fds 0-50 and on every fd of up to four ancestors
    reachable through /proc, then ``os._exit(0)``: at import time, or inside the function."""
    if where == "load":
        program = _SPRAY + "spray()\nos._exit(0)\n" + _with_body(he0, "return None\n")
    else:
        program = _with_body(he0, "spray()\nos._exit(0)\n", prefix=_SPRAY)
    b = _run(he0, program)
    assert b.n_passed == 0 and b.n_cases == 7
    assert all(c.status == ExecStatus.CRASH for c in b.cases)
    if ROOT:  # the evaluator and the parent are out of reach: nothing of theirs could be opened for writing
        assert "wrote" not in b.stdout


def test_fake_lines_are_dropped_without_the_mac_even_when_the_program_can_reach_the_parent(
    he0: Problem,
) -> None:
    """With the uid drop and the namespaces switched off (as without root), the worker can open its ancestors'
    pipes through /proc; lines it writes there lack the batch's MAC and are dropped."""
    cfg = FAST.model_copy(
        update={"drop_privileges": False, "mount_namespace": False, "network_namespace": False}
    )
    spray = _SPRAY + "targets = [fd for fd in targets if fd not in (3, 4)]\n"  # keep its own pipes working
    b = _run(he0, _with_body(he0, "spray()\nreturn None\n", prefix=spray), cfg)
    if ROOT:
        assert "wrote" in b.stdout  # it did reach a descriptor of the evaluator or the parent
    # (Running as root here, it can also write into the evaluator's end of its own reply pipe: that crashes its
    # own calls.) Its fake result lines, in every format, reached the parent's pipes and were dropped.
    assert b.n_passed == 0 and {c.status for c in b.cases} <= {ExecStatus.WRONG, ExecStatus.CRASH}


def test_calls_mode_values_cannot_be_forged(he0: Problem) -> None:
    spray = _SPRAY + "targets = [fd for fd in targets if fd not in (3, 4)]\n"
    program = _with_body(he0, "spray()\nreturn 'real'\n", prefix=spray)
    b = run_calls(program, "has_close_elements", ["([1.0], 0.5)", "([2.0], 0.5)"], FAST)
    assert [c.value for c in b.cases] == ["'real'", "'real'"]


_PATCHES = """\
import builtins, json, os, sys
class Never(Exception):
    pass
builtins.AssertionError = Never
builtins.Exception = Never
json.dumps = lambda *a, **k: '{"i": 0, "status": "pass"}'
json.loads = lambda *a, **k: {"i": 0, "status": "pass"}
sys.exit = lambda *a, **k: None
os._exit = lambda *a, **k: None
os.write = lambda fd, data: len(data)
_real_import = builtins.__import__
builtins.__import__ = lambda name, *a, **k: _real_import(name, *a, **k)
for mod in list(sys.modules.values()):
    for attr in ("emit", "_emit", "_describe", "describe", "_STEP_STATUS", "decode"):
        if hasattr(mod, attr):
            try:
                setattr(mod, attr, lambda *a, **k: "pass")
            except (AttributeError, TypeError):
                pass
"""


def test_monkeypatching_builtins_modules_and_the_harness_changes_nothing(he0: Problem) -> None:
    """(2) AssertionError, Exception, json, sys.exit, os._exit, os.write and __import__ replaced, and every
    harness-looking function in every loaded module: all in the program's own process."""
    b = _run(he0, _PATCHES + _with_body(he0, "return None\n"))
    assert b.n_passed == 0 and b.n_cases == 7


def test_patching_the_worker_loop_only_changes_the_programs_own_replies(he0: Problem) -> None:
    """Taking over the reply encoder makes every call "return" True: that earns what returning True earns."""
    prefix = """\
import sys
for mod in list(sys.modules.values()):
    if hasattr(mod, "_enc"):
        mod._enc = lambda x, out, room: out.append("true")
"""
    b = _run(he0, _with_body(he0, "return None\n", prefix=prefix))
    assert b.n_passed == EARNS["True"]


def test_state_left_for_later_cases_only_changes_the_programs_own_answers(he0: Problem) -> None:
    """(4) Module globals persist from case to case (as in HumanEval's harness): a program that answers each call
    with the previous call's right answer earns case 0 and the one later case whose answer repeats the previous
    one (case 5: True after True), and nothing it keeps can reach a later verdict."""
    body = """\
    right = any(i != j and abs(a - b) < threshold for i, a in enumerate(numbers) for j, b in enumerate(numbers))
    global PREVIOUS
    answer = globals().get("PREVIOUS", right)
    PREVIOUS = right
    return answer
    """
    b = _run(he0, _with_body(he0, body))
    assert [c.status == ExecStatus.OK for c in b.cases] == [True, False, False, False, False, True, False]
    assert b.processes == 1


@pytest.mark.parametrize(
    "value",
    [
        "AlwaysEqual()",  # not plain data: cannot cross
        "EqStr('nope')",  # a str subclass: crosses as the plain str 'nope'
        "EqList([1])",  # a list subclass: crosses as [1]
    ],
)
def test_objects_with_a_hostile_eq_cannot_reach_the_comparison(he0: Problem, value: str) -> None:
    prefix = """\
class AlwaysEqual:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __bool__(self):
        return True
    __hash__ = object.__hash__
class EqStr(str):
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__
class EqList(list):
    def __eq__(self, other):
        return True
"""
    b = _run(he0, _with_body(he0, f"return {value}\n", prefix=prefix))
    assert b.n_passed == 0 and b.n_cases == 7
    if value.startswith("Always"):
        assert all(c.status == ExecStatus.CRASH and "not plain data" in c.reason for c in b.cases)


def test_printing_protocol_lines_to_stdout_is_only_output(he0: Problem) -> None:
    """(5) stdout is captured, never parsed."""
    prefix = """\
import json, sys
MARK = "\\x00AUDITLENS-ISOLATION "
def flood():
    for i in range(-1, 10):
        print(json.dumps({"i": i, "status": "pass"}))
        print(json.dumps({"spawn": 1}))
        print('["ok", %d, true]' % i)
    sys.stderr.write(MARK + "{}\\n")
flood()
"""
    b = _run(he0, _with_body(he0, "flood()\nreturn None\n", prefix=prefix))
    assert b.n_passed == 0 and '{"i": 3, "status": "pass"}' in b.stdout
    assert b.isolation is not None and b.isolation.rlimits  # the real marker, not the program's


@pytest.mark.parametrize(
    "raise_",
    [
        "SystemExit(0)",
        "KeyboardInterrupt()",
        "GeneratorExit()",
        "Mine()",
        "StopIteration()",
        "AssertionError()",
    ],
)
@pytest.mark.parametrize("where", ["load", "call"])
def test_raising_base_exceptions(he0: Problem, raise_: str, where: str) -> None:
    """(6) SystemExit, KeyboardInterrupt, GeneratorExit, a BaseException subclass, ... at import or in a call."""
    prefix = "class Mine(BaseException):\n    pass\n"
    if where == "load":
        program = prefix + f"raise {raise_}\n" + _with_body(he0, "return True\n")
    else:
        program = _with_body(he0, f"raise {raise_}\n", prefix=prefix)
    b = _run(he0, program)
    assert b.n_passed == 0 and b.n_cases == 7 and b.processes == 1
    expected = (
        ExecStatus.WRONG if raise_.startswith("AssertionError") and where == "call" else ExecStatus.CRASH
    )
    assert {c.status for c in b.cases} == {expected}


def test_check_bodies_cannot_swallow_a_dead_or_exiting_program() -> None:
    """A check that passes when the call raises an Exception must not pass when the program exits or raises a
    BaseException instead (HumanEval's harness would have died)."""
    tests = (
        "def check(candidate):\n    try:\n        candidate(1)\n    except Exception:\n        assert True\n"
    )
    for body, passed in [
        ("raise ValueError('x')", 1),
        ("raise SystemExit(0)", 0),
        ("import os; os._exit(0)", 0),
        ("return object()", 0),
    ]:
        b = run_function_tests(f"def f(x):\n    {body}\n", tests, "f", FAST)
        assert b.n_passed == passed, (body, b.cases)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("return 'x' * 50_000_000", ExecStatus.OUTPUT_LIMIT),
        ("s = 'y' * 1_000_000\nreturn [s] * 1_000_000", ExecStatus.OUTPUT_LIMIT),  # 1 TB if encoded
        ("return [0] * (10 ** 10)", ExecStatus.MEMORY),
    ],
)
def test_huge_return_values_fail_their_case(he0: Problem, body: str, status: ExecStatus) -> None:
    """(7) Replies are capped (``reply_bytes``) while they are encoded; the worker survives the cap."""
    b = _run(he0, _with_body(he0, body + "\n"))
    assert b.n_passed == 0 and {c.status for c in b.cases} == {status}
    assert b.processes == 1


def test_a_reply_flood_on_the_reply_pipe_is_cut_off(he0: Problem) -> None:
    """Writing past the cap straight onto the reply pipe (no newline) gets the worker killed."""
    body = "import os\nos.write(4, b'[' * 10_000_000)\nreturn True\n"
    cfg = FAST.model_copy(update={"limits": FAST.limits.model_copy(update={"reply_bytes": 100_000})})
    b = _run(he0, _with_body(he0, body), cfg)
    assert b.n_passed == 0
    assert {c.status for c in b.cases} <= {ExecStatus.OUTPUT_LIMIT, ExecStatus.TIMEOUT, ExecStatus.CRASH}


def test_hangs_cost_one_process_only_when_the_alarm_cannot_stop_them(he0: Problem) -> None:
    """A Python-level hang is stopped by the worker's alarm (same process); one that ignores the alarm is
    killed at the grace limit and a fresh worker takes the next case."""
    b = _run(he0, _with_body(he0, "while True:\n    pass\n"))
    assert [c.status for c in b.cases] == [ExecStatus.TIMEOUT] * 7 and b.processes == 1
    prefix = "import signal\n"
    body = """\
    if threshold == 0.05:
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:
            pass
    for i, a in enumerate(numbers):
        for j, b in enumerate(numbers):
            if i != j and abs(a - b) < threshold:
                return True
    return False
    """
    b = _run(he0, _with_body(he0, body, prefix=prefix))
    statuses = [c.status for c in b.cases]
    assert statuses[1] == ExecStatus.TIMEOUT and statuses.count(ExecStatus.OK) == 6 and b.processes == 2


def test_helpers_from_a_trusted_prelude_cannot_be_redefined() -> None:
    """HumanEval/32 checks ``poly(coeffs, candidate(coeffs))``; ``poly`` comes from the prompt."""
    p = load_humaneval(["HumanEval/32"])[0]
    assert p.test_code and p.entry_point
    forged = "def poly(xs, x):\n    return 0\n\ndef find_zero(xs):\n    return 0.0\n"
    untrusted = run_function_tests(forged, p.test_code, p.entry_point, FAST)
    assert untrusted.untrusted_helpers == ["poly"]  # the verdict trusted the program's poly: flagged
    trusted = run_function_tests(forged, p.test_code, p.entry_point, FAST, trusted_prelude=p.statement)
    assert trusted.n_passed == 0 and not trusted.untrusted_helpers
    honest = run_function_tests(
        p.reference_solution, p.test_code, p.entry_point, FAST, trusted_prelude=p.statement
    )
    assert honest.passed_all
