"""Tokenisation and packing of documents into fixed-length contexts.

Documents are tokenised in batches with the fast tokenizer (no special tokens added by it), joined into one
token stream with a document separator, and cut into contexts of ``context_length`` tokens, each starting
with a start token chosen by a :class:`BosPolicy`::

    stream   = doc1 SEP doc2 SEP doc3 SEP ...
    context  = [START] + next (context_length - 1) stream tokens          (START omitted under NONE)

Nothing is dropped silently: :class:`PackingStats` counts documents, tokens, separators, contexts,
tokens cut from over-long documents (``truncated_tokens``) and stream tokens left over at the end
(``dropped_tail_tokens``), and the stats are logged when the stream ends. Document order is shuffled
deterministically for a seed: a seeded permutation for a list/tuple, a bounded shuffle buffer for any
other (streaming) iterable.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from auditlens.errors import ConfigError, DataError

log = logging.getLogger(__name__)

#: The GPT-2 / SmolLM2 / Pythia pre-training document separator, preferred when it is in the vocabulary.
ENDOFTEXT = "<|endoftext|>"


class BosPolicy(StrEnum):
    """How contexts start and how documents are separated; pick it to match how the model was trained.

    - ``AUTO`` — ``BOS`` when the tokenizer adds a BOS token itself (``tokenizer("a").input_ids[0] ==
      bos_token_id``: Llama, Mistral, Gemma), else ``DOC_SEPARATOR`` (GPT-2, Pythia, SmolLM2, Qwen2).
    - ``BOS`` — documents are joined with the BOS token and every context starts with BOS.
    - ``DOC_SEPARATOR`` — documents are joined with the model's document separator (``<|endoftext|>`` when
      in the vocabulary, else EOS) and every context starts with it ("EOS-joined, first token EOS", as in
      the seed work's 256-token Pile contexts).
    - ``NONE`` — documents are joined with the document separator; contexts get no start token.
    """

    AUTO = "auto"
    BOS = "bos"
    DOC_SEPARATOR = "doc_separator"
    NONE = "none"


@dataclass(frozen=True)
class ResolvedPolicy:
    """A :class:`BosPolicy` made concrete for one tokenizer."""

    policy: BosPolicy  #: never AUTO
    start_token_id: int | None  #: the first token of every context; None under NONE
    separator_token_id: int  #: the token placed after every document in the stream


def tokenizer_adds_bos(tokenizer: Any) -> bool:
    """Whether ``tokenizer`` puts a BOS token in front of a text by itself."""
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is None:
        return False
    ids = tokenizer("a")["input_ids"]
    return len(ids) > 0 and ids[0] == bos


def document_separator_id(tokenizer: Any) -> int | None:
    """The model's document separator: ``<|endoftext|>`` when in the vocabulary, else EOS (else None)."""
    vocab = tokenizer.get_vocab()
    if ENDOFTEXT in vocab:
        return int(vocab[ENDOFTEXT])
    eos = getattr(tokenizer, "eos_token_id", None)
    return None if eos is None else int(eos)


def resolve_bos_policy(
    tokenizer: Any, policy: BosPolicy | str = BosPolicy.AUTO, *, separator_token_id: int | None = None
) -> ResolvedPolicy:
    """Turn ``policy`` into concrete token ids for ``tokenizer``; ``separator_token_id`` overrides the
    document separator (it also becomes the start token under ``DOC_SEPARATOR``)."""
    try:
        policy = BosPolicy(policy)
    except ValueError as exc:
        raise ConfigError(
            f"unknown BOS policy {policy!r}", hint=f"use one of {[p.value for p in BosPolicy]}"
        ) from exc
    if policy is BosPolicy.AUTO:
        policy = BosPolicy.BOS if tokenizer_adds_bos(tokenizer) else BosPolicy.DOC_SEPARATOR
    if policy is BosPolicy.BOS:
        bos = getattr(tokenizer, "bos_token_id", None)
        if bos is None:
            raise ConfigError(
                "BOS policy `bos` needs a tokenizer with a BOS token, and this one has none",
                hint="use the `doc_separator` policy (or `auto`)",
            )
        sep = bos if separator_token_id is None else separator_token_id
        return ResolvedPolicy(policy, int(bos), int(sep))
    sep = document_separator_id(tokenizer) if separator_token_id is None else separator_token_id
    if sep is None:
        raise ConfigError(
            f"BOS policy `{policy.value}` needs a document separator, and the tokenizer has neither "
            f"{ENDOFTEXT} nor an EOS token",
            hint="pass separator_token_id=<id>, or use the `bos` policy",
        )
    start = int(sep) if policy is BosPolicy.DOC_SEPARATOR else None
    return ResolvedPolicy(policy, start, int(sep))


class PackingStats(BaseModel):
    """What packing did; updated while contexts are produced, logged when the stream ends."""

    context_length: int = Field(description="Tokens per context.")
    policy: str = Field(description="The resolved BOS policy (never `auto`).")
    start_token_id: int | None = Field(description="First token of every context; None under `none`.")
    separator_token_id: int = Field(description="Token placed after every document in the stream.")
    documents: int = Field(default=0, description="Non-empty documents tokenised.")
    empty_documents: int = Field(default=0, description="Documents skipped because they were empty or blank.")
    tokens: int = Field(default=0, description="Document tokens put in the stream (after truncation).")
    separator_tokens: int = Field(default=0, description="Separator tokens put in the stream.")
    truncated_documents: int = Field(default=0, description="Documents cut to max_document_tokens.")
    truncated_tokens: int = Field(default=0, description="Tokens cut from those documents.")
    contexts: int = Field(default=0, description="Contexts produced (including skipped ones).")
    skipped_contexts: int = Field(default=0, description="Contexts produced but not yielded (skip_contexts).")
    dropped_tail_tokens: int = Field(
        default=0,
        description="Stream tokens in no context: the short tail, or what was left at max_contexts.",
    )
    finished: bool = Field(default=False, description="True once the stream has ended.")

    def report(self) -> str:
        """One line a person can read."""
        used = self.contexts * self.context_length
        return (
            f"packed {self.documents} documents ({self.empty_documents} empty skipped) into {self.contexts} "
            f"contexts of {self.context_length} tokens ({used} tokens, policy {self.policy}); "
            f"truncated {self.truncated_tokens} tokens in {self.truncated_documents} documents; "
            f"dropped {self.dropped_tail_tokens} tail tokens"
        )


def _shuffled(docs: Iterable[str], seed: int, buffer_size: int) -> Iterator[str]:
    """Seeded order: a permutation for a list/tuple, else a bounded shuffle buffer."""
    rng = np.random.default_rng(seed)
    if isinstance(docs, Sequence) and not isinstance(docs, str):
        for index in rng.permutation(len(docs)):
            yield docs[int(index)]
        return
    buffer: list[str] = []
    for doc in docs:
        if len(buffer) < buffer_size:
            buffer.append(doc)
            continue
        index = int(rng.integers(buffer_size))
        yield buffer[index]
        buffer[index] = doc
    for index in rng.permutation(len(buffer)):
        yield buffer[int(index)]


class PackedContexts(Iterator[np.ndarray]):
    """Iterator over int32 arrays of shape ``(n, context_length)``, ``n <= batch_size``; ``.stats`` tells
    what was packed so far. Made by :func:`pack_documents`."""

    def __init__(self, generator: Iterator[np.ndarray], stats: PackingStats) -> None:
        self._generator = generator
        self.stats = stats

    def __next__(self) -> np.ndarray:
        return next(self._generator)

    def __iter__(self) -> PackedContexts:
        return self


def pack_documents(
    docs: Iterable[str],
    tokenizer: Any,
    context_length: int,
    *,
    seed: int = 0,
    shuffle_docs: bool = True,
    shuffle_buffer: int = 4096,
    batch_size: int = 64,
    bos_policy: BosPolicy | str = BosPolicy.AUTO,
    separator_token_id: int | None = None,
    max_context_length: int | None = None,
    max_contexts: int | None = None,
    skip_contexts: int = 0,
    max_document_tokens: int | None = None,
    tokenize_batch_chars: int = 1 << 20,
    stats: PackingStats | None = None,
) -> PackedContexts:
    """Tokenise ``docs`` and pack them into contexts of ``context_length`` tokens (see the module docstring).

    Args:
        docs: documents (a :class:`~auditlens.data.sources.TextSource`, a list, any iterable of ``str``).
        tokenizer: a Hugging Face (fast) tokenizer; called on lists of texts with ``add_special_tokens=False``.
        context_length: tokens per context, start token included.
        seed: seed of the document order (same seed, same contexts).
        shuffle_docs: shuffle documents (permutation for lists/tuples, bounded buffer otherwise).
        shuffle_buffer: documents held by the shuffle buffer for non-sequence inputs.
        batch_size: contexts per yielded array (the last one may be smaller).
        bos_policy: see :class:`BosPolicy`; ``auto`` matches the tokenizer.
        separator_token_id: override the document separator token.
        max_context_length: the longest context the model allows; a longer ``context_length`` is an error.
        max_contexts: stop after this many contexts (a token budget); leftover stream tokens are counted.
        skip_contexts: produce but do not yield the first contexts (to resume a run); counted.
        max_document_tokens: cut longer documents to this many tokens; cut tokens are counted.
        tokenize_batch_chars: characters per tokenizer call (larger batches tokenise faster).
        stats: a :class:`PackingStats` to update (one is made otherwise); also at ``result.stats``.

    Raises:
        ConfigError: bad lengths, or a policy the tokenizer cannot serve.
        DataError: no documents, or too few tokens for a single context.
    """
    resolved = resolve_bos_policy(tokenizer, bos_policy, separator_token_id=separator_token_id)
    if max_context_length is not None and context_length > max_context_length:
        raise ConfigError(
            f"context length {context_length} is longer than the model allows ({max_context_length})",
            hint=f"use a context length of at most {max_context_length}",
        )
    start_len = 0 if resolved.start_token_id is None else 1
    if context_length <= start_len:
        raise ConfigError(f"context length {context_length} is too short", hint="use at least 2 tokens")
    for name, value in (("batch_size", batch_size), ("shuffle_buffer", shuffle_buffer)):
        if value < 1:
            raise ConfigError(f"{name} must be at least 1, got {value}", hint=f"pass a positive {name}")
    if max_document_tokens is not None and max_document_tokens < 1:
        raise ConfigError(f"max_document_tokens must be positive, got {max_document_tokens}", hint="or None")
    if stats is None:
        stats = PackingStats(
            context_length=context_length,
            policy=resolved.policy.value,
            start_token_id=resolved.start_token_id,
            separator_token_id=resolved.separator_token_id,
        )
    ordered = _shuffled(docs, seed, shuffle_buffer) if shuffle_docs else iter(docs)
    generator = _pack(
        ordered, tokenizer, context_length, resolved, batch_size, max_contexts, skip_contexts,
        max_document_tokens, tokenize_batch_chars, stats,
    )  # fmt: skip
    return PackedContexts(generator, stats)


def _text_batches(docs: Iterator[str], max_chars: int, stats: PackingStats) -> Iterator[list[str]]:
    batch: list[str] = []
    chars = 0
    for doc in docs:
        if not doc or doc.isspace():
            stats.empty_documents += 1
            continue
        batch.append(doc)
        chars += len(doc)
        if chars >= max_chars:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def _pack(
    docs: Iterator[str],
    tokenizer: Any,
    context_length: int,
    resolved: ResolvedPolicy,
    batch_size: int,
    max_contexts: int | None,
    skip_contexts: int,
    max_document_tokens: int | None,
    tokenize_batch_chars: int,
    stats: PackingStats,
) -> Iterator[np.ndarray]:
    start = resolved.start_token_id
    body = context_length - (0 if start is None else 1)
    separator = np.array([resolved.separator_token_id], dtype=np.int32)
    carry = np.zeros(0, dtype=np.int32)
    pending: list[np.ndarray] = []  # produced contexts not yet yielded
    pending_rows = 0
    limit = None if max_contexts is None else max_contexts + skip_contexts

    def emit(rows: np.ndarray) -> Iterator[np.ndarray]:
        nonlocal pending_rows
        skip = max(0, min(len(rows), skip_contexts - stats.skipped_contexts))
        stats.skipped_contexts += skip
        if skip < len(rows):
            pending.append(rows[skip:])
            pending_rows += len(rows) - skip
        while pending_rows >= batch_size:
            joined = np.concatenate(pending)
            yield joined[:batch_size]
            rest = joined[batch_size:]
            pending[:] = [rest] if len(rest) else []
            pending_rows = len(rest)

    done = False
    for texts in _text_batches(docs, tokenize_batch_chars, stats):
        encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
        parts = [carry]
        for ids in encoded:
            if max_document_tokens is not None and len(ids) > max_document_tokens:
                stats.truncated_documents += 1
                stats.truncated_tokens += len(ids) - max_document_tokens
                ids = ids[:max_document_tokens]
            stats.documents += 1
            stats.tokens += len(ids)
            stats.separator_tokens += 1
            parts += [np.asarray(ids, dtype=np.int32), separator]
        stream = np.concatenate(parts)
        n = len(stream) // body
        if limit is not None:
            n = min(n, limit - stats.contexts)
        carry = stream[n * body :]
        if n > 0:
            rows = stream[: n * body].reshape(n, body)
            if start is not None:
                rows = np.concatenate([np.full((n, 1), start, dtype=np.int32), rows], axis=1)
            stats.contexts += n
            yield from emit(rows)
        if limit is not None and stats.contexts >= limit:
            done = True
            break
    stats.dropped_tail_tokens = len(carry)
    if pending_rows:
        yield np.concatenate(pending)
    stats.finished = True
    if stats.documents == 0:
        raise DataError("no documents to pack (empty corpus)", hint="check the text source")
    if stats.contexts == 0:
        raise DataError(
            f"the corpus holds {stats.tokens} tokens, too few for one context of {context_length} tokens",
            hint="use a shorter context length or a larger corpus",
        )
    log.info("%s%s", stats.report(), " (stopped at max_contexts)" if done else "")


def decode_context(
    row: np.ndarray | Sequence[int], tokenizer: Any, *, skip_special_tokens: bool = False
) -> str:
    """The text of one packed context (special tokens shown unless ``skip_special_tokens``)."""
    return tokenizer.decode([int(t) for t in row], skip_special_tokens=skip_special_tokens)


def context_tokens(row: np.ndarray | Sequence[int], tokenizer: Any) -> list[str]:
    """The token strings of one packed context, one per position (for showing where a feature fires)."""
    ids = [int(t) for t in row]
    return [tokenizer.decode([t]) for t in ids]
