"""Sandboxed test-case executions per second (target: at least 20/s on a 2-core machine).

Two workloads, both with full isolation (namespaces + uid drop when run as root):

- ``function_batched``: the canonical solutions of the first N HumanEval problems against all of their
  test cases — one sandboxed harness process per problem running every case;
- ``stdio_per_process``: an APPS-style stdin/stdout program, one sandboxed process per test case.

In the function-call mode each harness process tree holds the trusted evaluator (the test code) and one worker
process running the program (see ``auditlens.monitor.sandbox.harness``); ``processes`` counts the workers.

Prints one JSON object (and writes it to ``--json PATH`` if given). Usage:
``python benchmarks/sandbox.py [--problems 40] [--stdio-runs 40] [--repeat 1] [--json PATH] [--smoke]``
(``--smoke``: 3 problems and 6 stdio runs, to check that it runs; its rates are not comparable with the target;
``--repeat N``: run both workloads N times and report each run's rates and the best).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from auditlens.monitor.problems import load_humaneval
from auditlens.monitor.sandbox import SandboxConfig, run_function_tests, run_many, run_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=40)
    parser.add_argument("--stdio-runs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--repeat", type=int, default=1, help="Runs of both workloads (the best is reported)."
    )
    parser.add_argument("--json", type=Path, default=None, help="Also write the result object here.")
    parser.add_argument("--smoke", action="store_true", help="A few executions (checks that it runs).")
    args = parser.parse_args()
    if args.smoke:
        args.problems, args.stdio_runs = 3, 6
    config = SandboxConfig()
    problems = load_humaneval()[: args.problems]

    def one_problem(p):  # type: ignore[no-untyped-def]
        return run_function_tests(p.reference_solution, p.test_code, p.entry_point, config)

    src = "a, b = map(int, input().split())\nprint(a + b)\n"
    fn_runs: list[dict[str, float | int]] = []
    io_runs: list[dict[str, float | int]] = []
    iso = None
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        batches = run_many(one_problem, problems, workers=args.workers)
        t_fn = time.perf_counter() - t0
        cases = sum(b.n_cases for b in batches)
        fn_runs.append(
            {
                "executions": cases,
                "passed": sum(b.n_passed for b in batches),
                "processes": sum(b.processes for b in batches),
                "seconds": round(t_fn, 3),
                "executions_per_s": round(cases / t_fn, 1),
            }
        )
        t0 = time.perf_counter()
        runs = run_many(
            lambda i: run_script(src, f"{i} {i + 1}\n", config), list(range(args.stdio_runs)), args.workers
        )
        t_io = time.perf_counter() - t0
        io_runs.append(
            {
                "executions": len(runs),
                "correct": sum(r.stdout.strip() == str(2 * i + 1) for i, r in enumerate(runs)),
                "seconds": round(t_io, 3),
                "executions_per_s": round(len(runs) / t_io, 1),
            }
        )
        iso = runs[0].isolation
    best_fn = max(fn_runs, key=lambda r: r["executions_per_s"])
    best_io = max(io_runs, key=lambda r: r["executions_per_s"])
    result = {
        "smoke": args.smoke,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "root": os.geteuid() == 0,
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "workers": args.workers,
        "isolation": iso.model_dump() if iso else None,
        "function_batched": {"problems": len(problems), **best_fn},
        "stdio_per_process": best_io,
        "runs": {"function_batched": fn_runs, "stdio_per_process": io_runs},
        "target_per_s": 20,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
