"""Request/response types, the stub backend, and the candidate-distribution helper."""

from __future__ import annotations

import asyncio
import math

import pytest
from pydantic import ValidationError

from auditlens.llm import (
    ChatRequest,
    ChatResponse,
    LLMMalformed,
    Message,
    StubBackend,
    candidate_distribution,
    distribution_request,
)
from auditlens.llm.stub import STUB_VOCAB


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_request_validation_and_logprobs_implied() -> None:
    req = ChatRequest.from_prompt("hi", system="be brief", top_logprobs=5)
    assert [m.role for m in req.messages] == ["system", "user"]
    assert req.logprobs is True
    with pytest.raises(ValidationError):
        ChatRequest(messages=[])
    with pytest.raises(ValidationError):
        ChatRequest(messages=[Message(role="user", content="x")], max_tokens=-1)
    with pytest.raises(ValidationError):
        ChatRequest(messages=[Message(role="robot", content="x")])  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ChatRequest.from_prompt("x", stop=[""])
    with pytest.raises(ValidationError):
        ChatRequest.from_prompt("x", bogus=1)


def test_response_drops_non_finite_logprobs() -> None:
    r = ChatResponse(
        text="", finish_reason="stop", top_logprobs=[{"A": -0.1, "B": -math.inf}], backend="b", model="m"
    )
    assert r.top_logprobs == [{"A": -0.1}]
    assert ChatResponse.model_validate_json(r.model_dump_json()) == r


def test_stub_is_deterministic_and_consistent_with_logprobs() -> None:
    stub = StubBackend()
    req = ChatRequest.from_prompt("describe the feature", top_logprobs=4, max_tokens=32)
    a, b = run(stub.complete(req)), run(stub.complete(req))
    assert a == b and stub.calls == 2
    assert 1 <= len(a.tokens) <= 8 and all(t in STUB_VOCAB for t in a.tokens)
    assert a.text == " ".join(a.tokens)
    assert len(a.top_logprobs) == len(a.tokens) == len(a.token_logprobs)
    for tok, top in zip(a.tokens, a.top_logprobs, strict=True):  # greedy: each token is the top one
        assert max(top, key=top.__getitem__) == tok
        assert len(top) == 4
    assert a.usage.input_tokens == 3 and a.usage.output_tokens == len(a.tokens)
    other = run(stub.complete(req.model_copy(update={"seed": 1})))
    assert other.model_dump(exclude={"text", "tokens", "token_logprobs", "top_logprobs", "usage"}) == (
        a.model_dump(exclude={"text", "tokens", "token_logprobs", "top_logprobs", "usage"})
    )
    assert (other.text, other.top_logprobs) != (a.text, a.top_logprobs)


def test_stub_responder_script_stop_and_length() -> None:
    stub = StubBackend(lambda r: "one two STOP three", script=["scripted answer here", ValueError("boom")])
    req = ChatRequest.from_prompt("q", max_tokens=2)
    first = run(stub.complete(req))
    assert (first.text, first.finish_reason) == ("scripted answer", "length")
    with pytest.raises(ValueError, match="boom"):
        run(stub.complete(req))
    stopped = run(stub.complete(ChatRequest.from_prompt("q", stop=["STOP"])))
    assert (stopped.text, stopped.finish_reason) == ("one two ", "stop")
    assert stub.calls == 3 and len(stub.requests) == 3


def test_stub_responder_may_return_full_response() -> None:
    canned = ChatResponse(
        text="A", finish_reason="length", top_logprobs=[{"A": -0.2, " B": -1.8}], backend="x", model="x"
    )
    stub = StubBackend(lambda r: canned, name="canned")
    out = run(stub.complete(ChatRequest.from_prompt("q", prefill="(")))
    assert out.top_logprobs == canned.top_logprobs
    assert (out.backend, out.model) == ("stub:canned", "stub")


def test_candidate_distribution_normalises_and_merges() -> None:
    resp = ChatResponse(
        text="A",
        finish_reason="length",
        top_logprobs=[{"A": math.log(0.5), " A": math.log(0.1), "B": math.log(0.2), "C": math.log(0.2)}],
        backend="b",
        model="m",
    )
    dist = candidate_distribution(resp, ["A", "B"])
    assert dist["A"] == pytest.approx(0.6 / 0.8) and dist["B"] == pytest.approx(0.2 / 0.8)
    strict = candidate_distribution(resp, ["A", "B"], strip=False)
    assert strict["A"] == pytest.approx(0.5 / 0.7)
    assert candidate_distribution(resp, ["A", "D"]) == {"A": 1.0, "D": 0.0}
    with pytest.raises(LLMMalformed, match="none of the candidates"):
        candidate_distribution(resp, ["X", "Y"])
    with pytest.raises(LLMMalformed, match="no log-probabilities"):
        candidate_distribution(resp.model_copy(update={"top_logprobs": []}), ["A"])


def test_distribution_request_is_one_greedy_token_with_logprobs() -> None:
    req = distribution_request(ChatRequest.from_prompt("q", prefill="(", temperature=1.0, max_tokens=50))
    assert (req.max_tokens, req.temperature, req.logprobs, req.top_logprobs, req.prefill) == (
        1,
        0.0,
        True,
        20,
        "(",
    )
