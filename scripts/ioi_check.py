"""Does a model solve IOI? (issue 19, item 4, first step): logit difference and accuracy over templates × orders.

python scripts/ioi_check.py --out docs/results/ioi-smollm2-2026-12-04/ioi.json   # SmolLM2, 240 prompts (~1 min)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from auditlens.intervene.ioi import TEMPLATES, ioi_prompts, ioi_score, same_length_groups
from auditlens.models import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("-n", type=int, default=240, help="prompts (cycled over templates and both name orders)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    hm = load_model(args.model)
    prompts = ioi_prompts(hm.tokenizer, n=args.n, seed=args.seed)
    score = ioi_score(hm, prompts)
    out = {
        "model": hm.model_id,
        "seed": args.seed,
        "templates": TEMPLATES,
        "examples": [p.text + " →" + " " + p.io for p in prompts[:4]],
        "same_length_groups": {str(k): len(v) for k, v in same_length_groups(prompts).items()},
        "score": score.model_dump(mode="json"),
    }
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
