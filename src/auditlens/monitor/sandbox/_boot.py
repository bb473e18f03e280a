"""Sandbox bootstrap: runs as ``python -I -S _boot.py`` inside the sandbox process (nothing else on its command
line or in its environment: its configuration arrives on stdin as a marshalled frame).

Standard library only; never imported by auditlens itself (the parent runs it from the package folder as a script,
before any confinement hides that folder). In the harness modes it first imports its siblings ``_evaluate``,
``_channel`` and ``_worker`` (``-I`` puts no folder on ``sys.path``, so it adds its own for that import and
removes it). It confines itself, in this order, before any untrusted code runs:

1. (root only) new network and mount namespaces (``unshare``), private mount propagation, empty
   read-only tmpfs over the hidden paths (home, project, /tmp, ...), the run folder and the interpreter
   re-exposed at their own paths, ``/`` remounted read-only;
2. ``chdir`` into the run folder; ``PR_SET_NO_NEW_PRIVS``; (root only) drop to a dedicated unprivileged
   uid/gid with no supplementary groups; then ``PR_SET_DUMPABLE`` 0 (after the uid change, which resets it), so
   no process of that uid can ptrace this one or open its ``/proc/<pid>/fd``, ``mem`` or ``environ``;
3. resource limits (CPU, address space, file size, process count, core dumps, open files);
4. an audit hook refusing socket creation (a second network layer);

then reports which layers took effect as one marker line on stderr and runs the requested mode:

- ``script``: run ``main.py`` as ``__main__`` with the inherited stdout/stderr and the rest of stdin;
- ``function`` / ``calls``: fork the run's first worker (``_worker.py``, which will hold the program) *before*
  reading the payload frame from stdin, then become the trusted evaluator (``_evaluate.py``): it holds the test
  code and decides every case, writing MAC-tagged result lines to ``results_fd``, a descriptor no worker has.
"""

from __future__ import annotations

import ctypes
import json
import marshal
import os
import resource
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
        "non_dumpable": False,
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
    if is_root and cfg["uid"] is not None:
        os.setgroups([])
        os.setgid(cfg["uid"])
        os.setuid(cfg["uid"])
        report["uid"] = os.getuid()
    # After the uid change (which resets it): nobody but root may ptrace this process or open its /proc files.
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0:
        report["non_dumpable"] = True
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


def _read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n > 0:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("stdin ended inside a frame")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> Any:
    """One marshalled object behind a 4-byte big-endian length (written by the trusted parent)."""
    return marshal.loads(_read_exact(fd, int.from_bytes(_read_exact(fd, 4), "big")))


def main() -> None:
    cfg = _read_frame(0)
    mode = cfg["mode"]
    evaluate = None
    if mode != "script":  # import the evaluator before confinement hides the package folder
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, here)
        import _evaluate

        evaluate = _evaluate
        sys.path.remove(here)
    _confine(cfg)
    if evaluate is None:
        with open("main.py", encoding="utf-8") as f:
            src = f.read()
        sys.argv[:] = ["main.py"]
        exec(compile(src, "main.py", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        return
    first = evaluate.prefork()  # before the payload is read: the worker's image never holds it
    payload = _read_frame(0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    evaluate.main(cfg, payload, first)


if __name__ == "__main__":
    main()
