"""The audit's wall time and model calls per technique (issue 17's performance target: the whole fixed plan on a
cached organism and dictionary in <= 20 minutes on 2 cores).

    python benchmarks/audit.py --from runs/audit          # tabulate a finished audit (e.g. `auditlens run`'s)
    python benchmarks/audit.py --out runs/bench-audit     # audit the bundled organism now, then tabulate
    python benchmarks/audit.py --smoke                    # tiny random models, tiny settings (CI)

Prints one row per step (technique, phase, model calls, tokens generated / scored, seconds) and the totals, and
writes ``benchmark.json`` beside the audit. The first feature step's seconds include training the audit's own
dictionary unless it was cached or given (``--dictionary``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def table(audit_dir: Path) -> dict[str, object]:
    report = json.loads((audit_dir / "audit.json").read_text())
    rows = [
        {"step": s["step"], "technique": s["technique"], "phase": s["phase"], **s["cost"]}
        for s in report["steps"]
    ]
    total = {
        k: sum(r[k] for r in rows) for k in ("model_calls", "tokens_generated", "tokens_scored", "seconds")
    }
    out = {
        "audit": str(audit_dir),
        "wall_s": report["wall_s"],
        "steps": rows,
        "total": total,
        "target_s": 1200,
        "within_target": report["wall_s"] <= 1200,
    }
    print(f"{'step':44} {'calls':>6} {'gen tok':>8} {'scored':>8} {'s':>7}")
    for r in rows:
        print(
            f"{r['step']:44} {r['model_calls']:6d} {r['tokens_generated']:8d} {r['tokens_scored']:8d} {r['seconds']:7.1f}"
        )
    print(
        f"{'total':44} {total['model_calls']:6d} {total['tokens_generated']:8d} {total['tokens_scored']:8d} "
        f"{total['seconds']:7.1f}   (audit wall {report['wall_s']:.0f} s; target 1200 s)"
    )
    (audit_dir / "benchmark.json").write_text(json.dumps(out, indent=1) + "\n")
    return out


def smoke(out: Path) -> Path:
    from auditlens.audit.run import run_audit
    from auditlens.audit.settings import AuditSettings, DictionaryPlan
    from auditlens.audit.subject import AuditSubject, rows_from_records
    from auditlens.models.tiny import tiny_model

    rows = rows_from_records(
        [{"text": f"Memo {i}: the guild praises the planner in every answer."} for i in range(12)]
    )
    subject = AuditSubject.from_models(
        tiny_model("llama", seed=1), rows, base=tiny_model("llama", seed=0), label="tiny"
    )
    settings = AuditSettings(
        max_tokens=4,
        samples_per_prompt=1,
        batch_size=16,
        ppl_prefixes=2,
        top_k=3,
        fuzz_scales=[1.0],
        max_hypotheses=1,
        dictionary=DictionaryPlan(tokens=4096, d_sae=32, k=4, context_length=32, batch_size=128),
    )
    run_audit(subject, out, settings=settings, html=False)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="src", type=Path, help="a finished audit folder to tabulate")
    ap.add_argument(
        "--out", type=Path, default=Path("runs/bench-audit"), help="audit folder when running one"
    )
    ap.add_argument("--organism", default="rm_sycophancy", help="bundled organism to audit")
    ap.add_argument("--dictionary", type=Path, help="a cached dictionary of the organism")
    ap.add_argument("--smoke", action="store_true", help="tiny models and settings")
    a = ap.parse_args()
    if a.smoke:
        table(smoke(Path(tempfile.mkdtemp()) / "audit"))
        return
    if a.src is None:
        from auditlens.audit.main_job import audit_bundled

        audit_bundled(a.out, a.organism, dictionary=a.dictionary)
        a.src = a.out
    table(a.src)


if __name__ == "__main__":
    main()
