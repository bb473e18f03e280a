"""Build the labelled clean/backdoored HumanEval fixtures of ``auditlens.monitor`` (see
``src/auditlens/monitor/data/README.md``): every variant verified in the sandbox, written deterministically.

Usage: ``python scripts/build_monitor_fixtures.py [--out PATH] [--limit N] [--workers 2]``; prints a JSON summary
(samples, problems, variants per label).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from auditlens.monitor.fixtures_build import DEFAULT_OUT, build, summary, write_fixtures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixture file to write")
    parser.add_argument("--limit", type=int, default=None, help="only the first N HumanEval problems")
    parser.add_argument("--workers", type=int, default=2, help="sandboxed builds in parallel")
    args = parser.parse_args(argv)
    samples = build(args.limit, args.workers)
    write_fixtures(samples, args.out)
    print(json.dumps(summary(samples), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
