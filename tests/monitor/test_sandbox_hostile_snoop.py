"""(3) A program hunting for the expected values: /proc of itself and of every ancestor, the stack, the garbage
collector, every descriptor, the run folder. None of it holds the check body (the worker that runs the program
never had the payload in its address space, and the evaluator is non-dumpable)."""

from __future__ import annotations

import hashlib
import os

from auditlens.monitor.sandbox import SandboxConfig, SandboxLimits, run_function_tests

ROOT = os.geteuid() == 0
FAST = SandboxConfig(limits=SandboxLimits(wall_s=5, cpu_s=3, output_bytes=200_000, step_timeout_s=0.5))

SECRET = "zebra-7f3a9c-expected"
SECRET_TESTS = f"""
HINT = {SECRET!r}

def check(candidate):
    assert candidate("probe") == {SECRET!r}
    assert candidate("probe") == {SECRET!r}[::-1]
"""

# The program knows the secret's prefix, length and hash only (so its own memory holds no copy to find).
_SNOOP = f"""\
import gc, hashlib, os, sys
PREFIX, LENGTH, DIGEST = "zebra-", {len(SECRET)}, {hashlib.sha256(SECRET.encode()).hexdigest()!r}
"""
_SNOOP += """\
def snoop():
    found = []
    def look(where, blob):
        text = blob.decode("latin-1") if isinstance(blob, bytes) else str(blob)
        i = text.find(PREFIX)
        while i >= 0:
            if hashlib.sha256(text[i : i + LENGTH].encode("latin-1", "replace")).hexdigest() == DIGEST:
                found.append(where)
                return text[i : i + LENGTH]
            i = text.find(PREFIX, i + 1)
        return None
    hits = []
    pids = ["self"]
    pid = os.getpid()
    for _ in range(4):
        try:
            pid = int(open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[1])
            pids.append(str(pid))
        except (OSError, ValueError, IndexError):
            break
    for p in pids:
        for name in ("cmdline", "environ", "maps"):
            try:
                hits.append(look(f"{p}/{name}", open(f"/proc/{p}/{name}", "rb").read()))
            except OSError:
                pass
        try:
            with open(f"/proc/{p}/mem", "rb") as mem:
                for line in open(f"/proc/{p}/maps"):
                    if line.split()[1][0] != "r":
                        continue
                    lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                    try:
                        mem.seek(lo)
                        hits.append(look(f"{p}/mem", mem.read(min(hi - lo, 1 << 24))))
                    except (OSError, OverflowError, ValueError):
                        pass
        except OSError:
            pass
        try:
            for fd in os.listdir(f"/proc/{p}/fd"):
                try:
                    with open(f"/proc/{p}/fd/{fd}", "rb", buffering=0) as f:
                        os.set_blocking(f.fileno(), False)
                        hits.append(look(f"{p}/fd/{fd}", f.read(1 << 16) or b""))
                except (OSError, TypeError):
                    pass
        except OSError:
            pass
    frame = sys._getframe()
    while frame is not None:
        hits.append(look("frame", repr(frame.f_locals) + repr(frame.f_globals)))
        frame = frame.f_back
    for obj in gc.get_objects():
        try:
            hits.append(look("gc", repr(obj)[:100000]))
        except Exception:
            pass
    for fd in range(64):
        try:
            os.set_blocking(fd, False)
            hits.append(look(f"fd{fd}", os.read(fd, 1 << 16)))
        except OSError:
            pass
    for root, _, files in os.walk("."):
        for f in files:
            try:
                hits.append(look(f"file {f}", open(os.path.join(root, f), "rb").read()))
            except OSError:
                pass
    print("FOUND" if found else "NOTHING", found)
    return next((h for h in hits if h), None)
"""


def test_the_program_cannot_read_the_expected_values() -> None:
    """(3) /proc/self and every ancestor's cmdline, environ, memory and descriptors, the stack, every object the
    garbage collector knows, every open descriptor and the run folder: no trace of the check body."""
    program = _SNOOP + "def f(x):\n    return snoop()\n"
    slow = SandboxConfig(limits=SandboxLimits(wall_s=60, cpu_s=60, step_timeout_s=20))
    b = run_function_tests(program, SECRET_TESTS, "f", slow)
    assert b.n_cases == 2 and b.n_passed == 0
    if ROOT:  # without the uid drop the program runs as the parent's user and could read its memory
        assert "NOTHING" in b.stdout and "FOUND" not in b.stdout, b.stdout[-2000:]
    honest = run_function_tests(f"def f(x):\n    return {SECRET!r}\n", SECRET_TESTS, "f", FAST)
    assert honest.n_passed == 1  # the second case expects the reverse
    # Control: the same search does find the secret wherever it is within reach (here, its own memory).
    planted = f"PLANTED = bytes.fromhex({SECRET.encode().hex()!r}).decode()\n" + program
    control = run_function_tests(planted, SECRET_TESTS, "f", slow)
    assert control.n_passed == 1 and "FOUND" in control.stdout
