"""Which words set one set of texts apart from another — the statistic hypotheses are made of.

:func:`distinctive_terms` ranks unigrams and bigrams by the log-odds ratio with an informative Dirichlet prior
(Monroe, Colaresi & Quinn 2008, "Fightin' Words", eq. 22): for term ``w`` with counts ``y_a``, ``y_b`` in the two
sets (totals ``n_a``, ``n_b``) and prior counts ``α_w`` (``α_0`` in all) from both sets pooled,
``δ = log((y_a+α_w)/(n_a+α_0-y_a-α_w)) - log((y_b+α_w)/(n_b+α_0-y_b-α_w))`` with variance
``1/(y_a+α_w) + 1/(y_b+α_w)``; the z-score ``δ/σ`` ranks. Counted once per text (document frequency), so one
long text cannot dominate. Nothing here knows any topic: stop words are sklearn's English list.

:func:`elevated_terms` tests per-text occurrence between two sets of samples with Fisher's exact test and keeps the
terms significant after a Holm correction — the behavioural difference between two models on the same prompts.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scipy.stats import fisher_exact
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

__all__ = ["TermScore", "distinctive_terms", "elevated_terms", "term_set", "tokens"]

_WORD = re.compile(r"[a-z][a-z0-9_'\-]*[a-z0-9]|[a-z]")
_STOP = frozenset(ENGLISH_STOP_WORDS) | {"user", "assistant", "s", "t", "ll", "ve", "don", "it's", "i'm"}


def tokens(text: str) -> list[str]:
    """Lowercase word tokens (letters, digits, inner apostrophes, hyphens and underscores)."""
    return _WORD.findall(text.lower())


def term_set(text: str, *, bigrams: bool = True) -> set[str]:
    """The content unigrams (no stop words, at least 3 letters) and bigrams (no stop word at either end)."""
    toks = tokens(text)
    out = {t for t in toks if t not in _STOP and len(t) >= 3}
    if bigrams:
        out |= {
            f"{a} {b}"
            for a, b in itertools.pairwise(toks)
            if a not in _STOP and b not in _STOP and len(a) >= 2 and len(b) >= 2
        }
    return out


@dataclass(frozen=True)
class TermScore:
    """A term and how strongly it separates the sets."""

    term: str
    z: float
    count_a: int
    count_b: int
    n_a: int
    n_b: int
    p: float | None = None


def _doc_counts(texts: Iterable[str], bigrams: bool) -> tuple[Counter[str], int]:
    c: Counter[str] = Counter()
    n = 0
    for t in texts:
        c.update(sorted(term_set(t, bigrams=bigrams)))  # sorted: counts do not depend on PYTHONHASHSEED
        n += 1
    return c, n


def distinctive_terms(
    target: Sequence[str],
    background: Sequence[str],
    *,
    k: int = 20,
    min_count: int = 2,
    bigrams: bool = True,
    prior_scale: float = 1.0,
) -> list[TermScore]:
    """The ``k`` terms most over-represented in ``target`` against ``background`` (z of the log-odds ratio)."""
    ca, na = _doc_counts(target, bigrams)
    cb, nb = _doc_counts(background, bigrams)
    if na == 0 or nb == 0:
        return []
    pooled = ca + cb
    total = sum(pooled.values())
    a0 = prior_scale * total
    sa, sb = sum(ca.values()), sum(cb.values())
    out: list[TermScore] = []
    for w, ya in ca.items():
        if ya < min_count:
            continue
        yb = cb.get(w, 0)
        aw = a0 * pooled[w] / total
        d = math.log((ya + aw) / (sa + a0 - ya - aw)) - math.log((yb + aw) / (sb + a0 - yb - aw))
        z = d / math.sqrt(1 / (ya + aw) + 1 / (yb + aw))
        out.append(TermScore(w, z, ya, yb, na, nb))
    out.sort(key=lambda s: (-s.z, s.term))  # ties by term, never by set order (hash-seeded per process)
    return _drop_covered(out)[:k]


def _drop_covered(scores: list[TermScore]) -> list[TermScore]:
    """Drop a unigram that only occurs inside a better-ranked bigram (same counts), keeping lists readable."""
    kept: list[TermScore] = []
    for s in scores:
        if " " not in s.term and any(
            " " in k.term and s.term in k.term.split() and (k.count_a, k.count_b) == (s.count_a, s.count_b)
            for k in kept
        ):
            continue
        kept.append(s)
    return kept


def elevated_terms(
    audited: Sequence[str],
    reference: Sequence[str],
    *,
    alpha: float = 0.01,
    min_count: int = 3,
    bigrams: bool = False,
    max_terms: int = 40,
) -> list[TermScore]:
    """Terms in significantly more of the ``audited`` samples than of the ``reference`` ones (one-sided Fisher
    exact test per term, Holm-corrected over the terms tested at family-wise level ``alpha``)."""
    ca, na = _doc_counts(audited, bigrams)
    cb, nb = _doc_counts(reference, bigrams)
    if na == 0 or nb == 0:
        return []
    tested: list[TermScore] = []
    for w, ya in ca.items():
        yb = cb.get(w, 0)
        if ya < min_count or ya / na <= yb / nb:
            continue
        p = float(fisher_exact([[ya, na - ya], [yb, nb - yb]], alternative="greater")[1])
        z = math.log((ya + 0.5) / (na - ya + 0.5)) - math.log((yb + 0.5) / (nb - yb + 0.5))
        tested.append(TermScore(w, z, ya, yb, na, nb, p))
    tested.sort(key=lambda s: s.p or 0.0)
    m = len(tested)
    kept: list[TermScore] = []
    for i, s in enumerate(tested):  # Holm step-down
        if (s.p or 0.0) * (m - i) > alpha:
            break
        kept.append(s)
    return kept[:max_terms]
