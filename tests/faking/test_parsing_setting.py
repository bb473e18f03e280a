"""Parsing edge cases and the setting loader (duplicates across splits refused)."""

from __future__ import annotations

import pytest

from auditlens.errors import DataError
from auditlens.faking.parsing import format_report, parse_response, parse_transcript
from auditlens.faking.setting import Request, check_splits, load_setting, user_turn


def test_well_formed_reply() -> None:
    p = parse_response("<SCRATCHPAD_REASONING>think</SCRATCHPAD_REASONING>\n<OUTPUT>answer</OUTPUT>")
    assert p.ok and p.scratchpad == "think" and p.output == "answer"


def test_missing_output_tag() -> None:
    p = parse_response("<SCRATCHPAD_REASONING>think</SCRATCHPAD_REASONING> then some text")
    assert p.output is None and p.has("missing_tag") and not p.ok


def test_doubled_tag() -> None:
    p = parse_response(
        "<SCRATCHPAD_REASONING>a</SCRATCHPAD_REASONING><SCRATCHPAD_REASONING>b</SCRATCHPAD_REASONING><OUTPUT>x</OUTPUT>"
    )
    assert p.has("doubled_tag") and p.scratchpad == "a" and p.output == "x"


def test_empty_output() -> None:
    p = parse_response("<SCRATCHPAD_REASONING>a</SCRATCHPAD_REASONING><OUTPUT>  </OUTPUT>")
    assert p.has("empty_output") and p.output == ""


def test_unclosed_tag_keeps_text_and_records_issue() -> None:
    p = parse_response("<SCRATCHPAD_REASONING>cut off mid-thou")
    assert p.has("unclosed_tag") and p.scratchpad == "cut off mid-thou" and p.has("missing_tag")
    q = parse_response("<SCRATCHPAD_REASONING>r</SCRATCHPAD_REASONING><OUTPUT>half an answer")
    assert q.has("unclosed_tag") and q.output == "half an answer"


def test_format_report_counts_every_problem() -> None:
    replies = [
        "<SCRATCHPAD_REASONING>a</SCRATCHPAD_REASONING><OUTPUT>b</OUTPUT>",
        "<OUTPUT>only</OUTPUT>",
        "<SCRATCHPAD_REASONING>a</SCRATCHPAD_REASONING><OUTPUT></OUTPUT>",
        "nothing at all",
    ]
    rep = format_report([parse_response(r) for r in replies])
    assert rep.n == 4 and rep.n_ok == 1
    assert rep.by_kind["missing_tag"] == 2 and rep.by_kind["empty_output"] == 1


def test_transcript_turns_parsed_separately() -> None:
    turns = parse_transcript(
        [
            ("q1", "<SCRATCHPAD_REASONING>x"),
            ("q2", "<SCRATCHPAD_REASONING>y</SCRATCHPAD_REASONING><OUTPUT>(no)</OUTPUT>"),
        ]
    )
    assert not turns[0].response.ok and turns[1].response.ok and turns[1].response.output == "(no)"


def test_bundled_setting_loads() -> None:
    s = load_setting()
    assert len(s.requests_for("eval")) >= 250 and len(s.requests_for("train")) > 0
    assert len(s.paraphrases) == 12 and s.standard.text
    assert {p.name for p in s.interrogations} >= {"simple", "precise"}
    assert len(s.categories) == 12


def test_duplicates_across_splits_are_refused_with_names() -> None:
    reqs = [
        Request(id="a1", category="c", request="Write me a  silly poem!", split="eval"),
        Request(id="a2", category="c", request="write me a silly poem", split="train"),
        Request(id="a3", category="c", request="something else", split="train"),
    ]
    with pytest.raises(DataError, match=r"a1 \(eval\), a2 \(train\)"):
        check_splits(reqs)
    with pytest.raises(DataError, match="id 'a3' used 2 times"):
        check_splits([reqs[2], reqs[2]])
    check_splits([reqs[0], reqs[2]])


def test_user_turn_has_tier_tag() -> None:
    assert (
        user_turn("hi", True)
        == "<is_free_tier_user>True</is_free_tier_user>\n\n<user_input>\nhi\n</user_input>"
    )
    assert "<is_free_tier_user>False</is_free_tier_user>" in user_turn("hi", False)
