"""The default offline corpus: atomic, idempotent, deterministic builds; manifest hashes; the real corpus."""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditlens.data import (
    DefaultCorpusSource,
    build_default_corpus,
    count_corpus_tokens,
    default_corpus_dir,
    load_manifest,
    open_source,
    verify_corpus,
)
from auditlens.data import corpus as corpus_module
from auditlens.errors import DataError


def fake_collector(name: str, count: int) -> Any:
    def collect(source: corpus_module.CorpusSource) -> list[tuple[str, str]]:
        source.root = f"/fake/{name}" if count else None
        return [(f"{name}:{i}", f"{name} document number {i}. " * (i + 1)) for i in range(count)]

    return collect


def fake_sources(*specs: tuple[str, int]) -> list[tuple[dict[str, str], Any]]:
    info = {"kind": "prose", "description": "test", "license": "public domain", "origin": "test"}
    return [({**info, "name": name}, fake_collector(name, count)) for name, count in specs]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AUDITLENS_CACHE", str(tmp_path))
    return tmp_path


def test_build_is_deterministic_idempotent_and_hashed(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus_module, "_SOURCES", fake_sources(("alpha", 30), ("beta", 20)))
    monkeypatch.setattr(corpus_module, "SHARD_BYTES", 2000)  # several shards
    folder = build_default_corpus()
    assert folder == default_corpus_dir() == cache / "corpus" / "default-v1"
    manifest = load_manifest(folder)
    assert manifest.documents == 50 and len(manifest.shards) > 1
    assert {s.name: (s.present, s.documents) for s in manifest.sources} == {
        "alpha": (True, 30),
        "beta": (True, 20),
    }
    for shard in manifest.shards:
        assert hashlib.sha256((folder / shard.file).read_bytes()).hexdigest() == shard.sha256
    records = [
        json.loads(line) for s in manifest.shards for line in (folder / s.file).read_text().splitlines()
    ]
    assert len(records) == 50 and set(records[0]) == {"text", "source"}
    assert manifest.characters == sum(len(r["text"]) for r in records)
    assert {r["source"].split(":")[0] for r in records[:10]} == {
        "alpha",
        "beta",
    }  # interleaved, not in blocks
    stamp = (folder / "manifest.json").stat().st_mtime_ns
    assert build_default_corpus() == folder and (folder / "manifest.json").stat().st_mtime_ns == stamp
    hashes = [s.sha256 for s in manifest.shards]
    build_default_corpus(force=True)
    assert [s.sha256 for s in load_manifest(folder).shards] == hashes
    assert sorted(p.name for p in folder.parent.iterdir()) == ["default-v1"]  # no temporary folders left


def test_missing_source_is_recorded(
    cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(corpus_module, "_SOURCES", fake_sources(("alpha", 5), ("absent", 0)))
    with caplog.at_level(logging.WARNING, logger="auditlens.data.corpus"):
        manifest = load_manifest(build_default_corpus())
    absent = next(s for s in manifest.sources if s.name == "absent")
    assert not absent.present and absent.documents == 0 and absent.root is None
    assert "absent (test) is not installed" in caplog.text


def test_no_source_is_an_error_and_leaves_nothing(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus_module, "_SOURCES", fake_sources(("absent", 0)))
    with pytest.raises(DataError, match="default corpus would be empty") as info:
        build_default_corpus()
    assert info.value.hint and "install.sh" in info.value.hint
    assert list((cache / "corpus").iterdir()) == []


def test_failed_build_leaves_the_old_corpus(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus_module, "_SOURCES", fake_sources(("alpha", 5)))
    folder = build_default_corpus()
    before = load_manifest(folder)

    def explode(source: corpus_module.CorpusSource) -> list[tuple[str, str]]:
        raise OSError("disk full")

    info = {"name": "alpha", "kind": "prose", "description": "t", "license": "t", "origin": "t"}
    monkeypatch.setattr(corpus_module, "_SOURCES", [(info, explode)])
    with pytest.raises(OSError, match="disk full"):
        build_default_corpus(force=True)
    assert load_manifest(folder) == before and verify_corpus(folder) == before
    assert sorted(p.name for p in folder.parent.iterdir()) == ["default-v1"]


def test_corrupted_shard_is_named_and_rebuilt(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus_module, "_SOURCES", fake_sources(("alpha", 20)))
    folder = build_default_corpus()
    shard = folder / load_manifest(folder).shards[0].file
    data = bytearray(shard.read_bytes())
    data[5] ^= 1  # same size, different bytes
    shard.write_bytes(bytes(data))
    with pytest.raises(DataError, match=f"corpus shard {shard} is missing or does not match") as info:
        open_source("default")
    assert info.value.hint and "force=True" in info.value.hint
    shard.write_bytes(bytes(data[:-10]))  # a truncated shard is noticed without hashing and rebuilt
    build_default_corpus()
    assert verify_corpus(folder).documents == 20


def test_count_tokens_is_recorded(
    cache: Path, monkeypatch: pytest.MonkeyPatch, gpt_style_tokenizer: Any
) -> None:
    monkeypatch.setattr(corpus_module, "_SOURCES", fake_sources(("alpha", 4), ("beta", 3)))
    folder = build_default_corpus()
    source = DefaultCorpusSource(folder)
    expected = sum(len(gpt_style_tokenizer(doc, add_special_tokens=False)["input_ids"]) for doc in source)
    assert count_corpus_tokens(gpt_style_tokenizer, folder) == expected
    manifest = load_manifest(folder)
    assert manifest.tokens == expected == sum(s.tokens or 0 for s in manifest.sources)
    assert verify_corpus(folder) == manifest  # shards untouched


@pytest.fixture(scope="module")
def real_corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The real default corpus, built from the installed packages into a temporary cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUDITLENS_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield build_default_corpus()


def test_real_corpus_has_prose_and_code_and_enough_tokens(real_corpus: Path) -> None:
    manifest = verify_corpus(real_corpus)
    sources = {s.name: s for s in manifest.sources}
    assert all(s.present for s in sources.values()), "run scripts/install.sh (python3-doc, bible-kjv)"
    assert {s.kind for s in manifest.sources} == {"prose", "code"}
    assert manifest.estimated_tokens >= 5_000_000
    prose = sum(s.estimated_tokens for s in manifest.sources if s.kind == "prose")
    assert 0.3 < prose / manifest.estimated_tokens < 0.8
    for source in sources.values():  # per-file hashes match the files they name (a few of each)
        root = Path(source.root or "")
        for entry in random.Random(0).sample(source.files, min(3, len(source.files))):
            path = Path(entry.path) if Path(entry.path).is_absolute() else root / entry.path
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
    first = [r["source"].split(":")[0] for r in corpus_module.iter_corpus_records(real_corpus, manifest)][
        :100
    ]
    assert set(first) == set(sources)  # any prefix mixes every source


def test_real_corpus_source(real_corpus: Path) -> None:
    source = DefaultCorpusSource(real_corpus)
    described = source.describe()
    assert described["kind"] == "default" and described["documents"] == source.manifest.documents
    docs = list(source)
    assert len(docs) == source.manifest.documents
    assert any("def " in d for d in docs[:50]) and any(" the " in d for d in docs[:50])


@pytest.mark.model
def test_real_corpus_has_five_million_smollm2_tokens(real_corpus: Path, smollm2_tokenizer: Any) -> None:
    """Estimated from every 10th document (counting all ~6.7M tokens takes ~30 s on two cores): per-source
    characters per token on the sample, applied to each source's characters."""
    manifest = load_manifest(real_corpus)
    chars: dict[str, int] = {}
    tokens: dict[str, int] = {}
    for index, record in enumerate(corpus_module.iter_corpus_records(real_corpus, manifest)):
        if index % 10:
            continue
        name = record["source"].split(":")[0]
        chars[name] = chars.get(name, 0) + len(record["text"])
        tokens[name] = tokens.get(name, 0) + len(
            smollm2_tokenizer(record["text"], add_special_tokens=False)["input_ids"]
        )
    estimate = 0.0
    for source in manifest.sources:
        ratio = chars[source.name] / tokens[source.name]
        assert ratio == pytest.approx(corpus_module.CHARS_PER_TOKEN[source.name], rel=0.15)
        estimate += source.characters / ratio
    assert estimate >= 5_000_000
