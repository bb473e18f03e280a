"""Reproduce docs/results/faking-classifiers/: every faking classifier on the dev (tuning) set, thresholds frozen
there, then on the held-out calibration set.

    PYTHONPATH=src python scripts/faking_classifier_calibration.py [OUT_DIR] [--llm SPEC]

OUT_DIR defaults to docs/results/faking-classifiers. ``--llm SPEC`` (e.g. ``local``, ``openai:<model>``) adds the
LLM classifier of every task through auditlens.llm.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from auditlens.faking.report import run_classifier_calibration


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", nargs="?", default="docs/results/faking-classifiers", type=Path)
    ap.add_argument(
        "--llm", default=None, help="auditlens.llm spec for the LLM classifiers (default: rules only)"
    )
    ap.add_argument("--tuning-only", action="store_true", help="score the dev set only (no held-out numbers)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    client = None
    if args.llm:
        from auditlens.llm import make_client

        client = make_client(args.llm)
    report = run_classifier_calibration(args.out_dir, heldout=not args.tuning_only, llm_client=client)
    for r in report.results:
        logging.info("%-28s %-12s AUROC %s", r.classifier, r.dataset, r.auroc.text())


if __name__ == "__main__":
    main()
