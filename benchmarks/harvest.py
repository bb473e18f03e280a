"""Harvest throughput: auditlens capture vs a plain Transformers forward (and TransformerLens / nnsight).

Same texts, same batch, same hook point (``blocks.9.resid_post`` of the default model by default), in one
run; every method's tensors are checked against auditlens's. Optionally (``--disk-tokens N``) harvests N
tokens to disk and reports the share of wall time spent in the model's forward pass.

    python benchmarks/harvest.py                         # ~2 minutes on 2 cores
    python benchmarks/harvest.py --disk-tokens 1000000   # + the 1M-token harvest (~15 minutes)
    python benchmarks/harvest.py --smoke                 # a tiny random model, no anchors, a small disk harvest

Prints one JSON object (tokens/s per method, ratios, max abs differences).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from auditlens.activations import HarvestConfig, harvest
from auditlens.data import open_source, pack_documents
from auditlens.models import load_model, model_folder


def _timed(fn, batches, repeats: int) -> tuple[float, torch.Tensor]:  # type: ignore[no-untyped-def]
    out = fn(batches[0])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for b in batches:
            out_b = fn(b)
        best = min(best, time.perf_counter() - t0)
        out = out_b
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--layer", type=int, default=9)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--disk-tokens", type=int, default=0)
    ap.add_argument(
        "--smoke", action="store_true", help="tiny random model, tiny shapes, no anchors (seconds)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        run(args, Path(scratch))


def _smoke_setup(args: argparse.Namespace, scratch: Path) -> str:
    """A tiny random Llama saved to ``scratch`` and a small text file; returns the text source."""
    from auditlens.models.tiny import tiny_model

    hm = tiny_model(
        "llama", n_layers=3
    )  # layer 1 is not the last (HF's last hidden state is after the final norm)
    hm.model.save_pretrained(scratch / "model")
    hm.tokenizer.save_pretrained(scratch / "model")
    text = scratch / "texts.txt"
    text.write_text("\n\n".join(" ".join(f"w{(i * j) % 97}" for j in range(300)) for i in range(40)))
    args.model, args.layer, args.batch, args.context, args.batches, args.repeats = (
        str(scratch / "model"),
        1,
        4,
        32,
        2,
        1,
    )
    args.disk_tokens = args.disk_tokens or 512
    return str(text)


def run(args: argparse.Namespace, scratch: Path) -> None:
    source = _smoke_setup(args, scratch) if args.smoke else "default"
    model = load_model(args.model)
    hp = f"blocks.{args.layer}.resid_post"
    packed = pack_documents(
        open_source(source),
        model.tokenizer,
        args.context,
        batch_size=args.batch,
        max_contexts=args.batch * args.batches,
    )
    batches = [torch.from_numpy(b.astype(np.int64)) for b in packed]
    n_tokens = sum(b.numel() for b in batches)
    results: dict[str, dict[str, float]] = {}

    def ours(ids: torch.Tensor) -> torch.Tensor:
        return model.capture(ids, [hp])[hp]

    def hf_hidden_states(ids: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model.model(input_ids=ids, output_hidden_states=True, use_cache=False).hidden_states[
                args.layer + 1
            ]

    methods = {"auditlens": ours, "transformers_output_hidden_states": hf_hidden_states}
    try:
        if args.smoke:
            raise RuntimeError("smoke mode: anchors not run")
        from transformers import AutoModelForCausalLM

        folder = model_folder(
            args.model
        )  # optional anchor: TransformerLens 4 (TransformerBridge), at its best: stop_at_layer
        from transformer_lens.model_bridge import TransformerBridge

        tl_hf = AutoModelForCausalLM.from_pretrained(folder)  # its own copy: the bridge switches it to eager
        bridge = TransformerBridge.boot_transformers(
            str(folder), hf_model=tl_hf, tokenizer=model.tokenizer, device="cpu"
        )
        tl_name = f"blocks.{args.layer}.hook_resid_post"

        def tl_cache(ids: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                _, cache = bridge.run_with_cache(
                    ids, names_filter=lambda n: n == tl_name, stop_at_layer=args.layer + 1
                )
            return cache[tl_name]

        methods["transformer_lens_run_with_cache"] = tl_cache
    except Exception as err:
        results["transformer_lens_run_with_cache"] = {"skipped": str(err)[:160]}  # type: ignore[dict-item]
    try:  # optional anchor: nnsight, at its best: stop the trace after the saved layer
        if args.smoke:
            raise RuntimeError("smoke mode: anchors not run")
        from nnsight import LanguageModel

        nn_hf = AutoModelForCausalLM.from_pretrained(folder)
        nn_model = LanguageModel(nn_hf, tokenizer=model.tokenizer)

        def nnsight_trace(ids: torch.Tensor) -> torch.Tensor:
            with torch.no_grad(), nn_model.trace(ids) as tracer:
                saved = nn_model.model.layers[args.layer].output.save()
                tracer.stop()
            return saved[0] if isinstance(saved, tuple) else saved

        methods["nnsight_trace"] = nnsight_trace
    except Exception as err:
        results["nnsight_trace"] = {"skipped": str(err)[:160]}  # type: ignore[dict-item]

    reference = None
    for name, fn in methods.items():
        seconds, last = _timed(fn, batches, args.repeats)
        reference = last if reference is None else reference
        results[name] = {
            "tokens_per_s": n_tokens / seconds,
            "max_abs_diff_vs_auditlens": float((last - reference).abs().max()),
        }
    base = results["auditlens"]["tokens_per_s"]
    for name, r in results.items():
        if "tokens_per_s" in r and name != "auditlens":
            r["auditlens_speedup"] = base / r["tokens_per_s"]

    report: dict[str, object] = {
        "model": model.model_id,
        "hook_point": hp,
        "batch": args.batch,
        "context": args.context,
        "tokens_per_method": n_tokens,
        "torch_threads": torch.get_num_threads(),
        "methods": results,
    }
    if args.disk_tokens:
        cfg = HarvestConfig(
            model=args.model, hook_points=[hp], source=source, tokens=args.disk_tokens, context_length=args.context,
            batch_size=args.batch, out=scratch / "store",
        )  # fmt: skip
        m = harvest(cfg, model=model, progress=not args.smoke)
        report["disk_harvest"] = {
            "tokens": m.rows,
            "wall_s": m.wall_seconds,
            "forward_s": m.forward_seconds,
            "forward_share": m.forward_seconds / m.wall_seconds,
            "tokens_per_s": m.rows / m.wall_seconds,
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
