"""CPU training step with and without glibc malloc keeping freed memory (``auditlens.cpu_memory``).

The allocator setting is process-wide and fixed once set, so each side runs in its own subprocess (the same code, the
same sub-grid, the same data): ``keep`` (the default of the ``auditlens`` command and of ``Trainer`` on a CPU) and
``return`` (``AUDITLENS_KEEP_FREED_MEMORY=0``: glibc's own adaptive thresholds). Each side trains the toy grid's
default benchmark sub-grid (ratios 0.25–2 of 512 features, 8 coefficients, 32 seed-layout dictionaries, batch 256,
one thread) for ``--warm`` steps, so that codes are as sparse as they get early in a run, then times ``--steps``
steps and counts the minor page faults of the whole process. The sides alternate ``--repeats`` times; the best time
of each is reported, and the ratio of the two.

Measured (2026-11-27, 2-core dev box, 1 thread, defaults, the other core mostly idle): kept 78.9 / 73.7 ms/step,
returned 91.1 / 98.8 ms/step, **1.24×**; minor faults in the 200 timed steps: 0–2 kept, 1.6–2.0 million returned.
(Before the step itself stopped allocating a 64 MiB int64 mask per group, the same comparison was 86 vs 110–127 ms.)

    python benchmarks/cpu_allocator.py              # ~8 minutes on one core
    python benchmarks/cpu_allocator.py --warm 300 --steps 100 --repeats 1
    python benchmarks/cpu_allocator.py --smoke      # 5 + 5 steps, one repeat: does it run?
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

_CHILD = r"""
import itertools, json, resource, sys, time
import torch
from auditlens.sae import ReluL1UntiedConfig, Trainer, TrainerConfig
from auditlens.toy import ToyDataConfig, ToyDataset

warm, steps = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(1)
coefs = [10 ** (k / 4) for k in range(-4, 4)]
configs = [
    ReluL1UntiedConfig(d_in=256, d_sae=s, coefficient=c, divide_by_dict_size=True, name=f"s{s}_c{i}", seed=0)
    for s in (128, 256, 512, 1024)
    for i, c in enumerate(coefs)
]
tcfg = TrainerConfig(
    total_steps=warm + steps, lr=1e-3, lr_decay_start=1.0, normalize_activations=False, b_dec_init="zeros",
    stats_batches=1, progress=False, log_every=10**9,
)
batches = list(itertools.islice(ToyDataset(ToyDataConfig()).batches(256), warm + steps))
tr = Trainer(configs, tcfg)
tr.train(batches[:warm])
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
t = time.perf_counter()
for x in batches[warm:]:
    tr.train_step(x)
ms = (time.perf_counter() - t) / steps * 1000
print(json.dumps({"ms_per_step": ms, "minor_faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults}))
"""


def _side(keep: bool, warm: int, steps: int) -> dict[str, float]:
    env = {**os.environ, "AUDITLENS_KEEP_FREED_MEMORY": "1" if keep else "0"}
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        env.pop(name, None)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(warm), str(steps)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--warm", type=int, default=1000, help="steps trained before timing")
    p.add_argument("--steps", type=int, default=200, help="steps timed")
    p.add_argument("--repeats", type=int, default=2, help="alternations of the two sides")
    p.add_argument("--smoke", action="store_true", help="5 warm and 5 timed steps, one repeat (seconds)")
    a = p.parse_args()
    if a.smoke:
        a.warm, a.steps, a.repeats = 5, 5, 1
    runs: dict[str, list[dict[str, float]]] = {"keep": [], "return": []}
    for _ in range(a.repeats):
        runs["keep"].append(_side(True, a.warm, a.steps))
        runs["return"].append(_side(False, a.warm, a.steps))
    best = {k: min(r["ms_per_step"] for r in v) for k, v in runs.items()}
    print(
        json.dumps(
            {
                "benchmark": "cpu_allocator",
                "warm_steps": a.warm,
                "timed_steps": a.steps,
                "ms_per_step": {k: [round(r["ms_per_step"], 2) for r in v] for k, v in runs.items()},
                "minor_faults": {k: [int(r["minor_faults"]) for r in v] for k, v in runs.items()},
                "best_keep_ms": round(best["keep"], 2),
                "best_return_ms": round(best["return"], 2),
                "speedup": round(best["return"] / best["keep"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
