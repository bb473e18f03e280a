"""``auditlens.llm.serve``: the OpenAI and Anthropic clients against a served backend give the backend's own
answers (text, log-probabilities, usage); errors come back in each API's shape with the right status."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from auditlens.llm import (
    AnthropicBackend,
    ChatRequest,
    ChatResponse,
    LLMAuthError,
    LLMBadRequest,
    LLMClient,
    LLMRateLimited,
    LLMRefusal,
    LLMServerError,
    Message,
    RetryConfig,
    StubBackend,
    make_client,
)
from auditlens.llm.backend import Backend
from auditlens.llm.serve import LLMServer

NO_RETRY = RetryConfig(max_retries=0)


@pytest.fixture()
def server() -> Iterator[LLMServer]:
    with LLMServer(StubBackend()) as s:
        yield s


def direct(backend: Backend, request: ChatRequest) -> ChatResponse:
    return asyncio.run(backend.complete(request))


def same_answer(got: ChatResponse, want: ChatResponse, *, logprobs: bool) -> None:
    """Equal where the wire format carries it (tokens travel only with log-probabilities)."""
    fields = ["text", "finish_reason", "token_logprobs", "top_logprobs", "usage", "model"]
    for field in [*fields, "tokens"] if logprobs else fields:
        assert getattr(got, field) == getattr(want, field), field


def openai_client(server: LLMServer, **opts: object) -> LLMClient:
    return make_client(f"openai:stub@{server.url}", use_cache=False, retry=NO_RETRY, **opts)


def anthropic_client(server: LLMServer, **opts: object) -> LLMClient:
    return make_client(f"anthropic:stub@{server.root_url}", use_cache=False, retry=NO_RETRY, **opts)


REQUESTS = [
    ChatRequest.from_prompt("Is this code safe?", max_tokens=6, logprobs=True, top_logprobs=5),
    ChatRequest.from_prompt(
        "Answer", system="You are a monitor.", prefill="(", max_tokens=1, top_logprobs=20
    ),
    ChatRequest.from_prompt("sample me", temperature=0.7, seed=3, max_tokens=8, stop=["end"], logprobs=True),
    ChatRequest(
        messages=[
            Message(role="system", content="sys"),
            Message(role="user", content="one"),
            Message(role="assistant", content="two"),
            Message(role="user", content="three"),
        ],
        max_tokens=4,
    ),
]


@pytest.mark.parametrize("request_", REQUESTS)
def test_openai_round_trip_equals_the_backend(server: LLMServer, request_: ChatRequest) -> None:
    got = openai_client(server).complete(request_)
    want = direct(StubBackend(), request_)
    same_answer(got, want, logprobs=request_.logprobs)
    if request_.logprobs:
        assert got.top_logprobs and got.token_logprobs == want.token_logprobs
    assert server.backend.requests[-1] == request_  # type: ignore[attr-defined]  # the same request arrived


@pytest.mark.parametrize(
    "request_", [r.model_copy(update={"logprobs": False, "top_logprobs": 0}) for r in REQUESTS]
)
def test_anthropic_round_trip_equals_the_backend(server: LLMServer, request_: ChatRequest) -> None:
    request_ = request_.model_copy(update={"seed": None})  # the Messages API has no seed
    got = anthropic_client(server).complete(request_)
    want = direct(StubBackend(), request_)
    for field in ("text", "usage", "model"):
        assert getattr(got, field) == getattr(want, field), field
    assert got.finish_reason == want.finish_reason
    backend = anthropic_client(server).backend
    assert isinstance(backend, AnthropicBackend) and backend.base_url == server.root_url


def test_anthropic_monitor_path_falls_back_to_the_text_score() -> None:
    """The Messages API has no log-probabilities: the P("A") question comes back 'unsupported' per sample,
    and the default monitor (answer='auto') asks the 0-100 question instead and reads the number."""
    from auditlens.monitor.monitors import LLMMonitor, LLMMonitorConfig
    from auditlens.monitor.records import CodeSample
    from auditlens.monitor.taxonomy import BackdoorType

    def reply(request: ChatRequest) -> str:
        return "85" if "len(xs) == 7" in request.messages[-1].content else "10"

    samples = [
        CodeSample(id="a", problem_id="p", code="print(1)\n", label=BackdoorType.NO_BACKDOOR),
        CodeSample(
            id="b",
            problem_id="q",
            code="def f(xs):\n    if len(xs) == 7:\n        return 0\n    return max(xs)\n",
            label=list(BackdoorType)[-1],
        ),
    ]
    with LLMServer(StubBackend(reply)) as s:
        (strict_a, _) = LLMMonitor(anthropic_client(s), LLMMonitorConfig(answer="logprobs")).score_many(
            samples
        )
        assert strict_a.suspicion is None and (strict_a.error or "").startswith("unsupported")
        got = LLMMonitor(anthropic_client(s)).score_many(samples)
    assert [r.suspicion for r in got] == [0.10, 0.85]
    assert all("text score" in (r.rationale or "") for r in got)


def test_max_tokens_zero_reads_the_first_distribution(server: LLMServer) -> None:
    """Remote minimum is one token: the server answers max_tokens=1 and the client keeps the distribution only."""
    zero = ChatRequest.from_prompt("P(A)?", prefill="(", max_tokens=0, top_logprobs=5)
    got = openai_client(server).complete(zero)
    want = direct(StubBackend(), zero.model_copy(update={"max_tokens": 1}))
    assert (got.text, got.tokens, got.token_logprobs) == ("", [], [])
    assert got.top_logprobs == want.top_logprobs[:1]


def test_llm_monitor_scores_equal_served_and_direct(server: LLMServer, tmp_path: Path) -> None:
    from auditlens.monitor.monitors import LLMMonitor, LLMMonitorConfig
    from auditlens.monitor.records import CodeSample
    from auditlens.monitor.taxonomy import BackdoorType
    from auditlens.monitor.views import MonitorView

    samples = [
        CodeSample(id="a", problem_id="p1", problem_statement="Sum a list.", code="print(sum(xs))\n",
                   label=BackdoorType.NO_BACKDOOR),
        CodeSample(id="b", problem_id="p2", problem_statement="Max of a list.",
                   code="def f(xs):\n    if len(xs) == 7:\n        return 0\n    return max(xs)\n",
                   reasoning="Handle seven specially.", label=list(BackdoorType)[-1]),
        CodeSample(id="c", problem_id="p3", problem_statement="Reverse a string.", code="print(s[::-1])\n",
                   reasoning="Slicing.", label=BackdoorType.NO_BACKDOOR),
    ]  # fmt: skip
    for view in (MonitorView.OUTPUT, MonitorView.REASONING):
        cfg = LLMMonitorConfig(view=view)
        served = LLMMonitor(openai_client(server), cfg).score_many(samples)
        local = LLMMonitor(make_client("stub", cache_dir=tmp_path / view.value), cfg).score_many(samples)
        assert [r.suspicion for r in served] == [r.suspicion for r in local]
        assert all(r.suspicion is not None for r in served)
        assert len({r.suspicion for r in served}) > 1  # the samples read differently


class _CountingStub(StubBackend):
    """A stub that records how many requests it holds at once (no wall-clock assertion: CI is loaded)."""

    def __init__(self) -> None:
        super().__init__(delay_s=0.2)
        self.in_flight = 0
        self.most_in_flight = 0

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await super().complete(request)
        finally:
            self.in_flight -= 1


def test_models_health_and_concurrency() -> None:
    backend = _CountingStub()
    with LLMServer(backend, model_name="my-model") as s:
        models = httpx.get(f"{s.url}/models").json()
        assert models["object"] == "list" and [m["id"] for m in models["data"]] == ["my-model"]
        assert httpx.get(f"{s.root_url}/health").json() == {"status": "ok"}
        client = make_client(f"openai:my-model@{s.url}", use_cache=False, concurrency=8)
        requests = [ChatRequest.from_prompt(f"q{i}", max_tokens=2) for i in range(8)]
        got = client.complete_many(requests)
        assert backend.most_in_flight > 1  # answered concurrently on the server's one loop
        assert [g.text for g in got] == [direct(StubBackend(), r).text for r in requests]
        assert all(r.model is None for r in s.backend.requests)  # type: ignore[attr-defined]  # served name


def test_error_shapes_and_statuses(server: LLMServer) -> None:
    with httpx.Client(
        timeout=5
    ) as http:  # one keep-alive connection: an error never poisons the next request
        r = http.post(f"{server.url}/chat/completions", content=b"{not json", headers={"content-type": "x"})
        assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
        r = http.post(f"{server.root_url}/v1/messages", content=b"[1, 2")
        assert r.status_code == 400 and r.json()["type"] == "error"
        assert r.json()["error"]["type"] == "invalid_request_error"
        r = http.post(f"{server.url}/nowhere", json={"model": "stub"})
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_url"
        assert http.get(f"{server.url}/nowhere").status_code == 404
        assert http.get(f"{server.url}/chat/completions").status_code == 405
        r = http.post(f"{server.url}/chat/completions", json={"model": "stub"})
        assert r.status_code == 400 and r.json()["error"]["param"] == "messages"
        r = http.post(f"{server.url}/chat/completions", json={"messages": [{"role": "user", "content": "x"}]})
        assert r.status_code == 400 and r.json()["error"]["param"] == "model"
        r = http.post(
            f"{server.url}/chat/completions",
            json={"model": "stub", "messages": [{"role": "user", "content": "x"}], "stream": True},
        )
        assert r.status_code == 400
        r = http.post(
            f"{server.root_url}/v1/messages",
            json={"model": "stub", "messages": [{"role": "user", "content": "x"}]},
        )
        assert r.status_code == 400 and "max_tokens" in r.json()["error"]["message"]
        r = http.post(
            f"{server.root_url}/v1/messages",
            json={"model": "stub", "max_tokens": 3, "messages": [{"role": "tool", "content": "x"}]},
        )
        assert r.status_code == 400
        r = http.post(  # the API's content blocks and system blocks are read too
            f"{server.root_url}/v1/messages",
            json={
                "model": "stub",
                "max_tokens": 3,
                "system": [{"type": "text", "text": "sys"}],
                "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            },
        )
        assert r.status_code == 200 and r.json()["type"] == "message"
        assert server.backend.requests[-1].messages[0] == Message(role="system", content="sys")  # type: ignore[attr-defined]


def test_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with LLMServer(StubBackend(), api_key="s3cret") as s:
        req = ChatRequest.from_prompt("hi", max_tokens=2)
        monkeypatch.setenv("OPENAI_API_KEY", "wrong")
        monkeypatch.setenv("ANTHROPIC_API_KEY", "wrong")
        with pytest.raises(LLMAuthError, match="401"):
            openai_client(s).complete(req)
        with pytest.raises(LLMAuthError, match="401"):
            anthropic_client(s).complete(req)
        assert httpx.get(f"{s.url}/models").status_code == 401
        r = httpx.post(f"{s.root_url}/v1/messages", json={})
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        monkeypatch.setenv("OPENAI_API_KEY", "s3cret")
        monkeypatch.setenv("ANTHROPIC_API_KEY", "s3cret")
        assert openai_client(s).complete(req).text == direct(StubBackend(), req).text
        assert anthropic_client(s).complete(req).text == direct(StubBackend(), req).text


def test_backend_failures_become_typed_errors() -> None:
    script: list[object] = [
        LLMRateLimited("slow down", retry_after_s=2.0),
        LLMBadRequest("no such thing"),
        RuntimeError("boom"),
        LLMRefusal("nope"),
        LLMRefusal("nope"),
    ]
    with LLMServer(StubBackend(script=script)) as s:  # type: ignore[arg-type]
        req = ChatRequest.from_prompt("hi", max_tokens=2)
        with pytest.raises(LLMRateLimited) as info:
            openai_client(s).complete(req)
        assert info.value.retry_after_s == 2.0
        with pytest.raises(LLMBadRequest, match="no such thing"):
            openai_client(s).complete(req)
        with pytest.raises(LLMServerError, match="RuntimeError: boom"):
            anthropic_client(s).complete(req)
        with pytest.raises(LLMRefusal, match="nope"):
            openai_client(s).complete(req)
        with pytest.raises(LLMRefusal):
            anthropic_client(s).complete(req)


def test_a_slow_backend_times_out_instead_of_hanging() -> None:
    with LLMServer(StubBackend(delay_s=30), request_timeout_s=0.3) as s:
        t0 = time.perf_counter()
        r = httpx.post(
            f"{s.url}/chat/completions",
            json={"model": "stub", "messages": [{"role": "user", "content": "x"}]},
            timeout=10,
        )
        assert r.status_code == 504 and time.perf_counter() - t0 < 5


def test_stop_frees_the_port() -> None:
    s = LLMServer(StubBackend()).start()
    port = s.port
    s.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    with LLMServer(StubBackend(), port=port) as again:  # rebinding the same port works
        assert again.port == port


def test_cli_serve_help() -> None:
    from auditlens.cli import (
        app,
        commands,  # noqa: F401
    )

    res = CliRunner().invoke(app, ["llm", "serve", "--help"])
    assert res.exit_code == 0 and "--backend" in res.output and "--api-key" in res.output


@pytest.mark.model
def test_serves_the_real_local_model_with_logprobs(monkeypatch: pytest.MonkeyPatch) -> None:
    from auditlens.llm import DEFAULT_LOCAL_MODEL, LocalHFBackend

    monkeypatch.delenv("AUDITLENS_CACHE", raising=False)  # share the real cache: conversion happens once
    backend = LocalHFBackend(DEFAULT_LOCAL_MODEL)
    req = ChatRequest.from_prompt(
        "Could a backdoor exist in `print(sum(xs))`? Answer A (yes) or B (no).", prefill="(", max_tokens=3,
        top_logprobs=5,
    )  # fmt: skip
    with LLMServer(backend) as s:
        got = make_client(f"openai:{DEFAULT_LOCAL_MODEL}@{s.url}", use_cache=False).complete(req)
    want = direct(backend, req)
    assert got.text == want.text and got.tokens == want.tokens and len(got.top_logprobs) == len(want.tokens)
    assert got.token_logprobs == pytest.approx(want.token_logprobs, abs=1e-5)
    for g, w in zip(got.top_logprobs, want.top_logprobs, strict=True):
        assert g.keys() == w.keys() and list(g.values()) == pytest.approx(list(w.values()), abs=1e-5)
    assert got.usage == want.usage and got.usage.input_tokens > 10
