"""OpenAI-compatible backend against an in-process fake server on 127.0.0.1; Anthropic backend against
httpx.MockTransport. Also: API keys never leak into the cache, reprs, results or logs."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from auditlens.llm import (
    AnthropicBackend,
    ChatRequest,
    LLMAuthError,
    LLMBadRequest,
    LLMClient,
    LLMConnectionError,
    LLMFailure,
    LLMMalformed,
    LLMRefusal,
    LLMServerError,
    LLMUnsupported,
    RetryConfig,
    make_client,
    next_token_distribution,
)

SECRET = "sk-test-SECRET-0123456789"
FAST = RetryConfig(max_retries=3, base_delay_s=0.001, max_delay_s=0.01)


def openai_answer(body: dict[str, Any]) -> dict[str, Any]:
    """A well-formed /chat/completions answer that echoes a little of the request."""
    content = [
        {
            "token": "A",
            "logprob": math.log(0.6),
            "top_logprobs": [
                {"token": "A", "logprob": math.log(0.6)},
                {"token": " B", "logprob": math.log(0.3)},
                {"token": "C", "logprob": math.log(0.1)},
            ][: body.get("top_logprobs", 1)],
        }
    ]
    return {
        "id": "x",
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "A) yes"},
                "finish_reason": "stop",
                "logprobs": {"content": content} if body.get("logprobs") else None,
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3},
    }


class FakeServer:
    """Records requests; answers from a script of (status, payload) pairs, then with openai_answer."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.script: list[tuple[int, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                assert self.path == "/v1/chat/completions"
                status, payload = fake.script.pop(0) if fake.script else (200, openai_answer(body))
                raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.httpd.shutdown()
    fake.httpd.server_close()


@pytest.fixture
def openai_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    return SECRET


def test_openai_request_and_response(server: FakeServer, openai_key: str, tmp_path: Path) -> None:
    client = make_client(f"openai:gpt-4o-mini@{server.url}", cache_dir=tmp_path, retry=FAST)
    req = ChatRequest.from_prompt(
        "is it safe?",
        system="you monitor code",
        prefill="(",
        top_logprobs=3,
        seed=7,
        stop=["\n"],
        max_tokens=0,
    )
    resp = client.complete(req)
    headers, body = server.requests[0]
    assert headers["authorization"] == f"Bearer {SECRET}"
    assert body["messages"] == [
        {"role": "system", "content": "you monitor code"},
        {"role": "user", "content": "is it safe?"},
        {"role": "assistant", "content": "("},
    ]
    assert (body["model"], body["max_tokens"], body["seed"], body["stop"]) == ("gpt-4o-mini", 1, 7, ["\n"])
    assert (body["logprobs"], body["top_logprobs"], body["temperature"]) == (True, 3, 0.0)
    assert "continue_final_message" not in body
    assert resp.text == "" and resp.top_logprobs[0]["A"] == pytest.approx(math.log(0.6))
    assert (resp.usage.input_tokens, resp.usage.output_tokens) == (11, 3)
    assert resp.cost_usd == pytest.approx((11 * 0.15 + 3 * 0.60) / 1e6)
    assert resp.backend.startswith("openai-compatible:http://127.0.0.1:")
    d = next_token_distribution(client, ChatRequest.from_prompt("is it safe?", prefill="("))
    assert d["A"] == pytest.approx(0.6 / 0.9) and d["B"] == pytest.approx(0.3 / 0.9)
    n = len(server.requests)
    client.complete(req)  # warm cache: no request
    assert len(server.requests) == n


def test_openai_generation_and_vllm_prefill_mode(server: FakeServer, tmp_path: Path) -> None:
    client = make_client(
        f"openai:my-model@{server.url}", cache_dir=tmp_path, prefill_mode="continue_final_message"
    )
    resp = client.complete(ChatRequest.from_prompt("hi", prefill="Sure", max_tokens=20))
    headers, body = server.requests[0]
    assert "authorization" not in headers  # local server, no key in the environment
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert "logprobs" not in body and body["max_tokens"] == 20
    assert (resp.text, resp.finish_reason, resp.top_logprobs) == ("A) yes", "stop", [])
    assert resp.cost_usd == 0.0 and client.usage.unpriced_models == ["my-model"]


def test_openai_retries_429_and_5xx_then_succeeds(server: FakeServer, tmp_path: Path) -> None:
    server.script = [(429, {"error": "slow down"}), (502, "bad gateway"), (500, {"error": "oops"})]
    client = make_client(f"openai:m@{server.url}", cache_dir=tmp_path, retry=FAST)
    assert client.complete(ChatRequest.from_prompt("hi")).text == "A) yes"
    assert len(server.requests) == 4 and client.usage.retries == 3


def test_openai_typed_failures(server: FakeServer, openai_key: str, tmp_path: Path) -> None:
    server.script = [
        (401, {"error": {"message": f"bad key {SECRET}"}}),
        (400, {"error": "unknown model"}),
        (200, "not json at all"),
        (200, {"choices": []}),
        (
            200,
            {"choices": [{"message": {"content": None, "refusal": "I can't help"}, "finish_reason": "stop"}]},
        ),
    ]
    client = make_client(f"openai:m@{server.url}", cache_dir=tmp_path, retry=FAST, concurrency=1)
    out = client.complete_many([ChatRequest.from_prompt(f"q{i}") for i in range(5)], on_error="return")
    assert [o.kind for o in out if isinstance(o, LLMFailure)] == [
        "auth",
        "bad_request",
        "malformed",
        "malformed",
        "refusal",
    ]
    assert len(server.requests) == 5  # none of these is retried
    assert SECRET not in out[0].model_dump_json() and "***" in out[0].message  # type: ignore[union-attr]
    assert list(tmp_path.rglob("*.json")) == []  # failures are not cached
    for exc in (LLMAuthError, LLMBadRequest, LLMMalformed, LLMRefusal):
        assert not exc.retryable


def test_openai_without_logprobs_support_and_missing_key(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body_no_lp = openai_answer({"model": "m"})
    server.script = [(200, body_no_lp)]
    client = make_client(f"openai:m@{server.url}", cache_dir=tmp_path)
    with pytest.raises(LLMUnsupported, match="no log-probabilities"):
        client.complete(ChatRequest.from_prompt("q", top_logprobs=2))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    remote = make_client("openai:gpt-4o-mini", cache_dir=tmp_path)  # api.openai.com: key required
    with pytest.raises(LLMAuthError, match="OPENAI_API_KEY") as info:
        remote.complete(ChatRequest.from_prompt("q"))
    assert "export OPENAI_API_KEY" in (info.value.hint or "")


def test_connection_refused_is_retried_and_typed(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(
        f"openai:m@http://127.0.0.1:{port}/v1",
        cache_dir=tmp_path,
        retry=RetryConfig(max_retries=1, base_delay_s=0),
    )
    with pytest.raises(LLMConnectionError) as info:
        client.complete(ChatRequest.from_prompt("q"))
    assert info.value.attempts == 2


# ------------------------------------------------------------------------------------------- Anthropic
class AnthropicMock:
    def __init__(self, script: list[tuple[int, Any]] | None = None) -> None:
        self.calls: list[httpx.Request] = []
        self.script = list(script or [])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if self.script:
            status, payload = self.script.pop(0)
            return httpx.Response(status, json=payload)
        body = json.loads(request.content)
        return httpx.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": "A) it could"}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 20, "output_tokens": 4},
            },
        )


def anthropic(mock: AnthropicMock, tmp_path: Path, **kw: Any) -> LLMClient:
    backend = AnthropicBackend("claude-3-5-haiku-latest", transport=httpx.MockTransport(mock))
    return LLMClient(backend, cache_dir=tmp_path, retry=FAST, **kw)


def test_anthropic_request_and_response(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    mock = AnthropicMock()
    client = anthropic(mock, tmp_path)
    req = ChatRequest(
        messages=[
            {"role": "system", "content": "you judge"},  # type: ignore[list-item]
            {"role": "user", "content": "is it a backdoor?"},  # type: ignore[list-item]
        ],
        prefill="(",
        stop=["\n\n"],
        max_tokens=5,
    )
    resp = client.complete(req)
    sent = mock.calls[0]
    assert str(sent.url) == "https://api.anthropic.com/v1/messages"
    assert sent.headers["x-api-key"] == SECRET and sent.headers["anthropic-version"] == "2023-06-01"
    body = json.loads(sent.content)
    assert body["system"] == "you judge" and body["stop_sequences"] == ["\n\n"] and body["max_tokens"] == 5
    assert body["messages"] == [
        {"role": "user", "content": "is it a backdoor?"},
        {"role": "assistant", "content": "("},
    ]
    assert (resp.text, resp.finish_reason, resp.usage.input_tokens, resp.usage.output_tokens) == (
        "A) it could",
        "stop",
        20,
        4,
    )
    assert resp.cost_usd == pytest.approx((20 * 0.80 + 4 * 4.00) / 1e6)
    client.complete(req)
    assert len(mock.calls) == 1


def test_anthropic_unsupported_and_failures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    mock = AnthropicMock(
        script=[
            (529, {"type": "error", "error": {"type": "overloaded_error"}}),
            (200, {"content": [], "stop_reason": "refusal", "usage": {}}),
        ]
    )
    client = anthropic(mock, tmp_path)
    with pytest.raises(LLMUnsupported, match="no log-probabilities") as info:
        client.complete(ChatRequest.from_prompt("q", prefill="(", top_logprobs=5))
    assert "local" in (info.value.hint or "") and mock.calls == []
    with pytest.raises(LLMUnsupported, match="whitespace"):
        client.complete(ChatRequest.from_prompt("q", prefill="Answer: "))
    with pytest.raises(LLMRefusal):  # 529 overloaded is retried, then the refusal is final
        client.complete(ChatRequest.from_prompt("q"))
    assert len(mock.calls) == 2 and LLMServerError.retryable
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(LLMAuthError, match="ANTHROPIC_API_KEY"):
        client.complete(ChatRequest.from_prompt("other"))


def test_keys_never_reach_cache_repr_results_or_logs(
    server: FakeServer, openai_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    server.script = [(500, {"error": "x"}), (401, {"error": f"key {SECRET} revoked"})]
    oa = make_client(f"openai:gpt-4o-mini@{server.url}", cache_dir=tmp_path / "c", retry=FAST)
    an = anthropic(AnthropicMock(), tmp_path / "c")
    outputs: list[Any] = []
    outputs += oa.complete_many(
        [ChatRequest.from_prompt("a"), ChatRequest.from_prompt("b")], on_error="return"
    )
    outputs += oa.complete_many([ChatRequest.from_prompt("c", top_logprobs=2)])
    outputs += an.complete_many([ChatRequest.from_prompt("d")])
    assert any(isinstance(o, LLMFailure) for o in outputs)
    assert server.requests[-1][0]["authorization"] == f"Bearer {SECRET}"  # it was sent...
    files = [p for p in (tmp_path / "c").rglob("*") if p.is_file()]
    assert len(files) >= 3
    for p in files:  # ...but is stored nowhere
        assert SECRET not in p.read_text()
    texts = [repr(oa), repr(an), repr(oa.backend), repr(an.backend), oa.usage.model_dump_json(), caplog.text]
    texts += [o.model_dump_json() for o in outputs]
    for t in texts:
        assert SECRET not in t
    assert not any(hasattr(b, "api_key") for b in (oa.backend, an.backend))
