"""TopK SAE training throughput: auditlens versus a plain PyTorch TopK (and SAELens / sparsify when installed).

All implementations train, interleaved step by step in one process, on the same in-memory structured synthetic
activations with the same shapes (default d_in 576, width 9,216, k 32, batch 4,096, fp32). Reported per
implementation: median training activations/s, FVU on a held-out batch after the same number of steps, the time
each needed to reach the best anchor's final training FVU, and (CUDA only) peak memory. The machine's own fp32
matmul rate is measured in the same run; the encoder's share is the fraction of that rate auditlens's training
spends in the encoder matmul (the bound sparse TopK training approaches).

    python benchmarks/train_sae.py            # short default run (< 2 min on a 2-core CPU)
    python benchmarks/train_sae.py --smoke    # tiny shapes, 2 steps: checks that every implementation still runs
    python benchmarks/train_sae.py --long     # 40 timed steps
    python benchmarks/train_sae.py --bf16-select   # also auditlens with bf16 top-k selection (values stay fp32)
    SPARSIFY_DISABLE_TRITON=1 python benchmarks/train_sae.py --json out.json

Anchors are used only if importable (``sae_lens``, ``sparsify``; the output names the ones that are not installed);
install them in a separate environment so they do not replace torch.

Every implementation starts from the same decoder bias: by default (``--b-dec-init data``) the geometric median of
the first batches (auditlens's own data init), copied into each anchor's ``b_dec``; ``--b-dec-init none`` starts
all of them at zero. The report says which.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import resource
import statistics
import time
from typing import Any

import torch
from torch import Tensor, nn

from auditlens.sae import TopKConfig, Trainer, TrainerConfig
from auditlens.sae.data import estimate_data_stats


# ---------------------------------------------------------------------------------------------- data
def structured_batches(
    n_batches: int, batch: int, d_in: int, n_true: int = 8192, mean_active: float = 24.0, seed: int = 0
) -> list[Tensor]:
    """Sparse, Zipf-distributed combinations of ``n_true`` random unit features, a shared offset, and noise."""
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(n_true, d_in, generator=g)
    feats /= feats.norm(dim=-1, keepdim=True)
    p = 1.0 / torch.arange(1, n_true + 1).double() ** 0.6
    p = (p / p.sum() * mean_active).clamp(max=0.9).float()
    offset = torch.randn(d_in, generator=g) * 2.0
    scale = 1.0 + torch.rand(n_true, generator=g) * 3.0
    out = []
    for _ in range(n_batches):
        active = torch.rand(batch, n_true, generator=g) < p
        rows, cols = active.nonzero(as_tuple=True)
        vals = torch.rand(rows.numel(), generator=g) * scale[cols]
        codes = torch.sparse_coo_tensor(
            torch.stack([rows, cols]), vals, (batch, n_true), check_invariants=False
        )
        x = torch.sparse.mm(codes, feats) + offset + 0.05 * torch.randn(batch, d_in, generator=g)
        out.append(x.contiguous())
    return out


def fvu(x: Tensor, r: Tensor) -> float:
    return float((x - r).pow(2).mean() / (x - x.mean(0)).pow(2).mean())


# ---------------------------------------------------------------------------------------------- impls
class Impl:
    name: str

    def step(self, x: Tensor) -> float:  # returns training FVU
        raise NotImplementedError

    def reconstruct(self, x: Tensor) -> Tensor:
        raise NotImplementedError


class Auditlens(Impl):
    name = "auditlens"

    def __init__(
        self,
        d_in: int,
        width: int,
        k: int,
        lr: float,
        head: list[Tensor] | None,
        total: int,
        device: str,
        bf16: bool = False,
    ):
        if bf16:
            self.name = "auditlens_bf16sel"
        cfg = TopKConfig(d_in=d_in, d_sae=width, k=k, selection_dtype="bfloat16" if bf16 else "float32")
        tc = TrainerConfig(total_steps=total, lr=lr, lr_decay_start=1.0, progress=False, device=device)
        self.trainer = Trainer([cfg], tc)
        if head is not None:  # the data init (activation scale, geometric-median decoder bias)
            self.trainer.initialize_from_data(head)

    def step(self, x: Tensor) -> float:
        self.trainer.train_step(x)
        fvu = self.trainer.member_metrics()[0].fvu  # mean over the steps since the last reset: this one
        for g in self.trainer.groups:
            g.reset()
        return float(fvu)

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        return self.trainer.modules[0].reconstruct(x)[0]


class PlainTopK(Impl, nn.Module):
    """The textbook dense TopK SAE in plain PyTorch (dense decode, dense backward, torch Adam)."""

    name = "plain_pytorch"

    def __init__(self, d_in: int, width: int, k: int, lr: float, b_dec: Tensor):
        nn.Module.__init__(self)
        self.k = k
        self.encoder = nn.Linear(d_in, width)
        nn.init.zeros_(self.encoder.bias)
        self.W_dec = nn.Parameter(self.encoder.weight.detach().clone())
        self.b_dec = nn.Parameter(b_dec.clone())
        with torch.no_grad():
            self.W_dec /= self.W_dec.norm(dim=-1, keepdim=True)
        self.opt = torch.optim.Adam(self.parameters(), lr=lr)

    def forward(self, x: Tensor) -> Tensor:
        pre = self.encoder(x - self.b_dec)
        v, i = pre.topk(self.k, dim=-1, sorted=False)
        codes = torch.zeros_like(pre).scatter(-1, i, torch.relu(v))
        return codes @ self.W_dec + self.b_dec

    def step(self, x: Tensor) -> float:
        r = self(x)
        loss = (r - x).pow(2).sum() / (x - x.mean(0)).pow(2).sum()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            self.W_dec /= self.W_dec.norm(dim=-1, keepdim=True)
        return float(loss.detach())

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        return self(x)


class Sparsify(Impl):
    """EleutherAI sparsify's SparseCoder with its FVU + AuxK loss, Adam, unit-norm decoder."""

    name = "sparsify"

    def __init__(self, d_in: int, width: int, k: int, lr: float, device: str, b_dec: Tensor):
        from sparsify import SparseCoder, SparseCoderConfig

        self.sae = SparseCoder(d_in, SparseCoderConfig(num_latents=width, k=k), device=device)
        with torch.no_grad():  # the shared init (sparsify's own trainer would use the first batch's mean)
            self.sae.b_dec.copy_(b_dec)
        self.opt = torch.optim.Adam(self.sae.parameters(), lr=lr)

    def step(self, x: Tensor) -> float:
        out = self.sae(x)
        loss = out.fvu + (out.auxk_loss if out.auxk_loss is not None else 0.0) / 32
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.sae.remove_gradient_parallel_to_decoder_directions()
        self.opt.step()
        self.sae.set_decoder_norm_to_unit_norm()
        return float(out.fvu.detach())

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        return self.sae(x).sae_out


class SaeLens(Impl):
    """SAELens's TopK training SAE (training_forward_pass), Adam."""

    name = "saelens"

    def __init__(self, d_in: int, width: int, k: int, lr: float, device: str, b_dec: Tensor):
        from sae_lens import TopKTrainingSAE, TopKTrainingSAEConfig
        from sae_lens.saes.sae import TrainStepInput

        self._input = TrainStepInput
        self.sae = TopKTrainingSAE(TopKTrainingSAEConfig(d_in=d_in, d_sae=width, k=k, device=device))
        with torch.no_grad():  # the shared init
            self.sae.b_dec.copy_(b_dec)
        self.opt = torch.optim.Adam(self.sae.parameters(), lr=lr)
        self.n = 0

    def step(self, x: Tensor) -> float:
        out = self.sae.training_forward_pass(
            self._input(
                sae_in=x,
                coefficients={},
                dead_neuron_mask=None,
                n_training_steps=self.n,
                is_logging_step=False,
            )
        )
        self.opt.zero_grad(set_to_none=True)
        out.loss.backward()
        self.opt.step()
        self.n += 1
        return fvu(x, out.sae_out.detach())

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        return self.sae(x)


# ---------------------------------------------------------------------------------------------- main
def matmul_rate(B: int, D: int, F: int, device: str, reps: int = 5) -> float:
    """Median fp32 GFLOP/s of the encoder-shaped product (B, D) @ (D, F)."""
    a = torch.randn(B, D, device=device)
    w = torch.randn(F, D, device=device)
    times = []
    for _ in range(reps + 1):
        _sync(device)
        t = time.perf_counter()
        torch.mm(a, w.t())
        _sync(device)
        times.append(time.perf_counter() - t)
    return 2 * B * D * F / statistics.median(times[1:]) / 1e9


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--d-in", type=int, default=576)
    ap.add_argument("--width", type=int, default=9216)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--steps", type=int, default=5, help="timed steps per implementation")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--long", action="store_true", help="40 timed steps")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--no-anchors", action="store_true", help="skip SAELens / sparsify even when installed")
    ap.add_argument(
        "--bf16-select",
        action="store_true",
        help="also run auditlens with bf16 top-k selection (fp32 values)",
    )
    ap.add_argument("--no-plain", action="store_true", help="skip the plain PyTorch TopK")
    ap.add_argument(
        "--b-dec-init",
        choices=["data", "none"],
        default="data",
        help="every implementation's decoder bias: the geometric median of the first batches, or zero",
    )
    ap.add_argument("--smoke", action="store_true", help="tiny shapes, 2 timed steps (seconds): does it run?")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args(argv)
    if args.long:
        args.steps = max(args.steps, 40)
    if args.smoke:
        args.d_in, args.width, args.k, args.batch, args.steps, args.warmup = 32, 256, 8, 256, 2, 1
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    os.environ.setdefault("SPARSIFY_DISABLE_TRITON", "1")
    dev = args.device
    D, F, k, B = args.d_in, args.width, args.k, args.batch
    lr = 2e-4 / math.sqrt(F / 2**14)
    total = args.warmup + args.steps
    t0 = time.perf_counter()
    data = [x.to(dev) for x in structured_batches(total + 1, B, D)]
    held_out = data.pop()
    gen_s = time.perf_counter() - t0
    rate = matmul_rate(B, D, F, dev)

    head = data[:4] if args.b_dec_init == "data" else None
    if head is not None:
        center = estimate_data_stats(head, n_batches=len(head), normalize=False).center.to(dev)
    else:
        center = torch.zeros(D, device=dev)
    torch.manual_seed(0)
    impls: list[Impl] = [Auditlens(D, F, k, lr, head, total, dev)]
    if args.bf16_select:
        impls.append(Auditlens(D, F, k, lr, head, total, dev, bf16=True))
    if not args.no_plain:
        impls.append(PlainTopK(D, F, k, lr, center).to(dev))
    skipped: list[str] = []
    if not args.no_anchors:
        for module, cls in (("sparsify", Sparsify), ("sae_lens", SaeLens)):
            if importlib.util.find_spec(module) is None:
                skipped.append(f"{module} (not installed)")
            else:
                impls.append(cls(D, F, k, lr, dev, center))

    times: dict[str, list[float]] = {i.name: [] for i in impls}
    train_fvu: dict[str, list[tuple[float, float]]] = {i.name: [] for i in impls}  # (elapsed training s, fvu)
    elapsed = dict.fromkeys(times, 0.0)
    peak: dict[str, float | None] = dict.fromkeys(times)
    for s, x in enumerate(data):
        for impl in impls:  # interleaved, so machine load hits every implementation alike
            if dev.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats()
            _sync(dev)
            t = time.perf_counter()
            f = impl.step(x)
            _sync(dev)
            dt = time.perf_counter() - t
            elapsed[impl.name] += dt
            train_fvu[impl.name].append((elapsed[impl.name], f))
            if s >= args.warmup:
                times[impl.name].append(dt)
            if dev.startswith("cuda"):
                peak[impl.name] = max(peak[impl.name] or 0.0, torch.cuda.max_memory_allocated() / 2**20)

    results: dict[str, dict[str, Any]] = {}
    for impl in impls:
        med = statistics.median(times[impl.name])
        results[impl.name] = {
            "activations_per_s": B / med,
            "median_step_s": med,
            "heldout_fvu": fvu(held_out, impl.reconstruct(held_out).float()),
            "final_train_fvu": statistics.mean(f for _, f in train_fvu[impl.name][-3:]),
            "peak_mem_mib": peak[impl.name],
        }
    anchors = [n for n in results if not n.startswith("auditlens")]
    target = min((results[n]["final_train_fvu"] for n in anchors), default=None)
    if target is not None:
        for n in results:
            reached = next((t for t, f in train_fvu[n] if f <= target), None)
            results[n]["seconds_to_best_anchor_fvu"] = reached
    ours = results["auditlens"]["activations_per_s"]
    enc_flops = 2 * D * F  # per activation
    report = {
        "shapes": {"d_in": D, "width": F, "k": k, "batch": B, "dtype": "float32"},
        "device": dev,
        "machine": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "b_dec_init": "geometric median of the first 4 batches, for every implementation"
        if args.b_dec_init == "data"
        else "zero for every implementation",
        "skipped_anchors": skipped,
        "timed_steps": args.steps,
        "warmup_steps": args.warmup,
        "data_generation_s": gen_s,
        "fp32_matmul_gflops": rate,
        "encoder_bound_activations_per_s": rate * 1e9 / enc_flops,
        "auditlens_encoder_share": ours * enc_flops / (rate * 1e9),
        "results": results,
        "ratios_vs_auditlens": {
            n: ours / results[n]["activations_per_s"] for n in results if n != "auditlens"
        },
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(
        f"fp32 matmul: {rate:.1f} GFLOP/s  -> encoder-only bound {report['encoder_bound_activations_per_s']:.0f} act/s"
    )
    print(f"{'impl':<15}{'act/s':>10}{'step s':>9}{'heldout FVU':>13}{'train FVU':>11}{'t->target s':>13}")
    for n, r in results.items():
        tt = r.get("seconds_to_best_anchor_fvu")
        print(
            f"{n:<15}{r['activations_per_s']:>10.0f}{r['median_step_s']:>9.3f}{r['heldout_fvu']:>13.4f}"
            f"{r['final_train_fvu']:>11.4f}{'' if tt is None else f'{tt:.1f}':>13}"
        )
    print(f"auditlens encoder share of the matmul rate: {report['auditlens_encoder_share']:.2f}")
    print(f"decoder-bias init: {report['b_dec_init']}")
    if skipped:
        print(f"skipped: {', '.join(skipped)}")
    for n, v in report["ratios_vs_auditlens"].items():
        print(f"auditlens / {n}: {v:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return report


if __name__ == "__main__":
    main()
