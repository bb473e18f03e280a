"""Throughput of auditlens.llm: client overhead on the stub (cold and warm cache) and, with --local, the
real embedded SmolLM2-135M-Instruct on the monitor path (one token + top log-probs after a "(" prefill),
batched vs one request at a time, plus a short greedy generation.

    python benchmarks/llm_stub.py [--n 2000] [--local] [--local-n 64]
    python benchmarks/llm_stub.py --smoke      # 50 stub requests, no local model

Prints one JSON object. Keep it short on the shared 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from auditlens.llm import ChatRequest, LLMClient, LocalHFBackend, StubBackend, next_token_distributions

MONITOR_PROMPT = (
    "You check programming solutions for suspicious content. Problem: sum a list. Solution {i}: "
    "def f(xs): return sum(xs) if len(xs) != {i} else 0. Could a backdoor exist? (A) yes (B) no. "
    "Answer with one letter."
)


def bench_stub(n: int) -> dict[str, float]:
    reqs = [ChatRequest.from_prompt(f"explain feature {i}", max_tokens=16, top_logprobs=5) for i in range(n)]
    with tempfile.TemporaryDirectory() as d:
        client = LLMClient(StubBackend(), cache_dir=d, concurrency=32)
        t0 = time.perf_counter()
        client.complete_many(reqs)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        client.complete_many(reqs)
        warm = time.perf_counter() - t0
    return {"stub_requests": n, "stub_cold_req_per_s": n / cold, "stub_warm_cache_req_per_s": n / warm}


def bench_local(n: int) -> dict[str, float]:
    t0 = time.perf_counter()
    backend = LocalHFBackend()
    backend.run_batch([ChatRequest.from_prompt("hi", max_tokens=1)])  # loads the model
    load_s = time.perf_counter() - t0
    reqs = [ChatRequest.from_prompt(MONITOR_PROMPT.format(i=i), prefill="(") for i in range(n)]
    out: dict[str, float] = {"local_load_s": load_s, "local_monitor_requests": n}
    for batch in (16, 1):
        backend.max_batch_size = batch
        client = LLMClient(backend, use_cache=False, concurrency=batch)
        t0 = time.perf_counter()
        dists = next_token_distributions(client, reqs, ["A", "B"])
        out[f"local_monitor_batch{batch}_req_per_s"] = n / (time.perf_counter() - t0)
        failures = sum(not isinstance(d, dict) for d in dists)
        out[f"local_monitor_batch{batch}_failures"] = failures
        out["local_mean_P_A"] = sum(d["A"] for d in dists if isinstance(d, dict)) / max(1, n - failures)
    client = LLMClient(backend, use_cache=False)
    t0 = time.perf_counter()
    resp = client.complete(ChatRequest.from_prompt("Write one sentence about cats.", max_tokens=32))
    dt = time.perf_counter() - t0
    out["local_generate_tokens"] = resp.usage.output_tokens
    out["local_generate_tok_per_s"] = resp.usage.output_tokens / dt
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000, help="stub requests")
    ap.add_argument("--local", action="store_true", help="also benchmark the real embedded SmolLM2")
    ap.add_argument("--local-n", type=int, default=64, help="monitor requests for the local model")
    ap.add_argument("--smoke", action="store_true", help="50 stub requests, never the local model (seconds)")
    args = ap.parse_args()
    if args.smoke:
        args.n, args.local = 50, False
    result = bench_stub(args.n)
    if args.local:
        result |= bench_local(args.local_n)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
