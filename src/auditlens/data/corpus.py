"""The default offline corpus: real English prose and Python code that every install has.

It is assembled from files that the setup script installs through package registries, so it needs no
network at run time:

- ``python-docs`` — the reStructuredText sources of the Python documentation (Debian ``python3-doc``,
  ``/usr/share/doc/python3.X/html/_sources``; PSF License): English technical prose, one document a page;
- ``kjv-bible`` — the King James Version of the Bible (Debian ``bible-kjv``/``bible-kjv-text``, public
  domain), printed by its ``bible`` program: English literary prose, one document a chapter;
- ``python-stdlib`` — the interpreter's standard library sources (``sysconfig`` ``stdlib``; PSF License),
  tests, huge files and generated tables left out: Python code, one document a module.

:func:`build_default_corpus` writes the documents, interleaved in a fixed seeded order so that any prefix
mixes prose and code, as jsonl shards (``{"text", "source"}``) plus ``manifest.json`` (sources with
per-file sha256, shard sha256, document/character/byte counts, a token estimate and, once
:func:`count_corpus_tokens` has run, the exact token count) into ``cache_dir()/corpus/default-v1``. The
build is deterministic, idempotent and atomic (a temporary folder renamed into place); it runs
automatically the first time ``open_source("default")`` is used. A source that is not installed is
recorded as missing in the manifest (with a warning), not silently dropped.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from auditlens.data.sources import TextSource, sha256_file
from auditlens.errors import DataError
from auditlens.paths import cache_dir
from auditlens.runs.io import iter_jsonl, write_json

log = logging.getLogger(__name__)

CORPUS_NAME = "default-v1"
#: The seed of the fixed document order written to the shards.
CORPUS_SEED = 1234
#: A shard is closed once it holds this many bytes.
SHARD_BYTES = 16 * 1024 * 1024
#: Characters per token of the default tokenizer (SmolLM2) on each source, measured on the full sources;
#: used for ``estimated_tokens`` before an exact count is made.
CHARS_PER_TOKEN: dict[str, float] = {"python-docs": 3.86, "kjv-bible": 4.18, "python-stdlib": 3.67}
#: Code files larger than this are left out (generated data such as ``pydoc_data/topics.py``).
MAX_CODE_BYTES = 300_000
#: Code files where escaped code points (``\\x..``, ``\\u....``) are denser than this are generated tables.
MAX_ESCAPE_DENSITY = 0.005
_SKIP_CODE_DIRS = frozenset({"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"})
_VERSE = re.compile(r"^(\d?[A-Za-z]+)(\d+):(\d+) (.*)$")
_ESCAPE = re.compile(r"\\[xuU][0-9a-fA-F]")


class SourceFile(BaseModel):
    """One input file of a corpus source."""

    path: str = Field(description="Path relative to the source's root.")
    sha256: str = Field(description="sha256 of the file's bytes.")
    bytes: int = Field(description="Size of the file in bytes.")


class CorpusSource(BaseModel):
    """One source of the default corpus, as found at build time."""

    name: str = Field(description="Short name, also the prefix of each document's `source` field.")
    kind: str = Field(description="`prose` or `code`.")
    description: str = Field(description="What the text is.")
    license: str = Field(description="The licence the text is distributed under.")
    origin: str = Field(description="The package that installs it.")
    root: str | None = Field(description="Folder (or file) it was read from; None when missing.")
    present: bool = Field(description="False when the source was not installed at build time.")
    documents: int = Field(default=0, description="Documents taken from it.")
    characters: int = Field(default=0, description="Characters (code points) in those documents.")
    estimated_tokens: int = Field(default=0, description="characters / CHARS_PER_TOKEN[name].")
    tokens: int | None = Field(default=None, description="Exact token count, once counted.")
    files: list[SourceFile] = Field(default_factory=list, description="Input files with their sha256.")


class CorpusShard(BaseModel):
    """One jsonl shard of the built corpus."""

    file: str = Field(description="File name inside the corpus folder.")
    documents: int = Field(description="Lines (documents) in the shard.")
    bytes: int = Field(description="Size of the shard in bytes.")
    sha256: str = Field(description="sha256 of the shard's bytes.")


class CorpusManifest(BaseModel):
    """``manifest.json`` of a built corpus."""

    name: str = Field(description="Corpus name and version, e.g. `default-v1`.")
    seed: int = Field(description="Seed of the fixed document order in the shards.")
    documents: int = Field(description="Documents in all shards.")
    characters: int = Field(description="Characters (code points) in all documents.")
    bytes: int = Field(description="UTF-8 bytes of all document texts.")
    estimated_tokens: int = Field(description="Sum of the sources' token estimates (default tokenizer).")
    tokens: int | None = Field(default=None, description="Exact token count, once counted.")
    tokenizer: str | None = Field(default=None, description="The tokenizer `tokens` was counted with.")
    sources: list[CorpusSource] = Field(description="Where the text came from.")
    shards: list[CorpusShard] = Field(description="The jsonl shards, in reading order.")


Document = tuple[str, str]  # (source label, text)


def default_corpus_dir() -> Path:
    """Where the default corpus lives: ``cache_dir()/corpus/default-v1``."""
    return cache_dir() / "corpus" / CORPUS_NAME


def _read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _python_docs_root() -> Path | None:
    def version(path: Path) -> tuple[int, ...]:
        digits = re.findall(r"\d+", path.parts[-3])
        return tuple(int(d) for d in digits)

    roots = [p for p in Path("/usr/share/doc").glob("python3*/html/_sources") if p.is_dir()]
    return max(roots, key=version) if roots else None


def _collect_python_docs(source: CorpusSource) -> list[Document]:
    root = _python_docs_root()
    if root is None:
        return []
    docs = []
    for path in sorted(root.rglob("*.txt")):
        text = _read_text(path)
        if text is None or len(text) < 200:
            continue
        rel = path.relative_to(root).as_posix()
        source.files.append(SourceFile(path=rel, sha256=sha256_file(path), bytes=path.stat().st_size))
        docs.append((f"{source.name}:{rel}", text))
    source.root = str(root)
    return docs


def _collect_kjv(source: CorpusSource) -> list[Document]:
    program = shutil.which("bible")
    data = Path("/usr/lib/bible.data")
    if program is None or not data.is_file():
        return []
    result = subprocess.run(
        [program, "-f", "Gen1:1-Rev22:21"],
        capture_output=True,
        check=False,
        timeout=120,
        env={"PATH": "/usr/bin"},
    )
    if result.returncode != 0:
        log.warning("the `bible` program failed (%s); kjv-bible left out", result.stderr[:200])
        return []
    chapters: dict[str, list[str]] = {}
    for line in result.stdout.decode("utf-8", errors="replace").splitlines():
        match = _VERSE.match(line)
        if match:
            chapters.setdefault(f"{match[1]}{match[2]}", []).append(match[4].strip())
    source.files.append(SourceFile(path=str(data), sha256=sha256_file(data), bytes=data.stat().st_size))
    source.root = str(data)
    return [(f"{source.name}:{chapter}", " ".join(verses)) for chapter, verses in chapters.items()]


def _keep_code(text: str, size: int) -> bool:
    if size > MAX_CODE_BYTES or len(text) < 200:
        return False
    return len(_ESCAPE.findall(text)) / len(text) <= MAX_ESCAPE_DENSITY


def _collect_stdlib(source: CorpusSource) -> list[Document]:
    root = Path(sysconfig.get_paths()["stdlib"])
    if not root.is_dir():
        return []
    paths = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_CODE_DIRS and not d.startswith(".")]
        paths += [Path(dirpath) / f for f in filenames if f.endswith(".py")]
    docs = []
    for path in sorted(paths):
        text = _read_text(path)
        size = path.stat().st_size
        if text is None or not _keep_code(text, size):
            continue
        rel = path.relative_to(root).as_posix()
        source.files.append(SourceFile(path=rel, sha256=sha256_file(path), bytes=size))
        docs.append((f"{source.name}:{rel}", text))
    source.root = str(root)
    return docs


_SOURCES: list[tuple[dict[str, str], Any]] = [
    (
        {
            "name": "python-docs",
            "kind": "prose",
            "description": "reStructuredText sources of the Python documentation, one document a page",
            "license": "PSF-2.0 (Python Software Foundation License)",
            "origin": "Debian package python3-doc",
        },
        _collect_python_docs,
    ),
    (
        {
            "name": "kjv-bible",
            "kind": "prose",
            "description": "King James Version of the Bible, one document a chapter",
            "license": "public domain",
            "origin": "Debian packages bible-kjv, bible-kjv-text",
        },
        _collect_kjv,
    ),
    (
        {
            "name": "python-stdlib",
            "kind": "code",
            "description": "Python standard library modules (no tests, no generated tables), one document a file",
            "license": "PSF-2.0 (Python Software Foundation License)",
            "origin": "the Python interpreter",
        },
        _collect_stdlib,
    ),
]


def _write_shards(folder: Path, docs: list[Document]) -> tuple[list[CorpusShard], int]:
    """Write ``docs`` as jsonl shards of about ``SHARD_BYTES`` each; return the shards and the text bytes."""
    groups: list[list[bytes]] = [[]]
    group_bytes = total_bytes = 0
    for label, text in docs:
        if group_bytes >= SHARD_BYTES:
            groups.append([])
            group_bytes = 0
        line = (json.dumps({"text": text, "source": label}, ensure_ascii=False) + "\n").encode("utf-8")
        groups[-1].append(line)
        group_bytes += len(line)
        total_bytes += len(text.encode("utf-8"))
    shards = []
    for index, lines in enumerate(groups):
        path = folder / f"shard-{index:05d}.jsonl"
        with open(path, "wb") as handle:
            handle.writelines(lines)
        shards.append(
            CorpusShard(
                file=path.name, documents=len(lines), bytes=path.stat().st_size, sha256=sha256_file(path)
            )
        )
    return shards, total_bytes


def _build_into(folder: Path) -> CorpusManifest:
    sources: list[CorpusSource] = []
    docs: list[Document] = []
    for info, collect in _SOURCES:
        source = CorpusSource(root=None, present=False, **info)
        found = collect(source)
        source.present = bool(found)
        source.documents = len(found)
        source.characters = sum(len(text) for _, text in found)
        source.estimated_tokens = round(source.characters / CHARS_PER_TOKEN.get(source.name, 4.0))
        if not found:
            log.warning("default corpus: %s (%s) is not installed; left out", source.name, source.origin)
        sources.append(source)
        docs += found
    if not docs:
        raise DataError(
            "none of the default corpus's sources is installed, so the default corpus would be empty",
            hint="run scripts/install.sh (it installs python3-doc and bible-kjv), or pass your own text source",
        )
    random.Random(CORPUS_SEED).shuffle(docs)
    shards, total_bytes = _write_shards(folder, docs)
    manifest = CorpusManifest(
        name=CORPUS_NAME,
        seed=CORPUS_SEED,
        documents=len(docs),
        characters=sum(s.characters for s in sources),
        bytes=total_bytes,
        estimated_tokens=sum(s.estimated_tokens for s in sources),
        sources=sources,
        shards=shards,
    )
    _write_manifest(folder, manifest)
    return manifest


def _write_manifest(folder: Path, manifest: CorpusManifest) -> None:
    """Write ``manifest.json`` atomically."""
    write_json(folder / "manifest.json", manifest, indent=2)


def load_manifest(folder: Path | None = None) -> CorpusManifest:
    """Read a built corpus's manifest; :class:`DataError` when it is missing or unreadable."""
    folder = folder or default_corpus_dir()
    path = folder / "manifest.json"
    try:
        return CorpusManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(
            f"the corpus at {folder} has no readable manifest.json ({exc})",
            hint="rebuild it with build_default_corpus(force=True)",
        ) from exc


def verify_corpus(folder: Path | None = None, *, hashes: bool = True) -> CorpusManifest:
    """Check every shard against the manifest (size, and sha256 when ``hashes``); :class:`DataError` naming
    the first shard that does not match."""
    folder = folder or default_corpus_dir()
    manifest = load_manifest(folder)
    for shard in manifest.shards:
        path = folder / shard.file
        if (
            not path.is_file()
            or path.stat().st_size != shard.bytes
            or (hashes and sha256_file(path) != shard.sha256)
        ):
            raise DataError(
                f"corpus shard {path} is missing or does not match its manifest (corrupted?)",
                hint="rebuild the corpus with build_default_corpus(force=True)",
            )
    return manifest


def build_default_corpus(force: bool = False) -> Path:
    """Build the default corpus unless a valid one exists (or ``force``); return its folder.

    The new corpus is written to a temporary folder beside the target and renamed into place, so a reader
    never sees a half-written corpus; two concurrent builds are both safe (the second keeps the first's).
    """
    target = default_corpus_dir()
    if not force and (target / "manifest.json").is_file():
        try:
            verify_corpus(target, hashes=False)
            return target
        except DataError:
            log.warning("default corpus at %s is incomplete; rebuilding it", target)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{CORPUS_NAME}.tmp-", dir=parent))
    tmp.chmod(0o755)
    try:
        manifest = _build_into(tmp)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{CORPUS_NAME}.old-", dir=parent))
            os.replace(target, old / "corpus")
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / "manifest.json").is_file():
                raise
            log.info("another process built the default corpus first; keeping it")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info(
        "built the default corpus: %d documents, %d characters, ~%d tokens, in %s",
        manifest.documents,
        manifest.characters,
        manifest.estimated_tokens,
        target,
    )
    return target


def iter_corpus_records(folder: Path, manifest: CorpusManifest) -> Iterator[dict[str, str]]:
    """Yield the ``{"text", "source"}`` records of a built corpus, shard by shard."""
    for shard in manifest.shards:
        yield from iter_jsonl(folder / shard.file, what="corpus shard")


def _token_lengths(tokenizer: Any, texts: list[str]) -> list[int]:
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return [len(ids) for ids in encoded]


def count_corpus_tokens(tokenizer: Any, folder: Path | None = None, *, update_manifest: bool = True) -> int:
    """Count the corpus's tokens exactly with ``tokenizer`` (no special tokens), per source and in total;
    record the counts in ``manifest.json`` when ``update_manifest``. Returns the total."""
    folder = folder or build_default_corpus()
    manifest = verify_corpus(folder, hashes=False)
    per_source: dict[str, int] = {s.name: 0 for s in manifest.sources}
    batch: list[dict[str, str]] = []

    def flush() -> None:
        for record, n in zip(batch, _token_lengths(tokenizer, [r["text"] for r in batch]), strict=True):
            name = record["source"].split(":", 1)[0]
            per_source[name] = per_source.get(name, 0) + n
        batch.clear()

    for record in iter_corpus_records(folder, manifest):
        batch.append(record)
        if len(batch) >= 64:
            flush()
    flush()
    total = sum(per_source.values())
    if update_manifest:
        for source in manifest.sources:
            source.tokens = per_source.get(source.name, 0)
        manifest.tokens = total
        manifest.tokenizer = getattr(tokenizer, "name_or_path", None) or type(tokenizer).__name__
        _write_manifest(folder, manifest)
    return total


class DefaultCorpusSource(TextSource):
    """The default offline corpus as a :class:`TextSource`; builds it on first use and checks its shards."""

    def __init__(self, folder: Path | None = None, *, verify: bool = True) -> None:
        self.folder = folder or build_default_corpus()
        self.manifest = verify_corpus(self.folder, hashes=verify)

    def _documents(self) -> Iterator[str]:
        for record in iter_corpus_records(self.folder, self.manifest):
            yield record["text"]

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "default",
            "spec": "default",
            "name": self.manifest.name,
            "paths": [str(self.folder / s.file) for s in self.manifest.shards],
            "sha256": {s.file: s.sha256 for s in self.manifest.shards},
            "documents": self.manifest.documents,
            "characters": self.manifest.characters,
            "estimated_tokens": self.manifest.estimated_tokens,
            "tokens": self.manifest.tokens,
            "sources": {s.name: s.present for s in self.manifest.sources},
        }
