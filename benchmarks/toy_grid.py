"""Toy-grid training throughput: many dictionaries per batch (auditlens Trainer) vs one at a time (plain PyTorch).

Both sides train the same sub-grid of seed-style ReLU+L1 autoencoders (untied, decoder rows renormalised in the
forward pass, MSE + α·mean‖c‖₁/d_sae, Adam lr 1e-3) on the same toy data stream for the same number of steps:

* ``stacked``: every configuration in one :class:`auditlens.sae.Trainer` — coefficients of one size stacked into one
  vectorised group, all sizes fed from one data batch per step (the replication's code path);
* ``one_at_a_time``: a hand-written PyTorch loop per configuration (nn.Linear encoder/decoder, its own Adam).

By default the data batches are generated once beforehand and fed to both sides, so the ratio measures training
only; ``--regenerate-data`` makes the one-at-a-time side draw its own stream per configuration, as a naive sweep
does (the stacked side always draws it once).

Prints one JSON object with both wall times, dictionaries·steps per second and the speed-up ratio.

Both sides use torch's fused Adam (the best setting on CPU and GPU; before 2026-11-27 the CPU runs used the slower
multi-tensor Adam on both sides). ``--bf16`` runs both sides with bfloat16 matrix products (autocast).

Measured now (2026-11-27, 2-core dev box, one thread, the other core busy with other jobs): ``--steps 8000`` (the
seed's length) **2.50×** (stacked 609 s vs 1,523 s one at a time), ``--steps 1000`` **1.96×** (92.9 s vs 182.5 s),
default 100 steps 1.38× (16.2 s vs 22.3 s, the other core idle; 0.95× before the changes below, when both sides ran
the same dense products until L1 made codes sparse). The stacked side wins
on a CPU by running sparse-coded members' products over their non-zero codes (``seed_step.py --trained``) and by not
re-faulting its large temporaries every step (glibc malloc keeps freed memory, ``auditlens.cpu_memory``, applied by
the ``Trainer`` on a CPU — process-wide, so the one-at-a-time side runs with it too; its tensors are small and it
gains little: 1,524 → 1,523 s). On one NVIDIA H100: 2.13× (default sub-grid, 300 steps) and 2.10× (the seed's full
17 × 8 grid of one convention, 136 dictionaries, 100 steps), with older stacked code.

History on the CPU, for the record: 0.95× at 100 steps (0.89× ``--bf16``, 1.07× ``--regenerate-data``) with the
hand-derived step and fused Adam; before that 0.97× / 1.21× (multi-tensor Adam, autograd graph), 0.62× with 16 threads
on the H100 host's CPU; with the sparse path, 1.41× at 1,000 steps and 1.79× at 8,000 (851 s vs 1,524 s); then the
allocator setting and copy-free gradient writes gave the numbers above.

    python benchmarks/toy_grid.py                 # default sub-grid, ~1 minute on 1 core
    python benchmarks/toy_grid.py --steps 50 --threads 2
    python benchmarks/toy_grid.py --smoke         # tiny shapes, a few steps: a check that it runs (seconds)
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import torch
from torch import nn

from auditlens.sae import ReluL1UntiedConfig, Trainer, TrainerConfig
from auditlens.toy import ToyDataConfig, ToyDataset


def plain_one(batches: list[torch.Tensor], d_sae: int, alpha: float, seed: int, bf16: bool = False) -> float:
    """The seed's autoencoder, trained alone in a plain loop (fused Adam; autocast when ``bf16``); returns the final
    loss."""
    torch.manual_seed(seed)
    d = batches[0].shape[1]
    enc = nn.Linear(d, d_sae).to(batches[0].device)
    dec = nn.Linear(d_sae, d, bias=False).to(batches[0].device)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3, fused=True)
    loss = torch.tensor(0.0)
    for x in batches:
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
            w = nn.functional.normalize(dec.weight, dim=0)
            c = torch.relu(enc(x))
            loss = nn.functional.mse_loss(c @ w.T, x) + alpha * c.abs().sum(-1).mean() / d_sae
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.detach())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ratios", default="0.25,0.5,1,2", help="dictionary ratios of the sub-grid")
    p.add_argument("--coefficients", type=int, default=8, help="how many coefficients per ratio")
    p.add_argument("--steps", type=int, default=100, help="training steps per dictionary")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--n-features", type=int, default=512)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument(
        "--regenerate-data",
        action="store_true",
        help="one-at-a-time side draws its own data stream per configuration (as a naive sweep does)",
    )
    p.add_argument(
        "--bf16",
        action="store_true",
        help="bfloat16 matrix products on both sides (autocast; float32 weights)",
    )
    p.add_argument(
        "--smoke",
        action="store_true",
        help="tiny shapes and a few steps (d 16, 32 features, ratios 0.5 and 1, 2 coefficients, 10 steps of 64 "
        "rows): checks the benchmark runs, in seconds; its times mean nothing",
    )
    a = p.parse_args()
    if a.smoke:
        a.ratios, a.coefficients, a.steps, a.batch, a.d_model, a.n_features = "0.5,1", 2, 10, 64, 16, 32
    torch.set_num_threads(a.threads)
    ratios = [float(r) for r in a.ratios.split(",")]

    def sync() -> None:
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()

    coefs = [10 ** (k / 4) for k in range(-(a.coefficients // 2), a.coefficients - a.coefficients // 2)]
    ds = ToyDataset(ToyDataConfig(d_model=a.d_model, n_features=a.n_features))
    sizes = [max(1, round(r * a.n_features)) for r in ratios]
    n_dicts = len(sizes) * len(coefs)

    configs = [
        ReluL1UntiedConfig(
            d_in=a.d_model, d_sae=s, coefficient=c, divide_by_dict_size=True, name=f"s{s}_c{i}", seed=0
        )
        for s in sizes
        for i, c in enumerate(coefs)
    ]
    tcfg = TrainerConfig(
        total_steps=a.steps,
        lr=1e-3,
        lr_decay_start=1.0,
        normalize_activations=False,
        b_dec_init="zeros",
        stats_batches=1,
        progress=False,
        fused_adam=True,
        matmul_dtype="bfloat16" if a.bf16 else "float32",
        log_every=a.steps,
        device=a.device,
    )
    t = time.perf_counter()
    batches = [b.to(a.device) for b in itertools.islice(ds.batches(a.batch), a.steps)]
    data_s = time.perf_counter() - t
    t = time.perf_counter()
    Trainer(configs, tcfg).train(batches)
    sync()
    stacked = time.perf_counter() - t

    t = time.perf_counter()
    for s in sizes:
        for c in coefs:
            own = (
                [b.to(a.device) for b in itertools.islice(ds.batches(a.batch), a.steps)]
                if a.regenerate_data
                else batches
            )
            plain_one(own, s, c, 0, a.bf16)
    sync()
    plain = time.perf_counter() - t

    print(
        json.dumps(
            {
                "benchmark": "toy_grid",
                "smoke": a.smoke,
                "dictionaries": n_dicts,
                "sizes": sizes,
                "coefficients": len(coefs),
                "steps": a.steps,
                "batch": a.batch,
                "threads": a.threads,
                "device": a.device,
                "bf16": a.bf16,
                "one_at_a_time_regenerates_data": a.regenerate_data,
                "data_seconds": round(data_s, 3),
                "stacked_seconds": round(stacked, 3),
                "one_at_a_time_seconds": round(plain, 3),
                "stacked_dict_steps_per_s": round(n_dicts * a.steps / stacked, 1),
                "one_at_a_time_dict_steps_per_s": round(n_dicts * a.steps / plain, 1),
                "speedup": round(plain / stacked, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
