"""Text in, token contexts out: text sources, the default offline corpus, tokenisation and packing.

- :mod:`auditlens.data.sources` — :func:`open_source` (files, folders, globs, jsonl, parquet, ``hf:``,
  ``default``) returning a :class:`TextSource`;
- :mod:`auditlens.data.corpus` — the default offline corpus (:func:`build_default_corpus`);
- :mod:`auditlens.data.packing` — :func:`pack_documents` into fixed-length int32 contexts with an explicit
  :class:`BosPolicy` and counted truncation (:class:`PackingStats`).

This module never touches the model; it only needs its tokenizer.
"""

from auditlens.data.corpus import (
    CorpusManifest,
    DefaultCorpusSource,
    build_default_corpus,
    count_corpus_tokens,
    default_corpus_dir,
    load_manifest,
    verify_corpus,
)
from auditlens.data.packing import (
    BosPolicy,
    PackedContexts,
    PackingStats,
    ResolvedPolicy,
    context_tokens,
    decode_context,
    document_separator_id,
    pack_documents,
    resolve_bos_policy,
    tokenizer_adds_bos,
)
from auditlens.data.sources import TextSource, open_source, parse_hf_spec

__all__ = [
    "BosPolicy",
    "CorpusManifest",
    "DefaultCorpusSource",
    "PackedContexts",
    "PackingStats",
    "ResolvedPolicy",
    "TextSource",
    "build_default_corpus",
    "context_tokens",
    "count_corpus_tokens",
    "decode_context",
    "default_corpus_dir",
    "document_separator_id",
    "load_manifest",
    "open_source",
    "pack_documents",
    "parse_hf_spec",
    "resolve_bos_policy",
    "tokenizer_adds_bos",
    "verify_corpus",
]
