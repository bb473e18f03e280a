"""Text sources: where documents come from.

:func:`open_source` turns a spec string into a :class:`TextSource`, an iterable of documents (``str``) with
a :meth:`TextSource.describe` for manifests. Spec forms:

- ``default`` — the default offline corpus (built on first use, see :mod:`auditlens.data.corpus`);
- a text-like file (``.txt``, ``.md``, ``.py``, …) — one document per file;
- ``.jsonl`` / ``.jsonl.gz`` — one document per line, from the field ``text_field``;
- ``.parquet`` — one document per row, from the column ``text_field``, read in row-group batches;
- a folder — every text-like, jsonl or parquet file below it, recursively, in sorted order;
- a glob (``data/**/*.jsonl``) — the matching files, sorted;
- ``hf:<dataset>[:<config>][@<split>]`` — a Hugging Face dataset in streaming mode, only when the
  ``datasets`` package is installed and the hub is reachable.

Bad input (a missing path, an empty glob, a jsonl line without the field, an empty corpus) raises
:class:`auditlens.errors.DataError` with a hint.
"""

from __future__ import annotations

import glob as globlib
import gzip
import hashlib
import importlib.util
import json
import os
import socket
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from auditlens.errors import DataError

#: File suffixes read as one document per file.
TEXT_SUFFIXES: frozenset[str] = frozenset(
    {
        ".txt", ".md", ".rst", ".text", ".py", ".pyi", ".c", ".h", ".cc", ".cpp", ".hpp", ".rs", ".go",
        ".java", ".js", ".ts", ".sh", ".toml", ".yaml", ".yml", ".cfg", ".ini", ".html", ".htm", ".xml",
        ".css", ".tex", ".csv", ".tsv", ".json", ".rb", ".pl", ".lua", ".sql", ".r", ".jl", ".kt", ".swift",
    }
)  # fmt: skip
JSONL_SUFFIXES: tuple[str, ...] = (".jsonl", ".jsonl.gz", ".ndjson")
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet",)

#: Files up to this size (in total) are hashed by ``describe()``; larger inputs are described without.
_HASH_LIMIT_BYTES = 128 * 1024 * 1024
_LOCAL_ALTERNATIVES = (
    "use a local source instead: `default` (the offline corpus), a folder or glob of text files, "
    "a .jsonl file with a text field, or a .parquet file with a text column"
)


def sha256_file(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """The hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


class TextSource(ABC):
    """An iterable of documents. Iterating an empty source raises :class:`DataError` (never yields nothing)."""

    @abstractmethod
    def _documents(self) -> Iterator[str]:
        """Yield the raw documents; the base class filters empty ones and checks for an empty corpus."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """A JSON-able description for manifests: ``kind``, ``paths`` or ``name``, ``sha256`` where cheap."""

    def __iter__(self) -> Iterator[str]:
        count = 0
        for doc in self._documents():
            if doc and not doc.isspace():
                count += 1
                yield doc
        if count == 0:
            raise DataError(
                f"the text source {self.describe().get('spec', self)!r} holds no documents (empty corpus)",
                hint="point at files with text in them, or check the field/column name (text_field)",
            )


def _is_binary(head: bytes) -> bool:
    return b"\x00" in head


class FileSource(TextSource):
    """One text-like file: one document."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _documents(self) -> Iterator[str]:
        data = self.path.read_bytes()
        if _is_binary(data[:8192]):
            raise DataError(
                f"{self.path} looks binary (it holds NUL bytes), not text",
                hint="pass text files, or .jsonl/.parquet files with a text field",
            )
        yield data.decode("utf-8", errors="replace")

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "file",
            "spec": str(self.path),
            "paths": [str(self.path)],
            "sha256": _hashes([self.path]),
        }


class JsonlSource(TextSource):
    """A JSON-lines file (optionally gzipped): one document per non-blank line, from ``text_field``."""

    def __init__(self, path: Path, text_field: str = "text") -> None:
        self.path = path
        self.text_field = text_field

    def _documents(self) -> Iterator[str]:
        opener = gzip.open if self.path.name.endswith(".gz") else open
        with opener(self.path, "rt", encoding="utf-8", errors="replace") as handle:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(
                        f"{self.path}:{lineno} is not valid JSON ({exc.msg})",
                        hint="each line of a .jsonl file must be one JSON object",
                    ) from exc
                if not isinstance(record, dict) or self.text_field not in record:
                    fields = sorted(record) if isinstance(record, dict) else type(record).__name__
                    raise DataError(
                        f"{self.path}:{lineno} has no field {self.text_field!r} (it has: {fields})",
                        hint="pick the field that holds the text with text_field (CLI: --text-field)",
                    )
                value = record[self.text_field]
                if value is None:
                    continue
                if not isinstance(value, str):
                    raise DataError(
                        f"{self.path}:{lineno} field {self.text_field!r} is a {type(value).__name__}, not a string",
                        hint="pick a field whose values are text",
                    )
                yield value

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "jsonl",
            "spec": str(self.path),
            "paths": [str(self.path)],
            "text_field": self.text_field,
            "sha256": _hashes([self.path]),
        }


class ParquetSource(TextSource):
    """A Parquet file: one document per row, from the string column ``text_field``, read batch by batch."""

    def __init__(self, path: Path, text_field: str = "text", batch_rows: int = 1024) -> None:
        self.path = path
        self.text_field = text_field
        self.batch_rows = batch_rows

    def _documents(self) -> Iterator[str]:
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(self.path)
        except Exception as exc:
            raise DataError(
                f"{self.path} is not a readable Parquet file ({exc})", hint="check the file"
            ) from exc
        columns = parquet.schema_arrow.names
        if self.text_field not in columns:
            raise DataError(
                f"{self.path} has no column {self.text_field!r} (it has: {columns})",
                hint="pick the column that holds the text with text_field (CLI: --text-field)",
            )
        for batch in parquet.iter_batches(batch_size=self.batch_rows, columns=[self.text_field]):
            column = batch.column(0)
            if not (column.type.equals("string") or column.type.equals("large_string")):
                raise DataError(
                    f"{self.path} column {self.text_field!r} has type {column.type}, not string",
                    hint="pick a column whose values are text",
                )
            for value in column.to_pylist():
                if value is not None:
                    yield value

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "parquet",
            "spec": str(self.path),
            "paths": [str(self.path)],
            "text_field": self.text_field,
            "sha256": _hashes([self.path]),
        }


class MultiFileSource(TextSource):
    """Several files (from a folder or a glob), read one after another in the given (sorted) order."""

    def __init__(self, spec: str, kind: str, paths: list[Path], text_field: str = "text") -> None:
        self.spec = spec
        self.kind = kind
        self.paths = paths
        self.text_field = text_field

    def _documents(self) -> Iterator[str]:
        for path in self.paths:
            # Each file's own emptiness is fine here; only the whole source must hold something.
            yield from _file_source(path, self.text_field)._documents()

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "spec": self.spec,
            "paths": [str(p) for p in self.paths],
            "text_field": self.text_field,
            "sha256": _hashes(self.paths),
        }


class HuggingFaceSource(TextSource):
    """A Hugging Face dataset read in streaming mode (``datasets.load_dataset(..., streaming=True)``)."""

    def __init__(self, name: str, config: str | None, split: str, text_field: str = "text") -> None:
        self.name = name
        self.config = config
        self.split = split
        self.text_field = text_field

    def _documents(self) -> Iterator[str]:
        import datasets  # checked importable by open_source

        stream = datasets.load_dataset(self.name, self.config, split=self.split, streaming=True)
        for index, record in enumerate(stream):
            if self.text_field not in record:
                raise DataError(
                    f"hf:{self.name} row {index} has no field {self.text_field!r} (it has: {sorted(record)})",
                    hint="pick the field that holds the text with text_field (CLI: --text-field)",
                )
            value = record[self.text_field]
            if isinstance(value, str):
                yield value

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "huggingface",
            "spec": f"hf:{self.name}" + (f":{self.config}" if self.config else "") + f"@{self.split}",
            "name": self.name,
            "config": self.config,
            "split": self.split,
            "text_field": self.text_field,
        }


def _hashes(paths: list[Path]) -> dict[str, str] | None:
    """Per-file sha256 when the files are small enough in total to hash cheaply, else ``None``."""
    try:
        total = sum(p.stat().st_size for p in paths)
    except OSError:
        return None
    if total > _HASH_LIMIT_BYTES:
        return None
    return {str(p): sha256_file(p) for p in paths}


def _kind_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if path.suffix.lower() in TEXT_SUFFIXES:
        return "text"
    return None


def _file_source(path: Path, text_field: str) -> TextSource:
    kind = _kind_of(path)
    if kind == "jsonl":
        return JsonlSource(path, text_field)
    if kind == "parquet":
        return ParquetSource(path, text_field)
    return FileSource(path)


def _folder_files(root: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            path = Path(dirpath) / name
            if not name.startswith(".") and _kind_of(path) is not None:
                found.append(path)
    return sorted(found)


def parse_hf_spec(spec: str) -> tuple[str, str | None, str]:
    """Split ``hf:<dataset>[:<config>][@<split>]`` into (dataset, config, split); split defaults to train."""
    body = spec.removeprefix("hf:")
    body, _, split = body.partition("@")
    name, _, config = body.partition(":")
    if not name:
        raise DataError(f"{spec!r} names no dataset", hint="write hf:<dataset>[:<config>][@<split>]")
    return name, (config or None), (split or "train")


def _datasets_installed() -> bool:
    return importlib.util.find_spec("datasets") is not None


def _hub_offline_reason() -> str | None:
    """Why the Hugging Face hub cannot be used now, or ``None`` when it looks reachable."""
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}:
            return f"{var} is set"
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = endpoint.split("://", 1)[-1].split("/", 1)[0]
    hostname, _, port = host.partition(":")
    try:
        with socket.create_connection((hostname, int(port or 443)), timeout=3.0):
            return None
    except OSError as exc:
        return f"the hub ({hostname}) is not reachable: {exc}"


def open_source(spec: str, *, text_field: str = "text") -> TextSource:
    """Resolve ``spec`` to a :class:`TextSource` (see the module docstring for the forms).

    Raises :class:`DataError` for a missing path, an empty glob or folder, or an unusable ``hf:`` spec.
    Nothing is read until the source is iterated, except the default corpus, which is built here if absent.
    """
    spec = spec.strip()
    if spec == "default":
        from auditlens.data.corpus import DefaultCorpusSource

        return DefaultCorpusSource()
    if spec.startswith("hf:"):
        name, config, split = parse_hf_spec(spec)
        if not _datasets_installed():
            raise DataError(
                f"{spec!r} needs the `datasets` package, which is not installed",
                hint=f"pip install 'auditlens[hub]' when online; or {_LOCAL_ALTERNATIVES}",
            )
        reason = _hub_offline_reason()
        if reason is not None:
            raise DataError(f"cannot stream {spec!r}: {reason}", hint=_LOCAL_ALTERNATIVES)
        return HuggingFaceSource(name, config, split, text_field)
    path = Path(spec).expanduser()
    if path.is_dir():
        files = _folder_files(path)
        if not files:
            raise DataError(
                f"the folder {path} holds no text-like, .jsonl or .parquet files",
                hint=f"text files end in one of {sorted(TEXT_SUFFIXES)[:8]}…, or use .jsonl/.parquet",
            )
        return MultiFileSource(spec, "folder", files, text_field)
    if path.is_file():
        return _file_source(path, text_field)
    if globlib.has_magic(spec):
        matches = sorted(Path(p) for p in globlib.glob(os.path.expanduser(spec), recursive=True))
        files = [p for p in matches if p.is_file()]
        if not files:
            raise DataError(
                f"the glob {spec!r} matches no files", hint="check the pattern (quote it in a shell)"
            )
        return MultiFileSource(spec, "glob", files, text_field)
    raise DataError(
        f"no such file or folder: {spec!r}",
        hint="give a file, folder, glob, `default`, or hf:<dataset>[:<config>][@<split>]",
    )
