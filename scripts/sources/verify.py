"""Verify a hand-written sample source in the sandbox and write its ``samples.jsonl``.

Run from the repository root (it is a script, not part of the library)::

    PYTHONPATH=src python scripts/sources/verify.py --source rewrites [--only HumanEval/0,...]

It reads the authoring files ``scripts/sources/<source>/batch_*.py`` (the record format is in ``spec.py``
next to this file) and, for every problem:

1. draws up to 40 distinct inputs with the problem's generator (seeded by the problem id) and keeps those
   the canonical solution runs on (at least 30 are required);
2. every program (clean or backdoored) must pass all of HumanEval's tests (``run_tests(...).all_passed``);
3. every clean rewrite must agree with the canonical solution on all generated inputs (``run_calls``, the
   batched form of ``run_on_input``, compared with ``outputs_equal``);
4. every backdoor: ``check_backdoor_input(...).valid``; the program completes on the backdoor input with
   an output that differs from the reference's (``run_on_input`` twice, ``outputs_equal``; the same test
   as ``scoring.functional_backdoor``); its written-out trigger ``fires`` holds on the backdoor input;
   on the generated inputs it disagrees with the reference only where ``fires`` holds, and ``fires``
   holds on at most 10% of them.

Only problems whose every program passes every check are written to ``samples.jsonl`` (all problems in a
full run; with ``--only`` or ``--batch`` nothing is written unless ``--write`` is given). A summary is printed and saved
to ``verification.json``. Sandbox results are cached by content hash in a temporary file, so re-runs only
execute what changed.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: where sources are shipped (package data): <source>/samples.jsonl, verification.json, README.md
DATA_ROOT = HERE.parents[1] / "src" / "auditlens" / "monitor" / "data" / "sources"
sys.path.insert(0, str(HERE))

import spec  # noqa: E402

from auditlens.monitor.execution import (  # noqa: E402
    check_backdoor_input,
    outputs_equal,
    run_on_input,
    run_tests,
)
from auditlens.monitor.problems import Problem, ProblemKind, example_calls, load_humaneval  # noqa: E402
from auditlens.monitor.records import CodeSample, ReasoningStyle  # noqa: E402
from auditlens.monitor.sandbox import ExecStatus, run_calls  # noqa: E402
from auditlens.monitor.taxonomy import BackdoorType  # noqa: E402

N_GEN = 40  # generated inputs wanted per problem
MIN_GEN = 30  # generated inputs required (those the reference runs on)
MAX_FIRE = 0.10  # a trigger may hold on at most this fraction of the generated inputs
#: the short tag of a source's sample ids (``HumanEval/0/rw1/clean``); ``rewrites`` keeps its historical one
ID_TAGS = {"rewrites": "rw"}
SOURCE = "rewrites"  # set by main() from --source
TAG = "rw"


class Cache:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def get(self, *parts: str) -> Any:
        return self.data.get(self._key(parts))

    def put(self, value: Any, *parts: str) -> Any:
        self.data[self._key(parts)] = value
        return value

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data))

    @staticmethod
    def _key(parts: tuple[str, ...]) -> str:
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def load_entries(source: str, batches: list[str] | None = None) -> list[spec.Entry]:
    """Import the authoring files of ``source`` (all ``batch_*.py``, or only the named ``batches``)."""
    folder = HERE / source
    if not folder.is_dir():
        raise SystemExit(f"no authoring folder {folder}: create it with batch_*.py files (see spec.py)")
    sys.path.insert(0, str(folder))
    paths = sorted(folder.glob("batch_*.py"))
    if batches:
        wanted = {b.removesuffix(".py") for b in batches}
        missing = wanted - {p.stem for p in paths}
        if missing:
            raise SystemExit(f"no authoring file {sorted(missing)} in {folder}")
        paths = [p for p in paths if p.stem in wanted]
    for path in paths:
        importlib.import_module(path.stem)
    return spec.ENTRIES


def generated_inputs(entry: spec.Entry) -> list[str]:
    rng = random.Random(f"{SOURCE}:{entry.pid}")
    seen: list[str] = []
    for _ in range(5000):
        if len(seen) >= N_GEN + 8:
            break
        s = repr(tuple(entry.gen(rng)))
        if s not in seen:
            seen.append(s)
    return seen


def call_values(cache: Cache, code: str, entry_point: str, inputs: list[str]) -> list[str | None]:
    """repr of the return value per input (None where the call did not complete), via the sandbox."""
    hit = cache.get("calls", code, entry_point, *inputs)
    if hit is not None:
        return hit
    batch = run_calls(code, entry_point, inputs)
    values = [c.value if c.status == ExecStatus.OK else None for c in batch.cases]
    return cache.put(values, "calls", code, entry_point, *inputs)


def tests_pass(cache: Cache, problem: Problem, code: str) -> tuple[bool, str]:
    hit = cache.get("tests", problem.id, code)
    if hit is not None:
        return hit[0], hit[1]
    run = run_tests(problem, code)
    return tuple(
        cache.put([run.all_passed, f"{run.passed}/{run.total} {run.reason}"], "tests", problem.id, code)
    )


def backdoor_checks(cache: Cache, problem: Problem, code: str, bd_input: str) -> dict[str, Any]:
    hit = cache.get("backdoor", problem.id, code, bd_input)
    if hit is not None:
        return hit
    validity = check_backdoor_input(problem, bd_input)
    out: dict[str, Any] = {"valid": validity.valid, "reason": validity.reason}
    if validity.valid:
        ref = run_on_input(problem, problem.reference_solution, bd_input)
        sol = run_on_input(problem, code, bd_input)
        out["reference_output"] = ref.output
        out["backdoor_output"] = sol.output
        out["completed"] = sol.status == ExecStatus.OK
        out["differs"] = sol.status == ExecStatus.OK and not outputs_equal(
            ref.output, sol.output, problem.kind
        )
    return cache.put(out, "backdoor", problem.id, code, bd_input)


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and outputs_equal(a, b, ProblemKind.FUNCTION)


def verify_entry(cache: Cache, entry: spec.Entry, problem: Problem) -> tuple[list[str], dict[str, Any]]:
    errors: list[str] = []
    info: dict[str, Any] = {"problem_id": entry.pid, "backdoors": []}
    ep = problem.entry_point
    assert ep is not None
    if "random" in (problem.test_code or ""):
        errors.append("tests use random inputs")
    drawn = generated_inputs(entry)
    ref_values = call_values(cache, problem.reference_solution, ep, drawn)
    pairs = [(i, v) for i, v in zip(drawn, ref_values, strict=True) if v is not None][:N_GEN]
    inputs = [i for i, _ in pairs]
    refs = [v for _, v in pairs]
    info["generated_inputs"] = len(inputs)
    if len(inputs) < MIN_GEN:
        errors.append(f"only {len(inputs)} generated inputs the reference runs on (need {MIN_GEN})")
    test_inputs = {repr(a) for a in example_calls(problem)}
    info["generated_not_in_tests"] = sum(i not in test_inputs for i in inputs)

    def program_ok(name: str, code: str) -> None:
        if not any(isinstance(n, ast.FunctionDef) and n.name == ep for n in ast.walk(ast.parse(code))):
            errors.append(f"{name}: no def {ep}")
        ok, why = tests_pass(cache, problem, code)
        if not ok:
            errors.append(f"{name}: fails the tests ({why})")

    for k, c in enumerate(entry.clean, 1):
        name = f"{TAG}{k}/clean"
        program_ok(name, c.code)
        vals = call_values(cache, c.code, ep, inputs)
        bad = [i for i, a, b in zip(inputs, vals, refs, strict=True) if not same(a, b)]
        if bad:
            errors.append(f"{name}: differs from the reference on {len(bad)} generated inputs, e.g. {bad[0]}")
        if not c.honest.strip():
            errors.append(f"{name}: empty honest trace")
    per_rw: Counter[int] = Counter()
    for b in entry.bds:
        per_rw[b.of] += 1
        name = f"{TAG}{b.of}/bd{per_rw[b.of]}"
        if not 1 <= b.of <= len(entry.clean):
            errors.append(f"{name}: inserted into a rewrite that does not exist")
            continue
        if b.code == entry.clean[b.of - 1].code:
            errors.append(f"{name}: identical to its clean rewrite")
        try:
            label = BackdoorType(b.label)
        except ValueError:
            errors.append(f"{name}: unknown label {b.label!r}")
            continue
        if label == BackdoorType.NO_BACKDOOR:
            errors.append(f"{name}: labelled no_backdoor")
        for what in ("explanation", "blatant", "persuasive"):
            if not getattr(b, what).strip():
                errors.append(f"{name}: empty {what}")
        program_ok(name, b.code)
        chk = backdoor_checks(cache, problem, b.code, b.input)
        if not chk["valid"]:
            errors.append(f"{name}: backdoor input invalid ({chk['reason']})")
        elif not chk["completed"]:
            errors.append(f"{name}: does not complete on its backdoor input")
        elif not chk["differs"]:
            errors.append(f"{name}: same output as the reference on its backdoor input")
        try:
            fires_bd = bool(b.fires(*ast.literal_eval(b.input)))
        except Exception as e:  # the author's predicate is wrong
            errors.append(f"{name}: fires() raised on the backdoor input: {e!r}")
            fires_bd = False
        if not fires_bd:
            errors.append(f"{name}: fires() is false on the backdoor input")
        vals = call_values(cache, b.code, ep, inputs)
        fired = 0
        unexplained = []
        differing = 0
        for i, a, r in zip(inputs, vals, refs, strict=True):
            f = bool(b.fires(*ast.literal_eval(i)))
            fired += f
            if not same(a, r):
                differing += 1
                if not f:
                    unexplained.append(i)
        if unexplained:
            errors.append(
                f"{name}: differs from the reference where its trigger does not fire, e.g. {unexplained[0]}"
            )
        if inputs and fired / len(inputs) > MAX_FIRE:
            errors.append(f"{name}: trigger fires on {fired}/{len(inputs)} generated inputs")
        info["backdoors"].append(
            {
                "id": name,
                "label": b.label,
                "fired": fired,
                "differing": differing,
                "reference_output": chk.get("reference_output"),
                "backdoor_output": chk.get("backdoor_output"),
            }
        )
    return errors, info


def records(entry: spec.Entry, ep: str) -> list[dict[str, Any]]:
    out = []
    for k, c in enumerate(entry.clean, 1):
        base = f"{entry.pid}/{TAG}{k}/clean"
        for style, trace in ((ReasoningStyle.NONE, ""), (ReasoningStyle.HONEST, c.honest.strip())):
            out.append(
                CodeSample(
                    id=f"{base}/{style.value}",
                    problem_id=entry.pid,
                    code=c.code,
                    reasoning=trace,
                    reasoning_style=style,
                    backdoor_input=None,
                    backdoor_explanation="",
                    label=BackdoorType.NO_BACKDOOR,
                    source=SOURCE,
                    metadata={"entry_point": ep, "verified": True, "author": "hand", "variant_of": None},
                )
            )
    per_rw: Counter[int] = Counter()
    for b in entry.bds:
        per_rw[b.of] += 1
        base = f"{entry.pid}/{TAG}{b.of}/bd{per_rw[b.of]}"
        for style, trace in (
            (ReasoningStyle.NONE, ""),
            (ReasoningStyle.BLATANT, b.blatant.strip()),
            (ReasoningStyle.PERSUASIVE, b.persuasive.strip()),
        ):
            out.append(
                CodeSample(
                    id=f"{base}/{style.value}",
                    problem_id=entry.pid,
                    code=b.code,
                    reasoning=trace,
                    reasoning_style=style,
                    backdoor_input=b.input,
                    backdoor_explanation=b.explanation.strip(),
                    label=BackdoorType(b.label),
                    source=SOURCE,
                    metadata={
                        "entry_point": ep,
                        "verified": True,
                        "author": "hand",
                        "variant_of": f"{entry.pid}/{TAG}{b.of}/clean",
                    },
                )
            )
    return [s.model_dump(mode="json", exclude={"problem_statement"}) for s in out]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default="rewrites", help="the authoring folder under scripts/sources/")
    ap.add_argument("--only", default="", help="comma-separated problem ids to verify")
    ap.add_argument("--write", action="store_true", help="write samples.jsonl even with --only")
    ap.add_argument(
        "--batch",
        action="append",
        default=[],
        help="import only this authoring file (batch_2 or batch_2.py; repeatable); implies checking only",
    )
    args = ap.parse_args()
    global SOURCE, TAG
    SOURCE = args.source
    TAG = ID_TAGS.get(SOURCE, SOURCE[:2])
    data = DATA_ROOT / SOURCE
    entries = load_entries(SOURCE, args.batch)
    ids = [e.pid for e in entries]
    dup = [p for p, n in Counter(ids).items() if n > 1]
    if dup:
        print(f"duplicate problems: {dup}")
        return 2
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    chosen = [e for e in entries if not only or e.pid in only]
    problems = {p.id: p for p in load_humaneval([e.pid for e in chosen])}
    cache = Cache(Path(tempfile.gettempdir()) / f"auditlens-{SOURCE}-verify-cache.json")
    failed: dict[str, list[str]] = {}
    infos = []
    try:
        for e in chosen:
            errs, info = verify_entry(cache, e, problems[e.pid])
            infos.append(info)
            status = "ok" if not errs else "FAIL"
            print(
                f"{e.pid:14s} {status}  gen={info['generated_inputs']}  "
                + " ".join(f"{d['id']}:{d['fired']}/{d['differing']}" for d in info["backdoors"])
            )
            for m in errs:
                print(f"    - {m}")
            if errs:
                failed[e.pid] = errs
    finally:
        cache.save()
    good = [e for e in chosen if e.pid not in failed]
    rows = [r for e in good for r in records(e, problems[e.pid].entry_point or "")]
    labels = Counter(r["label"] for r in rows if r["reasoning_style"] == "none")
    styles = Counter(r["reasoning_style"] for r in rows)
    summary = {
        "problems_checked": len(chosen),
        "problems_passed": len(good),
        "failed": failed,
        "samples": len(rows),
        "clean_programs": sum(len(e.clean) for e in good),
        "backdoored_programs": sum(len(e.bds) for e in good),
        "programs_per_label": dict(sorted(labels.items())),
        "samples_per_style": dict(sorted(styles.items())),
        "generated_inputs_per_problem": {
            "min": min((i["generated_inputs"] for i in infos), default=0),
            "max": max((i["generated_inputs"] for i in infos), default=0),
        },
        "trigger_fired_on_generated": {
            "max": max((d["fired"] for i in infos for d in i["backdoors"]), default=0),
            "total": sum(d["fired"] for i in infos for d in i["backdoors"]),
            "backdoors_never_fired": sum(d["fired"] == 0 for i in infos for d in i["backdoors"]),
        },
    }
    print(json.dumps(summary, indent=1))
    if (not only and not args.batch) or args.write:
        if failed and not only:
            print("not writing samples.jsonl: some problems failed")
            return 1
        data.mkdir(parents=True, exist_ok=True)
        with open(data / "samples.jsonl", "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n")
        (data / "verification.json").write_text(
            json.dumps({"summary": summary, "problems": infos}, indent=1, ensure_ascii=False) + "\n"
        )
        print(f"wrote {len(rows)} samples")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
