"""Where the seed step's sparse path starts to pay: one training step (forward + backward of ``_SeedStep``) of a stack
of seed-layout members whose codes have a set density, with every member dense (``sparse_density=0``) against every
member sparse (``sparse_density=1``), on a CPU.

The density is set by the encoder bias (each member's bias is the (1 − ρ) quantile of its pre-activations on the
batch), so the products are those of a trained member at that density. The two variants alternate step by step on the
same tensors (``--steps`` timed steps each after one warm-up); the median seconds per step and the dense / sparse
ratio are printed per density, as one JSON object, with the largest density at which sparse is still faster.
``ReluL1Untied.sparse_density`` (the threshold the trainer uses) should sit at or a little under that break-even.

    python benchmarks/sparse_threshold.py                      # 4 members × 4,096 latents, 1 thread, ~2 minutes
    python benchmarks/sparse_threshold.py --d-sae 16384 --members 2
    python benchmarks/sparse_threshold.py --smoke     # tiny shapes, two densities: does it run?
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from auditlens.cpu_memory import keep_freed_memory
from auditlens.sae.architectures.relu_l1_untied import ReluL1Untied, _SeedStep


def step_seconds(x: torch.Tensor, params: list[torch.Tensor], alpha: torch.Tensor, sparse: float) -> float:
    for p in params:
        p.grad = None
    t = time.perf_counter()
    total = _SeedStep.apply(x, *params, alpha, 1.0, sparse)[0]
    total.sum().backward()
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--members", type=int, default=4, help="stacked members (all at the same density)")
    p.add_argument("--d-sae", type=int, default=4096)
    p.add_argument("--d-in", type=int, default=256)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--densities", default="0.01,0.02,0.05,0.08,0.1,0.12,0.15,0.2,0.3")
    p.add_argument("--steps", type=int, default=5, help="timed steps per variant and density")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--smoke", action="store_true", help="2 members × 256 latents, two densities (seconds)")
    a = p.parse_args()
    if a.smoke:
        a.members, a.d_sae, a.d_in, a.batch, a.densities, a.steps = 2, 256, 32, 64, "0.05,0.2", 1
    torch.set_num_threads(a.threads)
    keep_freed_memory()  # as the trainer does on a CPU
    gen = torch.Generator().manual_seed(0)
    n, F, D, B = a.members, a.d_sae, a.d_in, a.batch
    x = torch.randn(B, D, generator=gen)
    W_enc = (torch.randn(n, F, D, generator=gen) / D**0.5).requires_grad_()
    W_dec = torch.randn(n, F, D, generator=gen).requires_grad_()
    alpha = torch.full((n,), 1e-3)
    pre = torch.bmm(x.expand(n, B, D), W_enc.detach().transpose(1, 2))
    rows = []
    for rho in (float(v) for v in a.densities.split(",")):
        cut = torch.quantile(pre.reshape(n, -1)[:, :: max(1, B * F // 2**20)], 1 - rho, dim=1)
        b_enc = (-cut[:, None].expand(n, F)).contiguous().requires_grad_()
        params = [W_enc, b_enc, W_dec]
        times: dict[str, list[float]] = {"dense": [], "sparse": []}
        for i in range(a.steps + 1):
            for name, value in (("dense", 0.0), ("sparse", 1.0)):
                s = step_seconds(x, params, alpha, value)
                if i:
                    times[name].append(s)
        with torch.no_grad():
            measured = float(
                (torch.bmm(x.expand(n, B, D), W_enc.transpose(1, 2)) + b_enc[:, None]).gt(0).float().mean()
            )
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append(
            {
                "density": round(measured, 4),
                "dense_s": round(med["dense"], 4),
                "sparse_s": round(med["sparse"], 4),
                "dense_over_sparse": round(med["dense"] / med["sparse"], 2),
            }
        )
    faster = [r["density"] for r in rows if r["dense_over_sparse"] > 1]
    print(
        json.dumps(
            {
                "benchmark": "sparse_threshold",
                "members": n,
                "d_sae": F,
                "d_in": D,
                "batch": B,
                "threads": a.threads,
                "steps": a.steps,
                "threshold_in_use": ReluL1Untied.sparse_density,
                "largest_density_sparse_faster": max(faster) if faster else None,
                "rows": rows,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
