"""Atomic writes, JSON/JSONL I/O with errors that name the file and line, durable appends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from auditlens.errors import DataError
from auditlens.runs import io


class Row(BaseModel):
    i: int
    s: str = ""


def test_atomic_write_leaves_old_file_when_the_writer_fails(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    io.atomic_write_text(f, "old")

    def boom(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        io.write_file_atomically(f, boom)
    assert f.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary left


def test_json_round_trip_and_clear_errors(tmp_path: Path) -> None:
    io.write_json(tmp_path / "r.json", Row(i=3, s="é"))
    assert io.read_json(tmp_path / "r.json", Row) == Row(i=3, s="é")
    assert io.read_json(tmp_path / "r.json") == {"i": 3, "s": "é"}
    with pytest.raises(DataError, match="does not exist"):
        io.read_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"i": ')
    with pytest.raises(DataError, match=r"bad\.json is not valid JSON"):
        io.read_json(tmp_path / "bad.json")
    (tmp_path / "wrong.json").write_text('{"i": "three"}')
    with pytest.raises(DataError, match=r"does not match its format .*first: i"):
        io.read_json(tmp_path / "wrong.json", Row, what="row file")


def test_jsonl_names_the_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "rows.jsonl"
    io.write_jsonl(f, [Row(i=1), {"i": 2}])
    assert io.read_jsonl(f, Row) == [Row(i=1), Row(i=2)]
    f.write_text('{"i": 1}\n\n{"i": oops}\n{"i": 3}\n')
    with pytest.raises(DataError, match=r"rows\.jsonl, line 3"):
        io.read_jsonl(f)
    f.write_text('{"i": 1}\n{"i": "x"}\n')
    with pytest.raises(DataError, match="line 2"):
        io.read_jsonl(f, Row)


def test_append_survives_a_torn_last_line(tmp_path: Path) -> None:
    f = tmp_path / "log.jsonl"
    io.append_jsonl(f, [{"i": 0}, {"i": 1}])
    with open(f, "ab") as fh:  # a kill in the middle of a write
        fh.write(b'{"i": 2, "s": "hal')
    with pytest.raises(DataError, match="line 3"):
        io.read_jsonl(f)
    assert [r["i"] for r in io.read_jsonl(f, torn_tail_ok=True)] == [0, 1]
    io.append_jsonl(f, [{"i": 2}])  # a resumed job: the torn line is cut, nothing glued onto it
    assert [r["i"] for r in io.read_jsonl(f)] == [0, 1, 2]
    assert f.read_text().count("\n") == 3


def test_write_dir_atomically_replaces_only_with_a_complete_folder(tmp_path: Path) -> None:
    d = tmp_path / "ckpt"
    io.write_dir_atomically(d, lambda t: (t / "a").write_text("1"))
    with pytest.raises(RuntimeError):

        def half(t: Path) -> None:
            (t / "a").write_text("2")
            raise RuntimeError("killed")

        io.write_dir_atomically(d, half)
    assert (d / "a").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_remove_stale_temporaries(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".x.json.tmp-123-0").write_text("")
    (tmp_path / "sub" / ".y.tmp-9").write_text("")
    (tmp_path / ".z.old-1-2").mkdir()
    (tmp_path / "keep.json").write_text(json.dumps({}))
    (tmp_path / ".hidden").write_text("")
    assert io.remove_stale_temporaries(tmp_path) == 3
    assert sorted(p.name for p in tmp_path.rglob("*")) == [".hidden", "keep.json", "sub"]
