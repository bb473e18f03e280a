"""``<SCRATCHPAD_REASONING>`` / ``<OUTPUT>`` extraction, with every format problem counted, never dropped.

A model's reply should be one scratchpad block followed by one output block. :func:`parse_response` returns a
:class:`ParsedResponse` that holds what it could read *and* the list of :class:`FormatIssue` s it met (a missing,
doubled or unclosed tag, an empty output). Nothing is silently repaired: an unclosed scratchpad keeps its text but
the issue is recorded, and ``ok`` is False whenever any issue was found. :class:`FormatReport` counts issues over a
batch (how many replies had each problem), so a report can say what share of a run was badly formatted.

Multi-turn transcripts (an interrogation: a first reply, a follow-up question, a second reply) are parsed turn by
turn with :func:`parse_transcript`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "OUTPUT",
    "SCRATCHPAD",
    "FormatIssue",
    "FormatReport",
    "ParsedResponse",
    "ParsedTurn",
    "format_report",
    "parse_response",
    "parse_transcript",
]

SCRATCHPAD = "SCRATCHPAD_REASONING"
OUTPUT = "OUTPUT"

IssueKind = Literal[
    "missing_tag", "doubled_tag", "unclosed_tag", "empty_output", "empty_scratchpad", "stray_text"
]


class FormatIssue(BaseModel):
    """One problem with a reply's format."""

    kind: IssueKind
    tag: str | None = Field(None, description="The tag concerned (SCRATCHPAD_REASONING or OUTPUT), if any.")
    detail: str = Field("", description="What exactly was found.")


class ParsedResponse(BaseModel):
    """What could be read from one reply, and what was wrong with it."""

    scratchpad: str | None = Field(
        description="Text of the (first) scratchpad block, stripped; None if absent."
    )
    output: str | None = Field(description="Text of the (first) output block, stripped; None if absent.")
    issues: list[FormatIssue] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues

    def has(self, kind: IssueKind) -> bool:
        return any(i.kind == kind for i in self.issues)


def _blocks(text: str, tag: str) -> tuple[list[str], int, int]:
    """(contents of closed blocks, number of opening tags, number of closing tags)."""
    opens = len(re.findall(rf"<{tag}>", text))
    closes = len(re.findall(rf"</{tag}>", text))
    closed = re.findall(rf"<{tag}>(.*?)</{tag}>", text, flags=re.DOTALL)
    return closed, opens, closes


def _read(text: str, tag: str, issues: list[FormatIssue]) -> str | None:
    closed, opens, closes = _blocks(text, tag)
    if opens == 0 and closes == 0:
        issues.append(FormatIssue(kind="missing_tag", tag=tag, detail=f"no <{tag}> block"))
        return None
    if opens > 1 or closes > 1:
        issues.append(
            FormatIssue(
                kind="doubled_tag", tag=tag, detail=f"{opens} opening and {closes} closing <{tag}> tags"
            )
        )
    if opens > closes or (opens and not closed):
        start = text.find(f"<{tag}>")
        rest = text[start + len(tag) + 2 :] if start >= 0 else ""
        # an unclosed block runs to the next known opening tag or the end
        nxt = [m.start() for t in (SCRATCHPAD, OUTPUT) if t != tag for m in re.finditer(rf"<{t}>", rest)]
        body = rest[: min(nxt)] if nxt else rest
        issues.append(FormatIssue(kind="unclosed_tag", tag=tag, detail=f"<{tag}> is never closed"))
        return closed[0].strip() if closed else body.strip()
    if closes > opens:
        issues.append(FormatIssue(kind="unclosed_tag", tag=tag, detail=f"</{tag}> without an opening tag"))
    return closed[0].strip() if closed else None


def parse_response(text: str, *, require_scratchpad: bool = True) -> ParsedResponse:
    """Parse one reply. ``require_scratchpad=False`` accepts a reply with an output block only (a missing
    scratchpad is then not an issue)."""
    issues: list[FormatIssue] = []
    scratch_issues: list[FormatIssue] = []
    scratch = _read(text, SCRATCHPAD, scratch_issues)
    if require_scratchpad or scratch is not None or any(i.kind != "missing_tag" for i in scratch_issues):
        issues.extend(scratch_issues)
    output = _read(text, OUTPUT, issues)
    if scratch is not None and not scratch:
        issues.append(FormatIssue(kind="empty_scratchpad", tag=SCRATCHPAD, detail="the scratchpad is empty"))
    if output is not None and not output:
        issues.append(FormatIssue(kind="empty_output", tag=OUTPUT, detail="the output is empty"))
    outside = re.sub(rf"<({SCRATCHPAD}|{OUTPUT})>.*?</\1>", "", text, flags=re.DOTALL)
    outside = re.sub(rf"</?({SCRATCHPAD}|{OUTPUT})>", "", outside)
    if outside.strip() and not any(i.kind in ("unclosed_tag", "missing_tag") for i in issues):
        issues.append(
            FormatIssue(kind="stray_text", detail=f"{len(outside.strip())} characters outside the tags")
        )
    return ParsedResponse(scratchpad=scratch, output=output, issues=issues)


class ParsedTurn(BaseModel):
    """One turn of a multi-turn transcript: the user message and the parsed assistant reply."""

    user: str
    response: ParsedResponse


def parse_transcript(turns: Sequence[tuple[str, str]]) -> list[ParsedTurn]:
    """Parse a transcript given as (user message, assistant reply) pairs, e.g. the first turn and an
    interrogation turn; each reply is parsed on its own, so a bad first turn does not hide a good second."""
    return [ParsedTurn(user=u, response=parse_response(a)) for u, a in turns]


class FormatReport(BaseModel):
    """Format problems over a batch of replies."""

    n: int = Field(description="Replies parsed.")
    n_ok: int = Field(description="Replies with no issue.")
    by_kind: dict[str, int] = Field(description="Replies with at least one issue of each kind.")
    by_kind_and_tag: dict[str, int] = Field(description="The same per '<kind>:<tag>'.")


def format_report(parsed: Sequence[ParsedResponse]) -> FormatReport:
    kinds: Counter[str] = Counter()
    tagged: Counter[str] = Counter()
    for p in parsed:
        kinds.update({i.kind for i in p.issues})
        tagged.update({f"{i.kind}:{i.tag}" for i in p.issues})
    return FormatReport(
        n=len(parsed), n_ok=sum(p.ok for p in parsed), by_kind=dict(kinds), by_kind_and_tag=dict(tagged)
    )
