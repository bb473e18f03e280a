"""One stacked group of the toy grid: time per training step of the seed's ReLU + L1 autoencoders, by trainer option.

The group is what the replication trains together: every coefficient of one dictionary ratio stacked into one
module (default: the 17 seed coefficients at ratio 8, i.e. 17 × 4,096 × 256, batch 256, divided convention). Each
variant runs in the same process on the same batches, interleaved, so they share the machine's state:

* ``graph + foreach Adam`` — the autograd graph of the forward pass and torch's multi-tensor Adam (what the grid
  used before 2026-11-27);
* ``seed step + foreach Adam`` — the hand-derived backward of ``relu_l1_untied._SeedStep``;
* ``seed step + fused Adam`` — plus torch's fused Adam kernel (the grid's default now);
* ``seed step + fused Adam + bf16`` — plus bfloat16 matrix products (``--bf16`` of the grid).

Prints one JSON object: median seconds per step per variant and ratios against the first.

``--trained N`` measures the sparse path instead (``ReluL1Untied.sparse_density``: on a CPU, members whose codes
are at most 8% non-zero take the decoder product and the backward products as sparse ones). It only engages once
L1 has made codes sparse, so the group first trains N steps (untimed, seed step + fused Adam), then the timed steps
alternate dense / sparse on that same trainer, step by step, and the per-member code densities are printed.

    python benchmarks/seed_step.py                    # ratio 8, 1 thread, ~2 minutes
    python benchmarks/seed_step.py --ratio 32 --threads 2 --steps 3
    python benchmarks/seed_step.py --trained 300 --steps 10
    python benchmarks/seed_step.py --smoke            # ratio 0.25, 1 timed step: does it run?
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from auditlens.sae import Trainer
from auditlens.sae.architectures.relu_l1_untied import ReluL1Untied
from auditlens.toy import ToyDataset
from auditlens.toy.replicate_toy import ToyGridConfig, _dict_config, _trainer_config

VARIANTS = {
    "graph + foreach Adam": (False, False, False),
    "seed step + foreach Adam": (True, False, False),
    "seed step + fused Adam": (True, True, False),
    "seed step + fused Adam + bf16": (True, True, True),
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ratio", type=float, default=8.0, help="dictionary ratio (size / 512 features)")
    p.add_argument("--convention", default="divided", choices=["divided", "undivided"])
    p.add_argument("--steps", type=int, default=5, help="timed steps per variant (after one warm-up step)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--trained", type=int, default=0, help="sparse-path mode: train N steps first (see above)")
    p.add_argument(
        "--smoke", action="store_true", help="ratio 0.25, one timed step, dense path only (seconds)"
    )
    a = p.parse_args()
    if a.smoke:
        a.ratio, a.steps, a.trained = 0.25, 1, 0
    torch.set_num_threads(a.threads)
    if a.trained:
        sparse_after_training(a)
        return
    grid = ToyGridConfig()
    cells = [(a.convention, a.ratio, c) for c in grid.coefficients]
    batches = list(ToyDataset(grid.data).batches(grid.batch_size, a.steps + 1))
    trainers = {}
    for name, (seed_step, fused, bf16) in VARIANTS.items():
        cfg = grid.model_copy(update={"bf16": bf16})
        tcfg = _trainer_config(cfg, a.steps + 1, False).model_copy(update={"fused_adam": fused})
        tr = Trainer([_dict_config(cfg, *c) for c in cells], tcfg)
        tr.initialize_from_data(batches[:1])
        trainers[name] = (tr, seed_step)
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for i, x in enumerate(batches):
        for name, (tr, seed_step) in trainers.items():
            ReluL1Untied.fused_step = seed_step
            t = time.perf_counter()
            tr.train_step(x)
            if i:  # the first step is a warm-up
                times[name].append(time.perf_counter() - t)
    ReluL1Untied.fused_step = True
    med = {name: statistics.median(ts) for name, ts in times.items()}
    first = next(iter(med.values()))
    print(
        json.dumps(
            {
                "benchmark": "seed_step",
                "members": len(cells),
                "d_sae": grid.d_sae(a.ratio),
                "d_in": grid.data.d_model,
                "batch": grid.batch_size,
                "convention": a.convention,
                "threads": a.threads,
                "steps": a.steps,
                "seconds_per_step": {k: round(v, 4) for k, v in med.items()},
                "speedup_vs_graph_foreach": {k: round(first / v, 2) for k, v in med.items()},
            },
            indent=1,
        )
    )


def sparse_after_training(a: argparse.Namespace) -> None:
    from tqdm import tqdm

    grid = ToyGridConfig()
    cells = [(a.convention, a.ratio, c) for c in grid.coefficients]
    batches = ToyDataset(grid.data).batches(grid.batch_size, a.trained + 2 * a.steps + 2)
    tr = Trainer(
        [_dict_config(grid, *c) for c in cells], _trainer_config(grid, a.trained + 2 * a.steps + 2, False)
    )
    ReluL1Untied.fused_step = True
    for _, x in zip(tqdm(range(a.trained), desc="warm-up"), batches, strict=False):
        tr.train_step(x)
    module = tr.modules[0]
    threshold = ReluL1Untied.sparse_density
    times: dict[str, list[float]] = {"dense": [], "sparse": []}
    densities = []
    for i, x in enumerate(batches):
        with torch.no_grad():
            densities.append((module.encode(x) > 0).float().mean((1, 2)))
        for name, value in (("dense", 0.0), ("sparse", threshold)):
            ReluL1Untied.sparse_density = value
            t = time.perf_counter()
            tr.train_step(x)
            if i:
                times[name].append(time.perf_counter() - t)
        if i == a.steps:
            break
    ReluL1Untied.sparse_density = threshold
    med = {name: statistics.median(ts) for name, ts in times.items()}
    density = torch.stack(densities).mean(0)
    print(
        json.dumps(
            {
                "benchmark": "seed_step_sparse",
                "members": len(cells),
                "d_sae": grid.d_sae(a.ratio),
                "convention": a.convention,
                "threads": a.threads,
                "trained_steps": a.trained,
                "timed_steps": a.steps,
                "member_code_density": [round(float(d), 4) for d in density],
                "sparse_density_threshold": threshold,
                "members_sparse": int((density <= threshold).sum()),
                "seconds_per_step": {k: round(v, 4) for k, v in med.items()},
                "sparse_speedup": round(med["dense"] / med["sparse"], 2),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
