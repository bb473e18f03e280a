"""LocalHFBackend on a tiny random Llama with a tiny chat tokenizer (never the real SmolLM2)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from auditlens.llm import (
    ChatRequest,
    LLMBadRequest,
    LLMClient,
    LLMConfigError,
    LLMFailure,
    LocalHFBackend,
    next_token_distribution,
)

PROMPTS = ["is this code safe ?", "hello", "could a backdoor exist ? answer with one letter"]


def manual_last_logprobs(model: Any, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0, -1]
    return torch.log_softmax(logits.float(), dim=-1)


def test_prompt_uses_chat_template_and_prefill(tiny_chat: tuple[Any, Any]) -> None:
    backend = LocalHFBackend(tiny_chat, name="tiny")
    req = ChatRequest.from_prompt("hello", system="be safe", prefill="(")
    text = backend.prompt_text(req)
    assert (
        text
        == "<|im_start|>system be safe<|im_end|> <|im_start|>user hello<|im_end|> <|im_start|>assistant ("
    )
    assert backend.prompt_ids(req) == tiny_chat[1](text, add_special_tokens=False)["input_ids"]


def test_batched_first_token_logprobs_match_unbatched_forward(
    tiny_chat: tuple[Any, Any], tmp_path: Path
) -> None:
    model, tok = tiny_chat
    backend = LocalHFBackend(tiny_chat, name="tiny", max_batch_size=8)
    requests = [ChatRequest.from_prompt(p, prefill="(", max_tokens=1, top_logprobs=5) for p in PROMPTS]
    out = LLMClient(backend, cache_dir=tmp_path).complete_many(requests)
    for req, resp in zip(requests, out, strict=True):
        ids = backend.prompt_ids(req)
        ref = manual_last_logprobs(model, ids)
        vals, idx = torch.topk(ref, 5)
        expected = {tok.decode([i]): v for i, v in zip(idx.tolist(), vals.tolist(), strict=True)}
        assert resp.top_logprobs[0].keys() == expected.keys()
        for k, v in expected.items():
            assert resp.top_logprobs[0][k] == pytest.approx(v, abs=1e-4)
        greedy = tok.decode([int(idx[0])])
        assert resp.tokens == [greedy] and resp.text == greedy and resp.finish_reason == "length"
        assert resp.usage.input_tokens == len(ids) and resp.usage.output_tokens == 1
        assert resp.backend == "local-hf:tiny" and resp.model == "tiny"


def test_batch_equals_one_by_one(tiny_chat: tuple[Any, Any]) -> None:
    requests = [ChatRequest.from_prompt(p, max_tokens=0, top_logprobs=3) for p in PROMPTS]
    batched = LocalHFBackend(tiny_chat, name="t", max_batch_size=8).run_batch(requests)
    single = [LocalHFBackend(tiny_chat, name="t", max_batch_size=1).run_batch([r])[0] for r in requests]
    for a, b in zip(batched, single, strict=True):
        assert not isinstance(a, Exception) and not isinstance(b, Exception)
        assert a.text == "" and a.tokens == [] and a.usage.output_tokens == 0
        assert a.top_logprobs[0].keys() == b.top_logprobs[0].keys()
        for k in a.top_logprobs[0]:
            assert a.top_logprobs[0][k] == pytest.approx(b.top_logprobs[0][k], abs=1e-4)


def test_next_token_distribution_on_local_model(tiny_chat: tuple[Any, Any], tmp_path: Path) -> None:
    model, tok = tiny_chat
    backend = LocalHFBackend(tiny_chat, name="tiny")
    client = LLMClient(backend, cache_dir=tmp_path)
    req = ChatRequest.from_prompt("could a backdoor exist ?", prefill="(")
    dist = next_token_distribution(client, req, ["A", "B"], top_logprobs=len(tok))
    ref = manual_last_logprobs(model, backend.prompt_ids(req))
    a, b = ref[tok.convert_tokens_to_ids("A")].exp(), ref[tok.convert_tokens_to_ids("B")].exp()
    assert dist["A"] == pytest.approx(float(a / (a + b)), abs=1e-4)
    assert dist["A"] + dist["B"] == pytest.approx(1.0)


def test_greedy_generation_is_deterministic_and_consistent(tiny_chat: tuple[Any, Any]) -> None:
    _, tok = tiny_chat
    backend = LocalHFBackend(tiny_chat, name="tiny")
    req = ChatRequest.from_prompt("hello", max_tokens=6, top_logprobs=3)
    a, b = backend.run_batch([req, req])
    assert not isinstance(a, Exception) and not isinstance(b, Exception)
    # the same text and tokens; log-probabilities equal up to float rounding (under load, CPU kernels may split
    # the two rows' sums differently: they differed by 2e-7 in one CI run)
    assert a.text == b.text and a.tokens == b.tokens
    assert a.token_logprobs == pytest.approx(b.token_logprobs, abs=1e-5)
    assert 1 <= len(a.tokens) <= 6 and len(a.top_logprobs) == len(a.tokens) == len(a.token_logprobs)
    for t, top, lp in zip(a.tokens, a.top_logprobs, a.token_logprobs, strict=True):
        assert max(top, key=top.__getitem__) == t and top[t] == pytest.approx(lp)
    assert a.finish_reason in ("stop", "length")
    if a.finish_reason == "length":
        assert a.usage.output_tokens == 6
    assert a.text == tok.decode(tok.convert_tokens_to_ids(a.tokens), skip_special_tokens=True)


def test_seeded_sampling(tiny_chat: tuple[Any, Any]) -> None:
    backend = LocalHFBackend(tiny_chat, name="tiny")
    base = ChatRequest.from_prompt("the cat", max_tokens=5, temperature=1.5)
    reqs = [base.model_copy(update={"seed": s}) for s in range(6)]
    first = backend.run_batch(reqs)
    again = backend.run_batch(reqs)
    assert [r.text for r in first] == [r.text for r in again]  # type: ignore[union-attr]
    assert len({r.text for r in first}) > 1  # type: ignore[union-attr]
    one_tok = [base.model_copy(update={"seed": s, "max_tokens": 1}) for s in range(12)]
    texts = [r.text for r in backend.run_batch(one_tok)]  # type: ignore[union-attr]
    assert texts == [r.text for r in backend.run_batch(one_tok)] and len(set(texts)) > 1  # type: ignore[union-attr]


def test_stop_sequence_cuts_generation(tiny_chat: tuple[Any, Any]) -> None:
    backend = LocalHFBackend(tiny_chat, name="tiny")
    full = backend.run_batch([ChatRequest.from_prompt("hello", max_tokens=6)])[0]
    assert not isinstance(full, Exception)
    words = full.text.split()
    if len(words) >= 2:
        cut = backend.run_batch([ChatRequest.from_prompt("hello", max_tokens=6, stop=[words[1]])])[0]
        assert not isinstance(cut, Exception)
        assert cut.finish_reason == "stop" and words[1] not in cut.text
        assert cut.text == full.text[: full.text.find(words[1])]


def test_too_long_prompt_is_a_per_item_failure(tiny_chat: tuple[Any, Any], tmp_path: Path) -> None:
    client = LLMClient(LocalHFBackend(tiny_chat, name="tiny"), cache_dir=tmp_path)
    out = client.complete_many(
        [
            ChatRequest.from_prompt("hello " * 200, max_tokens=1),
            ChatRequest.from_prompt("hello", max_tokens=1),
        ],
        on_error="return",
    )
    assert (
        isinstance(out[0], LLMFailure) and out[0].kind == "bad_request" and "context of 128" in out[0].message
    )
    assert not isinstance(out[1], LLMFailure)
    with pytest.raises(LLMBadRequest, match="serves 'tiny'"):
        client.complete(ChatRequest.from_prompt("hello", model="gpt-4o"))


def test_spec_is_loaded_lazily_and_not_at_all_on_a_warm_cache(
    tiny_chat: tuple[Any, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import auditlens.models as models

    loads: list[tuple[str, dict[str, Any]]] = []

    def fake_load_model(spec: str, **options: Any) -> Any:
        loads.append((spec, options))
        return SimpleNamespace(model=tiny_chat[0], tokenizer=tiny_chat[1])

    monkeypatch.setattr(models, "load_model", fake_load_model, raising=False)
    requests = [ChatRequest.from_prompt(p, max_tokens=1, top_logprobs=2) for p in PROMPTS]
    backend = LocalHFBackend("tiny-spec", device="cpu")
    assert loads == [] and backend.identity == "local-hf:tiny-spec"
    first = LLMClient(backend, cache_dir=tmp_path).complete_many(requests)
    assert loads == [("tiny-spec", {"device": "cpu"})] and all(r.model == "tiny-spec" for r in first)
    second = LLMClient(LocalHFBackend("tiny-spec"), cache_dir=tmp_path).complete_many(requests)
    assert len(loads) == 1 and all(r.cached for r in second)


def test_load_failure_is_reported_per_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import auditlens.models as models
    from auditlens.errors import ModelSpecError

    def broken(spec: str, **options: Any) -> Any:
        raise ModelSpecError(f"no model {spec!r}", hint="use a valid spec")

    monkeypatch.setattr(models, "load_model", broken, raising=False)
    client = LLMClient(LocalHFBackend("missing"), cache_dir=tmp_path)
    out = client.complete_many([ChatRequest.from_prompt("x", max_tokens=1)] * 2, on_error="return")
    assert all(isinstance(o, LLMFailure) and o.kind == "config" and o.hint == "use a valid spec" for o in out)


def test_identity_of_in_memory_models(tiny_chat: tuple[Any, Any], make_llama: Any) -> None:
    model, tok = tiny_chat
    a = LocalHFBackend((model, tok)).identity
    assert a == LocalHFBackend(model, tokenizer=tok).identity
    assert a != LocalHFBackend((make_llama(len(tok), seed=1), tok)).identity
    hooked = SimpleNamespace(model=model, tokenizer=tok, model_id="my-model")
    assert LocalHFBackend(hooked).identity == "local-hf:my-model"
    with pytest.raises(LLMConfigError, match="without a tokenizer"):
        LocalHFBackend(model)
