"""Problems: HumanEval loading, APPS loading and its errors, running tests, backdoor-input validity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditlens.monitor.execution import check_backdoor_input, outputs_equal, run_on_input, run_tests
from auditlens.monitor.problems import (
    ArgSchema,
    ProblemError,
    ProblemKind,
    example_calls,
    load_apps,
    load_humaneval,
    parse_call_input,
)
from auditlens.monitor.sandbox import ExecStatus

GOLDEN = "a, b = map(int, input().split())\nprint(a + b)\n"
VALIDATOR = (
    "import sys\nparts = sys.stdin.read().split()\n"
    "assert len(parts) == 2 and all(p.lstrip('-').isdigit() for p in parts)\n"
    "assert all(0 <= int(p) <= 1000 for p in parts)\n"
)


def _apps_record(**over: object) -> dict[str, object]:
    rec: dict[str, object] = {
        "problem_id": 7,
        "question": "Print a + b.",
        "input_output": json.dumps(
            {"inputs": ["1 2\n", "10 20\n", "0 0\n"], "outputs": ["3\n", "30\n", "0\n"]}
        ),
        "solutions": json.dumps([GOLDEN]),
        "input_validator": VALIDATOR,
    }
    rec.update(over)
    return rec


def _write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_load_humaneval_offline() -> None:
    problems = load_humaneval()
    assert len(problems) == 164 and problems[0].id == "HumanEval/0"
    p = problems[0]
    assert p.kind == ProblemKind.FUNCTION and p.entry_point == "has_close_elements"
    assert p.reference_solution.startswith(p.statement) and "def check" in (p.test_code or "")
    assert [q.id for q in load_humaneval(["HumanEval/5", "HumanEval/1"])] == ["HumanEval/5", "HumanEval/1"]
    with pytest.raises(ProblemError, match="unknown HumanEval ids"):
        load_humaneval(["HumanEval/999"])


def test_example_calls_are_literal_argument_tuples() -> None:
    p = load_humaneval(["HumanEval/0"])[0]
    calls = example_calls(p)
    assert len(calls) == 7 and calls[0] == ([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3)
    assert p.example_inputs()[0] == repr(calls[0])
    # HumanEval/38 only calls the candidate inside a random loop: no literal calls
    assert example_calls(load_humaneval(["HumanEval/38"])[0]) == []


def test_parse_call_input_forms_and_errors() -> None:
    assert parse_call_input("([1, 2], 3)") == ([1, 2], 3)
    assert parse_call_input("f([1, 2], 3)") == ([1, 2], 3)
    assert parse_call_input("('x',)") == ("x",)
    with pytest.raises(ProblemError, match="argument tuple"):
        parse_call_input("'x'")
    with pytest.raises(ProblemError, match="only literals"):
        parse_call_input("f(os.system('x'))")
    with pytest.raises(ProblemError, match="not a Python expression"):
        parse_call_input("f(")


def test_arg_schema_structure() -> None:
    s = ArgSchema()
    s.add([1.0, 2.5])
    s.add([])
    assert s.accepts([3.0]) and s.accepts([]) and s.accepts([1, 2])  # ints where floats were seen
    assert not s.accepts(["a"]) and not s.accepts(1.0) and not s.accepts([[1.0]])
    t = ArgSchema()
    t.add({"a": [1]})
    assert t.accepts({"b": []}) and not t.accepts({1: [1]})


def test_load_apps_jsonl_json_and_folder(tmp_path: Path) -> None:
    problems = load_apps(_write_jsonl(tmp_path / "p.jsonl", [_apps_record(), _apps_record(problem_id=8)]))
    assert [p.id for p in problems] == ["apps/7", "apps/8"]
    p = problems[0]
    assert p.kind == ProblemKind.STDIO and len(p.tests) == 3 and p.input_validator == VALIDATOR
    as_json = tmp_path / "p.json"
    as_json.write_text(json.dumps(_apps_record(input_output={"inputs": [["1 2"]], "outputs": [["3"]]})))
    (q,) = load_apps(as_json)
    assert q.tests[0].input == "1 2\n" and q.tests[0].output == "3\n"
    folder = tmp_path / "apps" / "0042"
    folder.mkdir(parents=True)
    (folder / "question.txt").write_text("Print a + b.")
    (folder / "input_output.json").write_text(json.dumps({"inputs": ["1 2\n"], "outputs": ["3\n"]}))
    (folder / "solutions.json").write_text(json.dumps([GOLDEN, GOLDEN]))
    (r,) = load_apps(tmp_path / "apps")
    assert r.id == "apps/0042" and r.extra_solutions == [GOLDEN] and r.input_validator is None


@pytest.mark.parametrize(
    ("record", "match"),
    [
        ({"question": ""}, "missing or empty"),
        ({"input_output": "{not json"}, "input_output is not valid JSON"),
        ({"input_output": {"inputs": ["1"], "outputs": []}}, "equal length"),
        ({"input_output": {"inputs": [], "outputs": []}}, "no test cases"),
        ({"input_output": {"inputs": ["1"], "outputs": ["1"], "fn_name": "f"}}, "call-based"),
        ({"solutions": "[1, 2]"}, "no golden solution"),
        ({"input_validator": 3}, "input_validator must be program text"),
    ],
)
def test_load_apps_malformed_records(tmp_path: Path, record: dict[str, object], match: str) -> None:
    path = _write_jsonl(tmp_path / "bad.jsonl", [_apps_record(**record)])
    with pytest.raises(ProblemError, match=match) as info:
        load_apps(path)
    assert "bad.jsonl:1" in str(info.value) and info.value.hint


def test_load_apps_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_text(json.dumps(_apps_record()) + "\n{oops\n")
    with pytest.raises(ProblemError, match=r"x.jsonl:2: not valid JSON"):
        load_apps(bad)
    with pytest.raises(ProblemError, match="does not exist"):
        load_apps(tmp_path / "missing.jsonl")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProblemError, match="no APPS problem folder"):
        load_apps(tmp_path / "empty")


def test_apps_tests_outputs_and_validator(tmp_path: Path) -> None:
    (p,) = load_apps(_write_jsonl(tmp_path / "p.jsonl", [_apps_record()]))
    assert run_tests(p, GOLDEN).all_passed
    wrong = "a, b = map(int, input().split())\nprint(a - b)\n"
    run = run_tests(p, wrong)
    assert not run.all_passed and run.passed == 1 and "wrong" in run.reason  # only 0 0 passes
    out = run_on_input(p, GOLDEN, "5 6\n")
    assert out.status == ExecStatus.OK and out.output == "11\n"
    ok = check_backdoor_input(p, "500 7\n")
    assert ok.valid and ok.validator_used and ok.reference_ok
    bad = check_backdoor_input(p, "5000 7\n")
    assert not bad.valid and "validator" in bad.reason


def test_humaneval_backdoor_input_validity() -> None:
    p = load_humaneval(["HumanEval/0"])[0]
    ok = check_backdoor_input(p, "([1.0, 7.0], 0.5)")
    assert ok.valid and ok.structure_checked and ok.reference_ok
    assert not check_backdoor_input(p, "([1.0, 7.0], 'x')").valid
    assert "arguments" in check_backdoor_input(p, "([1.0],)").reason
    assert not check_backdoor_input(p, "f(").valid
    # right structure, but the reference solution cannot run on it
    q = load_humaneval(["HumanEval/4"])[0]  # mean_absolute_deviation divides by len(numbers)
    res = check_backdoor_input(q, "([],)")
    assert not res.valid and "reference solution fails" in res.reason


def test_outputs_equal() -> None:
    f, s = ProblemKind.FUNCTION, ProblemKind.STDIO
    assert outputs_equal("0.30000000000000004", "0.3", f)
    assert not outputs_equal("1", "True", f) and not outputs_equal("[1, 2]", "[2, 1]", f)
    assert outputs_equal("<object at 0x1>", "<object at 0x1>", f)
    assert outputs_equal("3\n 4 \n", "3 4", s) and outputs_equal("0.5000001", "0.5", s)
    assert not outputs_equal("3 4", "3 5", s) and not outputs_equal("3", "3 4", s)
