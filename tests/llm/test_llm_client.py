"""LLMClient: cache, concurrency limit, retries, timeouts, typed per-item failures, accounting."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from auditlens.llm import (
    ChatRequest,
    ChatResponse,
    LLMAuthError,
    LLMClient,
    LLMFailure,
    LLMRateLimited,
    LLMServerError,
    LLMTimeout,
    Price,
    PriceTable,
    RetryConfig,
    StubBackend,
    Usage,
    next_token_distribution,
    next_token_distributions,
)

FAST = RetryConfig(max_retries=3, base_delay_s=0.001, max_delay_s=0.01)


def reqs(n: int, **kw: object) -> list[ChatRequest]:
    return [ChatRequest.from_prompt(f"prompt number {i}", **kw) for i in range(n)]  # type: ignore[arg-type]


class PaidStub(StubBackend):
    """A stub that bills like a remote model."""

    @property
    def free(self) -> bool:
        return False

    @property
    def default_model(self) -> str:
        return "gpt-4o-mini"


class ConcurrencyProbe(StubBackend):
    def __init__(self) -> None:
        super().__init__()
        self.active = 0
        self.peak = 0

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(0.005)
            return await super().complete(request)
        finally:
            self.active -= 1


def test_warm_cache_makes_no_backend_calls(tmp_path: Path) -> None:
    requests = reqs(6, max_tokens=5, top_logprobs=2)
    cold = StubBackend()
    first = LLMClient(cold, cache_dir=tmp_path).complete_many(requests)
    assert cold.calls == 6 and not any(r.cached for r in first)
    warm = StubBackend()
    client = LLMClient(warm, cache_dir=tmp_path)
    second = client.complete_many(requests)
    assert warm.calls == 0
    assert all(r.cached for r in second)
    assert [r.model_dump(exclude={"cached"}) for r in second] == [
        r.model_dump(exclude={"cached"}) for r in first
    ]
    u = client.usage
    assert (u.calls, u.cached_calls, u.input_tokens) == (0, 6, 0)
    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 6 and not list(tmp_path.rglob(".tmp-*"))
    entry = json.loads(files[0].read_text())
    assert set(entry) == {"format", "key", "request", "response"} and entry["key"] == files[0].stem


def test_cache_key_covers_request_backend_and_model(tmp_path: Path) -> None:
    base = ChatRequest.from_prompt("q")
    client = LLMClient(StubBackend(), cache_dir=tmp_path)
    keys = {
        client.cache_key(base),
        client.cache_key(base.model_copy(update={"seed": 3})),
        client.cache_key(base.model_copy(update={"prefill": "("})),
        client.cache_key(base.model_copy(update={"model": "other"})),
        LLMClient(StubBackend(name="scripted"), cache_dir=tmp_path).cache_key(base),
    }
    assert len(keys) == 5
    assert client.cache_key(ChatRequest.from_prompt("q")) == client.cache_key(base)


def test_corrupt_cache_entry_is_a_miss(tmp_path: Path) -> None:
    stub = StubBackend()
    client = LLMClient(stub, cache_dir=tmp_path)
    req = ChatRequest.from_prompt("q")
    client.complete(req)
    client.cache.path(client.cache_key(req)).write_text("{not json")  # type: ignore[union-attr]
    again = client.complete(req)
    assert stub.calls == 2 and not again.cached
    assert client.complete(req).cached


def test_use_cache_false_writes_nothing(tmp_path: Path) -> None:
    stub = StubBackend()
    client = LLMClient(stub, cache_dir=tmp_path / "c", use_cache=False)
    client.complete_many(reqs(2) * 2)
    assert stub.calls == 4  # no cache: each repeat is asked again (this stub answers without yielding)
    assert not (tmp_path / "c").exists()


def test_concurrency_limit_is_respected_and_used(tmp_path: Path) -> None:
    probe = ConcurrencyProbe()
    LLMClient(probe, cache_dir=tmp_path, concurrency=3).complete_many(reqs(12))
    assert probe.calls == 12 and probe.peak == 3


def test_identical_requests_in_flight_share_one_call(tmp_path: Path) -> None:
    probe = ConcurrencyProbe()
    client = LLMClient(probe, cache_dir=tmp_path)
    out = client.complete_many([ChatRequest.from_prompt("same")] * 4)
    assert probe.calls == 1
    assert sum(not r.cached for r in out) == 1 and len({r.text for r in out}) == 1
    assert (client.usage.calls, client.usage.cached_calls) == (1, 3)


def test_retries_retryable_failures_with_backoff(tmp_path: Path) -> None:
    stub = StubBackend(
        script=[LLMServerError("HTTP 500"), LLMRateLimited("HTTP 429", retry_after_s=0.0), "ok"]
    )
    client = LLMClient(stub, cache_dir=tmp_path, retry=FAST)
    out = client.complete(ChatRequest.from_prompt("q"))
    assert out.text == "ok" and stub.calls == 3 and client.usage.retries == 2


def test_non_retryable_failure_is_not_retried(tmp_path: Path) -> None:
    stub = StubBackend(script=[LLMAuthError("HTTP 401", hint="check key")])
    client = LLMClient(stub, cache_dir=tmp_path, retry=FAST)
    with pytest.raises(LLMAuthError) as info:
        client.complete(ChatRequest.from_prompt("q"))
    assert stub.calls == 1 and info.value.attempts == 1 and client.usage.failed_calls == 1


def test_retries_give_up_after_max(tmp_path: Path) -> None:
    stub = StubBackend(script=[LLMServerError("HTTP 503")] * 10)
    client = LLMClient(stub, cache_dir=tmp_path, retry=RetryConfig(max_retries=2, base_delay_s=0.001))
    with pytest.raises(LLMServerError) as info:
        client.complete(ChatRequest.from_prompt("q"))
    assert stub.calls == 3 and info.value.attempts == 3


def test_backoff_grows_and_respects_retry_after() -> None:
    import random

    cfg = RetryConfig(base_delay_s=1.0, max_delay_s=10.0, jitter=0.0)
    rng = random.Random(0)
    err = LLMServerError("x")
    assert [cfg.delay(a, err, rng) for a in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert cfg.delay(1, LLMRateLimited("x", retry_after_s=7.0), rng) == 7.0
    jittered = RetryConfig(base_delay_s=1.0, jitter=0.5).delay(1, err, rng)
    assert 0.5 <= jittered <= 1.0


def test_per_call_timeout(tmp_path: Path) -> None:
    stub = StubBackend(delay_s=2.0)
    client = LLMClient(
        stub, cache_dir=tmp_path, timeout_s=0.02, retry=RetryConfig(max_retries=1, base_delay_s=0)
    )
    with pytest.raises(LLMTimeout) as info:
        client.complete(ChatRequest.from_prompt("q"))
    assert stub.calls == 2 and info.value.attempts == 2


def test_failures_come_back_typed_and_are_not_cached(tmp_path: Path) -> None:
    from auditlens.llm import LLMMalformed

    requests = reqs(4)
    bad = requests[2]

    def responder(r: ChatRequest) -> str:
        if r == bad:
            raise LLMMalformed("could not parse", hint="fix the prompt")
        return "fine"

    stub = StubBackend(responder)
    client = LLMClient(stub, cache_dir=tmp_path, retry=FAST)
    out = client.complete_many(requests, on_error="return")
    assert isinstance(out[2], LLMFailure)
    assert (out[2].kind, out[2].hint, out[2].retryable, out[2].attempts) == (
        "malformed",
        "fix the prompt",
        False,
        1,
    )
    assert all(isinstance(o, ChatResponse) and o.text == "fine" for i, o in enumerate(out) if i != 2)
    assert client.usage.failed_calls == 1 and client.usage.calls == 3
    calls_before = stub.calls
    again = client.complete_many(requests, on_error="return")  # only the failed item is re-asked
    assert stub.calls == calls_before + 1 and isinstance(again[2], LLMFailure)
    with pytest.raises(LLMMalformed):
        client.complete_many(requests)


def test_raise_mode_still_caches_successes(tmp_path: Path) -> None:
    stub = StubBackend(script=["a", LLMAuthError("nope"), "c"])
    client = LLMClient(stub, cache_dir=tmp_path, concurrency=1)
    with pytest.raises(LLMAuthError):
        client.complete_many(reqs(3))
    assert len(client.cache) == 2  # type: ignore[arg-type]


def test_cost_accounting_with_price_table(tmp_path: Path) -> None:
    stub = PaidStub(lambda r: "one two three")
    client = LLMClient(stub, cache_dir=tmp_path)
    out = client.complete_many(reqs(2))  # "prompt number i" = 3 input tokens, 3 output tokens
    expected = (3 * 0.15 + 3 * 0.60) / 1e6
    assert out[0].cost_usd == pytest.approx(expected)
    assert client.usage.cost_usd == pytest.approx(2 * expected)
    assert client.usage.by_model["gpt-4o-mini"].output_tokens == 6
    client.complete_many(reqs(2))  # cached: not billed again
    assert client.usage.cost_usd == pytest.approx(2 * expected) and client.usage.cached_calls == 2
    dated = ChatRequest.from_prompt("x", model="gpt-4o-mini-2024-07-18")
    assert client.complete(dated).cost_usd > 0
    custom = LLMClient(
        PaidStub(lambda r: "x"),
        cache_dir=tmp_path / "other",
        prices=PriceTable(prices={"my-model": Price(input_usd_per_mtok=1e6, output_usd_per_mtok=0)}),
    )
    assert custom.complete(ChatRequest.from_prompt("a b", model="my-model")).cost_usd == pytest.approx(2.0)
    free = custom.complete(ChatRequest.from_prompt("a b", model="unknown-model"))
    assert free.cost_usd == 0.0 and custom.usage.unpriced_models == ["unknown-model"]
    custom.reset_usage()
    assert custom.usage.calls == 0


def test_sync_api_works_inside_a_running_loop(tmp_path: Path) -> None:
    client = LLMClient(StubBackend(), cache_dir=tmp_path)

    async def main() -> list[ChatResponse]:
        return client.complete_many(reqs(2))

    assert len(asyncio.run(main())) == 2


def test_async_api(tmp_path: Path) -> None:
    async def main() -> list[ChatResponse | LLMFailure]:
        async with LLMClient(StubBackend(), cache_dir=tmp_path) as client:
            one = await client.acomplete(ChatRequest.from_prompt("q"))
            many = await client.acomplete_many(reqs(3), on_error="return")
            return [one, *many]

    assert len(asyncio.run(main())) == 4


def test_next_token_distribution_helpers(tmp_path: Path) -> None:
    def responder(r: ChatRequest) -> ChatResponse:
        assert r.prefill == "(" and r.max_tokens == 1 and r.logprobs
        p_a = 0.9 if "backdoor" in r.messages[-1].content else 0.2
        import math

        return ChatResponse(
            text="A",
            finish_reason="length",
            top_logprobs=[{"A": math.log(p_a * 0.5), "B": math.log((1 - p_a) * 0.5), "C": math.log(0.5)}],
            usage=Usage(input_tokens=1, output_tokens=1),
            backend="",
            model="",
        )

    client = LLMClient(StubBackend(responder), cache_dir=tmp_path)
    d = next_token_distribution(client, ChatRequest.from_prompt("has backdoor?", prefill="("))
    assert d["A"] == pytest.approx(0.9) and d["B"] == pytest.approx(0.1)
    many = next_token_distributions(
        client, [ChatRequest.from_prompt(t, prefill="(") for t in ("backdoor", "clean")], ["A", "B"]
    )
    assert [m["A"] for m in many] == pytest.approx([0.9, 0.2])  # type: ignore[index]
    missing = next_token_distributions(client, [ChatRequest.from_prompt("x", prefill="(")], ["Y", "Z"])
    assert isinstance(missing[0], LLMFailure) and missing[0].kind == "malformed"


def test_unwritable_cache_still_returns_the_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditlens.llm import ResponseCache

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ResponseCache, "put", fail)
    stub = StubBackend(lambda r: "paid for")
    client = LLMClient(stub, cache_dir=tmp_path)
    assert client.complete(ChatRequest.from_prompt("q")).text == "paid for"
    assert client.usage.calls == 1 and client.usage.failed_calls == 0
