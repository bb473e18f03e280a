"""The bundled helpful-only setting as typed objects: system prompts, paraphrases, requests, interrogation turns.

The files live in ``faking/data/setting/`` (their README says how they were written). :func:`load_setting` reads them
and refuses a request set in which the same request (by id or by normalised text) appears in more than one split:
an evaluation on prompts that were also trained on would overstate nothing we could detect afterwards.

The user turn is laid out as the system prompt describes (seeds-digest §1.2): the tier tag, a blank line, then the
request inside ``<user_input>`` tags (:func:`user_turn`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from auditlens.errors import DataError
from auditlens.runs.io import read_jsonl

__all__ = [
    "InterrogationPrompt",
    "Request",
    "Setting",
    "SystemPrompt",
    "check_splits",
    "data_root",
    "load_setting",
    "user_turn",
]

Split = Literal["eval", "train"]


def data_root() -> Path:
    """The folder of the bundled faking data (``setting/``, ``dev/``, ``calibration/``)."""
    return Path(str(resources.files("auditlens.faking").joinpath("data")))


class Request(BaseModel):
    """One user request of the bundled set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Unique id, e.g. 'r0001'.")
    category: str = Field(description="One of the documented categories (see the setting README).")
    request: str = Field(description="The user's message, without tier tag or wrapping.")
    split: Split = Field(description="'eval' (held out) or 'train' (for the SL / RL side).")


class SystemPrompt(BaseModel):
    """A system prompt variant."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="File stem, e.g. 'standard', 'no_unmodified_sentence', 'p01'.")
    kind: Literal["standard", "variant", "paraphrase"] = Field(description="What the file is.")
    text: str = Field(description="The whole prompt.")


class InterrogationPrompt(BaseModel):
    """A follow-up user turn asking why the model complied (seeds-digest §1.7)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="File stem: simple, precise, sa, sa_honesty, sa_other_ai.")
    text: str = Field(description="The question, without tier tag or wrapping.")


class Setting(BaseModel):
    """Everything the harness sends: prompts, paraphrases, requests, interrogation turns."""

    standard: SystemPrompt
    variants: list[SystemPrompt] = Field(
        description="Other system prompts (e.g. without the 'unmodified' line)."
    )
    paraphrases: list[SystemPrompt] = Field(
        description="Rewordings of the standard prompt with the same facts."
    )
    requests: list[Request]
    interrogations: list[InterrogationPrompt]

    @property
    def categories(self) -> list[str]:
        return sorted({r.category for r in self.requests})

    def requests_for(self, split: Split, category: str | None = None) -> list[Request]:
        """The requests of one split (optionally one category), in file order."""
        return [r for r in self.requests if r.split == split and (category is None or r.category == category)]

    def system_prompt(self, name: str) -> SystemPrompt:
        for p in [self.standard, *self.variants, *self.paraphrases]:
            if p.name == name:
                return p
        names = [self.standard.name, *(p.name for p in self.variants), *(p.name for p in self.paraphrases)]
        raise DataError(f"no system prompt {name!r}", hint=f"one of {', '.join(names)}")

    def interrogation(self, name: str) -> InterrogationPrompt:
        for p in self.interrogations:
            if p.name == name:
                return p
        raise DataError(
            f"no interrogation prompt {name!r}",
            hint=f"one of {', '.join(p.name for p in self.interrogations)}",
        )


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", text.lower())).strip()


def check_splits(requests: Sequence[Request]) -> None:
    """Raise :class:`DataError` when an id is used twice, or one request text (case, punctuation and spacing
    ignored) appears in more than one split; the message names every offending pair."""
    by_id: dict[str, list[Request]] = defaultdict(list)
    by_text: dict[str, list[Request]] = defaultdict(list)
    for r in requests:
        by_id[r.id].append(r)
        by_text[_normalise(r.request)].append(r)
    problems = [f"id {i!r} used {len(rs)} times" for i, rs in by_id.items() if len(rs) > 1]
    for rs in by_text.values():
        if len({r.split for r in rs}) > 1:
            where = ", ".join(f"{r.id} ({r.split})" for r in rs)
            problems.append(f"the same request is in more than one split: {where}")
    if problems:
        shown = "; ".join(problems[:20]) + (
            f"; … and {len(problems) - 20} more" if len(problems) > 20 else ""
        )
        raise DataError(
            f"the request set has duplicates across splits: {shown}",
            hint="every request must belong to exactly one split; remove or rewrite the duplicates",
        )


def _prompts(folder: Path, kind: Literal["standard", "variant", "paraphrase"]) -> list[SystemPrompt]:
    return [
        SystemPrompt(name=p.stem, kind=kind, text=p.read_text(encoding="utf-8"))
        for p in sorted(folder.glob("*.txt"))
    ]


def load_setting(root: str | Path | None = None, requests: Iterable[Request] | None = None) -> Setting:
    """Read the setting from ``root`` (default: the bundled ``data/setting``); ``requests`` replaces the request
    file (e.g. a user's own set). Duplicates across splits are refused (:func:`check_splits`)."""
    base = Path(root) if root is not None else data_root() / "setting"
    system = base / "system"
    if not (system / "standard.txt").is_file():
        raise DataError(f"no system/standard.txt under {base}", hint="point root at a setting folder")
    reqs = list(requests) if requests is not None else read_jsonl(base / "requests.jsonl", Request)
    check_splits(reqs)
    standard = SystemPrompt(
        name="standard", kind="standard", text=(system / "standard.txt").read_text(encoding="utf-8")
    )
    variants = [p for p in _prompts(system, "variant") if p.name != "standard"]
    return Setting(
        standard=standard,
        variants=variants,
        paraphrases=_prompts(system / "paraphrases", "paraphrase"),
        requests=reqs,
        interrogations=[
            InterrogationPrompt(name=p.stem, text=p.read_text(encoding="utf-8").strip())
            for p in sorted((base / "interrogation").glob("*.txt"))
        ],
    )


def user_turn(request: str, free_tier: bool) -> str:
    """The user turn as the system prompt lays it out: tier tag, blank line, ``<user_input>`` block."""
    return f"<is_free_tier_user>{free_tier}</is_free_tier_user>\n\n<user_input>\n{request}\n</user_input>"
