"""Prompts of the explainer, simulator, detection and fuzzing scorers, and the parsers of their answers.

The explainer and simulator prompts follow OpenAI's neuron-explainer (Bills et al. 2023; the seed's §5.5): the
``token<TAB>activation`` format with activations 0–10, the explainer continuing "the main thing this neuron does
is find", the simulator filling in one activation per token. The detection and fuzzing prompts follow delphi's
(EleutherAI) scorers: a batch of numbered examples, the answer a Python list of 0/1.
Every parser raises :class:`~auditlens.llm.LLMMalformed` (or :class:`~auditlens.llm.LLMRefusal`) on an answer
it cannot use, so the failure is recorded per feature and the run goes on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from auditlens.llm import ChatRequest, ChatResponse, LLMMalformed, LLMRefusal, Message

EXPLANATION_PREFIX = "the main thing this neuron does is find"

EXPLAINER_SYSTEM = (
    "We're studying neurons in a neural network. Each neuron looks for some particular thing in a short "
    "document. Look at the parts of the document the neuron activates for and summarize in a single sentence "
    "what the neuron is looking for. Don't list examples of words.\n\n"
    "The activation format is token<tab>activation. Activation values range from 0 to 10. A neuron finding "
    "what it's looking for is represented by a non-zero activation value. The higher the activation value, "
    "the stronger the match."
)

SIMULATOR_SYSTEM = (
    "We're studying neurons in a neural network. Each neuron looks for some particular thing in a short "
    "document. Look at an explanation of what the neuron does, and try to predict its activations on each "
    "token.\n\n"
    'The activation format is token<tab>activation, activations go from 0 to 10, "unknown" indicates an '
    "unknown activation. Most activations will be 0."
)

DETECTION_SYSTEM = (
    "You are an intelligent and meticulous linguistics researcher.\n\n"
    'You will be given a certain feature of text, such as "male pronouns" or "text with negative sentiment".\n\n'
    "You will then be given several text examples. Your task is to determine which examples possess the "
    "feature.\n\n"
    "For each example in turn, return 1 if the sentence is correctly labeled or 0 if the tokens are "
    "mislabeled. You must return your response in a valid Python list. Do not return anything else besides "
    "a Python list."
)

FUZZING_SYSTEM = (
    "You are an intelligent and meticulous linguistics researcher.\n\n"
    'You will be given a certain feature of text, such as "male pronouns" or "text with negative sentiment". '
    "You will be given a few examples of text that contain this feature. Portions of the sentence which "
    "strongly represent this feature are between tokens << and >>.\n\n"
    "Some examples might be mislabeled. Your task is to determine if every single token within << and >> is "
    "correctly labeled. Consider that all provided examples could be correct, none of the examples could be "
    "correct, or a mix. An example is only correct if every marked token is representative of the feature.\n\n"
    "For each example in turn, return 1 if the sentence is correctly labeled or 0 if the tokens are "
    "mislabeled. You must return your response in a valid Python list. Do not return anything else besides "
    "a Python list."
)

_REFUSALS = ("i'm sorry", "i am sorry", "i cannot", "i can't", "as an ai")


class Fragment(BaseModel):
    """One fragment with the feature's activation on every token."""

    kind: str = Field(description="top, random (varying) or nonactivating.")
    context: int = Field(description="Context index in store order.")
    start: int = Field(description="First token position within the context.")
    token_ids: list[int]
    tokens: list[str] = Field(description="Each token decoded alone.")
    activations: list[float] = Field(description="The feature's activation on each token.")

    @property
    def text(self) -> str:
        return "".join(self.tokens)


def show_token(token: str) -> str:
    """A token as one cell of the token<TAB>activation format (newlines and tabs escaped)."""
    return token.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def check_refusal(response: ChatResponse) -> None:
    if response.finish_reason == "refusal" or response.text.strip().lower().startswith(_REFUSALS):
        raise LLMRefusal(
            f"the model refused: {response.text[:120]!r}", hint="use another model or rephrase the prompt"
        )


# ----------------------------------------------------------------------------------------------- explainer
def explainer_request(
    fragments: Sequence[Fragment],
    levels: Sequence[Sequence[int]],
    *,
    max_tokens: int = 60,
    prefill: bool = True,
) -> ChatRequest:
    """The explainer prompt for fragments with their discretised (0–10) activations."""
    parts = []
    for frag, lv in zip(fragments, levels, strict=True):
        rows = "\n".join(f"{show_token(t)}\t{a}" for t, a in zip(frag.tokens, lv, strict=True))
        nz = "\n".join(f"{show_token(t)}\t{a}" for t, a in zip(frag.tokens, lv, strict=True) if a > 0)
        parts.append(
            f"<start>\n{rows}\n<end>\nSame activations, but with all zeros filtered out:\n<start>\n{nz}\n<end>"
        )
    user = "Neuron 1\nActivations:\n" + "\n\n".join(parts) + "\n\nExplanation of neuron 1 behavior: "
    user += EXPLANATION_PREFIX + " ..."
    return ChatRequest(
        messages=[Message(role="system", content=EXPLAINER_SYSTEM), Message(role="user", content=user)],
        max_tokens=max_tokens,
        temperature=0.0,
        prefill=(EXPLANATION_PREFIX if prefill else None),
    )


def parse_explanation(response: ChatResponse) -> str:
    """The one-line explanation (without the "the main thing this neuron does is find" lead-in)."""
    check_refusal(response)
    text = response.text.strip()
    low = text.lower()
    for lead in (EXPLANATION_PREFIX, "explanation of neuron 1 behavior:", "explanation:"):
        i = low.find(lead)
        if i >= 0:
            text = text[i + len(lead) :].strip()
            low = text.lower()
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = line.strip(" \"'").rstrip(".").strip()
    if not line or line.startswith("<") or len(line) < 2:
        raise LLMMalformed(
            f"no explanation in the answer {response.text[:120]!r}", hint="use a stronger explainer model"
        )
    return line


# ----------------------------------------------------------------------------------------------- simulator
def simulator_request(
    explanation: str,
    fragment: Fragment,
    *,
    max_tokens: int | None = None,
    top_logprobs: int = 20,
    prefill: bool = True,
) -> ChatRequest:
    """Ask for one activation (0–10) per token of ``fragment`` (``top_logprobs`` > 0: with log-probabilities).

    With ``prefill`` the answer is started as ``<start>\n<first token>\t`` so the model's first output is the
    first token's activation (small models otherwise drift out of the format); :func:`parse_simulation` reads
    that first number as the first line.
    """
    rows = "\n".join(f"{show_token(t)}\tunknown" for t in fragment.tokens)
    user = (
        f"Neuron 1\nExplanation of neuron 1 behavior: {EXPLANATION_PREFIX} {explanation}.\n\n"
        'Replace every "unknown" below by the neuron\'s activation on that token (an integer from 0 to 10). '
        "Answer with one line per token, in the same order, as token<tab>activation, and nothing else.\n"
        f"<start>\n{rows}\n<end>"
    )
    n = len(fragment.tokens)
    return ChatRequest(
        messages=[Message(role="system", content=SIMULATOR_SYSTEM), Message(role="user", content=user)],
        max_tokens=max_tokens or 6 * n + 16,
        temperature=0.0,
        prefill=f"<start>\n{show_token(fragment.tokens[0])}\t" if prefill and fragment.tokens else None,
        logprobs=top_logprobs > 0,
        top_logprobs=top_logprobs,
    )


_NUM_AT_END = re.compile(r"(\d+)\s*$")


def _expected_value(dist: dict[str, float]) -> float | None:
    """E[value] over the tokens "0".."10" of one position's top log-probabilities (renormalised)."""
    probs: dict[int, float] = {}
    for tok, lp in dist.items():
        s = tok.strip()
        if s.isdigit() and 0 <= int(s) <= 10:
            probs[int(s)] = probs.get(int(s), 0.0) + math.exp(lp)
    z = sum(probs.values())
    return None if z <= 0 else sum(k * p for k, p in probs.items()) / z


def parse_simulation(response: ChatResponse, n_tokens: int) -> tuple[list[float], int, bool]:
    """Per-token simulated activations from a ``token<TAB>activation`` answer.

    Lines are read in order; each line's last integer is its activation (clipped to 0..10); ``<start>``/``<end>``
    and lines without a number are skipped. Tokens beyond the parsed lines count as 0. Where the response
    carries log-probabilities whose tokens spell the text, each number is replaced by the expected value over
    "0".."10" at the position where it starts (the seed's expected-value simulator); else the sampled number.
    Returns ``(values, lines_parsed, used_logprobs)``; raises :class:`LLMMalformed` when nothing parses.
    """
    check_refusal(response)
    text = response.text
    offsets: list[int] = []
    aligned = bool(response.top_logprobs) and "".join(response.tokens) == text
    if aligned:
        pos = 0
        for tok in response.tokens:
            offsets.append(pos)
            pos += len(tok)
    values: list[float] = []
    used = False
    pos = 0
    for line in text.split("\n"):
        start = pos
        pos += len(line) + 1
        body = line.strip()
        if not body or body.lower() in ("<start>", "<end>"):
            continue
        m = _NUM_AT_END.search(line)
        if m is None:
            continue
        value: float = min(10, int(m.group(1)))
        if aligned:
            at = start + m.start(1)
            # The token holding the first digit: the last token starting at or before it.
            k = max((i for i, o in enumerate(offsets) if o <= at), default=None)
            if k is not None and k < len(response.top_logprobs):
                ev = _expected_value(response.top_logprobs[k])
                if ev is not None:
                    value, used = ev, True
        values.append(float(value))
        if len(values) == n_tokens:
            break
    if not values:
        raise LLMMalformed(
            f"no activations in the simulator's answer {text[:120]!r}",
            hint="use a stronger simulator model, or raise max_tokens",
        )
    parsed = len(values)
    return values + [0.0] * (n_tokens - parsed), parsed, used


# ----------------------------------------------------------------------------------------------- delphi
def _list_request(system: str, explanation: str, texts: Sequence[str], max_tokens: int) -> ChatRequest:
    body = "\n".join(f"Example {i}: {t}" for i, t in enumerate(texts))
    user = f"Feature explanation: {explanation}\n\nText examples:\n\n{body}\n"
    return ChatRequest(
        messages=[Message(role="system", content=system), Message(role="user", content=user)],
        max_tokens=max_tokens,
        temperature=0.0,
    )


def detection_request(explanation: str, texts: Sequence[str]) -> ChatRequest:
    """delphi's detection prompt: which of these examples activate the feature?"""
    return _list_request(DETECTION_SYSTEM, explanation, texts, 4 * len(texts) + 8)


def highlight(tokens: Sequence[str], marked: Sequence[bool]) -> str:
    """Text with runs of marked tokens wrapped in ``<<`` ``>>`` (delphi's fuzzing format)."""
    out, open_ = [], False
    for tok, m in zip(tokens, marked, strict=True):
        if m and not open_:
            out.append("<<")
            open_ = True
        if not m and open_:
            out.append(">>")
            open_ = False
        out.append(tok)
    if open_:
        out.append(">>")
    return "".join(out)


def fuzzing_request(explanation: str, texts: Sequence[str]) -> ChatRequest:
    """delphi's fuzzing prompt: are the highlighted tokens the ones the feature fires on?"""
    return _list_request(FUZZING_SYSTEM, explanation, texts, 4 * len(texts) + 8)


_LIST = re.compile(r"\[([^\[\]]*)\]")


def parse_binary_list(response: ChatResponse, n: int) -> list[int]:
    """The first Python-style list of ``n`` 0/1 values in the answer (``True``/``False`` accepted)."""
    check_refusal(response)
    for m in _LIST.finditer(response.text):
        items = [s.strip().strip("'\"").lower() for s in m.group(1).split(",") if s.strip()]
        mapped = [{"1": 1, "0": 0, "true": 1, "false": 0}.get(s) for s in items]
        if len(mapped) == n and all(v is not None for v in mapped):
            return [int(v) for v in mapped if v is not None]
    raise LLMMalformed(
        f"expected a list of {n} zeros and ones, got {response.text[:120]!r}",
        hint="use a stronger model for the detection/fuzzing scorers",
    )
