"""Dashboard generation speed: statistics + examples + HTML for a 16k-feature dictionary on a synthetic store.

A tiny random Llama (``d_model = --d-in``, byte tokenizer) is harvested over random text into a temporary store;
an untrained TopK dictionary (random unit decoder, encoder = decoder, so exactly ``k`` latents fire per token and
features fire at realistic, varied rates) is read through :func:`auditlens.interpret.interpret_features`, which
runs the one-pass scan, builds examples and statistics (with promoted/suppressed tokens through the model's
unembedding) and writes the dashboard. The encoder's own cost is timed separately, so the overhead of the
accumulators can be read off.

    python benchmarks/dashboard.py                          # 16,384 features × 32,768 tokens, ~1-2 min on 2 cores
    python benchmarks/dashboard.py --tokens 131072 --device cuda
    python benchmarks/dashboard.py --smoke                  # 256 features × 2,048 tokens: does it run?

Prints one JSON object: seconds per phase, features/s, tokens/s, dashboard size, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from pathlib import Path

import torch

from auditlens.activations import ActivationStore, HarvestConfig, harvest
from auditlens.interpret import DashboardConfig, DictionaryFeatures, ScanConfig, interpret_features
from auditlens.models.tiny import tiny_model
from auditlens.sae import TopK, TopKConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", type=int, default=16_384)
    ap.add_argument("--d-in", type=int, default=64)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=32_768)
    ap.add_argument("--context", type=int, default=64)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--smoke", action="store_true", help="256 features × 2,048 tokens (seconds)")
    args = ap.parse_args()
    if args.smoke:
        args.features, args.tokens, args.k = 256, 2048, 8
    torch.manual_seed(0)

    with tempfile.TemporaryDirectory() as tmp_str:
        tmp = Path(tmp_str)
        rng = random.Random(0)
        words = [f"w{i}" for i in range(200)] + ["<a>", "&amp;", "\n", "naïve", "€", "def", "return"]
        corpus = tmp / "corpus.txt"
        corpus.write_text(" ".join(rng.choice(words) for _ in range(args.tokens // 2)))
        model = tiny_model("llama", n_layers=1, d_model=args.d_in)
        t0 = time.perf_counter()
        cfg = HarvestConfig(
            model="tiny", hook_points=["blocks.0.resid_post"], source=str(corpus), tokens=args.tokens,
            context_length=args.context, batch_size=32, shard_tokens=16_384, out=tmp / "store",
        )  # fmt: skip
        harvest(cfg, model=model, progress=False)
        store = ActivationStore.open(tmp / "store")
        harvest_s = time.perf_counter() - t0

        dictionary = TopK([TopKConfig(d_in=args.d_in, d_sae=args.features, k=args.k, name="topk-bench")])
        # Random encoder rows in whitened coordinates (centred on the data mean), so that latents are used
        # about evenly, as in a trained dictionary with few dead latents.
        x = next(iter(store.batches(16_384, seed=0)))
        mu = x.mean(0)
        evals, evecs = torch.linalg.eigh((x - mu).t() @ (x - mu) / len(x))
        whiten = evecs @ torch.diag(evals.clamp_min(1e-6 * float(evals.max())).rsqrt()) @ evecs.t()
        dictionary.init_decoder_bias(mu)
        with torch.no_grad():
            dictionary.W_enc_NFD[0] = dictionary.W_enc_NFD[0] @ whiten
        source = DictionaryFeatures(dictionary, device=args.device)
        t0 = time.perf_counter()
        rows = 0
        for _, acts in store.contexts():
            x = acts.reshape(-1, args.d_in)
            for b in range(0, x.shape[0], 2048):
                source.encode(x[b : b + 2048])
            rows += x.shape[0]
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        encode_s = time.perf_counter() - t0

        summary = interpret_features(
            source, store, tmp / "out", model=model, scan=ScanConfig(), dashboard=DashboardConfig()
        )
        dash = tmp / "out" / "dashboard"
        size = sum(p.stat().st_size for p in dash.rglob("*") if p.is_file())
        total = summary.seconds_scan + summary.seconds_stats + summary.seconds_dashboard
        print(
            json.dumps(
                {
                    "features": args.features,
                    "d_in": args.d_in,
                    "k": args.k,
                    "tokens": rows,
                    "context_length": args.context,
                    "device": args.device,
                    "torch_threads": torch.get_num_threads(),
                    "harvest_seconds": round(harvest_s, 2),
                    "encode_only_seconds": round(encode_s, 2),
                    "scan_seconds": round(summary.seconds_scan, 2),
                    "examples_and_stats_seconds": round(summary.seconds_stats, 2),
                    "dashboard_seconds": round(summary.seconds_dashboard, 2),
                    "total_seconds": round(total, 2),
                    "features_per_second": round(summary.features_per_second, 1),
                    "tokens_per_second_scan": round(rows / summary.seconds_scan, 1),
                    "dead_features": summary.dead_features,
                    "dashboard_mib": round(size / 2**20, 1),
                    "dashboard_files": sum(1 for _ in dash.rglob("*.js")),
                    "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
