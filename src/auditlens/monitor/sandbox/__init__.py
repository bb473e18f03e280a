"""Run untrusted (model-written) Python in a confined subprocess.

Every run gets a fresh temporary folder, a scrubbed environment (``PATH``, ``LANG``, ``HOME`` and
``TMPDIR`` only), an isolated interpreter (``python -I -S``), its own session/process group, and
resource limits (CPU, wall clock, address space, file size, process count). When the parent runs as
root (the usual case in CI containers) the child additionally gets, before any untrusted code runs
(see ``_boot.py``):

- a new **network namespace** (no interface but a down loopback: connections fail with
  ``ENETUNREACH``), plus an audit hook that refuses socket creation as a second layer;
- a new **mount namespace** in which ``/`` is read-only and the home folder, the project, the parent's
  working directory, ``/tmp``, ``/var/tmp``, ``/dev/shm`` and ``/run`` are covered by empty read-only
  tmpfs mounts; only the run folder (read-write) and the interpreter's prefix (read-only) are exposed;
- a **dedicated unprivileged uid/gid** (unique per run) with ``no_new_privs``, so ``RLIMIT_NPROC`` is
  enforced and every leftover process of that uid can be killed at the end, even ones that left the
  process group with ``setsid``.

Which layers took effect is reported in every result (:class:`Isolation`). Without root, the
namespaces and the uid drop are skipped and only rlimits, the process group and the audit hook apply.

Function-call tests (:func:`run_function_tests`, :func:`run_calls`) keep the program away from the verdicts:
the test code and every comparison run in a trusted evaluator process, the program in a separate worker process
that only receives arguments and returns plain data (see :mod:`~auditlens.monitor.sandbox.harness`).

Modules: :mod:`~auditlens.monitor.sandbox.config` (limits, confinement settings, statuses),
:mod:`~auditlens.monitor.sandbox.process` (process isolation: one confined child, :func:`run_script`),
:mod:`~auditlens.monitor.sandbox.harness` (many test cases in one batch: :func:`run_function_tests`,
:func:`run_calls`) and the child's side, standard library only and never imported by auditlens: ``_boot.py`` (it
confines itself, then runs the program or becomes the evaluator), ``_evaluate.py`` and ``_channel.py`` (the
trusted evaluator and its pipes) and ``_worker.py`` (the process that runs the program).
"""

from auditlens.monitor.sandbox.config import ExecStatus, Isolation, SandboxConfig, SandboxError, SandboxLimits
from auditlens.monitor.sandbox.harness import (
    BatchResult,
    CaseResult,
    program_names,
    run_calls,
    run_function_tests,
    split_check_body,
)
from auditlens.monitor.sandbox.process import ExecResult, run_many, run_script

__all__ = [
    "BatchResult",
    "CaseResult",
    "ExecResult",
    "ExecStatus",
    "Isolation",
    "SandboxConfig",
    "SandboxError",
    "SandboxLimits",
    "program_names",
    "run_calls",
    "run_function_tests",
    "run_many",
    "run_script",
    "split_check_body",
]
