"""Packing: BOS policies on real (tiny, offline) tokenizers, determinism, counted truncation, bad input."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from auditlens.data import (
    BosPolicy,
    PackingStats,
    context_tokens,
    decode_context,
    pack_documents,
    resolve_bos_policy,
    tokenizer_adds_bos,
)
from auditlens.errors import ConfigError, DataError

from .conftest import WORDS


def corpus(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30))) for _ in range(n)]


def all_rows(
    docs: Any, tokenizer: Any, context_length: int, **kwargs: Any
) -> tuple[np.ndarray, PackingStats]:
    packed = pack_documents(docs, tokenizer, context_length, **kwargs)
    batches = list(packed)
    return np.concatenate(batches), packed.stats


def expected_stream(docs: list[str], tokenizer: Any, separator: int) -> list[int]:
    stream: list[int] = []
    for doc in docs:
        stream += tokenizer(doc, add_special_tokens=False)["input_ids"] + [separator]
    return stream


def test_auto_policy_matches_the_tokenizer(
    gpt_style_tokenizer: Any, llama_style_tokenizer: Any, tokenizer_factory: Any
) -> None:
    vocab = gpt_style_tokenizer.get_vocab()
    assert not tokenizer_adds_bos(gpt_style_tokenizer)
    gpt = resolve_bos_policy(gpt_style_tokenizer)
    assert (gpt.policy, gpt.start_token_id, gpt.separator_token_id) == (
        BosPolicy.DOC_SEPARATOR,
        vocab["<|endoftext|>"],
        vocab["<|endoftext|>"],
    )
    assert tokenizer_adds_bos(llama_style_tokenizer)
    llama = resolve_bos_policy(llama_style_tokenizer)
    bos = llama_style_tokenizer.bos_token_id
    assert (llama.policy, llama.start_token_id, llama.separator_token_id) == (BosPolicy.BOS, bos, bos)
    no_eot = tokenizer_factory(add_bos=False, endoftext=False)
    assert resolve_bos_policy(no_eot).separator_token_id == no_eot.eos_token_id  # falls back to EOS
    assert resolve_bos_policy(gpt_style_tokenizer, "none").start_token_id is None
    assert resolve_bos_policy(gpt_style_tokenizer, "bos").start_token_id == gpt_style_tokenizer.bos_token_id
    assert resolve_bos_policy(gpt_style_tokenizer, separator_token_id=3).start_token_id == 3


@pytest.mark.parametrize("policy", ["doc_separator", "bos", "none"])
def test_contexts_are_the_joined_stream_cut_up(gpt_style_tokenizer: Any, policy: str) -> None:
    docs = corpus(40)
    length = 16
    rows, stats = all_rows(
        docs, gpt_style_tokenizer, length, bos_policy=policy, shuffle_docs=False, batch_size=7
    )
    resolved = resolve_bos_policy(gpt_style_tokenizer, policy)
    assert rows.dtype == np.int32 and rows.shape == (stats.contexts, length)
    stream = expected_stream(docs, gpt_style_tokenizer, resolved.separator_token_id)
    if resolved.start_token_id is None:
        body = rows
    else:
        assert (rows[:, 0] == resolved.start_token_id).all()
        body = rows[:, 1:]
    assert body.reshape(-1).tolist() == stream[: body.size]
    assert stats.dropped_tail_tokens == len(stream) - body.size < body.shape[1]
    assert stats.tokens + stats.separator_tokens == len(stream)
    assert stats.documents == stats.separator_tokens == 40 and stats.finished


def test_llama_style_contexts_start_with_bos(llama_style_tokenizer: Any) -> None:
    rows, stats = all_rows(corpus(30), llama_style_tokenizer, 12, seed=3)
    assert stats.policy == "bos"
    assert (rows[:, 0] == llama_style_tokenizer.bos_token_id).all()
    assert decode_context(rows[0], llama_style_tokenizer).startswith("<s>")


def test_batches_never_exceed_batch_size(gpt_style_tokenizer: Any) -> None:
    packed = pack_documents(corpus(60), gpt_style_tokenizer, 8, batch_size=5)
    sizes = [len(batch) for batch in packed]
    assert all(s == 5 for s in sizes[:-1]) and 1 <= sizes[-1] <= 5
    assert sum(sizes) == packed.stats.contexts


def test_same_seed_same_contexts_other_seed_other(gpt_style_tokenizer: Any) -> None:
    docs = corpus(80)
    a, _ = all_rows(docs, gpt_style_tokenizer, 16, seed=1)
    b, _ = all_rows(docs, gpt_style_tokenizer, 16, seed=1)
    c, _ = all_rows(docs, gpt_style_tokenizer, 16, seed=2)
    assert np.array_equal(a, b)
    assert a.shape == c.shape and not np.array_equal(a, c)
    unshuffled, _ = all_rows(docs, gpt_style_tokenizer, 16, shuffle_docs=False)
    assert not np.array_equal(a, unshuffled)


def test_streaming_input_shuffles_through_a_bounded_buffer(gpt_style_tokenizer: Any) -> None:
    docs = corpus(80)

    def stream() -> Iterator[str]:
        yield from docs

    a, _ = all_rows(stream(), gpt_style_tokenizer, 16, seed=5, shuffle_buffer=10)
    b, _ = all_rows(stream(), gpt_style_tokenizer, 16, seed=5, shuffle_buffer=10)
    c, _ = all_rows(stream(), gpt_style_tokenizer, 16, seed=6, shuffle_buffer=10)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # Same multiset of tokens whatever the order (the tail aside): nothing lost or duplicated.
    full, stats = all_rows(stream(), gpt_style_tokenizer, 2, seed=5, shuffle_buffer=10, bos_policy="none")
    assert stats.dropped_tail_tokens == (stats.tokens + stats.separator_tokens) % 2
    separator = resolve_bos_policy(gpt_style_tokenizer).separator_token_id
    expected = Counter(expected_stream(docs, gpt_style_tokenizer, separator))
    assert Counter(full.reshape(-1).tolist()) + Counter({separator: stats.dropped_tail_tokens}) == expected


def test_truncation_and_tail_are_counted(gpt_style_tokenizer: Any) -> None:
    docs = ["the cat sat on a mat " * 5, "dog ran", "far away and then came back home " * 3]
    lengths = [len(gpt_style_tokenizer(d, add_special_tokens=False)["input_ids"]) for d in docs]
    _, stats = all_rows(docs, gpt_style_tokenizer, 6, shuffle_docs=False, max_document_tokens=10)
    assert stats.truncated_documents == 2
    assert stats.truncated_tokens == sum(n - 10 for n in lengths if n > 10)
    assert stats.tokens == sum(min(n, 10) for n in lengths)
    assert stats.tokens + stats.separator_tokens == stats.contexts * 5 + stats.dropped_tail_tokens
    assert "truncated" in stats.report() and str(stats.truncated_tokens) in stats.report()


def test_max_contexts_and_skip_contexts(gpt_style_tokenizer: Any) -> None:
    docs = corpus(50)
    full, _ = all_rows(docs, gpt_style_tokenizer, 8, seed=4)
    capped, stats = all_rows(docs, gpt_style_tokenizer, 8, seed=4, max_contexts=10)
    assert np.array_equal(capped, full[:10]) and stats.contexts == 10
    assert stats.dropped_tail_tokens > 0  # what was tokenised but not used is counted
    resumed, stats = all_rows(
        docs, gpt_style_tokenizer, 8, seed=4, skip_contexts=7, max_contexts=10, batch_size=3
    )
    assert np.array_equal(resumed, full[7:17])
    assert stats.skipped_contexts == 7 and stats.contexts == 17


def test_blank_documents_are_counted_not_packed(gpt_style_tokenizer: Any) -> None:
    _, stats = all_rows(["the cat", "", "   ", "dog ran far"], gpt_style_tokenizer, 3, shuffle_docs=False)
    assert stats.empty_documents == 2 and stats.documents == 2


def test_bad_lengths_and_policies(gpt_style_tokenizer: Any, tokenizer_factory: Any) -> None:
    with pytest.raises(ConfigError, match=r"context length 4096 is longer than the model allows \(2048\)"):
        pack_documents(["the cat"], gpt_style_tokenizer, 4096, max_context_length=2048)
    with pytest.raises(ConfigError, match="too short"):
        pack_documents(["the cat"], gpt_style_tokenizer, 1)
    with pytest.raises(ConfigError, match="unknown BOS policy"):
        pack_documents(["the cat"], gpt_style_tokenizer, 8, bos_policy="sometimes")
    no_bos = tokenizer_factory(add_bos=False)
    no_bos.bos_token = None
    with pytest.raises(ConfigError, match="needs a tokenizer with a BOS token"):
        resolve_bos_policy(no_bos, BosPolicy.BOS)


def test_empty_and_too_short_corpora(gpt_style_tokenizer: Any) -> None:
    with pytest.raises(DataError, match="empty corpus"):
        list(pack_documents([], gpt_style_tokenizer, 8))
    with pytest.raises(DataError, match="too few for one context of 64 tokens"):
        list(pack_documents(["the cat sat"], gpt_style_tokenizer, 64))


def test_rows_map_back_to_text(gpt_style_tokenizer: Any) -> None:
    rows, _ = all_rows(
        ["the cat sat on a mat", "dog ran far away"], gpt_style_tokenizer, 6, shuffle_docs=False
    )
    assert decode_context(rows[0], gpt_style_tokenizer) == "<|endoftext|> the cat sat on a"
    assert context_tokens(rows[1], gpt_style_tokenizer) == [
        "<|endoftext|>",
        "mat",
        "<|endoftext|>",
        "dog",
        "ran",
        "far",
    ]


@pytest.mark.model
def test_smollm2_contexts_start_with_endoftext(smollm2_tokenizer: Any) -> None:
    """SmolLM2 adds no BOS itself: documents are joined with <|endoftext|> (id 0), which starts each context."""
    assert not tokenizer_adds_bos(smollm2_tokenizer)
    resolved = resolve_bos_policy(smollm2_tokenizer)
    assert resolved.policy is BosPolicy.DOC_SEPARATOR
    assert resolved.start_token_id == resolved.separator_token_id == 0
    assert smollm2_tokenizer.convert_ids_to_tokens(0) == "<|endoftext|>"
    docs = ["The quick brown fox jumps over the lazy dog. " * 4, "def f(x):\n    return x + 1\n" * 3]
    rows, stats = all_rows(docs, smollm2_tokenizer, 32, shuffle_docs=False, max_context_length=8192)
    assert (rows[:, 0] == 0).all()
    assert decode_context(rows[0], smollm2_tokenizer).startswith("<|endoftext|>The quick brown fox")
    assert decode_context(rows[0], smollm2_tokenizer, skip_special_tokens=True).startswith(
        "The quick brown fox"
    )
    assert stats.tokens + stats.separator_tokens == stats.contexts * 31 + stats.dropped_tail_tokens
