"""Batched generation on the local backend: one KV cache for many requests, each with its own settings."""

from __future__ import annotations

from typing import Any

import torch

from auditlens.llm import ChatRequest, LocalHFBackend

PROMPTS = [
    "hello",
    "is this code safe ?",
    "could a backdoor exist ? answer with one letter",
    "the cat sat on a mat",
    "yes",
]


def _reference_greedy(model: Any, ids: list[int], n: int, eos: set[int]) -> list[int]:
    """Transformers' own greedy decoding of one unpadded prompt (the one-at-a-time reference)."""
    with torch.no_grad():
        out = model.generate(
            input_ids=torch.tensor([ids]),
            attention_mask=torch.ones(1, len(ids), dtype=torch.long),
            max_new_tokens=n,
            do_sample=False,
            pad_token_id=0,
            eos_token_id=sorted(eos) or None,
        )
    return out[0, len(ids) :].tolist()


def test_batched_greedy_equals_one_at_a_time(tiny_chat: tuple[Any, Any]) -> None:
    model, tok = tiny_chat
    backend = LocalHFBackend(tiny_chat, name="tiny", max_batch_size=8)
    lengths = [7, 3, 9, 2, 5]  # different per request: rows finish at different steps (the batch shrinks)
    reqs = [ChatRequest.from_prompt(p, max_tokens=n) for p, n in zip(PROMPTS, lengths, strict=True)]
    batched = backend.run_batch(reqs)
    eos = backend._eos_ids(model, tok)
    for req, res in zip(reqs, batched, strict=True):
        assert not isinstance(res, Exception)
        ref = _reference_greedy(model, backend.prompt_ids(req), req.max_tokens, eos)
        got = tok.convert_tokens_to_ids(res.tokens)
        assert got == [t for t in ref if t not in eos][: len(got)]
        assert res.usage.output_tokens <= req.max_tokens
        if res.finish_reason == "length":
            assert len(got) == req.max_tokens
    alone = [backend.run_batch([r])[0] for r in reqs]
    assert alone == batched


def test_seeded_sample_does_not_depend_on_its_batch(tiny_chat: tuple[Any, Any]) -> None:
    backend = LocalHFBackend(tiny_chat, name="tiny", max_batch_size=8)
    target = ChatRequest.from_prompt("the cat", max_tokens=6, temperature=1.3, seed=11)
    others = [
        ChatRequest.from_prompt(p, max_tokens=4, temperature=0.7, seed=i) for i, p in enumerate(PROMPTS)
    ]
    alone = backend.run_batch([target])[0]
    crowd = backend.run_batch([*others[:2], target, *others[2:]])[2]
    assert alone == crowd


def test_settings_are_per_request_in_one_batch(tiny_chat: tuple[Any, Any]) -> None:
    backend = LocalHFBackend(tiny_chat, name="tiny", max_batch_size=8)
    free = backend.run_batch([ChatRequest.from_prompt("hello", max_tokens=8)])[0]
    assert not isinstance(free, Exception)
    words = free.text.split()
    stop = [words[1]] if len(words) >= 2 else []
    reqs = [
        ChatRequest.from_prompt("hello", max_tokens=8, stop=stop),
        ChatRequest.from_prompt("hello", max_tokens=2),
        ChatRequest.from_prompt("hello", max_tokens=8, top_logprobs=3),
    ]
    cut, short, scored = backend.run_batch(reqs)
    assert not isinstance(cut, Exception) and not isinstance(short, Exception)
    assert not isinstance(scored, Exception)
    if stop:
        assert cut.finish_reason == "stop" and cut.text == free.text[: free.text.find(stop[0])]
    assert len(short.tokens) <= 2 and short.text == free.text[: len(short.text)]
    assert scored.text == free.text and len(scored.top_logprobs) == len(scored.tokens)
    assert not cut.top_logprobs and not short.token_logprobs


SYSTEM = (
    "You are a careful assistant. Read the whole request, think about it, and answer in a few plain words."
)


def test_a_shared_system_prompt_and_repeated_prompts_are_prefilled_once(tiny_chat: tuple[Any, Any]) -> None:
    """Same greedy tokens as one-at-a-time decoding when the batch shares a long prefix (prefilled once, its cache
    copied to every row) and holds the same prompt several times (prefilled once); seeded samples unchanged."""
    from auditlens.llm import local_generate

    model, tok = tiny_chat
    backend = LocalHFBackend(tiny_chat, name="tiny", max_batch_size=8)
    reqs = [ChatRequest.from_prompt(p, system=SYSTEM, max_tokens=6) for p in PROMPTS]
    ids = [backend.prompt_ids(r) for r in reqs]
    assert local_generate._common_prefix(ids) >= local_generate.MIN_SHARED_PREFIX  # the shared path is taken
    batched = backend.run_batch(reqs)
    eos = backend._eos_ids(model, tok)
    for req, res in zip(reqs, batched, strict=True):
        assert not isinstance(res, Exception)
        ref = _reference_greedy(model, backend.prompt_ids(req), req.max_tokens, eos)
        assert tok.convert_tokens_to_ids(res.tokens) == [t for t in ref if t not in eos][: len(res.tokens)]
    sampled = [
        ChatRequest.from_prompt("the cat", system=SYSTEM, max_tokens=6, temperature=1.2, seed=s)
        for s in range(4)
    ]
    together = backend.run_batch([*sampled, *reqs[:2]])[:4]
    assert together == [backend.run_batch([r])[0] for r in sampled]
    assert (
        len({r.text for r in together if not isinstance(r, Exception)}) > 1
    )  # distinct seeds, distinct samples
