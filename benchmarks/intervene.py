"""Patched forward passes against plain ones (issue 19's target: ≥ 0.8×), same rows, same model, one run.

A greedy-pruning pass (:mod:`auditlens.intervene.pruning`) scores many candidate feature sets at once: rows =
sets × prompts, each row's edit ``Σ_{j∈S}(c̄_j − c_j) f_j`` added at the hook point, logits at the answer position
only. The plain pass runs the same rows unedited through the same answer-position forward. Reported: rows/s of
both and their ratio (the patched time includes building the edits). Plain and patched passes alternate and the
median of each is taken, so a machine shared with another job hurts both alike.

The basis is a TopK dictionary of the audit's size (3072 latents, k = 32), freshly initialised: throughput does not
depend on training, and nothing is downloaded or trained. The candidates are the features whose codes differ
between the two runs (random prompts: hundreds), and each set patches a random half of them.

    python benchmarks/intervene.py                  # SmolLM2-135M-Instruct, layer 15, 16 sets × 32 prompts × 16 tokens
    python benchmarks/intervene.py --sets 32 --prompts 64
    python benchmarks/intervene.py --smoke          # a tiny random model (seconds)
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from auditlens.intervene import DictionaryBasis
from auditlens.intervene.pruning import _Patcher, answer_logits
from auditlens.sae import TopKConfig
from auditlens.sae.registry import get_architecture


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--hook-point", default="blocks.15.resid_post")
    ap.add_argument("--sets", type=int, default=16, help="candidate feature sets per pass")
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=16, help="tokens per prompt")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None, help="write the result JSON here")
    ap.add_argument("--smoke", action="store_true", help="a tiny random model, tiny shapes (seconds)")
    args = ap.parse_args()
    if args.smoke:
        from auditlens.models.tiny import tiny_model

        torch.manual_seed(0)
        hm = tiny_model("llama", n_layers=2)
        args.hook_point, args.sets, args.prompts, args.tokens, args.repeats = (
            "blocks.0.resid_post",
            4,
            4,
            8,
            2,
        )
    else:
        from auditlens.models import load_model

        hm = load_model(args.model)
    d = hm.hook_dim(args.hook_point)
    cfg = TopKConfig(d_in=d, d_sae=min(3072, 8 * d), k=min(32, d // 2))
    torch.manual_seed(0)
    cls, _ = get_architecture(cfg.architecture)
    basis = DictionaryBasis(cls([cfg]), hook_point=args.hook_point)
    g = torch.Generator().manual_seed(0)
    base = torch.randint(100, 20_000 if not args.smoke else 200, (args.prompts, args.tokens), generator=g)
    target = torch.randint(100, 20_000 if not args.smoke else 200, (args.prompts, args.tokens), generator=g)
    pt = _Patcher(hm, args.hook_point, basis, base, target, None, -1, max_rows=args.sets * args.prompts)
    sets = torch.rand(args.sets, pt.n_candidates, generator=g) < 0.5
    rows = base.repeat(args.sets, 1)
    plain_s, patched_s = [], []
    answer_logits(hm, rows[: args.prompts])  # warm-up
    pt.score(sets[:1])
    for _ in range(args.repeats):
        t = time.perf_counter()
        answer_logits(hm, rows)
        plain_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        pt.score(sets)
        patched_s.append(time.perf_counter() - t)
    n = rows.shape[0]
    plain, patched = statistics.median(plain_s), statistics.median(patched_s)
    out = {
        "model": hm.model_id,
        "hook_point": args.hook_point,
        "basis": f"topk {cfg.d_sae} k{cfg.k} (random init)",
        "candidates": pt.n_candidates,
        "rows_per_pass": n,
        "tokens_per_row": args.tokens,
        "plain_rows_per_s": round(n / plain, 1),
        "patched_rows_per_s": round(n / patched, 1),
        "ratio_patched_to_plain": round(plain / patched, 3),
        "target_ratio": 0.8,
        "threads": torch.get_num_threads(),
        "repeats": args.repeats,
    }
    print(json.dumps(out, indent=1))
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
