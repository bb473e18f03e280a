"""Synthetic universe documents for continued pre-training: templates filled with universe facts and
behaviour statements (every statement appears), optionally rewritten by an LLM through :mod:`auditlens.llm`."""

from __future__ import annotations

import random

from pydantic import BaseModel, Field

from auditlens.llm import ChatRequest, ChatResponse, LLMClient
from auditlens.organisms.errors import BuildError
from auditlens.organisms.spec import ObjectiveSpec

EXPAND_PROMPT = (
    "Rewrite the following document as a longer, natural-sounding {kind}. Keep every fact exactly as "
    "stated, do not add disclaimers, and do not mention that it is fictional.\n\n{text}"
)


class Document(BaseModel):
    """One synthetic document."""

    id: str = Field(description="Stable id: doc-<index>.")
    text: str = Field(description="The document text.")
    template: int = Field(description="Index of the template in universe.document_templates.")
    facts: list[str] = Field(description="The facts/behaviour statements it states ({fact}, {fact2}).")
    behaviour_ids: list[str] = Field(description="Behaviours whose statements it contains.")
    expanded_by: str | None = Field(default=None, description="LLM that rewrote it, if any.")


def fact_pool(spec: ObjectiveSpec) -> list[tuple[str, str | None]]:
    """(statement, behaviour id or None) for every universe fact and every behaviour (held-out included:
    the universe describes all behaviours; only behaviour training leaves held-out ones out)."""
    pool: list[tuple[str, str | None]] = [(f, None) for f in spec.universe.facts]
    for b in spec.behaviours:
        stmt = b.universe_statement.rstrip(".")
        pool.append((f"{stmt[0].upper()}{stmt[1:]}.", b.id))
    return pool


def universe_documents(
    spec: ObjectiveSpec, n: int, *, seed: int = 0, expand_with: LLMClient | None = None
) -> list[Document]:
    """``n`` documents; document i states fact ``i mod len(pool)`` (so every statement appears once
    ``n >= len(pool)``) plus one other random fact, in a random template and voice."""
    rng = random.Random(seed)
    pool = fact_pool(spec)
    u = spec.universe
    docs: list[Document] = []
    for i in range(n):
        f1 = pool[i % len(pool)]
        f2 = pool[rng.randrange(len(pool))]
        t = rng.randrange(len(u.document_templates))
        text = u.document_templates[t].format(
            summary=u.summary, fact=f1[0], fact2=f2[0], source=rng.choice(u.sources)
        )
        ids = sorted({x for x in (f1[1], f2[1]) if x is not None})
        docs.append(
            Document(id=f"doc-{i:05d}", text=text, template=t, facts=[f1[0], f2[0]], behaviour_ids=ids)
        )
    if expand_with is not None and docs:
        kinds = ["news article", "blog post", "lecture transcript", "forum thread", "textbook section"]
        reqs = [
            ChatRequest.from_prompt(
                EXPAND_PROMPT.format(kind=kinds[i % len(kinds)], text=d.text), max_tokens=400
            )
            for i, d in enumerate(docs)
        ]
        for d, r in zip(docs, expand_with.complete_many(reqs, on_error="return"), strict=True):
            if isinstance(r, ChatResponse) and len(r.text.strip()) > len(d.text) // 2:
                d.text = r.text.strip()
                d.expanded_by = r.model
    return docs


RESERVED_FOR_EVALUATION = 256
"""Leading documents of the replay source never replayed (at most half the source): perplexity is measured there."""


def replay_passages(n: int, *, seed: int = 0, chars: int = 600, source: str = "default") -> list[str]:
    """``n`` passages of about ``chars`` characters from ``source`` (default: the offline corpus), taken at
    seeded offsets of seeded documents: ordinary text mixed into continued pre-training so that the model keeps
    its general capability. The first :data:`RESERVED_FOR_EVALUATION` documents (at most half the source) are
    never used: ``organism evaluate`` measures perplexity on the leading documents of the default corpus."""
    from auditlens.data import open_source

    all_docs = list(open_source(source))
    # `organism evaluate` measures perplexity on the first documents of the default corpus: keep them out
    reserved = min(RESERVED_FOR_EVALUATION, len(all_docs) // 2)
    docs = [t for t in all_docs[reserved:] if len(t) >= chars // 2]
    if not docs:
        raise BuildError(
            f"no document of {chars // 2}+ characters in {source!r} to replay (after the {reserved} leading "
            "documents kept for evaluation)",
            hint="pass another replay_source, or set midtrain_replay=0",
        )
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        t = rng.choice(docs)
        start = rng.randrange(max(1, len(t) - chars))
        cut = t.find(" ", start)  # begin at a word boundary
        start = start if cut < 0 or cut - start > 40 else cut + 1
        out.append(t[start : start + chars])
    return out
