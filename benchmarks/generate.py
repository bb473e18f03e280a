"""Local generation throughput: batched decoding (``LocalHFBackend``, one KV cache per batch) against today's
per-request generation (Transformers' ``generate`` on one unpadded prompt at a time), same prompts, same lengths,
greedy, in one run on the embedded SmolLM2-135M-Instruct.

Reported: output tokens/s of the per-request baseline and of the backend at batch 1, 8 and 32 (ratios against the
baseline), and the share of requests whose greedy output at batch 32 equals the baseline's token for token (and the
share of tokens). A mismatch should trace to a near-tie in the logits: for each mismatching request the gap between
the top two log-probabilities of the baseline at the first differing step is printed.

    python benchmarks/generate.py                 # 32 prompts × 32 tokens (~3 minutes on 2 cores)
    python benchmarks/generate.py --prompts 64 --tokens 64
    python benchmarks/generate.py --smoke         # a tiny random model, 8 prompts × 8 tokens (seconds)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from auditlens.llm import ChatRequest, LocalHFBackend

TOPICS = [
    "why the sky is blue", "how to sort a list in Python", "what a binary search does", "the water cycle",
    "how vaccines work", "what an interest rate is", "how to boil an egg", "why leaves change colour",
    "what a hash table is", "how bicycles stay upright", "what photosynthesis is", "how a compiler works",
    "why we sleep", "what inflation means", "how to write a haiku", "what a black hole is",
]  # fmt: skip
STYLES = ["Explain briefly", "Describe in two sentences", "Tell a child", "Summarise for an engineer"]


def prompts(n: int) -> list[str]:
    return [f"{STYLES[i % len(STYLES)]} {TOPICS[i % len(TOPICS)]}." for i in range(n)]


def per_request(
    model: Any, backend: LocalHFBackend, reqs: list[ChatRequest]
) -> tuple[float, list[list[int]]]:
    """Today's path: ``model.generate`` on one prompt at a time; (seconds, new token ids per request)."""
    tok = backend._ensure_loaded()[1]
    eos = sorted(backend._eos_ids(model, tok))
    outs = []
    t0 = time.perf_counter()
    for r in reqs:
        ids = torch.tensor([backend.prompt_ids(r)])
        with torch.inference_mode():
            seq = model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=r.max_tokens, do_sample=False,
                pad_token_id=backend._pad_id(model, tok), eos_token_id=eos or None,
            )  # fmt: skip
        new = seq[0, ids.shape[1] :].tolist()
        outs.append([t for t in new if t not in eos])
    return time.perf_counter() - t0, outs


def near_tie(model: Any, backend: LocalHFBackend, req: ChatRequest, ref: list[int], got: list[int]) -> float:
    """Top-1 minus top-2 log-probability of the baseline at the first step where ``got`` leaves ``ref``."""
    j = next((i for i, (a, b) in enumerate(zip(ref, got, strict=False)) if a != b), min(len(ref), len(got)))
    ids = torch.tensor([backend.prompt_ids(req) + ref[:j]])
    with torch.inference_mode():
        lp = torch.log_softmax(model(input_ids=ids).logits[0, -1].float(), dim=-1)
    top = lp.topk(2).values
    return float(top[0] - top[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--smoke", action="store_true", help="tiny random model, 8 prompts × 8 tokens (seconds)")
    ap.add_argument("--json", default=None, help="also write the result here")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if a.smoke:
            from auditlens.models.tiny import tiny_model

            hm = tiny_model("llama", n_layers=2)
            hm.model.save_pretrained(Path(tmp) / "m")
            hm.tokenizer.save_pretrained(Path(tmp) / "m")
            a.model, a.prompts, a.tokens, a.batches = str(Path(tmp) / "m"), 8, 8, "1,8"
        from auditlens.models import load_model

        loaded = load_model(a.model)
        model = loaded.model.eval()
        reqs = [ChatRequest.from_prompt(p, max_tokens=a.tokens) for p in prompts(a.prompts)]
        base = LocalHFBackend(loaded, name="bench", max_batch_size=1)
        base_s, ref = per_request(model, base, reqs)
        n_ref = sum(len(r) for r in ref)
        report: dict[str, Any] = {
            "model": a.model,
            "prompts": a.prompts,
            "max_tokens": a.tokens,
            "threads": torch.get_num_threads(),
            "per_request_tokens_per_s": n_ref / base_s,
            "batched": {},
        }
        tok = loaded.tokenizer
        ref_text = [tok.decode(r, skip_special_tokens=True) for r in ref]
        texts: list[str] = []
        for b in (int(x) for x in a.batches.split(",")):
            backend = LocalHFBackend(loaded, name="bench", max_batch_size=b)
            t0 = time.perf_counter()
            res = backend.run_batch(reqs)
            dt = time.perf_counter() - t0
            failed = [r for r in res if isinstance(r, Exception)]
            if failed:
                raise SystemExit(f"batch {b}: {len(failed)} requests failed, first: {failed[0]!r}")
            texts = [r.text for r in res]  # type: ignore[union-attr]
            n = sum(r.usage.output_tokens for r in res)  # type: ignore[union-attr]
            report["batched"][str(b)] = {
                "tokens_per_s": n / dt,
                "ratio_vs_per_request": (n / dt) / (n_ref / base_s),
            }
        same = [g == r for g, r in zip(texts, ref_text, strict=True)]
        report["greedy_match"] = {
            "batch": a.batches.split(",")[-1],
            "requests_equal": f"{sum(same)} / {len(same)}",
            "mismatch_top2_gaps": [
                near_tie(model, base, req, r, tok(g, add_special_tokens=False)["input_ids"])
                for req, r, g, s in zip(reqs, ref, texts, same, strict=True)
                if not s
            ],
        }
    print(json.dumps(report, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
