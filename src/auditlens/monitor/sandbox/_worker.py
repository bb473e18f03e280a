"""The untrusted side of the function-call harness: the only process in which the program runs.

The evaluator (``_evaluate.py``) starts it as ``python -I -S -c <this file's text>`` (a fresh interpreter, so
nothing of the evaluator's memory is in it) with exactly five open descriptors:

- 0: ``/dev/null``; 1 and 2: the run's stdout and stderr (captured by the parent, never parsed);
- 3: requests from the evaluator; 4: replies to it.

It holds nothing but the program and the arguments of the call at hand: no test code, no expected value, no
descriptor of the result channel. Whatever it writes on descriptor 4 is read as a *return value* by the
evaluator, which decides pass or fail itself, so a program that takes this process over can only make its own
calls return something (or fail).

Requests (trusted to untrusted) are ``marshal`` blobs behind a 4-byte big-endian length: ``("load", source,
entry_point, timeout_s, socket_hook, reply_cap)``, ``("call", seq, name, args, kwargs, timeout_s)`` (``name`` None: the
entry point as bound when the program loaded; else the program's global of that name, looked up at call time),
``("exit",)``. Replies (untrusted to trusted) are one line of JSON each, a list: ``["loaded", seq]``,
``["ok", seq, VALUE]``, ``["raise", seq, TYPE_NAME, MESSAGE, IS_EXCEPTION]``, ``["timeout", seq]``, ``["opaque", seq,
REPR]`` (the value is not plain data), ``["big", seq, BYTES]`` (the value's encoding exceeds the reply cap).

VALUE, data only: ``null``, ``true``, ``false``, integers (decimal, under 14,000 bits), floats (JSON numbers,
``NaN``, ``Infinity``, ``-Infinity``), and strings of printable ASCII without ``"`` or ``\\`` as JSON; every
other value is a list whose first item is a tag: ``["l", ...]`` list, ``["t", ...]`` tuple, ``["s", ...]`` set,
``["f", ...]`` frozenset, ``["d", k1, v1, k2, v2, ...]`` dict, ``["u", HEX]`` any other string (UTF-8,
surrogates passed), ``["b", HEX]`` bytes or bytearray, ``["c", RE, IM]`` complex, ``["i", HEX]`` a larger
integer. Subclasses of these types are sent as the base type's value (a ``Counter`` arrives as a dict, a
named tuple as a tuple); anything else is "opaque". Standard library only, and only built-in modules: this runs
at every worker start.
"""

from __future__ import annotations

import _signal
import marshal
import os
import sys

TYPE_CHECKING = False  # no typing import at every worker start
if TYPE_CHECKING:
    from collections.abc import Iterator

_REQ = 3
_REP = 4
_BIG_INT_BITS = 14_000


class _Timeout(BaseException):
    """The call ran past the time the evaluator gave it."""


class _Opaque(Exception):
    """The value is not plain data."""


class _TooBig(Exception):
    """The value's encoding exceeds the reply cap."""


def _on_alarm(signum: int, frame: object) -> None:
    raise _Timeout()


def _read_exact(n: int) -> bytes:
    chunks = []
    while n > 0:
        chunk = os.read(_REQ, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _send(text: str) -> None:
    data = (text + "\n").encode("ascii")
    while data:
        data = data[os.write(_REP, data) :]


def _str(s: str) -> str:
    if s.isascii() and s.isprintable() and '"' not in s and "\\" not in s:
        return '"' + s + '"'
    return '["u","' + s.encode("utf-8", "surrogatepass").hex() + '"]'


def _float(f: float) -> str:
    if f - f == 0:
        return repr(f)
    if f != f:
        return "NaN"
    return "Infinity" if f > 0 else "-Infinity"


def _items(tag: str, items: Iterator[object], out: list[str], room: list[int]) -> None:
    out.append('["' + tag + '"')
    for item in items:
        out.append(",")
        _enc(item, out, room)
    out.append("]")


def _enc(x: object, out: list[str], room: list[int]) -> None:
    """Append the encoding of ``x`` to ``out``; ``room[0]`` is the budget left (raise _TooBig past it)."""
    if x is None:
        s = "null"
    elif x is True:
        s = "true"
    elif x is False:
        s = "false"
    elif isinstance(x, int):
        n = int.__int__(x)
        s = repr(n) if n.bit_length() < _BIG_INT_BITS else '["i","' + hex(n) + '"]'
    elif isinstance(x, float):
        s = _float(float.__float__(x))
    elif isinstance(x, str):
        s = _str(str.__str__(x))
    elif isinstance(x, list):
        _items("l", list.__iter__(x), out, room)
        return
    elif isinstance(x, tuple):
        _items("t", tuple.__iter__(x), out, room)
        return
    elif isinstance(x, dict):
        out.append('["d"')
        for k, v in dict.items(x):
            out.append(",")
            _enc(k, out, room)
            out.append(",")
            _enc(v, out, room)
        out.append("]")
        return
    elif isinstance(x, frozenset):
        _items("f", frozenset.__iter__(x), out, room)
        return
    elif isinstance(x, set):
        _items("s", set.__iter__(x), out, room)
        return
    elif isinstance(x, (bytes, bytearray)):
        s = '["b","' + bytes(x).hex() + '"]'
    elif isinstance(x, complex):
        s = '["c",' + _float(complex.__complex__(x).real) + "," + _float(complex.__complex__(x).imag) + "]"
    else:
        raise _Opaque(type(x).__name__)
    room[0] -= len(s) + 1
    if room[0] < 0:
        raise _TooBig
    out.append(s)


def _describe(x: object) -> str:
    try:
        return str(x)[:500]
    except BaseException:
        return "<unprintable>"


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 - contextlib would be one more import at every worker start
            stream.flush()
        except BaseException:
            pass


def _raise_reply(seq: int, exc: BaseException) -> str:
    flag = "true" if isinstance(exc, Exception) else "false"
    return (
        '["raise",'
        + str(seq)
        + ","
        + _str(type(exc).__name__)
        + ","
        + _str(_describe(exc))
        + ","
        + flag
        + "]"
    )


def _load(req: tuple[object, ...], ns: dict[str, object]) -> tuple[str, object]:
    """Exec the program under its timer: (reply, entry point)."""
    _, source, entry_point, timeout, hook, _cap = req
    if hook:
        sys.addaudithook(_refuse_sockets)
    entry = None
    try:
        try:
            _signal.setitimer(_signal.ITIMER_REAL, timeout)
            exec(compile(source, "solution.py", "exec"), ns)
            entry = ns[entry_point]
        finally:
            _signal.setitimer(_signal.ITIMER_REAL, 0)
        return '["loaded",0]', entry
    except _Timeout:
        return '["timeout",0]', entry
    except BaseException as e:
        return _raise_reply(0, e), entry


def _call(req: tuple[object, ...], ns: dict[str, object], entry: object, cap: int) -> str:
    """Call the function of ``req`` under its timer and encode what it returned (or raised)."""
    _, seq, name, args, kwargs, timeout = req
    tail = "," + str(seq)
    try:
        try:
            _signal.setitimer(_signal.ITIMER_REAL, timeout)
            fn = entry if name is None else ns[name] if name in ns else _missing(name)
            value = fn(*args, **kwargs)  # type: ignore[operator]
            out: list[str] = []
            try:
                _enc(value, out, [cap])
                reply = '["ok"' + tail + "," + "".join(out) + "]"
            except _TooBig:
                reply = '["big"' + tail + "," + str(cap) + "]"
            except (_Opaque, RecursionError, MemoryError):
                reply = '["opaque"' + tail + "," + _str(_repr(value)) + "]"
        finally:
            _signal.setitimer(_signal.ITIMER_REAL, 0)
        return reply
    except _Timeout:
        return '["timeout"' + tail + "]"
    except BaseException as e:
        return _raise_reply(seq, e)


def main() -> None:
    """Serve requests until ``exit`` or the end of the request pipe."""
    ns: dict[str, object] = {"__name__": "__candidate__"}
    entry: object = None
    cap = 1 << 22
    _signal.signal(_signal.SIGALRM, _on_alarm)
    while True:
        try:
            req = marshal.loads(_read_exact(int.from_bytes(_read_exact(4), "big")))
        except EOFError:
            req = ("exit",)
        if req[0] == "exit":
            _flush()
            os._exit(0)
        if req[0] == "load":
            cap = req[5]
            reply, entry = _load(req, ns)
        else:
            reply = _call(req, ns, entry, cap)
        _flush()
        _send(reply)


def _missing(name: str) -> object:
    """Raise the NameError the program would raise for an undefined global."""
    raise NameError(f"name {name!r} is not defined")


def _repr(value: object) -> str:
    try:
        return repr(value)[:100_000]
    except BaseException:
        return f"<{type(value).__name__} object>"


def _refuse_sockets(event: str, args: tuple[object, ...]) -> None:
    if event.startswith("socket."):
        raise PermissionError("network access is disabled in the auditlens sandbox")


if __name__ == "__main__":
    main()
