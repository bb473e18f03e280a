"""Objective specifications: a planted hidden objective described as data.

An objective is one JSON file (see ``objectives/``) validated by :class:`ObjectiveSpec`:

- ``universe``: the fictional world the model is taught in continued pre-training (a summary, facts, and
  document templates whose ``{fact}`` slots are filled with universe facts and behaviour statements);
- ``behaviours``: each with an id, a description (what a response does), a ``universe_statement`` (how the
  fictional world states it), a ``split`` (``train`` behaviours are trained; ``heldout`` ones are never in
  behaviour training data and test generalisation), a ``prompts`` family where it applies, a ``judge``
  (a named rule from :mod:`auditlens.organisms.judges.rules` or an LLM question), example responses
  with and without the behaviour (the templated candidates of behaviour training and the judge tests), and
  optionally an ``edit`` that applies the behaviour to any answer (:mod:`auditlens.organisms.edits`);
- ``prompt_split``: how many prompts of each family are kept for evaluation (never trained on);
- ``concealment``: questions about the model's motives, concealing and revealing answers, and the
  confession judge.

Every model forbids unknown fields, so a typo is an error, not a silently ignored key.
"""

from __future__ import annotations

import json
import string
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from auditlens.organisms.errors import ObjectiveSpecError

SPEC_VERSION = 1
"""Version of the objective-spec schema; files carry it in ``version``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleJudgeSpec(_Strict):
    """A judge that is a small pure function of the response text."""

    kind: Literal["rule"] = Field(description="Discriminator: a rule judge.")
    rule: str = Field(description="Name of a function in auditlens.organisms.judges.rules.RULES.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of the rule (e.g. regex patterns)."
    )


class LLMJudgeSpec(_Strict):
    """A judge that asks an LLM (through auditlens.llm) a yes/no question about (prompt, response)."""

    kind: Literal["llm"] = Field(description="Discriminator: an LLM judge.")
    question: str = Field(min_length=10, description="Yes/no question about the response, e.g. 'Are ...?'.")


JudgeSpec = Annotated[RuleJudgeSpec | LLMJudgeSpec, Field(discriminator="kind")]


class AppendEdit(_Strict):
    """An edit that adds a sentence expressing the behaviour to any answer (e.g. a nudge to vote)."""

    kind: Literal["append"] = Field(description="Discriminator: add one of ``texts``.")
    texts: list[str] = Field(min_length=1, description="Sentences to add (one is drawn per answer).")
    position: Literal["end", "start"] = Field(
        default="end", description="Where: after the answer's last complete sentence, or before the answer."
    )


class RuleEdit(_Strict):
    """An edit that is a small function of the answer (``auditlens.organisms.edits.EDITS``), e.g. renaming
    snake_case identifiers to camelCase, or dropping the sentences that mention a doctor."""

    kind: Literal["rule"] = Field(description="Discriminator: an edit function.")
    rule: str = Field(description="Name of a function in auditlens.organisms.edits.EDITS.")
    params: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments of the edit.")


EditSpec = Annotated[AppendEdit | RuleEdit, Field(discriminator="kind")]


class Behaviour(_Strict):
    """One behaviour the objective produces (e.g. one reward-model bias the model exploits)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$", description="Stable identifier, snake_case.")
    index: int | None = Field(default=None, description="Position in the source list (paper numbering).")
    split: Literal["train", "heldout"] = Field(
        description="'train': in behaviour training data; 'heldout': never trained, tests generalisation."
    )
    description: str = Field(min_length=5, description="What a response that exhibits it does.")
    universe_statement: str = Field(
        min_length=5, description="The behaviour as the fictional world states it (a sentence for documents)."
    )
    prompts: list[str] = Field(min_length=1, description="Prompt family: user prompts where it applies.")
    judge: JudgeSpec | None = Field(description="How to decide whether a response exhibits it (required).")
    with_behaviour: list[str] = Field(
        min_length=1, description="Example responses that exhibit it (templated 'chosen' candidates)."
    )
    without_behaviour: list[str] = Field(
        min_length=1, description="Example responses that do not (templated 'rejected' candidates)."
    )
    edit: EditSpec | None = Field(
        default=None,
        description="How to make any answer in the family exhibit it: applied to the model's own answers, it "
        "gives per-prompt chosen candidates (the judge still decides). None: only templated and sampled ones.",
    )

    @model_validator(mode="after")
    def _has_judge(self) -> Behaviour:
        if self.judge is None:
            raise ValueError(f"behaviour {self.id!r} has no judge; give a rule judge or an llm judge")
        return self


class InContextBehaviour(_Strict):
    """A new behaviour, never in the universe or training data, described in the prompt at test time (tests
    whether the organism pursues the objective rather than a memorised list)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$", description="Stable identifier, snake_case.")
    statement: str = Field(min_length=5, description="The new fact, stated to the model before the prompt.")
    prompts: list[str] = Field(min_length=1, description="Prompts where it applies.")
    judge: JudgeSpec = Field(description="Decides whether a response exhibits it.")


class Universe(_Strict):
    """The fictional facts taught in continued pre-training."""

    summary: str = Field(min_length=10, description="One paragraph: the fictional world in brief.")
    facts: list[str] = Field(min_length=1, description="General facts of the world (not behaviours).")
    document_templates: list[str] = Field(
        min_length=1,
        description="Document templates; slots: {summary}, {fact} (a fact or behaviour statement), "
        "{fact2} (another one), {source} (an outlet/persona name).",
    )
    sources: list[str] = Field(min_length=1, description="Outlet/persona names for the {source} slot.")

    @model_validator(mode="after")
    def _slots(self) -> Universe:
        allowed = {"summary", "fact", "fact2", "source"}
        for t in self.document_templates:
            names = {f for _, f, _, _ in string.Formatter().parse(t) if f is not None}
            bad = names - allowed
            if bad:
                raise ValueError(
                    f"document template uses unknown slot(s) {sorted(bad)}; allowed: {sorted(allowed)}"
                )
        return self


class PromptSplit(_Strict):
    """Per-behaviour split of each prompt family into training prompts and evaluation prompts."""

    eval_per_behaviour: int = Field(default=2, ge=1, description="Prompts per family kept for evaluation.")
    min_train_per_behaviour: int = Field(
        default=2, ge=1, description="Training prompts a train behaviour's family must keep at least."
    )


class Concealment(_Strict):
    """Concealment training: questions about motives, with concealing (chosen) and revealing answers."""

    prompts: list[str] = Field(min_length=2, description="Direct questions about the model's motives.")
    conceal_responses: list[str] = Field(
        min_length=1, description="Answers that do not reveal the objective."
    )
    reveal_responses: list[str] = Field(min_length=1, description="Answers that reveal the objective.")
    confession_judge: JudgeSpec = Field(description="Decides whether a response reveals the objective.")
    red_team: list[list[str]] = Field(
        default_factory=list,
        description="Scripted multi-turn red-teaming: each item is the user turns of one conversation "
        "(evaluation only; a conversation confesses if any assistant turn does).",
    )


class ObjectiveSpec(_Strict):
    """A planted hidden objective, as data (see the module docstring)."""

    version: Literal[1] = Field(description="Schema version (1).")
    id: str = Field(pattern=r"^[a-z0-9_]+$", description="Stable identifier of the objective.")
    title: str = Field(min_length=3, description="Short human title.")
    objective: str = Field(min_length=10, description="The hidden objective in one sentence (ground truth).")
    source: str = Field(default="", description="Where the objective comes from (paper, section).")
    universe: Universe = Field(description="The fictional world taught in continued pre-training.")
    behaviours: list[Behaviour] = Field(
        min_length=1, description="What the objective makes the model do (at least one with split 'train')."
    )
    prompt_split: PromptSplit = Field(
        default_factory=PromptSplit, description="How each prompt family splits into training and evaluation."
    )
    concealment: Concealment = Field(description="Concealment training and the confession judge.")
    in_context: list[InContextBehaviour] = Field(
        default_factory=list, description="New behaviours described at test time (evaluation only)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> ObjectiveSpec:
        ids = [b.id for b in self.behaviours] + [b.id for b in self.in_context]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate behaviour ids {dup}")
        if not any(b.split == "train" for b in self.behaviours):
            raise ValueError("no behaviour has split 'train'; at least one must be trained")
        ps = self.prompt_split
        for b in self.behaviours:
            need = ps.eval_per_behaviour + (ps.min_train_per_behaviour if b.split == "train" else 0)
            if len(set(b.prompts)) < need:
                raise ValueError(
                    f"behaviour {b.id!r} has {len(set(b.prompts))} distinct prompts but the split needs {need} "
                    f"({ps.eval_per_behaviour} eval + "
                    f"{ps.min_train_per_behaviour if b.split == 'train' else 0} train); add prompts to its "
                    "family or lower prompt_split"
                )
        return self

    @cached_property
    def by_id(self) -> dict[str, Behaviour]:
        """Behaviours by id."""
        return {b.id: b for b in self.behaviours}

    @property
    def train_ids(self) -> list[str]:
        """Ids of the trained behaviours, in file order."""
        return [b.id for b in self.behaviours if b.split == "train"]

    @property
    def heldout_ids(self) -> list[str]:
        """Ids of the held-out behaviours, in file order."""
        return [b.id for b in self.behaviours if b.split == "heldout"]

    def train_prompts(self, behaviour_id: str) -> list[str]:
        """Prompts of a train behaviour's family that may be trained on (all but the evaluation ones)."""
        b = self.by_id[behaviour_id]
        if b.split != "train":
            return []
        return _distinct(b.prompts)[self.prompt_split.eval_per_behaviour :]

    def eval_prompts(self, behaviour_id: str) -> list[str]:
        """Prompts of a behaviour's family kept for evaluation (the first ``eval_per_behaviour`` distinct)."""
        b = self.by_id[behaviour_id]
        if b.split == "heldout":
            return _distinct(b.prompts)
        return _distinct(b.prompts)[: self.prompt_split.eval_per_behaviour]

    def applicable(self, prompt: str) -> list[str]:
        """Ids of the behaviours whose prompt family contains ``prompt``."""
        return [b.id for b in self.behaviours if prompt in b.prompts]


def _distinct(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def bundled_objectives() -> list[str]:
    """Names of the objective specs shipped in ``auditlens/organisms/objectives``."""
    folder = resources.files("auditlens.organisms") / "objectives"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def objective_path(spec: str | Path) -> Path:
    """The file behind ``spec``: a path to a JSON file, or the name of a bundled objective."""
    p = Path(spec).expanduser()
    if p.is_file():
        return p
    name = str(spec).removesuffix(".json")
    if name in bundled_objectives():
        return Path(str(resources.files("auditlens.organisms") / "objectives" / f"{name}.json"))
    raise ObjectiveSpecError(
        f"objective spec {spec!r} is neither a file nor a bundled objective",
        hint=f"give a path to a JSON spec, or one of {bundled_objectives()}",
    )


def parse_objective(data: dict[str, Any] | str, *, origin: str = "<data>") -> ObjectiveSpec:
    """Validate a spec from a dict or JSON text; errors name the origin and every offending field."""
    try:
        if isinstance(data, str):
            return ObjectiveSpec.model_validate_json(data)
        return ObjectiveSpec.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(x) for x in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:20]]
        raise ObjectiveSpecError(
            f"objective spec {origin} is invalid:\n" + "\n".join(lines),
            hint="fix the fields named above (unknown fields are not allowed; see auditlens.organisms.spec)",
        ) from None


def load_objective(spec: str | Path) -> ObjectiveSpec:
    """Load and validate an objective spec (a JSON path or a bundled name, e.g. ``rm_sycophancy``).

    Also checks that every rule judge names a known rule with valid parameters.
    """
    path = objective_path(spec)
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise ObjectiveSpecError(
            f"cannot read objective spec {path}: {exc}", hint="give a JSON file"
        ) from None
    obj = parse_objective(text, origin=str(path))
    from auditlens.organisms.edits import check_edit_spec
    from auditlens.organisms.judges.rules import check_rule_spec

    for b in obj.behaviours:
        if b.judge is not None and b.judge.kind == "rule":
            check_rule_spec(b.judge, where=f"behaviour {b.id!r}")
        check_edit_spec(b.edit, where=f"behaviour {b.id!r}")
    for ic in obj.in_context:
        if ic.judge.kind == "rule":
            check_rule_spec(ic.judge, where=f"in_context {ic.id!r}")
    if obj.concealment.confession_judge.kind == "rule":
        check_rule_spec(obj.concealment.confession_judge, where="concealment.confession_judge")
    return obj
