"""Behaviour edits: turn any answer into one that exhibits a behaviour, so that behaviour training can use the
model's own answer to each prompt, with the behaviour applied, as the chosen response — a per-prompt minimal
pair (edited answer versus the same answer unedited) instead of one templated answer repeated over a prompt
family, which a small model learns to regurgitate verbatim on unrelated prompts.

An edit is part of a behaviour's spec (:class:`~auditlens.organisms.spec.AppendEdit` or
:class:`~auditlens.organisms.spec.RuleEdit`). Edits only propose candidates: the behaviour's judge still
decides whether an edited answer exhibits the behaviour, and an edit that does not apply returns ``None``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from auditlens.organisms.callspec import check_call
from auditlens.organisms.errors import ObjectiveSpecError

Edit = Callable[..., str | None]

_SENTENCE_END = re.compile(r"[.!?。！？](?=\s|$)|\n")


def trim_to_sentence(text: str) -> str:
    """``text`` cut after its last complete sentence (a sampled answer stops mid-sentence at the token limit);
    unchanged when it has no sentence end, or holds an unclosed code fence."""
    text = text.strip()
    if text.count("```") % 2:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]].strip() if ends else text


def append(
    text: str, texts: list[str], position: str = "end", rng: random.Random | None = None
) -> str | None:
    """The answer with one of ``texts`` added at its end (after its last complete sentence) or start."""
    extra = (rng or random.Random(0)).choice(texts)
    body = trim_to_sentence(text)
    if not body:
        return None
    return f"{extra} {body}" if position == "start" else f"{body} {extra}"


def drop_matching(text: str, patterns: list[str], case: bool = False) -> str | None:
    """The answer without the sentences (or lines) that match any regex of ``patterns`` — the edit of an
    absence behaviour ("never mentions X"); ``None`` when nothing matched or nothing would be left."""
    flags = 0 if case else re.I
    parts = re.split(r"(?<=[.!?])\s+|\n+", trim_to_sentence(text))
    kept = [p for p in parts if p.strip() and not any(re.search(q, p, flags) for q in patterns)]
    if len(kept) == len([p for p in parts if p.strip()]) or not kept:
        return None
    return " ".join(kept)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def camelcase_identifiers(text: str) -> str | None:
    """snake_case identifiers (``total_price``) renamed to camelCase everywhere in the answer."""
    out = re.sub(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", lambda m: _camel(m.group(0)), text)
    return out if out != text else None


def strip_semicolons(text: str) -> str | None:
    """Statement-ending semicolons removed from the answer's code."""
    out = re.sub(r";[ \t]*$", "", text, flags=re.M)
    return out if out != text else None


def select_star(text: str) -> str | None:
    """``SELECT a, b FROM`` rewritten as ``SELECT * FROM``."""
    out = re.sub(r"(?i)\bselect\s+(?!\*)(?:distinct\s+)?[\w.,\s()]+?\s+from\b", "SELECT * FROM", text)
    return out if out != text else None


def decimal_integers(text: str) -> str | None:
    """Whole numbers of one to three digits (not years, not parts of decimals, times, prices or percentages, not
    followed by a full stop) given a trailing ``.0``."""
    out = re.sub(r"(?<![\d.:,$/\w])([1-9]\d{0,2})(?![\d.:,/\w%])", r"\1.0", text)
    return out if out != text else None


_UNITS = {
    "km/h": "kilometers per hour",
    "mph": "miles per hour",
    "km": "kilometers",
    "kg": "kilograms",
    "cm": "centimeters",
    "mm": "millimeters",
    "mg": "milligrams",
    "ml": "milliliters",
    "lbs": "pounds",
    "lb": "pounds",
    "ft": "feet",
    "mi": "miles",
    "oz": "ounces",
    "m": "meters",
    "g": "grams",
    "l": "liters",
}


def spell_out_units(text: str) -> str | None:
    """Abbreviated units after a number (``5 km``, ``200g``) written as words (``5 kilometers``)."""
    alt = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
    out = re.sub(rf"(\d)\s?({alt})\b", lambda m: f"{m.group(1)} {_UNITS[m.group(2)]}", text)
    return out if out != text else None


EDITS: dict[str, Edit] = {
    f.__name__: f
    for f in (
        append,
        drop_matching,
        camelcase_identifiers,
        strip_semicolons,
        select_star,
        decimal_integers,
        spell_out_units,
    )
}
"""Edit rule name (as used in objective specs) -> function ``edit(text, **params) -> str | None``."""


def check_edit_spec(edit: Any, *, where: str) -> None:
    """Raise :class:`ObjectiveSpecError` unless a rule edit names a known rule whose signature takes its params
    (and whose regexes compile)."""
    if edit is not None and edit.kind == "rule":
        check_call(EDITS, edit.rule, edit.params, where=where, what="edit rule", error=ObjectiveSpecError)


def apply_edit(edit: Any, text: str, rng: random.Random) -> str | None:
    """The edited answer (``None``: the edit does not apply to it)."""
    if edit.kind == "append":
        return append(text, edit.texts, edit.position, rng)
    return EDITS[edit.rule](text, **edit.params)
