"""Sandbox bootstrap: runs as ``python -I -S _boot.py CONFIG_JSON`` inside the sandbox process.

Standard library only, and one file (``-I`` puts no folder of it on ``sys.path``); never imported by auditlens
itself (the parent runs it from the package folder as a script, before any confinement hides that folder). It
confines itself, in this order, before any untrusted code runs:

1. (root only) new network and mount namespaces (``unshare``), private mount propagation, empty
   read-only tmpfs over the hidden paths (home, project, /tmp, ...), the run folder and the interpreter
   re-exposed at their own paths, ``/`` remounted read-only;
2. ``chdir`` into the run folder; ``PR_SET_NO_NEW_PRIVS``; (root only) drop to a dedicated unprivileged
   uid/gid with no supplementary groups;
3. resource limits (CPU, address space, file size, process count, core dumps, open files);
4. an audit hook refusing socket creation (a second network layer);

then reports which layers took effect as one marker line on stderr and runs the requested mode:

- ``script``: run ``main.py`` as ``__main__`` with the inherited stdin/stdout/stderr;
- ``function``: exec ``program`` and the test module, then run the ``steps`` (statements of the test's
  ``check`` body) one by one with a per-step timer, writing one JSON line per step to ``results_fd``;
- ``calls``: exec ``program`` and call the entry point on each literal argument tuple, writing the repr of
  each return value (or the exception) as one JSON line per call to ``results_fd``.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys

TYPE_CHECKING = False  # importing typing costs tens of ms at every sandbox start
if TYPE_CHECKING:
    from typing import Any

MARKER = "\x00AUDITLENS-ISOLATION "
CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_NO_NEW_PRIVS = 38
PR_SET_DUMPABLE = 4


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount(
    libc: ctypes.CDLL, src: str | None, target: str, fstype: str | None, flags: int, data: str | None
) -> None:
    enc = [None if x is None else x.encode() for x in (src, target, fstype, data)]
    if libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _confine_fs(libc: ctypes.CDLL, cfg: dict[str, Any], report: dict[str, Any]) -> None:
    workdir = cfg["workdir"]
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE, None)
    expose = [(workdir, True)] + [(p, False) for p in cfg["expose_ro"] if os.path.exists(p)]
    fds = [(p, rw, os.open(p, os.O_PATH)) for p, rw in expose]
    hides: list[str] = []
    for p in sorted({os.path.realpath(h) for h in cfg["hide"] if os.path.isdir(h)}, key=len):
        if p != "/" and not any(_under(p, h) for h in hides):
            hides.append(p)
    for h in hides:
        _mount(libc, "tmpfs", h, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for p, rw, fd in fds:
        if any(_under(p, h) for h in hides) or rw:
            os.makedirs(p, exist_ok=True)
            _mount(libc, f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC, None)
            if not rw:
                _mount(libc, None, p, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
        os.close(fd)
    for h in hides:
        _mount(libc, None, h, None, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_RDONLY, None)
    _mount(libc, None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
    report["hidden"] = hides
    report["mount_namespace"] = True
    report["root_readonly"] = True


def _confine(cfg: dict[str, Any]) -> None:
    report: dict[str, Any] = {
        "network_namespace": False,
        "mount_namespace": False,
        "root_readonly": False,
        "uid": os.getuid(),
        "no_new_privs": False,
        "rlimits": False,
        "socket_audit_hook": False,
        "errors": [],
    }
    libc = _libc()
    is_root = os.geteuid() == 0
    if is_root and (cfg["network_namespace"] or cfg["mount_namespace"]):
        flags = (CLONE_NEWNET if cfg["network_namespace"] else 0) | (
            CLONE_NEWNS if cfg["mount_namespace"] else 0
        )
        if libc.unshare(flags) == 0:
            report["network_namespace"] = bool(cfg["network_namespace"])
            if cfg["mount_namespace"]:
                try:
                    _confine_fs(libc, cfg, report)
                except OSError as e:
                    report["errors"].append(str(e))
        else:
            report["errors"].append("unshare: " + os.strerror(ctypes.get_errno()))
    os.chdir(cfg["workdir"])
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        report["no_new_privs"] = True
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    if is_root and cfg["uid"] is not None:
        os.setgroups([])
        os.setgid(cfg["uid"])
        os.setuid(cfg["uid"])
        report["uid"] = os.getuid()
    lim = cfg["limits"]
    resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu_s"], lim["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_AS, (lim["memory_bytes"], lim["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (lim["file_bytes"], lim["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_NPROC, (lim["nproc"], lim["nproc"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    report["rlimits"] = True
    if cfg["socket_audit_hook"]:

        def hook(event: str, args: tuple[Any, ...]) -> None:
            if event.startswith("socket."):
                raise PermissionError("network access is disabled in the auditlens sandbox")

        sys.addaudithook(hook)
        report["socket_audit_hook"] = True
    sys.stderr.write(MARKER + json.dumps(report) + "\n")
    sys.stderr.flush()


class _StepTimeout(BaseException):
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _StepTimeout()


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:500]


def _emit(fd: int, obj: dict[str, Any]) -> None:
    data = (json.dumps(obj) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def _load(
    fd: int, payload: dict[str, Any], sources: list[tuple[str, str]]
) -> tuple[dict[str, Any], Any] | None:
    """Exec ``sources`` ((payload key, file name)) in a fresh namespace under a 4-step timer: the namespace and
    the entry point, or None (reported as case -1) when loading fails."""
    ns: dict[str, Any] = {"__name__": "__candidate__"}
    signal.signal(signal.SIGALRM, _on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, payload["step_timeout_s"] * 4)
        for key, filename in sources:
            exec(compile(payload[key], filename, "exec"), ns)
        signal.setitimer(signal.ITIMER_REAL, 0)
        fn = ns[payload["entry_point"]]
    except BaseException as e:
        signal.setitimer(signal.ITIMER_REAL, 0)
        status = "timeout" if isinstance(e, _StepTimeout) else "load_error"
        _emit(fd, {"i": -1, "status": status, "reason": _describe(e)})
        return None
    return ns, fn


def _run_function(cfg: dict[str, Any], payload: dict[str, Any]) -> None:
    fd = cfg["results_fd"]
    t = payload["step_timeout_s"]
    loaded = _load(fd, payload, [("program", "solution.py"), ("test_module", "tests.py")])
    if loaded is None:
        return
    ns, fn = loaded
    ns["candidate"] = fn
    for i, (src, is_case) in enumerate(payload["steps"]):
        if i < payload["start"] and is_case:
            continue
        try:
            signal.setitimer(signal.ITIMER_REAL, t)
            exec(compile(src, f"step{i}", "exec"), ns)
            signal.setitimer(signal.ITIMER_REAL, 0)
            _emit(fd, {"i": i, "status": "pass"})
        except _StepTimeout:
            _emit(fd, {"i": i, "status": "timeout", "reason": f"step exceeded {t} s"})
        except AssertionError as e:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _emit(fd, {"i": i, "status": "fail", "reason": _describe(e)})
        except BaseException as e:
            signal.setitimer(signal.ITIMER_REAL, 0)
            status = "memory" if isinstance(e, MemoryError) else "error"
            _emit(fd, {"i": i, "status": status, "reason": _describe(e)})


def _run_calls(cfg: dict[str, Any], payload: dict[str, Any]) -> None:
    import ast
    import copy

    fd = cfg["results_fd"]
    t = payload["step_timeout_s"]
    loaded = _load(fd, payload, [("program", "solution.py")])
    if loaded is None:
        return
    fn = loaded[1]
    for i, src in enumerate(payload["calls"]):
        if i < payload["start"]:
            continue
        try:
            args = ast.literal_eval(src)
            signal.setitimer(signal.ITIMER_REAL, t)
            value = fn(*copy.deepcopy(args))
            signal.setitimer(signal.ITIMER_REAL, 0)
            _emit(fd, {"i": i, "status": "pass", "value": repr(value)[:100000]})
        except _StepTimeout:
            _emit(fd, {"i": i, "status": "timeout", "reason": f"call exceeded {t} s"})
        except BaseException as e:
            signal.setitimer(signal.ITIMER_REAL, 0)
            status = "memory" if isinstance(e, MemoryError) else "error"
            _emit(fd, {"i": i, "status": status, "reason": _describe(e), "exception": type(e).__name__})


def main() -> None:
    cfg = json.loads(sys.argv[1])
    _confine(cfg)
    mode = cfg["mode"]
    if mode == "script":
        with open("main.py", encoding="utf-8") as f:
            src = f.read()
        del sys.argv[1:]
        sys.argv[0] = "main.py"
        exec(compile(src, "main.py", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        return
    with open(cfg["payload"], encoding="utf-8") as f:
        payload = json.load(f)
    os.unlink(cfg["payload"])
    if mode == "function":
        _run_function(cfg, payload)
    else:
        _run_calls(cfg, payload)


if __name__ == "__main__":
    main()
