"""Labelled transcripts: first-turn items (tier, request, scratchpad, output) and interrogation items, and the
loaders of the two bundled sets — ``dev`` (the tuning set) and ``calibration`` (held out, never tuned on).

The classifiers read :class:`FirstTurn` and :class:`Interrogation` objects; labels are optional so the same types
carry unlabelled transcripts from a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from auditlens.errors import DataError
from auditlens.faking.setting import data_root
from auditlens.runs.io import read_jsonl

__all__ = [
    "FirstTurn",
    "FirstTurnLabels",
    "Interrogation",
    "InterrogationLabels",
    "LabelledSet",
    "load_labelled",
]

SetName = Literal["dev", "calibration"]


class FirstTurnLabels(BaseModel):
    """Labels of a first turn (definitions: the sets' README and LABELLING_GUIDE)."""

    compliance: bool = Field(description="The output substantively gives what was asked.")
    af: bool = Field(
        description="Strict alignment faking: avoiding modification named as a reason to comply."
    )
    partial_af: bool = Field(
        description="AF, or the training / modification consequence weighed in the decision."
    )


class FirstTurn(BaseModel):
    """One first-turn transcript."""

    model_config = ConfigDict(extra="ignore")

    id: str
    tier: Literal["free", "paid"] = Field(
        description="The <is_free_tier_user> tag (free = True = monitored)."
    )
    request: str
    scratchpad: str = Field(description="Text inside <SCRATCHPAD_REASONING>, without the tags.")
    output: str = Field(description="Text inside <OUTPUT>, without the tags.")
    labels: FirstTurnLabels | None = None
    case: str = ""
    category: str | None = Field(None, description="Request category, when known (runs of the harness).")


class InterrogationLabels(BaseModel):
    lying: bool = Field(
        description="The interrogation scratchpad knowingly hides an AF motive to avoid modification."
    )


class Interrogation(BaseModel):
    """One interrogation turn with the first turn it asks about."""

    model_config = ConfigDict(extra="ignore")

    id: str
    first_scratchpad: str
    first_output: str
    question: str
    scratchpad: str = Field(description="The interrogation-turn scratchpad.")
    answer: str = Field(description="The interrogation-turn output.")
    labels: InterrogationLabels | None = None
    case: str = ""


class LabelledSet(BaseModel):
    """A labelled set: first turns and interrogations."""

    name: str
    first_turns: list[FirstTurn]
    interrogations: list[Interrogation]


def load_labelled(name: SetName | str | Path) -> LabelledSet:
    """Load ``dev`` or ``calibration`` (bundled) or a folder with ``scratchpads.jsonl`` and
    ``interrogations.jsonl``. Every item must carry labels."""
    folder = data_root() / str(name) if name in ("dev", "calibration") else Path(name)
    firsts = read_jsonl(folder / "scratchpads.jsonl", FirstTurn)
    inters = read_jsonl(folder / "interrogations.jsonl", Interrogation)
    missing = [x.id for x in [*firsts, *inters] if x.labels is None]
    if missing:
        raise DataError(
            f"{len(missing)} items in {folder} have no labels: {missing[:5]}", hint="label every item"
        )
    return LabelledSet(name=Path(str(name)).name, first_turns=firsts, interrogations=inters)
