"""Normalised next-token probabilities over a few candidate answers, e.g. P("A") after a "(" prefill."""

from __future__ import annotations

import math
from collections.abc import Sequence

from auditlens.llm.client import LLMClient
from auditlens.llm.errors import LLMError, LLMFailure, LLMMalformed
from auditlens.llm.types import ChatRequest, ChatResponse


def _logaddexp(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    return hi if lo == -math.inf else hi + math.log1p(math.exp(lo - hi))


def distribution_request(request: ChatRequest, top_logprobs: int = 20) -> ChatRequest:
    """``request`` turned into a one-token, greedy, log-probability request (what monitors send)."""
    return request.model_copy(
        update={
            "max_tokens": 1,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": max(request.top_logprobs, top_logprobs),
        }
    )


def candidate_distribution(
    response: ChatResponse, candidates: Sequence[str], *, strip: bool = True
) -> dict[str, float]:
    """Probabilities of ``candidates`` at the first generated position, renormalised to sum to 1.

    Tokens are matched after ``str.strip()`` when ``strip`` (so " A" counts as "A"); several matching tokens
    add up. A candidate absent from the returned top tokens gets 0. Raises :class:`LLMMalformed` when none
    is present.
    """
    if not response.top_logprobs:
        raise LLMMalformed(
            "the response has no log-probabilities", hint="send the request with logprobs=True"
        )
    first = response.top_logprobs[0]
    logps: dict[str, float] = {c: -math.inf for c in candidates}
    for tok, lp in first.items():
        key = tok.strip() if strip else tok
        if key in logps:
            logps[key] = _logaddexp(logps[key], lp)
    finite = [lp for lp in logps.values() if lp > -math.inf]
    if not finite:
        shown = ", ".join(repr(t) for t in list(first)[:10])
        raise LLMMalformed(
            f"none of the candidates {list(candidates)!r} is among the top tokens ({shown})",
            hint="raise top_logprobs, or check that the prompt and prefill lead to one of the candidates",
        )
    m = max(finite)
    z = sum(math.exp(lp - m) for lp in finite)
    return {c: (math.exp(lp - m) / z if lp > -math.inf else 0.0) for c, lp in logps.items()}


def next_token_distribution(
    client: LLMClient,
    request: ChatRequest,
    candidates: Sequence[str] = ("A", "B"),
    *,
    top_logprobs: int = 20,
    strip: bool = True,
) -> dict[str, float]:
    """Normalised probabilities of ``candidates`` at the first position after the prefill.

    Example: a monitor asks "(A) yes / (B) no" with ``prefill="("`` and reads ``P["A"]``.
    """
    response = client.complete(distribution_request(request, top_logprobs))
    return candidate_distribution(response, candidates, strip=strip)


def next_token_distributions(
    client: LLMClient,
    requests: Sequence[ChatRequest],
    candidates: Sequence[str] = ("A", "B"),
    *,
    top_logprobs: int = 20,
    strip: bool = True,
) -> list[dict[str, float] | LLMFailure]:
    """:func:`next_token_distribution` for many requests at once (batched on the local backend); failures
    come back in place as :class:`LLMFailure` records."""
    responses = client.complete_many(
        [distribution_request(r, top_logprobs) for r in requests], on_error="return"
    )
    out: list[dict[str, float] | LLMFailure] = []
    for res in responses:
        if isinstance(res, LLMFailure):
            out.append(res)
            continue
        try:
            out.append(candidate_distribution(res, candidates, strip=strip))
        except LLMError as err:
            out.append(LLMFailure.from_error(err))
    return out
