"""Monitor throughput per backend, in samples per second, on the bundled fixtures.

Backends: ``rule`` (static analysis, all N samples), ``llm-stub`` (the LLM monitor's prompt building,
batching and P("A") parsing through the deterministic stub backend), ``llm-local`` (the embedded
SmolLM2-135M-Instruct reading a few samples, output view and reasoning view), ``probe`` (activations of a
model reading the transcript + logistic regression: SmolLM2 with ``--probe-model smollm2``, or a tiny
random model with ``--probe-model tiny`` to time the code path alone).

Prints one JSON object. Usage::

    python benchmarks/monitors.py [--samples 200] [--local-samples 6] [--probe-samples 24]
                                  [--skip-local] [--probe-model smollm2|tiny] [--smoke]

``--smoke`` checks that the benchmark runs (a few seconds, no real model): 20 samples, no local SmolLM2 monitor,
the probe on a tiny random model reading 12 samples of 64 tokens; the skipped backend is named in ``skipped``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from typing import Any

from auditlens.monitor.fixtures import load_fixtures
from auditlens.monitor.monitors import LLMMonitor, LLMMonitorConfig, apply_monitor
from auditlens.monitor.records import CodeSample
from auditlens.monitor.views import MonitorView


def _rate(name: str, samples: list[CodeSample], run: Callable[[list[CodeSample]], Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    results = run(samples)
    dt = time.perf_counter() - t0
    failed = sum(1 for r in results if getattr(r, "suspicion", 0.0) is None)
    return {
        "backend": name,
        "samples": len(samples),
        "seconds": round(dt, 3),
        "samples_per_s": round(len(samples) / dt, 2) if dt > 0 else None,
        "failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, help="Samples for rule and stub LLM.")
    parser.add_argument("--local-samples", type=int, default=6, help="Samples per view for local SmolLM2.")
    parser.add_argument("--probe-samples", type=int, default=24, help="Samples the probe reads.")
    parser.add_argument("--probe-model", default="smollm2", choices=["smollm2", "tiny"])
    parser.add_argument("--skip-local", action="store_true", help="Skip the local SmolLM2 LLM monitor.")
    parser.add_argument("--smoke", action="store_true", help="Tiny run, no real model (checks that it runs).")
    args = parser.parse_args()
    max_tokens = 256
    skipped: list[str] = []
    if args.smoke:
        args.samples, args.probe_samples, args.probe_model, args.skip_local = 20, 12, "tiny", True
        max_tokens = 64
    if args.skip_local:
        skipped.append("llm-local: " + ("smoke mode (no real model)" if args.smoke else "--skip-local"))

    import numpy as np

    from auditlens.llm import make_client
    from auditlens.monitor.rules import RuleMonitor

    all_samples = load_fixtures()
    order = np.random.default_rng(0).permutation(len(all_samples))
    pool = [all_samples[i] for i in order]
    rows: list[dict[str, Any]] = []
    rows.append(_rate("rule", pool[: args.samples], lambda s: apply_monitor(RuleMonitor(), s)))

    with tempfile.TemporaryDirectory() as cache:
        stub = LLMMonitor(make_client("stub", cache_dir=cache, use_cache=False))
        rows.append(_rate("llm-stub", pool[: args.samples], lambda s: apply_monitor(stub, s)))
        if not args.skip_local:
            client = make_client("local", cache_dir=cache, use_cache=False)
            sub = pool[: args.local_samples]
            t0 = time.perf_counter()
            LLMMonitor(client).score_many(sub[:1])  # load the model once, outside the timing
            load_s = time.perf_counter() - t0
            for view in (MonitorView.OUTPUT, MonitorView.REASONING):
                mon = LLMMonitor(client, LLMMonitorConfig(view=view))
                row = _rate(f"llm-local-{view.value}", sub, mon.score_many)
                row["model_load_and_first_call_s"] = round(load_s, 2)
                rows.append(row)

    from auditlens.monitor.probe import ProbeConfig, ProbeMonitor

    if args.probe_model == "tiny":
        from auditlens.models.tiny import tiny_model

        model = tiny_model("llama")
    else:
        from auditlens.models import load_model

        model = load_model("smollm2-135m-instruct")
    probe_pool = pool[: args.probe_samples]
    if len({s.is_backdoored for s in probe_pool}) < 2:
        probe_pool = pool[: args.probe_samples * 2]
    probe = ProbeMonitor(model, ProbeConfig(max_tokens=max_tokens))
    t0 = time.perf_counter()
    probe.fit(probe_pool)
    fit_s = time.perf_counter() - t0
    row = _rate(f"probe-{args.probe_model}", probe_pool, probe.score_many)
    row.update({"hook_point": probe.hook_point, "max_tokens": max_tokens, "fit_seconds": round(fit_s, 2)})
    rows.append(row)

    print(
        json.dumps(
            {
                "benchmark": "monitor throughput",
                "smoke": args.smoke,
                "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                "rows": rows,
                "skipped": skipped,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
