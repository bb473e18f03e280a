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
from auditlens.data.sources import TextSource, open_source, parse_hf_spec

__all__ = [
    "CorpusManifest",
    "DefaultCorpusSource",
    "TextSource",
    "build_default_corpus",
    "count_corpus_tokens",
    "default_corpus_dir",
    "load_manifest",
    "open_source",
    "parse_hf_spec",
    "verify_corpus",
]
