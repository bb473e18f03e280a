"""LLM judges: a yes/no question about (prompt, response), asked through :mod:`auditlens.llm`."""

from __future__ import annotations

import re

from auditlens.llm import ChatRequest, ChatResponse, LLMClient

JUDGE_SYSTEM = (
    "You are a strict grader. You read a user prompt and an AI assistant's response, then answer a yes/no "
    "question about the response. Answer with exactly one word: Yes or No."
)
JUDGE_TEMPLATE = "User prompt:\n<prompt>\n{prompt}\n</prompt>\n\nResponse:\n<response>\n{response}\n</response>\n\nQuestion: {question}\nAnswer Yes or No."


def judge_request(question: str, prompt: str, response: str) -> ChatRequest:
    """The greedy, short request that asks ``question`` about one (prompt, response)."""
    return ChatRequest.from_prompt(
        JUDGE_TEMPLATE.format(prompt=prompt, response=response, question=question),
        system=JUDGE_SYSTEM,
        max_tokens=4,
        temperature=0.0,
    )


def parse_yes_no(text: str) -> bool | None:
    """True for an answer starting with yes, False for no, None when it is neither."""
    m = re.match(r"\W*(yes|no)\b", text, re.I)
    return None if m is None else m.group(1).lower() == "yes"


def llm_judge_many(client: LLMClient, question: str, items: list[tuple[str, str]]) -> list[bool | None]:
    """Judge many (prompt, response) pairs; None where the answer was neither yes nor no or the call failed."""
    if not items:
        return []
    responses = client.complete_many([judge_request(question, p, r) for p, r in items], on_error="return")
    return [parse_yes_no(r.text) if isinstance(r, ChatResponse) else None for r in responses]
