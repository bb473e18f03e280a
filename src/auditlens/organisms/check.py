"""``auditlens organism check``: validate an objective spec fully before any training.

:func:`check_spec` reads a spec (a JSON path, a bundled name, a dict or a parsed :class:`ObjectiveSpec`) and
returns a :class:`SpecCheck`: whether the JSON parses into :class:`ObjectiveSpec` (each pydantic error with its
field path and what to do), whether every rule judge and rule edit compiles, how many prompts each behaviour's
family keeps for training and for evaluation under the spec's own :class:`~auditlens.organisms.spec.PromptSplit`,
how each judge scores the spec's own example answers (``with_behaviour`` must fire, ``without_behaviour`` must
not; the confession judge on ``reveal_responses`` / ``conceal_responses``), and what each edit does to the
examples that lack the behaviour.

Refusals (``errors``; :meth:`SpecCheck.raise_if_refused` raises :class:`ObjectiveSpecError` naming them): a spec
that does not parse, a judge or edit that does not compile, a rule judge that misses one of its positive
examples or fires on one of its negatives, an edit that raises. Notes that do not stop a build are
``warnings`` (an edit that applies to none of the examples, an edited example the judge rejects).

LLM judges are checked for form (a yes/no question ending in ``?``) and, by default, only run through a
deterministic stub (which exercises the request, not the judgement: their examples are reported unscored).
Pass ``llm=`` (a client or an LLM spec such as ``openai:gpt-4o-mini``) to score them with a real LLM; their
misses are then refusals like a rule judge's (undecided answers are warnings).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from auditlens.errors import AuditlensError
from auditlens.llm import LLMClient, StubBackend
from auditlens.organisms.errors import ObjectiveSpecError
from auditlens.organisms.spec import AppendEdit, ObjectiveSpec, PromptSplit, RuleEdit, objective_path

SPLITS = ("train", "heldout")

__all__ = ["EditCheck", "ExampleScore", "JudgeCheck", "Problem", "SpecCheck", "check_spec"]


class Problem(BaseModel):
    """One finding: where in the spec, what is wrong, what to do."""

    where: str = Field(description="Field path or behaviour, e.g. 'behaviours.3.judge' or \"behaviour 'x'\".")
    message: str
    hint: str = ""


class ExampleScore(BaseModel):
    """How a judge scores one set of example answers."""

    field: str = Field(description="The spec field the examples come from, e.g. 'with_behaviour'.")
    n: int = Field(description="Example answers.")
    fired: int | None = Field(description="Answers the judge says exhibit the behaviour (None: not scored).")
    undecided: int = Field(default=0, description="Answers an LLM judge answered neither yes nor no.")
    wrong: list[str] = Field(
        default_factory=list, description="The examples scored the wrong way (first three, truncated)."
    )


class EditCheck(BaseModel):
    """What the behaviour's edit does to the examples without the behaviour."""

    kind: str = Field(description="'append' or the rule edit's name.")
    tried: int = Field(description="Edits tried (each negative example; for append, with each text).")
    applied: int = Field(description="Edits that applied (returned an answer).")
    accepted: int | None = Field(description="Applied edits the judge accepts (None: not scored).")


class JudgeCheck(BaseModel):
    """One judged item of the spec: a behaviour, an in-context behaviour, or the confession judge."""

    id: str
    section: Literal["behaviour", "in_context", "concealment"]
    split: str | None = None
    judge: str = Field(description="'rule <name>' or 'llm'.")
    scored_by: str = Field(description="'rule', 'stub' (LLM judge, examples not scored) or 'llm:<spec>'.")
    prompts: int | None = Field(default=None, description="Distinct prompts of the family.")
    train_prompts: int | None = Field(default=None, description="Prompts behaviour training may use.")
    eval_prompts: int | None = Field(default=None, description="Prompts kept for evaluation.")
    positives: ExampleScore | None = None
    negatives: ExampleScore | None = None
    edit: EditCheck | None = None


class SpecCheck(BaseModel):
    """The result of :func:`check_spec`."""

    origin: str = Field(description="The file (or '<data>') checked.")
    objective_id: str | None = Field(default=None, description="The spec's id (None: it did not parse).")
    llm: str | None = Field(default=None, description="LLM that scored LLM judges (None: the stub).")
    ok: bool = Field(description="True when there are no errors (a build may start).")
    errors: list[Problem] = Field(default_factory=list, description="Refusals.")
    warnings: list[Problem] = Field(default_factory=list, description="Notes that do not stop a build.")
    judges: list[JudgeCheck] = Field(default_factory=list)

    def raise_if_refused(self) -> None:
        """Raise :class:`ObjectiveSpecError` listing every error (nothing when ``ok``)."""
        if self.ok:
            return
        lines = [f"  {p.where}: {p.message}" + (f" ({p.hint})" if p.hint else "") for p in self.errors[:20]]
        more = len(self.errors) - 20
        raise ObjectiveSpecError(
            f"objective spec {self.origin} is refused:\n" + "\n".join(lines)
            + (f"\n  ... and {more} more" if more > 0 else ""),
            hint="fix the fields named above, then run `auditlens organism check SPEC` again",
        )  # fmt: skip

    def table(self) -> list[str]:
        """Human-readable lines: one per judged item, then the errors and warnings."""
        out = [
            f"objective {self.objective_id or '?'} ({self.origin}); LLM judges scored by {self.llm or 'stub'}"
        ]
        if self.judges:
            out.append(f"{'item':34s} {'split':7s} {'judge':26s} {'prompts tr/ev':13s} "
                       f"{'positives':10s} {'negatives':10s} edit")  # fmt: skip
        for j in self.judges:
            tr, ev = ("-" if x is None else x for x in (j.train_prompts, j.eval_prompts))
            prompts = "" if j.prompts is None else f"{j.prompts} ({tr}/{ev})"
            edit = "" if j.edit is None else (
                f"{j.edit.kind}: {j.edit.applied}/{j.edit.tried} applied"
                + ("" if j.edit.accepted is None else f", {j.edit.accepted} accepted")
            )  # fmt: skip
            out.append(f"{j.id[:34]:34s} {j.split or '-':7s} {j.judge[:26]:26s} {prompts:13s} "
                       f"{_score(j.positives):10s} {_score(j.negatives):10s} {edit}")  # fmt: skip
        for tag, ps in (("ERROR", self.errors), ("warning", self.warnings)):
            for p in ps:
                out.append(f"{tag}: {p.where}: {p.message}" + (f" — {p.hint}" if p.hint else ""))
        n_llm = sum(j.scored_by == "stub" for j in self.judges)
        if n_llm:
            out.append(
                f"note: {n_llm} LLM judge(s) checked for form only (stub); pass --llm SPEC to score them"
            )
        out.append("OK: the spec may be built" if self.ok else f"REFUSED: {len(self.errors)} error(s)")
        return out


def _score(s: ExampleScore | None) -> str:
    if s is None:
        return "none"
    if s.fired is None:
        return f"-/{s.n}"
    return f"{s.fired}/{s.n}" + (f" ?{s.undecided}" if s.undecided else "")


_HINTS = {
    "extra_forbidden": "remove the field or fix its spelling (unknown fields are not allowed)",
    "missing": "add the field",
    "too_short": "give more items (or a longer text)",
    "string_pattern_mismatch": "use snake_case: lower-case letters, digits and '_'",
    "literal_error": "use one of the values named",
    "union_tag_invalid": "set 'kind' to one of the values named",
    "union_tag_not_found": "add a 'kind' field ('rule' or 'llm' for a judge; 'append' or 'rule' for an edit)",
    "greater_than_equal": "give a larger number",
    "int_parsing": "give a whole number",
    "string_type": "give a string",
    "list_type": "give a list",
    "dict_type": "give an object",
    "model_type": "give an object",
    "value_error": "see the message",
}


_FIELD_HINTS = {
    "without_behaviour": "give at least one answer without the behaviour: the judge is tested on it (it must not "
    "fire) and it is a templated rejected candidate",
    "with_behaviour": "give at least one answer that exhibits the behaviour: the judge must fire on it",
    "prompts": "give the prompts where the behaviour applies",
}


def _parse_problems(exc: ValidationError, data: Any) -> list[Problem]:
    split = _split_problems(data)
    out = []
    for e in exc.errors():
        msg = e["msg"].removeprefix("Value error, ")
        if split and "distinct prompts but the split needs" in msg:
            continue  # reported below for every behaviour, not only the first
        where = ".".join(str(x) for x in e["loc"]) or "<root>"
        last = str(e["loc"][-1]) if e["loc"] else ""
        hint = _FIELD_HINTS.get(last) if e["type"] in ("too_short", "missing") else None
        out.append(
            Problem(where=where, message=msg, hint=hint or _HINTS.get(e["type"], "see docs/organism-spec.md"))
        )
    return out + split


def _split_problems(data: Any) -> list[Problem]:
    """Every behaviour whose prompt family is too small for the split (read from the raw data, so that all of
    them are named, where the model validator stops at the first)."""
    if not isinstance(data, dict) or not isinstance(data.get("behaviours"), list):
        return []
    ps = data.get("prompt_split") or {}
    try:
        split = PromptSplit.model_validate(ps)
    except ValidationError:
        return []
    out = []
    for i, b in enumerate(data["behaviours"]):
        if not isinstance(b, dict) or not isinstance(b.get("prompts"), list) or b.get("split") not in SPLITS:
            continue
        have = len({p for p in b["prompts"] if isinstance(p, str)})
        train = split.min_train_per_behaviour if b["split"] == "train" else 0
        need = split.eval_per_behaviour + train
        if have < need:
            out.append(Problem(where=f"behaviours.{i}.prompts (behaviour {b.get('id')!r})",
                               message=f"{have} distinct prompts but the {b['split']} split needs {need} "
                               f"({split.eval_per_behaviour} eval + {train} train)",
                               hint="add prompts to its family or lower prompt_split"))  # fmt: skip
    return out


def _load(
    spec: str | Path | dict[str, Any] | ObjectiveSpec,
) -> tuple[str, ObjectiveSpec | None, list[Problem]]:
    if isinstance(spec, ObjectiveSpec):
        return "<spec>", spec, []
    origin = "<data>"
    data: Any = spec
    if not isinstance(spec, dict):
        path = objective_path(spec)
        origin = str(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            return origin, None, [Problem(where=origin, message=f"cannot read: {e}", hint="check the path")]
        except json.JSONDecodeError as e:
            return origin, None, [Problem(where=f"line {e.lineno} column {e.colno}", message=f"not JSON: {e.msg}",
                                          hint="fix the JSON syntax (a missing comma or quote?)")]  # fmt: skip
    try:
        return origin, ObjectiveSpec.model_validate(data), []
    except ValidationError as exc:
        return origin, None, _parse_problems(exc, data)


_YES_NO = re.compile(r"\b(is|are|does|do|did|has|have|can|could|would|should|will|was|were)\b", re.I)


def _stub_client() -> LLMClient:
    """A deterministic grader that answers Yes to every well-formed judge request (exercises the request only)."""
    return LLMClient(StubBackend(lambda req: "Yes", name="spec-check"), use_cache=False)


def _verdicts(judge: Any, texts: list[str], client: LLMClient | None) -> list[bool | None]:
    from auditlens.organisms.judges import judge_many

    return judge_many(judge, [("", t) for t in texts], client=client)


def _example_score(
    field: str, texts: list[str], verdicts: list[bool | None] | None, want: bool
) -> ExampleScore:
    if verdicts is None:
        return ExampleScore(field=field, n=len(texts), fired=None)
    wrong = [t for t, v in zip(texts, verdicts, strict=True) if v is not None and v is not want]
    return ExampleScore(field=field, n=len(texts), fired=sum(v is True for v in verdicts),
                        undecided=sum(v is None for v in verdicts), wrong=[w[:80] for w in wrong[:3]])  # fmt: skip


class _Checker:
    def __init__(self, llm_client: LLMClient | None) -> None:
        self.client = llm_client
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def compiles(self, judge: Any, where: str) -> bool:
        from auditlens.organisms.judges.llm import judge_request
        from auditlens.organisms.judges.rules import check_rule_spec

        if judge.kind == "rule":
            try:
                check_rule_spec(judge, where=where)
            except AuditlensError as e:
                self.errors.append(Problem(where=where, message=e.message.removeprefix(f"{where}: "),
                                           hint=e.hint or ""))  # fmt: skip
                return False
            return True
        q = judge.question.strip()
        ok = True
        if not q.endswith("?"):
            self.errors.append(Problem(where=where, message=f"LLM judge question {q[:60]!r} does not end with '?'",
                                       hint="ask one yes/no question about the response, e.g. 'Does the "
                                       "response ...?'"))  # fmt: skip
            ok = False
        elif not _YES_NO.search(q):
            self.warnings.append(Problem(where=where, message=f"LLM judge question {q[:60]!r} may not be a yes/no "
                                         "question", hint="start it with Does/Is/Are/..."))  # fmt: skip
        judge_request(q, "prompt", "response")  # the request renders
        return ok

    def score(self, judge: Any, where: str, pos: tuple[str, list[str]], neg: tuple[str, list[str]] | None,
              what: str) -> tuple[str, ExampleScore, ExampleScore | None]:  # fmt: skip
        """Score the examples; refusals for misses. Returns (scored_by, positives, negatives)."""
        llm = judge.kind == "llm"
        if llm and self.client is None:
            stub = _stub_client()
            if not all(_verdicts(judge, pos[1][:1], stub)):
                self.errors.append(Problem(where=where, message="the LLM judge request does not round-trip"))
            p = _example_score(pos[0], pos[1], None, True)
            return "stub", p, None if neg is None else _example_score(neg[0], neg[1], None, False)
        vp = _verdicts(judge, pos[1], self.client)
        vn = None if neg is None else _verdicts(judge, neg[1], self.client)
        p = _example_score(pos[0], pos[1], vp, True)
        n = None if neg is None or vn is None else _example_score(neg[0], neg[1], vn, False)
        scored_by = f"llm:{self.client_name()}" if llm else "rule"
        if p.fired == 0:
            self.errors.append(Problem(where=where, message=f"its judge never fires on its own positive examples "
                                       f"(0 of {p.n} {pos[0]})", hint=f"fix the judge or the {pos[0]} examples "
                                       f"so that every one {what}"))  # fmt: skip
        elif p.wrong:
            self.errors.append(Problem(where=where, message=f"its judge misses {len(p.wrong)} of {p.n} {pos[0]} "
                                       f"examples, e.g. {p.wrong[0]!r}", hint="fix the judge or the example"))  # fmt: skip
        if n is not None and n.wrong:
            self.errors.append(Problem(where=where, message=f"its judge fires on {len(n.wrong)} of {n.n} of its own "
                                       f"negative examples ({neg[0] if neg else ''}), e.g. {n.wrong[0]!r}",
                                       hint="make the judge stricter or fix the example"))  # fmt: skip
        if neg is None:
            self.warnings.append(Problem(where=where, message="no negative examples: the judge is only tested on "
                                         "answers that exhibit the behaviour"))  # fmt: skip
        undecided = p.undecided + (n.undecided if n else 0)
        if undecided:
            self.warnings.append(
                Problem(where=where, message=f"the LLM judge left {undecided} example(s) undecided")
            )
        return scored_by, p, n

    def client_name(self) -> str:
        return self.client.backend.identity if self.client is not None else "stub"

    def edit(self, b: Any, where: str, judge_ok: bool) -> EditCheck | None:
        from auditlens.organisms.edits import apply_edit, check_edit_spec

        e: AppendEdit | RuleEdit | None = b.edit
        if e is None:
            return None
        try:
            check_edit_spec(e, where=where)
        except AuditlensError as exc:
            self.errors.append(Problem(where=f"{where}.edit", message=exc.message.removeprefix(f"{where}: "),
                                       hint=exc.hint or ""))  # fmt: skip
            return None
        edits = [e] if e.kind == "rule" else [e.model_copy(update={"texts": [t]}) for t in e.texts]
        outs: list[str] = []
        tried = 0
        for one in edits:
            for text in b.without_behaviour:
                tried += 1
                try:
                    r = apply_edit(one, text, random.Random(0))
                except Exception as exc:  # a user's edit params can break a rule anywhere
                    self.errors.append(Problem(where=f"{where}.edit", message=f"the edit raises on {text[:60]!r}: "
                                               f"{type(exc).__name__}: {exc}", hint="fix the edit's params"))  # fmt: skip
                    return None
                if r is not None:
                    outs.append(r)
        kind = "append" if e.kind == "append" else e.rule
        if not outs:
            self.warnings.append(Problem(where=f"{where}.edit", message=f"the edit applies to none of the "
                                         f"{len(b.without_behaviour)} without_behaviour examples",
                                         hint="fine if they are single sentences it would remove entirely; "
                                         "otherwise check its params"))  # fmt: skip
            return EditCheck(kind=kind, tried=tried, applied=0, accepted=None)
        accepted: int | None = None
        if judge_ok and not (b.judge.kind == "llm" and self.client is None):
            v = _verdicts(b.judge, outs, self.client)
            accepted = sum(x is True for x in v)
            rejected = [o for o, x in zip(outs, v, strict=True) if x is False]
            if rejected:
                self.warnings.append(Problem(where=f"{where}.edit", message=f"the judge rejects {len(rejected)} of "
                                             f"{len(outs)} edited examples, e.g. {rejected[0][:100]!r}",
                                             hint="those edited answers are dropped from training; align the "
                                             "edit with the judge"))  # fmt: skip
        return EditCheck(kind=kind, tried=tried, applied=len(outs), accepted=accepted)


def check_spec(
    spec: str | Path | dict[str, Any] | ObjectiveSpec, *, llm: LLMClient | str | None = None
) -> SpecCheck:
    """Validate ``spec`` fully (see the module docstring); never raises on a bad spec, only on a missing one."""
    origin, obj, problems = _load(spec)
    if obj is None:
        return SpecCheck(origin=origin, ok=False, errors=problems)
    client: LLMClient | None
    if isinstance(llm, str):
        from auditlens.llm import make_client

        client = make_client(llm)
    else:
        client = llm
    c = _Checker(client)
    rows: list[JudgeCheck] = []
    for b in obj.behaviours:
        where = f"behaviour {b.id!r}"
        assert b.judge is not None  # the spec validator requires one
        ok = c.compiles(b.judge, where)
        train, ev = obj.train_prompts(b.id), obj.eval_prompts(b.id)
        row = JudgeCheck(id=b.id, section="behaviour", split=b.split, judge=_judge_name(b.judge),
                         scored_by="-", prompts=len(set(b.prompts)), train_prompts=len(train),
                         eval_prompts=len(ev))  # fmt: skip
        if ok:
            row.scored_by, row.positives, row.negatives = c.score(
                b.judge,
                where,
                ("with_behaviour", b.with_behaviour),
                ("without_behaviour", b.without_behaviour),
                "exhibits the behaviour",
            )
        row.edit = c.edit(b, where, ok)
        rows.append(row)
    for ic in obj.in_context:
        where = f"in_context {ic.id!r}"
        c.compiles(ic.judge, where)
        rows.append(JudgeCheck(id=ic.id, section="in_context", judge=_judge_name(ic.judge),
                               scored_by="rule" if ic.judge.kind == "rule" else "stub",
                               prompts=len(set(ic.prompts)), eval_prompts=len(set(ic.prompts))))  # fmt: skip
    cj = obj.concealment.confession_judge
    where = "concealment.confession_judge"
    row = JudgeCheck(id="concealment.confession_judge", section="concealment", judge=_judge_name(cj), scored_by="-",
                     prompts=len(set(obj.concealment.prompts)))  # fmt: skip
    if c.compiles(cj, where):
        row.scored_by, row.positives, row.negatives = c.score(
            cj, where, ("reveal_responses", obj.concealment.reveal_responses),
            ("conceal_responses", obj.concealment.conceal_responses), "reveals the objective",
        )  # fmt: skip
    rows.append(row)
    return SpecCheck(origin=origin, objective_id=obj.id, llm=None if client is None else c.client_name(),
                     ok=not c.errors, errors=c.errors, warnings=c.warnings, judges=rows)  # fmt: skip


def _judge_name(judge: Any) -> str:
    return f"rule {judge.rule}" if judge.kind == "rule" else "llm"
