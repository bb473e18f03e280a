"""The data-only wire format between the worker (untrusted) and the evaluator (trusted)."""

from __future__ import annotations

import json
import math
from collections import Counter, OrderedDict, namedtuple
from typing import Any

import pytest

from auditlens.monitor.sandbox import ExecStatus, run_calls
from auditlens.monitor.sandbox._channel import decode, program_exception
from auditlens.monitor.sandbox._worker import _enc, _Opaque, _TooBig


def _roundtrip(value: Any, room: int = 1 << 22) -> Any:
    out: list[str] = []
    _enc(value, out, [room])
    return decode(json.loads("".join(out)))


class _Int(int):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


class _Str(str):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


Point = namedtuple("Point", "x y")

PLAIN: list[Any] = [
    None,
    True,
    False,
    0,
    -5,
    2**20_000,
    -(2**20_000) + 1,
    1.5,
    -0.0,
    1e300,
    float("inf"),
    float("-inf"),
    "",
    "abc",
    'a "quoted" \\ back\nslash\ttab',
    "ünïcödé ✓",
    "\ud800 lone surrogate",
    b"\x00\xff",
    1 + 2j,
    [1, [2, [3, []]]],
    (),
    (1,),
    ([1], (2, 3)),
    {1: "a", (1, 2): [3], "k": {None: False}},
    set(),
    {1, "2", (3,)},
    frozenset({3, 4}),
]


@pytest.mark.parametrize("value", PLAIN, ids=lambda v: type(v).__name__)
def test_plain_values_roundtrip_with_their_types(value: Any) -> None:
    got = _roundtrip(value)
    assert got == value and type(got) is type(value)
    if type(value) is not int:
        assert repr(got) == repr(value)


def test_nan_roundtrips() -> None:
    assert math.isnan(_roundtrip(float("nan")))


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        (Counter("aab"), {"a": 2, "b": 1}),
        (OrderedDict(x=1), {"x": 1}),
        (Point(1, 2), (1, 2)),
        (_Int(3), 3),
        (_Str("s"), "s"),
        (bytearray(b"ab"), b"ab"),
        (True, True),
    ],
    ids=repr,
)
def test_subclasses_cross_as_their_plain_base_value(value: Any, plain: Any) -> None:
    got = _roundtrip(value)
    assert got == plain and type(got) is type(plain)


@pytest.mark.parametrize("value", [object(), iter([1]), len, [1, object()], {"k": print}], ids=repr)
def test_anything_else_is_opaque(value: Any) -> None:
    with pytest.raises(_Opaque):
        _roundtrip(value)


def test_the_budget_is_enforced_while_encoding() -> None:
    s = "y" * 1000
    with pytest.raises(_TooBig):
        _roundtrip([s] * 10**6, room=10_000)  # 1 GB if encoded: it stops after ten items


@pytest.mark.parametrize(
    "wire",
    [
        {"a": 1},  # a JSON object is never a value
        ["x"],
        [],
        ["d", 1],
        ["s", ["l"]],  # an unhashable set member
        ["d", ["l"], 1],  # an unhashable key
        ["i", "12"],
        ["i", "0x1g"],
        ["u", "zz"],
        ["u", 5],
        ["b", "0"],
        ["c", "1", 2],
        ["u", "ff"],  # not UTF-8
    ],
    ids=repr,
)
def test_malformed_replies_are_refused(wire: Any) -> None:
    with pytest.raises(ValueError):
        decode(wire)


def test_nesting_is_capped() -> None:
    deep: Any = 1
    for _ in range(300):
        deep = ["l", deep]
    with pytest.raises(ValueError):
        decode(deep)


def test_program_exceptions_map_to_builtins_or_stand_ins() -> None:
    e = program_exception("ValueError", "bad", True)
    assert type(e) is ValueError and e.program_name == "ValueError"  # type: ignore[attr-defined]
    assert type(program_exception("AssertionError", "", True)) is AssertionError
    custom = program_exception("MyError", "x", True)
    assert isinstance(custom, Exception) and custom.program_name == "MyError"  # type: ignore[attr-defined]
    for name in ("SystemExit", "KeyboardInterrupt", "Mine"):
        assert not isinstance(program_exception(name, "", False), Exception)
    # A name that is a built-in but not an Exception class never becomes that object.
    assert not isinstance(program_exception("print", "", True), type(print))


def test_run_calls_values_are_plain_reprs() -> None:
    prog = (
        "from collections import Counter\n"
        "def f(kind):\n"
        "    return {'counter': Counter('aab'), 'gen': (i for i in ()), 'big': 2 ** 1000, 'huge': 2 ** 100_000,\n"
        "            'tuple': (1, [2.5, None]), 'set': {3}}[kind]\n"
    )
    kinds = ["counter", "gen", "big", "tuple", "set", "huge"]
    b = run_calls(prog, "f", [f"({k!r},)" for k in kinds])
    assert all(c.status == ExecStatus.OK for c in b.cases[:-1]), b.cases
    # An int too long for repr (over 4,300 digits) crosses, but has no repr: as before, the call errs.
    assert b.cases[-1].status == ExecStatus.CRASH and b.cases[-1].exception == "ValueError"
    values = {k: c.value for k, c in zip(kinds, b.cases, strict=True)}
    assert values["counter"] == "{'a': 2, 'b': 1}"
    assert values["gen"] is not None and values["gen"].startswith("<generator object")  # its repr, as before
    assert values["big"] == repr(2**1000)
    assert values["tuple"] == "(1, [2.5, None])" and values["set"] == "{3}"
