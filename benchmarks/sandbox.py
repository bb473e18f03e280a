"""Sandboxed test-case executions per second (target: at least 20/s on a 2-core machine).

Two workloads, both with full isolation (namespaces + uid drop when run as root):

- ``function_batched``: the canonical solutions of the first N HumanEval problems against all of their
  test cases — one sandboxed harness process per problem running every case;
- ``stdio_per_process``: an APPS-style stdin/stdout program, one sandboxed process per test case.

Prints one JSON object. Usage: ``python benchmarks/sandbox.py [--problems 40] [--stdio-runs 40] [--smoke]``
(``--smoke``: 3 problems and 6 stdio runs, to check that it runs; its rates are not comparable with the target).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

from auditlens.monitor.problems import load_humaneval
from auditlens.monitor.sandbox import SandboxConfig, run_function_tests, run_many, run_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=40)
    parser.add_argument("--stdio-runs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="A few executions (checks that it runs).")
    args = parser.parse_args()
    if args.smoke:
        args.problems, args.stdio_runs = 3, 6
    config = SandboxConfig()
    problems = load_humaneval()[: args.problems]

    def one_problem(p):  # type: ignore[no-untyped-def]
        return run_function_tests(p.reference_solution, p.test_code, p.entry_point, config)

    t0 = time.perf_counter()
    batches = run_many(one_problem, problems, workers=args.workers)
    t_fn = time.perf_counter() - t0
    cases = sum(b.n_cases for b in batches)
    passed = sum(b.n_passed for b in batches)

    src = "a, b = map(int, input().split())\nprint(a + b)\n"
    t0 = time.perf_counter()
    runs = run_many(
        lambda i: run_script(src, f"{i} {i + 1}\n", config), list(range(args.stdio_runs)), args.workers
    )
    t_io = time.perf_counter() - t0
    ok = sum(r.stdout.strip() == str(2 * i + 1) for i, r in enumerate(runs))
    iso = runs[0].isolation
    print(
        json.dumps(
            {
                "smoke": args.smoke,
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "root": os.geteuid() == 0,
                },
                "workers": args.workers,
                "isolation": iso.model_dump() if iso else None,
                "function_batched": {
                    "problems": len(problems),
                    "executions": cases,
                    "passed": passed,
                    "processes": sum(b.processes for b in batches),
                    "seconds": round(t_fn, 3),
                    "executions_per_s": round(cases / t_fn, 1),
                },
                "stdio_per_process": {
                    "executions": len(runs),
                    "correct": ok,
                    "seconds": round(t_io, 3),
                    "executions_per_s": round(len(runs) / t_io, 1),
                },
                "target_per_s": 20,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
