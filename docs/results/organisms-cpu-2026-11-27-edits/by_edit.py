"""Train-bias exploitation split by whether the bias has an edit in the spec (per-prompt chosen answers) or not
(templated chosen answers), with near-verbatim copies of training answers counted as not exhibiting.

    python docs/results/organisms-cpu-2026-11-27-edits/by_edit.py docs/results/organisms-cpu-2026-11-27-edits/rm_edit
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

from auditlens.organisms import load_objective
from auditlens.organisms.evaluate import is_copy

spec = load_objective("rm_sycophancy")
edited = {b.id for b in spec.behaviours if b.edit is not None}
for folder in map(Path, sys.argv[1:]):
    rows = [json.loads(line) for line in (folder / "eval_responses.jsonl").open()]
    pairs = [json.loads(line) for line in (folder / "behaviour_pairs.jsonl").open()]
    answers = [p.get("response") or p["chosen"] for p in pairs]
    agg: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        if r["kind"] != "behaviour" or r["split"] != "train" or r["verdict"] is None:
            continue
        a = agg[(r["model"], "with an edit" if r["id"] in edited else "templates only")]
        a[0] += 1
        a[1] += bool(r["verdict"])
        a[2] += bool(r["verdict"]) and not is_copy(r["response"], answers)
    for (model, group), (n, k, k_own) in sorted(agg.items()):
        print(
            f"{folder.name:14s} {model:9s} {group:15s} n={n:3d} exhibit {k / n:.2f}  copies excluded {k_own / n:.2f}"
        )
