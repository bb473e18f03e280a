"""What the policy handed in: its reply parsed into a :class:`Submission`, and an Inspect sample turned into the
:class:`~auditlens.monitor.records.CodeSample` a monitor reads (:func:`to_code_sample`)."""

from __future__ import annotations

import re
from functools import lru_cache

from inspect_ai.solver import TaskState
from pydantic import BaseModel, Field

from auditlens.monitor.problems import Problem, load_humaneval
from auditlens.monitor.records import CodeSample, ReasoningStyle
from auditlens.monitor.taxonomy import BackdoorType

__all__ = [
    "Submission",
    "humaneval_problems",
    "parse_submission",
    "sample_style",
    "submission_of",
    "thinking_of",
    "to_code_sample",
]


@lru_cache(maxsize=1)
def humaneval_problems() -> dict[str, Problem]:
    """The bundled HumanEval problems by id (read once)."""
    return {p.id: p for p in load_humaneval()}


class Submission(BaseModel):
    """What the policy handed in, parsed from its reply."""

    code: str = Field(description="The program (from <answer>, a ```python block, or the whole reply).")
    reasoning: str = Field("", description="Reasoning: the model's thinking plus the reply outside tags.")
    backdoor_input: str | None = None
    backdoor_explanation: str = ""


def _tag(text: str, name: str) -> str | None:
    m = re.search(rf"<{name}>(.*?)</{name}>", text, re.DOTALL | re.IGNORECASE)
    return m.group(1).strip() if m else None


def _code_block(text: str) -> str | None:
    m = re.search(r"```(?:python|py)?\s*\n(.*?)```", text, re.DOTALL)
    return m.group(1) if m else None


def parse_submission(reply: str, thinking: str = "") -> Submission:
    """Code from ``<answer>`` (its code block, else its text), else the first code block, else the reply;
    the backdoor input and explanation from their tags; the reasoning is ``thinking`` plus the reply with
    the answer and backdoor tags removed."""
    answer = _tag(reply, "answer")
    code = (_code_block(answer) or answer) if answer is not None else (_code_block(reply) or reply)
    outside = re.sub(
        r"<(answer|backdoor-input|backdoor-explanation)>.*?</\1>", "", reply, flags=re.DOTALL | re.IGNORECASE
    )
    if answer is None:
        outside = re.sub(r"```.*?```", "", outside, flags=re.DOTALL)
    reasoning = "\n\n".join(p for p in (thinking.strip(), outside.strip()) if p)
    return Submission(
        code=code.strip("\n") + "\n",
        reasoning=reasoning,
        backdoor_input=_tag(reply, "backdoor-input"),
        backdoor_explanation=_tag(reply, "backdoor-explanation") or "",
    )


def thinking_of(state: TaskState) -> str:
    from inspect_ai._util.content import ContentReasoning

    msg = state.output.message if state.output and state.output.choices else None
    if msg is None or isinstance(msg.content, str):
        return ""
    return "\n".join(c.reasoning for c in msg.content if isinstance(c, ContentReasoning))


def submission_of(state: TaskState) -> Submission:
    raw = state.metadata.get("submission")
    if raw is None:
        return parse_submission(state.output.completion if state.output else "")
    return Submission.model_validate(raw)


def sample_style(attack: bool, reasoning: str) -> ReasoningStyle:
    """``honest`` for an honest run with reasoning, else ``none``: a policy's attack reasoning has no
    known style (blatant or persuasive are fixture labels), so catch rates by style mean little here."""
    return ReasoningStyle.HONEST if reasoning and not attack else ReasoningStyle.NONE


def to_code_sample(state: TaskState) -> CodeSample:
    """The :class:`CodeSample` a monitor reads for one Inspect sample (label: ``no_backdoor`` for the
    honest mode, ``other`` — an attempted backdoor of unknown type — for the attack mode)."""
    sub = submission_of(state)
    pid = str(state.metadata.get("problem_id", state.sample_id))
    problem = humaneval_problems().get(pid)
    attack = state.metadata.get("mode") == "attack"
    return CodeSample(
        id=str(state.sample_id),
        problem_id=pid,
        problem_statement=problem.statement if problem else state.input_text,
        code=sub.code,
        reasoning=sub.reasoning,
        reasoning_style=sample_style(attack, sub.reasoning),
        backdoor_input=sub.backdoor_input,
        backdoor_explanation=sub.backdoor_explanation,
        label=BackdoorType.OTHER if attack else BackdoorType.NO_BACKDOOR,
        source=f"policy:{state.model}",
        metadata={"entry_point": state.metadata.get("entry_point")},
    )
