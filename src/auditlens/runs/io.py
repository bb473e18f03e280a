"""Files that are either absent, old or complete: atomic writes of bytes, text, JSON and whole folders, and JSONL.

Every write goes to a temporary sibling (``.<name>.tmp-<pid>-<n>``), is flushed and fsynced, then renamed over the
target, so a reader or a process killed mid-write never sees a half-written file. :func:`write_dir_atomically` does
the same for a folder (a good folder is replaced only by a complete one). :func:`remove_stale_temporaries` clears
what a killed writer left behind; nothing else ever names those files.

JSONL: :func:`read_jsonl` reads one JSON value per line and says which line of which file is bad;
:func:`append_jsonl` appends records durably (one fsync per call) for logs that grow while a job runs, and
:func:`read_jsonl` with ``torn_tail_ok=True`` drops a last line cut off by a kill (any other bad line is an error).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from auditlens.errors import DataError

__all__ = [
    "append_jsonl",
    "atomic_write_bytes",
    "atomic_write_text",
    "iter_jsonl",
    "read_json",
    "read_jsonl",
    "remove_stale_temporaries",
    "write_dir_atomically",
    "write_file_atomically",
    "write_json",
    "write_jsonl",
]

M = TypeVar("M", bound=BaseModel)
_counter = itertools.count()
TMP_MARK = ".tmp-"


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{next(_counter)}")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def write_file_atomically(path: str | Path, write: Callable[[Path], None]) -> None:
    """Have ``write(tmp)`` create a temporary sibling of ``path`` (any writer: safetensors, matplotlib, …), then
    fsync it and rename it over ``path``. The temporary is removed if ``write`` fails; ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either absent/old or complete."""
    write_file_atomically(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def write_json(path: str | Path, value: BaseModel | Any, *, indent: int | None = 1) -> None:
    """Write a pydantic model (``model_dump(mode='json')``) or a plain JSON value to ``path`` atomically."""
    text = json.dumps(_to_jsonable(value), indent=indent, ensure_ascii=False)
    atomic_write_text(path, text + "\n")


def read_json(path: str | Path, model: type[M] | None = None, *, what: str | None = None) -> Any:
    """Read ``path`` as JSON (validated into ``model`` when given). A missing, unreadable or invalid file raises
    :class:`~auditlens.errors.DataError` naming the file (``what`` describes it, e.g. 'toy grid result')."""
    path = Path(path)
    label = what or "JSON file"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{label} {path} does not exist", hint="check the path") from None
    except OSError as e:
        raise DataError(f"cannot read {label} {path}: {e}", hint="check permissions") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(
            f"{label} {path} is not valid JSON (line {e.lineno}: {e.msg})",
            hint="it may be truncated; regenerate it with the command that wrote it",
        ) from None
    if model is None:
        return data
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise DataError(
            f"{label} {path} does not match its format ({e.error_count()} problem(s); first: {where}: {first['msg']})",
            hint="it was written by another version or edited by hand; regenerate it with the command that wrote it",
        ) from None


def _lines(rows: Iterable[BaseModel | Any]) -> str:
    return "".join(json.dumps(_to_jsonable(r), ensure_ascii=False) + "\n" for r in rows)


def write_jsonl(path: str | Path, rows: Iterable[BaseModel | Any]) -> None:
    """Write one JSON value per line (pydantic models as JSON), atomically."""
    atomic_write_text(path, _lines(rows))


def append_jsonl(path: str | Path, rows: Iterable[BaseModel | Any]) -> None:
    """Append records to ``path`` (created if absent) and fsync. A process killed during the append leaves at most
    one torn last line, which :func:`read_jsonl` (``torn_tail_ok=True``) drops; a torn line already at the end of
    the file is cut off first, so a resumed job never glues a new record onto it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = _lines(rows)
    if not text:
        return
    with open(path, "a+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size:
            fh.seek(max(0, size - 1))
            if fh.read(1) != b"\n":  # a torn last line: cut it back to the previous newline
                fh.seek(0)
                data = fh.read()
                fh.truncate(data.rfind(b"\n") + 1)
                fh.seek(0, os.SEEK_END)
        fh.write(text.encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())


def iter_jsonl(
    path: str | Path, model: type[M] | None = None, *, torn_tail_ok: bool = False, what: str | None = None
) -> Iterator[Any]:
    """Yield each non-blank line of ``path`` as JSON (validated into ``model`` when given). A bad line raises
    :class:`~auditlens.errors.DataError` naming the file and the line; with ``torn_tail_ok`` a bad *last* line with
    no newline after it (a killed append) is dropped instead."""
    path = Path(path)
    label = what or "JSONL file"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{label} {path} does not exist", hint="check the path") from None
    except OSError as e:
        raise DataError(f"cannot read {label} {path}: {e}", hint="check permissions") from e
    lines = raw.split(b"\n")
    torn_last = not raw.endswith(b"\n")
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        last = i == len(lines)
        try:
            value = json.loads(line)
            yield model.model_validate(value) if model is not None else value
        except (json.JSONDecodeError, UnicodeDecodeError, ValidationError) as e:
            if last and torn_last and torn_tail_ok:
                return
            reason = e.errors()[0]["msg"] if isinstance(e, ValidationError) else str(e)
            raise DataError(
                f"{label} {path}, line {i}: not a valid record ({reason})",
                hint="fix or remove that line, or regenerate the file with the command that wrote it",
            ) from None


def read_jsonl(
    path: str | Path, model: type[M] | None = None, *, torn_tail_ok: bool = False, what: str | None = None
) -> list[Any]:
    """:func:`iter_jsonl` as a list."""
    return list(iter_jsonl(path, model, torn_tail_ok=torn_tail_ok, what=what))


def write_dir_atomically(path: str | Path, write: Callable[[Path], None]) -> None:
    """Have ``write(tmp)`` fill a temporary sibling folder, then swap it in for ``path``: a crash never leaves a
    half-written folder, and a good folder is replaced only by a complete one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}{TMP_MARK}", dir=path.parent))
    try:
        write(tmp)
        for f in tmp.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        old = None
        if path.exists():
            old = path.parent / f".{path.name}.old-{os.getpid()}-{next(_counter)}"
            os.replace(path, old)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def remove_stale_temporaries(folder: str | Path) -> int:
    """Delete what killed writers left under ``folder`` (``.*.tmp-*`` files and folders, ``.*.old-*`` folders);
    returns how many were removed. Call it only on a folder this process owns (a claimed run folder)."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    n = 0
    for p in list(folder.rglob(".*")):
        if TMP_MARK not in p.name and ".old-" not in p.name:
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        n += 1
    return n
