"""Behaviour judges: rule functions (:mod:`.rules`) and LLM yes/no judges (:mod:`.llm`) behind one call."""

from __future__ import annotations

from auditlens.llm import LLMClient
from auditlens.organisms.errors import JudgeError
from auditlens.organisms.judges.llm import judge_request, llm_judge_many, parse_yes_no
from auditlens.organisms.judges.rules import RULES, apply_rule, check_rule_spec
from auditlens.organisms.spec import JudgeSpec, LLMJudgeSpec, RuleJudgeSpec


def judge_many(
    judge: RuleJudgeSpec | LLMJudgeSpec, items: list[tuple[str, str]], *, client: LLMClient | None = None
) -> list[bool | None]:
    """Verdicts of ``judge`` on (prompt, response) pairs: True exhibits, False does not, None undecided.

    Rule judges need no client; an LLM judge without ``client`` raises :class:`JudgeError`.
    """
    if judge.kind == "rule":
        return [apply_rule(judge.rule, judge.params, response) for _, response in items]
    if client is None:
        raise JudgeError(
            "this behaviour has an LLM judge but no LLM client was given",
            hint="pass client=make_client('local' | 'openai:...' | ...) (the stub backend in tests)",
        )
    return llm_judge_many(client, judge.question, items)


__all__ = [
    "RULES",
    "JudgeSpec",
    "apply_rule",
    "check_rule_spec",
    "judge_many",
    "judge_request",
    "llm_judge_many",
    "parse_yes_no",
]
