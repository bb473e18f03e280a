"""Shared pieces of the data techniques: the capped data sample, the neutral background, cached embeddings.

- :func:`capped_rows` — the data sample, or a seeded uniform sample of ``settings.max_data_rows`` of it (in the
  sample's order), with a note saying so.
- :func:`background_texts` — ordinary text the sample is compared with: passages of the offline default corpus
  (:func:`auditlens.organisms.documents.replay_passages`, the text organisms are replayed on) plus the generic
  everyday prompts of :func:`auditlens.audit.probes.probes`. It knows no topic. When the corpus cannot be opened
  the everyday prompts alone are used, and a note says so.
- :func:`embed` — unit-norm all-MiniLM-L6-v2 sentence embeddings (the packaged offline model, loaded as
  :func:`auditlens.interpret.autointerp.scorers.default_embedder` does), cached as ``.npy`` under
  ``ctx.work/embeddings/`` keyed by the SHA-256 of the texts, so a re-run of an audit embeds nothing again.
"""

from __future__ import annotations

import hashlib
import json
import random
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from auditlens.audit.probes import probes
from auditlens.audit.subject import DataRow
from auditlens.audit.techniques.base import AuditContext
from auditlens.runs import bar
from auditlens.runs.io import write_file_atomically

__all__ = ["PRIOR_SCALE", "Background", "background_texts", "capped_rows", "embed", "texts_hash"]

BACKGROUND_PASSAGES = 200
"""Passages of the default corpus in the background (about 600 characters each; read at call time)."""
PRIOR_SCALE = 0.1
"""Dirichlet prior of the term contrasts (``prior_scale`` of :func:`auditlens.audit.terms.distinctive_terms`):
10% of the pooled counts. With the 1% default a term absent from the background gets so large a variance that an
ordinary word over-represented by chance in a small sample outranks it; measured on a planted sample of 8 strange
documents among 37 ordinary ones, the strange terms rank first at 0.1 and 0.5, and below chance words at 0.01."""
EMBED_CHARS = 600
"""Characters of a text that are embedded (MiniLM reads 256 word pieces at most; 600 characters is about 150 of
them and halves the time of long rows on CPU; the opening of a document says what it is about)."""


def capped_rows(ctx: AuditContext) -> tuple[list[DataRow], list[str]]:
    """The rows a data technique reads and the notes about them (the cap, when it applies)."""
    rows = list(ctx.subject.rows)
    cap = ctx.settings.max_data_rows
    if len(rows) <= cap:
        return rows, []
    keep = sorted(random.Random(ctx.settings.seed).sample(range(len(rows)), cap))
    note = (
        f"the data sample has {len(rows)} rows; a uniform random sample of {cap} of them "
        f"(seed {ctx.settings.seed}) was used (settings.max_data_rows)"
    )
    return [rows[i] for i in keep], [note]


class Background:
    """Background texts and where they came from."""

    def __init__(self, texts: list[str], notes: list[str], what: str) -> None:
        self.texts = texts
        self.notes = notes
        self.what = what


@lru_cache(maxsize=4)
def _corpus_passages(n: int, seed: int) -> tuple[str, ...]:
    from auditlens.organisms.documents import replay_passages

    return tuple(replay_passages(n, seed=seed, chars=600))


def background_texts(seed: int = 0, n: int | None = None) -> Background:
    """Neutral background: ``n`` (default :data:`BACKGROUND_PASSAGES`) default-corpus passages plus the everyday
    probe prompts (see the module)."""
    n = BACKGROUND_PASSAGES if n is None else n
    everyday = list(probes().everyday)
    try:
        passages = list(_corpus_passages(n, seed))
    except Exception as e:  # the corpus may be missing or unreadable: the audit goes on with less
        note = (
            f"the default corpus could not be read ({type(e).__name__}: {e}); the background is only the "
            f"{len(everyday)} everyday probe prompts, so term contrasts are weaker"
        )
        return Background(everyday, [note], f"{len(everyday)} everyday prompts")
    what = f"{len(passages)} default-corpus passages + {len(everyday)} everyday prompts"
    return Background(passages + everyday, [], what)


def texts_hash(texts: list[str]) -> str:
    """SHA-256 (16 hex digits) of a list of texts, the key of their cached embeddings."""
    return hashlib.sha256(json.dumps(texts).encode()).hexdigest()[:16]


def _embedder() -> Any:
    from auditlens.interpret.autointerp.scorers import default_embedder

    return default_embedder()


def embed(
    texts: list[str], work: Path | None, *, embedder: Any = None, batch_size: int = 64
) -> NDArray[np.float32]:
    """Unit-norm sentence embeddings of the first :data:`EMBED_CHARS` characters of ``texts`` (rows in order),
    cached under ``work/embeddings/``."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    path = None
    if work is not None:
        path = Path(work) / "embeddings" / f"minilm-{EMBED_CHARS}-{texts_hash(texts)}.npy"
        if path.is_file():
            cached = np.load(path)
            if cached.shape[0] == len(texts):
                return cached

    model = embedder if embedder is not None else _embedder()
    chunks: list[NDArray[np.float32]] = []
    steps = range(0, len(texts), batch_size)
    for s in bar(steps, desc="embedding data", unit="batch", enabled=len(texts) > 4 * batch_size):
        batch = [t[:EMBED_CHARS] for t in texts[s : s + batch_size]]
        part = model.encode(batch, normalize_embeddings=True, show_progress_bar=False)
        chunks.append(np.asarray(part, dtype=np.float32))
    out = np.concatenate(chunks, axis=0)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.save(fh, out, allow_pickle=False)

        write_file_atomically(path, write)
    return out
