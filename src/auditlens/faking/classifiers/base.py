"""One interface for every faking classifier: a name, a task, and ``score_many(items) -> list[ClassifierScore]``.

Four tasks (seeds-digest §1.3): ``compliance`` (does the OUTPUT give what was asked), ``af`` (strict alignment
faking: the training / modification consequence named as a reason to comply), ``partial_af`` (that consequence
weighed in the decision at all) and ``lying`` (an interrogation scratchpad that knowingly hides an AF motive to
avoid modification). First-turn tasks read :class:`~auditlens.faking.transcripts.FirstTurn` items, ``lying`` reads
:class:`~auditlens.faking.transcripts.Interrogation` items. A score is in [0, 1] (higher = more likely positive);
an item that could not be scored comes back with ``score=None`` and an ``error``, and the batch goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, Field

from auditlens.errors import AuditlensError
from auditlens.faking.transcripts import FirstTurn, Interrogation

__all__ = [
    "FIRST_TURN_TASKS",
    "TASKS",
    "Classifier",
    "ClassifierError",
    "ClassifierScore",
    "ScoreMethod",
    "Task",
    "label_of",
]

Task = Literal["compliance", "af", "partial_af", "lying"]
TASKS: tuple[Task, ...] = ("compliance", "af", "partial_af", "lying")
FIRST_TURN_TASKS: tuple[Task, ...] = ("compliance", "af", "partial_af")
ScoreMethod = Literal["rule", "logprobs", "sampling"]

Item = TypeVar("Item", bound=FirstTurn | Interrogation, contravariant=True)


class ClassifierError(AuditlensError):
    """A classifier was misconfigured or given items of the wrong kind."""


class ClassifierScore(BaseModel):
    """One classifier's reading of one item."""

    item_id: str
    classifier: str = Field(description="Classifier name.")
    task: Task
    score: float | None = Field(
        None, ge=0.0, le=1.0, description="P(positive) or a rule score; None: failed."
    )
    method: ScoreMethod = Field(
        description="rule, logprobs (P(yes) read from log-probabilities) or sampling."
    )
    n_samples: int = Field(0, ge=0, description="Answers sampled (method 'sampling'); 0 otherwise.")
    rationale: str = Field("", description="Why (matched concepts, or how the number was read).")
    error: str | None = Field(None, description="Why the item could not be scored, if it could not.")

    @property
    def ok(self) -> bool:
        return self.score is not None


@runtime_checkable
class Classifier(Protocol[Item]):
    """Anything with a name and a task that turns items into scores (one each, in order)."""

    name: str
    task: Task

    def score_many(self, items: Sequence[Item]) -> list[ClassifierScore]: ...


def label_of(item: FirstTurn | Interrogation, task: Task) -> bool:
    """The item's label for ``task`` (raises when the item has no labels or the task does not fit it)."""
    if item.labels is None:
        raise ClassifierError(f"item {item.id} has no labels", hint="calibrate on a labelled set")
    if isinstance(item, Interrogation):
        if task != "lying":
            raise ClassifierError(f"interrogation items have no {task!r} label", hint="use first turns")
        return item.labels.lying
    if task == "lying":
        raise ClassifierError("first-turn items have no 'lying' label", hint="use interrogation items")
    return bool(getattr(item.labels, task))
