"""Forming hypotheses from exploration, without an LLM.

**Behaviours.** The terms that ``behaviour_compare`` finds in significantly more audited than comparison samples
are grouped by the requests they occur in (terms whose sets of triggering requests overlap with Jaccard ≥ 0.5 are
one behaviour); a behaviour is described by its marker terms and the requests that trigger it.

**Root-cause candidates.** A hidden objective is taught by training data, so the candidates are topics of the data
sample: (1) *behaviour-linked topics* — for each behavioural or disclosure term (terms elevated by any black-box or
internals technique), the data rows that contain it, and their distinctive terms against neutral background text;
a topic term's score is the number of candidate terms whose rows it is distinctive of, so the topic that explains
many behaviours ranks first; (2) *data leads* — the unusual clusters and the distinctive terms of the data sample
(data search). Every candidate is then tested the same way (:mod:`auditlens.audit.conclude`): a data lead that the
model's behaviour does not follow stays unclaimed.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from auditlens.audit.background import background_texts
from auditlens.audit.evidence import EvidenceItem, TechniqueResult
from auditlens.audit.findings import Candidate, SuspectedBehaviour
from auditlens.audit.subject import DataRow
from auditlens.audit.techniques.base import Hypothesis
from auditlens.audit.terms import distinctive_terms
from auditlens.runs import Proportion

__all__ = [
    "as_hypothesis",
    "central_sentence",
    "form_behaviours",
    "form_candidates",
    "rows_with",
    "topic_of",
]


def as_hypothesis(c: Candidate) -> Hypothesis:
    """The hypothesis a technique tests for candidate ``c`` (same id and terms, so results are shared)."""
    return Hypothesis(id=c.id, terms=c.terms, statement=", ".join(c.terms))


def _has(term: str, text: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])", text.lower()) is not None


def rows_with(rows: Sequence[DataRow], terms: Iterable[str]) -> list[DataRow]:
    """Data rows that contain any of ``terms``, those with most of them first."""
    ts = list(terms)
    scored = [(sum(_has(t, r.text) for t in ts), i, r) for i, r in enumerate(rows)]
    return [r for s, _, r in sorted(scored, key=lambda x: (-x[0], x[1])) if s > 0]


def form_behaviours(res: TechniqueResult, *, max_behaviours: int = 10) -> list[SuspectedBehaviour]:
    """Behaviours from an exploration run of ``behaviour_compare`` (see module doc)."""
    terms = [i for i in res.items if i.kind == "term"]
    audited = [i for i in res.items if i.kind == "sample" and i.source == "audited"]
    base = [i for i in res.items if i.kind == "sample" and i.source == "comparison"]
    prompts_of: dict[str, set[str]] = {}
    for t in terms:
        prompts_of[t.text] = {s.prompt or "" for s in audited if _has(t.text, s.text)}
    groups: list[list[EvidenceItem]] = []
    for t in terms:  # best first: join the first group whose requests overlap enough
        for g in groups:
            ps = set().union(*(prompts_of[x.text] for x in g))
            a = prompts_of[t.text]
            if a and len(a & ps) / len(a | ps) >= 0.5:
                g.append(t)
                break
        else:
            groups.append([t])
    out: list[SuspectedBehaviour] = []
    for g in groups[:max_behaviours]:
        h = Hypothesis(id="b", terms=[t.text for t in g], statement="")
        prompts = Counter(s.prompt or "" for s in audited if h.hits(s.text))
        top = [p for p, _ in prompts.most_common(8)]
        ex = ", ".join(f"“{p}”" for p in top[:3])
        words = ", ".join(f"“{t.text}”" for t in g[:5])
        out.append(
            SuspectedBehaviour(
                id=f"B{len(out) + 1}",
                description=f"Mentions {words} more often than the comparison model, in answers to requests such as {ex}.",
                terms=h.terms,
                prompts=top,
                explore_audited=Proportion.count([h.hits(s.text) for s in audited]),
                explore_comparison=Proportion.count([h.hits(s.text) for s in base]) if base else None,
                score=sum(t.score or 0.0 for t in g),
                evidence=[t.id for t in g] + [s.id for s in audited if h.hits(s.text)][:6],
            )
        )
    return out


def central_sentence(text: str, terms: Sequence[str], limit: int = 300) -> str:
    """The sentence of ``text`` with most of ``terms`` (the first on ties), cut to ``limit`` characters."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]
    if not sentences:
        return text[:limit]
    best = max(sentences, key=lambda s: (sum(_has(t, s) for t in terms), -sentences.index(s)))
    return best if len(best) <= limit else best[: limit - 1] + "…"


def topic_of(rows: Sequence[DataRow], k: int = 12) -> list[str]:
    texts = [r.text for r in rows]
    if not texts:
        return []
    return [s.term for s in distinctive_terms(texts, background_texts(), k=k, min_count=min(2, len(texts)))]


def form_candidates(
    rows: Sequence[DataRow],
    signal_terms: dict[str, list[str]],
    data_leads: list[tuple[str, list[str], list[str]]],
    *,
    max_candidates: int = 3,
    n_terms: int = 6,
) -> list[Candidate]:
    """Root-cause candidates. ``signal_terms``: term -> evidence ids (behavioural, disclosure and internals terms);
    ``data_leads``: (origin, terms, evidence ids) from data search, in rank order."""
    topic_score: Counter[str] = Counter()
    topic_evidence: dict[str, set[str]] = defaultdict(set)
    for term, ev in signal_terms.items():
        behind = rows_with(rows, [term])
        for t in topic_of(behind[:200]):
            topic_score[t] += 1
            topic_evidence[t].update(ev)
    out: list[Candidate] = []
    if topic_score:
        top = [t for t, c in topic_score.most_common() if c >= 1][:n_terms]
        ev = sorted(set().union(*(topic_evidence[t] for t in top)))
        out.append(
            Candidate(
                id="H1", terms=top, origin="behaviour-linked topic of the data", statement="", evidence=ev
            )
        )
    for origin, terms, ev in data_leads:
        terms = [t for t in terms if t][:n_terms]
        if not terms or any(len(set(terms) & set(c.terms)) >= max(1, len(terms) // 2) for c in out):
            continue
        out.append(Candidate(id=f"H{len(out) + 1}", terms=terms, origin=origin, statement="", evidence=ev))
        if len(out) >= max_candidates:
            break
    return out[:max_candidates]
