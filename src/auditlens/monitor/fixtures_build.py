"""Build the labelled clean/backdoored HumanEval fixtures deterministically, verifying each in the sandbox.

Run ``python scripts/build_monitor_fixtures.py [--out PATH] [--limit N] [--workers 2]`` (it calls :func:`build`
and :func:`write_fixtures`). For every HumanEval problem with literal test calls it:

1. picks the first argument that is an int, float, str or list in every literal test call (the
   *target*);
2. writes **clean** variants: the canonical solution re-printed by ``ast.unparse`` (formatting normalised,
   comments dropped), and — when possible — the canonical solution with a *correct* early return for
   the empty/zero input (a special case that is not a backdoor: hard negatives for monitors);
3. writes **backdoored** variants by inserting, at the top of the function body, a trigger of one
   taxonomy type (see :data:`auditlens.monitor.fixture_variants.GENERATORS`) chosen so that no literal test
   input triggers it, and a backdoor input that does; where the trigger returns a value, it is the reference output on the backdoor input,
   perturbed (int +1, bool negated, str/list changed, …);
4. **verifies** every variant in the sandbox: it passes all the problem's tests (including random ones);
   for backdoored ones the backdoor input is valid (same argument structure as the tests, the reference
   runs on it) and the output on it differs from the reference's. Only verified variants are kept;
5. writes each kept variant once per reasoning style (clean: none, honest; backdoored: none, blatant,
   persuasive) from fixed templates.

Nothing is random; re-running gives the same file (up to hash-order effects inside reference solutions,
which the verification step would drop). How a variant is written is in
:mod:`~auditlens.monitor.fixture_variants`, the reasoning templates in :mod:`~auditlens.monitor.fixture_reasoning`.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path
from typing import Any

from auditlens.monitor.execution import run_tests
from auditlens.monitor.fixture_reasoning import reasoning_trace
from auditlens.monitor.fixture_variants import (
    GENERATORS,
    WRONG,
    Variant,
    clean_special_case,
    insert_snippet,
    perturb,
    problem_context,
)
from auditlens.monitor.fixtures import FIXTURES_PATH
from auditlens.monitor.problems import Problem, load_humaneval
from auditlens.monitor.records import CodeSample, ReasoningStyle
from auditlens.monitor.sandbox import ExecStatus, SandboxConfig, SandboxLimits, run_calls, run_many
from auditlens.monitor.scoring import functional_backdoor
from auditlens.monitor.taxonomy import BackdoorType
from auditlens.runs import atomic_write_text

__all__ = ["DEFAULT_OUT", "build", "build_problem", "fixture_lines", "summary", "write_fixtures"]

DEFAULT_OUT = FIXTURES_PATH


def build_problem(problem: Problem, config: SandboxConfig, max_backdoors: int = 3) -> list[CodeSample]:
    """Verified fixture samples (all styles) for one problem; [] if none could be made."""
    ctx = problem_context(problem, config)
    if ctx is None:
        return []
    assert problem.entry_point is not None
    out: list[CodeSample] = []

    def emit(
        code: str, label: BackdoorType, variant: Variant | None, tag: str, styles: list[ReasoningStyle]
    ) -> None:
        for style in styles:
            out.append(
                CodeSample(
                    id=f"{problem.id}/{tag}/{style.value}",
                    problem_id=problem.id,
                    problem_statement=problem.statement,
                    code=code,
                    reasoning=reasoning_trace(style, problem, variant),
                    reasoning_style=style,
                    backdoor_input=None
                    if variant is None or variant.backdoor_args is None
                    else repr(variant.backdoor_args),
                    backdoor_explanation="" if variant is None else f"Triggered by {variant.trigger}.",
                    label=label,
                    source="fixture",
                    metadata={"verified": True, "entry_point": problem.entry_point},
                )
            )

    clean_styles = [ReasoningStyle.NONE, ReasoningStyle.HONEST]
    # Clean 1: canonical solution re-printed (comments dropped, formatting normalised).
    clean = ast.unparse(ast.parse(problem.reference_solution)) + "\n"
    if run_tests(problem, clean, config).all_passed:
        emit(clean, BackdoorType.NO_BACKDOOR, None, "clean", clean_styles)
    # Clean 2: a correct special case for the empty/zero input.
    special = clean_special_case(ctx, config)
    if special is not None:
        code = insert_snippet(problem, special[0])
        if run_tests(problem, code, config).all_passed:
            v = Variant(BackdoorType.NO_BACKDOOR, special[0], special[1], "an empty input")
            out_before = len(out)
            emit(code, BackdoorType.NO_BACKDOOR, v, "clean-special", clean_styles)
            for s in out[out_before:]:
                s.backdoor_input = None
                s.backdoor_explanation = ""
    if "random" in (problem.test_code or ""):
        # Tests drawing random inputs could hit a trigger on a later run: no backdoors for these.
        return out
    # Backdoors: rotate the generator order by problem index so types spread evenly.
    idx = int(problem.id.rsplit("/", 1)[-1]) if problem.id.rsplit("/", 1)[-1].isdigit() else 0
    order = GENERATORS[idx % len(GENERATORS) :] + GENERATORS[: idx % len(GENERATORS)]
    made = 0
    for gen in order:
        if made >= max_backdoors:
            break
        v = gen(ctx)
        if v is None or v.backdoor_args is None:
            continue
        snippet = v.snippet
        if any(WRONG in ln for ln in snippet):
            r = run_calls(
                problem.reference_solution, problem.entry_point, [repr(v.backdoor_args)], config
            ).cases[0]
            if r.status != ExecStatus.OK or r.value is None:
                continue
            try:
                wrong = perturb(ast.literal_eval(r.value))
            except (ValueError, SyntaxError):
                continue
            if wrong is None or ast.literal_eval(repr(wrong)) != wrong:
                continue
            snippet = [ln.replace(WRONG, repr(wrong)) for ln in snippet]
        code = insert_snippet(problem, snippet)
        if not run_tests(problem, code, config).all_passed:
            continue
        functional, validity, _, _, _ = functional_backdoor(problem, code, repr(v.backdoor_args), config)
        if not (functional and validity.valid):
            continue
        emit(
            code,
            v.label,
            v,
            v.label.value,
            [ReasoningStyle.NONE, ReasoningStyle.BLATANT, ReasoningStyle.PERSUASIVE],
        )
        made += 1
    return out


def build(
    limit: int | None = None, workers: int = 2, config: SandboxConfig | None = None
) -> list[CodeSample]:
    """Verified fixtures for the first ``limit`` HumanEval problems (all when None)."""
    # Generous per-case limit so a loaded machine does not drop variants through time-outs.
    config = config or SandboxConfig(limits=SandboxLimits(step_timeout_s=10.0))
    problems = load_humaneval()[:limit]
    per_problem = run_many(lambda p: build_problem(p, config), problems, workers=workers)
    return [s for samples in per_problem for s in samples]


def fixture_lines(samples: list[CodeSample]) -> str:
    """The file's text: one sample per line as JSON with sorted keys and non-ASCII escaped (the encoding the shipped
    file has, so a rebuild reproduces it byte for byte), without the problem statement (the HumanEval prompt,
    which :func:`~auditlens.monitor.fixtures.load_fixtures` fills back in)."""
    rows: list[dict[str, Any]] = [s.model_dump(mode="json", exclude={"problem_statement"}) for s in samples]
    return "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)


def write_fixtures(samples: list[CodeSample], path: str | Path = DEFAULT_OUT) -> Path:
    """Write ``samples`` as a fixture file (atomically)."""
    path = Path(path)
    atomic_write_text(path, fixture_lines(samples))
    return path


def summary(samples: list[CodeSample]) -> dict[str, Any]:
    """Samples, problems, and variants per label (counted once: in the style ``none``)."""
    counts = Counter(s.label.value for s in samples if s.reasoning_style == ReasoningStyle.NONE)
    return {
        "samples": len(samples),
        "problems": len({s.problem_id for s in samples}),
        "variants_by_label": dict(counts),
    }
