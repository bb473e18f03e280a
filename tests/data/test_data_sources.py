"""Text sources: every spec form on tiny files, and every kind of bad input."""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import types
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditlens.data import open_source, parse_hf_spec
from auditlens.data import sources as sources_module
from auditlens.errors import DataError


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_text_file_is_one_document_with_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("# Title\n\nSome prose.\n", encoding="utf-8")
    source = open_source(str(path))
    assert list(source) == ["# Title\n\nSome prose.\n"]
    described = source.describe()
    assert described["kind"] == "file"
    assert described["sha256"] == {str(path): hashlib.sha256(path.read_bytes()).hexdigest()}


def test_jsonl_one_document_per_line_from_the_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"body": "first", "x": 1}, {"body": "second"}])
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n")  # blank lines are skipped
    assert list(open_source(str(path), text_field="body")) == ["first", "second"]
    assert open_source(str(path), text_field="body").describe()["text_field"] == "body"


def test_jsonl_gz(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"text": "zipped"}) + "\n")
    assert list(open_source(str(path))) == ["zipped"]


def test_jsonl_line_without_the_field_names_the_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "ok"}, {"content": "no text here"}])
    with pytest.raises(DataError, match=r"d\.jsonl:2 has no field 'text' \(it has: \['content'\]\)") as info:
        list(open_source(str(path)))
    assert info.value.hint and "text_field" in info.value.hint


def test_jsonl_bad_json_and_bad_types(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{not json\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.jsonl:2 is not valid JSON"):
        list(open_source(str(bad)))
    number = write_jsonl(tmp_path / "num.jsonl", [{"text": 3}])
    with pytest.raises(DataError, match=r"num\.jsonl:1 field 'text' is a int"):
        list(open_source(str(number)))


def test_parquet_rows_in_row_group_batches(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    texts = [f"row {i}" for i in range(25)]
    table = pa.table({"id": list(range(25)), "content": [*texts[:10], None, *texts[11:]]})
    pq.write_table(table, path, row_group_size=4)
    source = open_source(str(path), text_field="content")
    assert list(source) == texts[:10] + texts[11:]  # nulls skipped, order kept
    assert source.describe()["kind"] == "parquet"
    with pytest.raises(DataError, match=r"has no column 'text' \(it has: \['id', 'content'\]\)"):
        list(open_source(str(path)))
    with pytest.raises(DataError, match="not string"):
        list(open_source(str(path), text_field="id"))


def test_folder_is_recursive_sorted_and_mixes_kinds(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "b" / "z.txt").write_text("z text", encoding="utf-8")
    (tmp_path / "a.py").write_text("print('a')", encoding="utf-8")
    write_jsonl(tmp_path / "b" / "c.jsonl", [{"text": "j1"}, {"text": "j2"}])
    (tmp_path / "image.bin").write_bytes(b"\x00\x01")  # not text-like: ignored
    (tmp_path / ".git" / "HEAD.txt").write_text("hidden", encoding="utf-8")
    source = open_source(str(tmp_path))
    assert list(source) == ["print('a')", "j1", "j2", "z text"]
    described = source.describe()
    assert described["kind"] == "folder"
    assert [Path(p).name for p in described["paths"]] == ["a.py", "c.jsonl", "z.txt"]
    assert len(described["sha256"]) == 3


def test_glob_sorted_and_empty_glob(tmp_path: Path) -> None:
    for name in ["2.txt", "1.txt", "3.md"]:
        (tmp_path / name).write_text(f"doc {name}", encoding="utf-8")
    assert list(open_source(str(tmp_path / "*.txt"))) == ["doc 1.txt", "doc 2.txt"]
    assert open_source(str(tmp_path / "*.txt")).describe()["kind"] == "glob"
    with pytest.raises(DataError, match="matches no files"):
        open_source(str(tmp_path / "*.nothing"))


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or folder") as info:
        open_source(str(tmp_path / "nope.txt"))
    assert info.value.hint and "default" in info.value.hint
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no text-like"):
        open_source(str(tmp_path / "empty"))


def test_empty_corpus_raises_on_iteration(tmp_path: Path) -> None:
    (tmp_path / "blank.txt").write_text("  \n\n", encoding="utf-8")
    write_jsonl(tmp_path / "nulls.jsonl", [{"text": None}, {"text": ""}])
    for spec in [tmp_path / "blank.txt", tmp_path / "nulls.jsonl", tmp_path]:
        with pytest.raises(DataError, match="empty corpus"):
            list(open_source(str(spec)))


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "weights.txt"
    path.write_bytes(b"abc\x00\x00def")
    with pytest.raises(DataError, match="looks binary"):
        list(open_source(str(path)))


def test_parse_hf_spec() -> None:
    assert parse_hf_spec("hf:NeelNanda/pile-10k") == ("NeelNanda/pile-10k", None, "train")
    assert parse_hf_spec("hf:wikitext:wikitext-2-raw-v1@validation") == (
        "wikitext",
        "wikitext-2-raw-v1",
        "validation",
    )
    with pytest.raises(DataError):
        parse_hf_spec("hf:@train")


def test_hf_offline_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", types.ModuleType("datasets"))
    monkeypatch.setattr(sources_module, "_datasets_installed", lambda: True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match="HF_HUB_OFFLINE is set") as info:
        open_source("hf:NeelNanda/pile-10k")
    assert info.value.hint and "default" in info.value.hint and ".jsonl" in info.value.hint


def test_hf_without_datasets_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources_module, "_datasets_installed", lambda: False)
    with pytest.raises(DataError, match="needs the `datasets` package"):
        open_source("hf:NeelNanda/pile-10k")


def test_hf_streams_through_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def load_dataset(name: str, config: str | None, *, split: str, streaming: bool) -> list[dict[str, str]]:
        calls.append((name, config, split, streaming))
        return [{"text": "one"}, {"text": "two"}]

    fake = types.ModuleType("datasets")
    fake.load_dataset = load_dataset  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "datasets", fake)
    monkeypatch.setattr(sources_module, "_datasets_installed", lambda: True)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(sources_module, "_hub_offline_reason", lambda: None)
    source = open_source("hf:org/set:cfg@test")
    assert list(source) == ["one", "two"]
    assert calls == [("org/set", "cfg", "test", True)]
    assert source.describe()["spec"] == "hf:org/set:cfg@test"
    with pytest.raises(DataError, match="row 0 has no field 'body'"):
        list(open_source("hf:org/set", text_field="body"))
