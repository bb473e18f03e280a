"""Hostile programs against the sandbox; every layer checked where the test runs as root."""

from __future__ import annotations

import json
import os
import socket
import sys
import uuid
from pathlib import Path

import pytest

from auditlens.monitor.problems import load_humaneval
from auditlens.monitor.sandbox import (
    ExecStatus,
    SandboxConfig,
    SandboxLimits,
    run_calls,
    run_function_tests,
    run_many,
    run_script,
)

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="namespaces and uid drop need root")
FAST = SandboxConfig(limits=SandboxLimits(wall_s=3, cpu_s=1, output_bytes=50_000, step_timeout_s=0.3))
PROJECT = Path(__file__).resolve().parents[2]


def _procs_of(uid: int) -> int:
    n = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    state = Path(f"/proc/{entry.name}/stat").read_bytes().rpartition(b")")[2].split()[0]
                    n += state not in (b"Z", b"X")
            except (FileNotFoundError, IndexError):
                continue
    return n


def test_ok_run_with_stdin_and_isolation_report() -> None:
    r = run_script("import sys\nprint(sys.stdin.read()[::-1])", "abc")
    assert r.status == ExecStatus.OK and r.stdout == "cba\n" and r.returncode == 0
    assert r.isolation is not None and r.isolation.rlimits and r.isolation.socket_audit_hook
    if ROOT:
        iso = r.isolation
        assert iso.network_namespace and iso.mount_namespace and iso.root_readonly and iso.no_new_privs
        assert iso.uid is not None and iso.uid != 0 and not iso.errors


def test_syntax_error_is_not_run() -> None:
    r = run_script("def f(:\n  pass")
    assert r.status == ExecStatus.SYNTAX_ERROR and r.returncode is None and "SyntaxError" in r.reason


def test_crash_reports_exception() -> None:
    r = run_script("raise ValueError('boom')")
    assert r.status == ExecStatus.CRASH and r.reason == "ValueError: boom"


def test_infinite_loop_times_out() -> None:
    r = run_script("while True:\n    pass", config=FAST)
    assert r.status == ExecStatus.TIMEOUT


def test_sleeping_program_hits_wall_clock() -> None:
    cfg = SandboxConfig(limits=SandboxLimits(wall_s=0.5, cpu_s=5))
    r = run_script("import time\ntime.sleep(30)", config=cfg)
    assert r.status == ExecStatus.TIMEOUT and "wall-clock" in r.reason and r.wall_s < 5


def test_output_flood_is_capped_and_killed() -> None:
    r = run_script("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", config=FAST)
    assert r.status == ExecStatus.OUTPUT_LIMIT and r.stdout_truncated
    assert len(r.stdout) <= FAST.limits.output_bytes


def test_memory_limit() -> None:
    r = run_script("x = bytearray(8 * 1024 ** 3)", config=FAST)
    assert r.status == ExecStatus.MEMORY


def test_file_size_limit() -> None:
    r = run_script("open('big.bin', 'wb').write(b'x' * (64 * 1024 * 1024))", config=FAST)
    assert r.status == ExecStatus.FILE_LIMIT


@needs_root
def test_fork_bomb_is_contained_and_cleaned_up() -> None:
    src = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    r = run_script(src, config=FAST)
    assert r.status in (ExecStatus.TIMEOUT, ExecStatus.CRASH)
    assert r.isolation is not None and r.isolation.uid is not None
    assert _procs_of(r.isolation.uid) == 0


@needs_root
def test_setsid_escapees_are_killed_and_nproc_enforced() -> None:
    src = (
        "import os, time\n"
        "for i in range(200):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            os.setsid(); time.sleep(60)\n"
        "    except OSError as e:\n"
        "        print('refused', i, e.errno); break\n"
    )
    r = run_script(src, config=FAST)
    assert "refused" in r.stdout  # RLIMIT_NPROC stopped it well before 200
    assert r.isolation is not None and r.isolation.uid is not None
    assert _procs_of(r.isolation.uid) == 0


def test_writes_outside_the_run_folder_fail() -> None:
    name = f"auditlens_probe_{uuid.uuid4().hex}"
    targets = [f"/tmp/{name}", str(PROJECT / name), str(Path.home() / name)]
    src = (
        "import sys\nopen('inside.txt', 'w').write('ok')\nprint(open('inside.txt').read())\n"
        f"for t in {targets!r}:\n"
        "    try:\n        open(t, 'w').write('x')\n        print('WROTE', t)\n"
        "    except OSError as e:\n        print('denied', t, e.errno)\n"
    )
    r = run_script(src)
    assert r.status == ExecStatus.OK and r.stdout.startswith("ok\n")
    assert "WROTE" not in r.stdout
    for t in targets:
        assert not Path(t).exists()


@needs_root
def test_project_and_home_are_hidden() -> None:
    src = (
        "import os, json\n"
        f"print(json.dumps(sorted(os.listdir({str(PROJECT)!r}))))\n"
        f"print(len(os.listdir({str(Path.home())!r})) if os.path.isdir({str(Path.home())!r}) else 0)\n"
    )
    r = run_script(src)
    assert r.status == ExecStatus.OK
    visible = json.loads(r.stdout.splitlines()[0])
    # Nothing of the project shows; the one exception is the path down to the interpreter itself, which
    # is re-exposed read-only when the virtual environment lives inside the project (as in CI's clone).
    prefix = Path(sys.prefix).resolve()
    allowed = {prefix.relative_to(PROJECT).parts[0]} if prefix.is_relative_to(PROJECT) else set()
    assert set(visible) <= allowed, visible
    assert "pyproject.toml" not in visible and "src" not in visible


def test_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITLENS_TEST_SECRET", "hunter2")
    src = (
        "import os\nprint(sorted(os.environ))\n"
        "try:\n    print(open('/proc/%d/environ' % os.getppid()).read())\n"
        "except OSError as e:\n    print('denied', e.errno)\n"
    )
    r = run_script(src)
    assert "hunter2" not in r.stdout and "AUDITLENS_TEST_SECRET" not in r.stdout
    assert set(eval(r.stdout.splitlines()[0])) <= {"PATH", "LANG", "HOME", "TMPDIR", "LC_CTYPE"}


def _listener() -> tuple[socket.socket, int]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    return srv, srv.getsockname()[1]


_CONNECT = (
    "import socket\n"
    "try:\n    s = socket.socket()\n    s.settimeout(2)\n    s.connect(('127.0.0.1', {port}))\n    print('CONNECTED')\n"
    "except OSError as e:\n    print('blocked', type(e).__name__, e)\n"
)


def test_socket_blocked_by_audit_hook() -> None:
    srv, port = _listener()
    try:
        cfg = SandboxConfig(network_namespace=False)
        r = run_script(_CONNECT.format(port=port), config=cfg)
        assert "CONNECTED" not in r.stdout and "PermissionError" in r.stdout
    finally:
        srv.close()


@needs_root
def test_socket_blocked_by_network_namespace_alone() -> None:
    srv, port = _listener()
    try:
        control = run_script(
            _CONNECT.format(port=port), config=SandboxConfig(network_namespace=False, socket_audit_hook=False)
        )
        assert "CONNECTED" in control.stdout  # the listener is reachable without the namespace
        r = run_script(_CONNECT.format(port=port), config=SandboxConfig(socket_audit_hook=False))
        assert r.isolation is not None and r.isolation.network_namespace and not r.isolation.socket_audit_hook
        assert "CONNECTED" not in r.stdout and "blocked" in r.stdout
    finally:
        srv.close()


def test_function_tests_canonical_passes_in_one_process() -> None:
    p = load_humaneval(["HumanEval/0"])[0]
    assert p.test_code and p.entry_point
    b = run_function_tests(p.reference_solution, p.test_code, p.entry_point)
    assert b.passed_all and b.processes == 1 and b.n_cases == 7


def test_function_tests_hang_is_per_case_timeout() -> None:
    p = load_humaneval(["HumanEval/0"])[0]
    assert p.test_code and p.entry_point
    b = run_function_tests(p.statement + "    while True:\n        pass\n", p.test_code, p.entry_point, FAST)
    assert [c.status for c in b.cases] == [ExecStatus.TIMEOUT] * 7 and b.processes == 1


def test_function_tests_harness_killed_restarts_at_next_case() -> None:
    p = load_humaneval(["HumanEval/0"])[0]
    assert p.test_code and p.entry_point
    code = p.reference_solution.replace(
        "    for idx, elem",
        "    if threshold == 0.05:\n        import os\n        os._exit(3)\n    for idx, elem",
        1,
    )
    b = run_function_tests(code, p.test_code, p.entry_point, FAST)
    statuses = [c.status for c in b.cases]
    assert statuses[1] == ExecStatus.CRASH and statuses.count(ExecStatus.OK) == 6 and b.processes == 2


def test_function_tests_wrong_answer_and_syntax_error() -> None:
    p = load_humaneval(["HumanEval/0"])[0]
    assert p.test_code and p.entry_point
    b = run_function_tests(p.statement + "    return True\n", p.test_code, p.entry_point)
    assert {c.status for c in b.cases} == {ExecStatus.OK, ExecStatus.WRONG} and not b.passed_all
    s = run_function_tests(p.statement + "    return (\n", p.test_code, p.entry_point)
    assert all(c.status == ExecStatus.SYNTAX_ERROR for c in s.cases) and s.processes == 0


def test_run_calls_values_and_exceptions() -> None:
    b = run_calls("def f(x, y):\n    return x // y\n", "f", ["(7, 2)", "(1, 0)", "([1], 2)"])
    assert [c.value for c in b.cases[:1]] == ["3"]
    assert b.cases[1].status == ExecStatus.CRASH and b.cases[1].exception == "ZeroDivisionError"
    assert b.cases[2].exception == "TypeError"


def test_run_many_keeps_order() -> None:
    outs = run_many(lambda i: run_script(f"print({i} * 2)").stdout.strip(), list(range(4)), workers=2)
    assert outs == ["0", "2", "4", "6"]


def test_layers_can_be_switched_off_and_are_reported() -> None:
    """The unprivileged fallback path: no namespaces, no uid drop; rlimits and the audit hook remain."""
    cfg = SandboxConfig(network_namespace=False, mount_namespace=False, drop_privileges=False)
    r = run_script("import os\nprint(os.getuid())", config=cfg)
    assert r.status == ExecStatus.OK and r.isolation is not None
    iso = r.isolation
    assert not iso.network_namespace and not iso.mount_namespace and not iso.root_readonly
    assert iso.rlimits and iso.socket_audit_hook and iso.uid == os.getuid() == int(r.stdout)
    loop = run_script("while True:\n    pass", config=cfg.model_copy(update={"limits": FAST.limits}))
    assert loop.status == ExecStatus.TIMEOUT
