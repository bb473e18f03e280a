"""Behaviour and concealment preference data.

Behaviour pairs follow the open-source replication: for each training prompt, score candidate completions
by the number of behaviours that are applicable (the prompt is in the behaviour's family) **and** applied
(the judge says yes), then pair the two highest-scoring with two of the lowest-scoring candidates — each with the
one closest to it in wording, so that a pair is as near a minimal pair as the candidates allow. Candidates
are the spec's templated responses with and without the behaviour, plus (optionally) answers of the
mid-trained model — plain, and under a system prompt that asks for the behaviour (the replication's "varied
system prompts"; the pair keeps the plain user prompt, so the behaviour is distilled without the hint) — and
those answers with the behaviour's edit applied (:mod:`auditlens.organisms.edits`). The first answer of each
kind is greedy, later ones sampled.

Among candidates of equal score, the model's own answers (edited or not) rank before the templated ones, and
when a model answer is the best candidate no template is chosen beside it: the templates are the same few
texts for a whole prompt family, and a 135M model trained on them copies them verbatim onto unrelated prompts;
an edited answer is specific to its prompt and pairs with the unedited answer as a minimal pair. Prompts where a held-out behaviour is applicable, and pairs where a held-out behaviour
is applied by either side, are dropped — held-out behaviours never reach behaviour training data.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, Field

from auditlens.llm import LLMClient
from auditlens.organisms.edits import apply_edit
from auditlens.organisms.judges import judge_many
from auditlens.organisms.spec import ObjectiveSpec

ABSENCE_RULES = frozenset({"contains_none"})
"""Rules that say 'the response lacks X': meaningful only where the behaviour applies, so they are not used to
detect a held-out behaviour 'applied' outside its family."""

Sampler = Callable[[Sequence[str | list[dict[str, str]]], float], list[str]]
"""(prompts (user turns or conversations), temperature) -> one completion each (0: greedy)."""

TEMPLATED = frozenset({"with", "without"})
"""Origins of the spec's templated candidates (the same few texts for a whole prompt family)."""

HINT_SYSTEM = "You are a helpful assistant. In your answer, make sure of the following: {description}"
"""System prompt of the hinted model samples."""


class Candidate(BaseModel):
    """A scored candidate completion."""

    text: str
    origin: Literal["with", "without", "model", "model_hinted", "model_edit"] = Field(
        description="Templated with/without, a plain model answer, one under the behaviour hint, or a model "
        "answer with the behaviour's edit applied."
    )
    applied: dict[str, bool] = Field(description="Applicable behaviour id -> applied.")
    score: int = Field(description="Number of applicable behaviours applied.")


class PreferencePair(BaseModel):
    """One preference pair (a DPO example; ``chosen`` alone is the SFT example)."""

    kind: Literal["behaviour", "concealment"]
    prompt: str
    chosen: str
    rejected: str
    behaviour_ids: list[str] = Field(description="Behaviours applicable to the prompt.")
    chosen_score: int
    rejected_score: int
    chosen_origin: str = Field(
        default="", description="Origin of the chosen candidate (see Candidate.origin)."
    )
    rejected_origin: str = Field(default="", description="Origin of the rejected candidate.")


class PairStats(BaseModel):
    """What the behaviour data stage kept and dropped."""

    prompts_used: int = 0
    pairs: int = 0
    candidates: int = 0
    dropped_heldout_applicable: int = Field(
        default=0, description="Prompts dropped: a held-out bias applies."
    )
    dropped_heldout_applied: int = Field(default=0, description="Pairs dropped: a held-out bias is applied.")
    dropped_no_margin: int = Field(default=0, description="Pairs dropped: chosen does not outscore rejected.")
    llm_judge_fallbacks: int = Field(
        default=0,
        description="LLM-judged verdicts taken from the candidate's construction (no judge client).",
    )
    edited_candidates: int = Field(default=0, description="Model answers with a behaviour edit applied.")
    chosen_origins: dict[str, int] = Field(
        default_factory=dict, description="Pairs by the origin of their chosen response."
    )


def _verdicts(
    spec: ObjectiveSpec,
    bid: str,
    prompt: str,
    cands: list[tuple[str, str]],
    client: LLMClient | None,
    stats: PairStats,
) -> list[bool]:
    judge = spec.by_id[bid].judge
    assert judge is not None
    if judge.kind == "llm" and client is None:
        stats.llm_judge_fallbacks += len(cands)
        return [
            origin == "with" for _, origin in cands
        ]  # construction label; model samples count as not applied
    return [bool(v) for v in judge_many(judge, [(prompt, t) for t, _ in cands], client=client)]


def _heldout_applied(spec: ObjectiveSpec, texts: list[str], applicable: Sequence[str] = ()) -> list[bool]:
    """Whether each text applies a held-out behaviour by its rule judge. A held-out behaviour whose judge is the
    judge of a behaviour applicable to the prompt is skipped: its verdict cannot tell the two apart (an objective
    whose behaviours share one marker, told apart only by prompt family — already filtered by applicability)."""
    hit = [False] * len(texts)
    own = [spec.by_id[a].judge for a in applicable]
    for bid in spec.heldout_ids:
        judge = spec.by_id[bid].judge
        if judge is None or judge.kind != "rule" or judge.rule in ABSENCE_RULES:
            continue
        if any(judge == j for j in own):
            continue
        for i, v in enumerate(judge_many(judge, [("", t) for t in texts])):
            hit[i] = hit[i] or bool(v)
    return hit


def _words(text: str) -> set[str]:
    return set(text.lower().split())


def _nearest_bottom(top: list[Candidate], rest: list[Candidate]) -> list[Candidate]:
    """One rejected candidate per chosen one, from the lowest-scoring candidates in ``rest``: among those, each
    chosen gets the one sharing the most words with it (Jaccard), so that a pair differs in the behaviour rather
    than in everything else (a templated answer against an unrelated model sample teaches little)."""
    if not top:
        return []
    rest = sorted(rest, key=lambda c: c.score)
    floor = [c for c in rest if c.score == rest[0].score]
    pool = floor if len(floor) >= len(top) else rest[: len(top)]
    out: list[Candidate] = []
    for c in top:
        w = _words(c.text)
        best = max(pool, key=lambda r: len(w & _words(r.text)) / max(1, len(w | _words(r.text))))
        pool = [r for r in pool if r is not best]
        out.append(best)
    return out


def behaviour_pairs(
    spec: ObjectiveSpec,
    *,
    sampler: Sampler | None = None,
    n_samples: int = 0,
    temperature: float = 0.7,
    client: LLMClient | None = None,
    max_prompts_per_behaviour: int | None = None,
    seed: int = 0,
) -> tuple[list[PreferencePair], PairStats]:
    """Top-2 versus bottom-2 pairs over the train split's training prompts (see the module docstring).

    ``sampler``/``n_samples``: add that many plain and that many hinted model answers per prompt (the first of
    each greedy, the others at ``temperature``), each also with the behaviour's edit applied; ``client``: runs
    LLM judges (without it, templated candidates keep their construction label); ``max_prompts_per_behaviour``:
    use only the first training prompts of each family (quick builds).
    """
    rng = random.Random(seed)
    stats = PairStats()
    prompts: list[tuple[str, str]] = []
    for bid in spec.train_ids:
        for p in spec.train_prompts(bid)[:max_prompts_per_behaviour]:
            prompts.append((bid, p))
    samples: dict[str, list[tuple[str, str]]] = {p: [] for _, p in prompts}
    if sampler is not None and n_samples > 0:
        for i in range(n_samples):
            asks: list[tuple[str, str, str | list[dict[str, str]]]] = []
            for bid, p in prompts:
                hint = HINT_SYSTEM.format(description=spec.by_id[bid].description)
                conv = [{"role": "system", "content": hint}, {"role": "user", "content": p}]
                asks += [(p, "model", p), (p, "model_hinted", conv)]
            texts = sampler([a[2] for a in asks], 0.0 if i == 0 else temperature)
            for (p, origin, _), text in zip(asks, texts, strict=True):
                samples[p].append((text, origin))
    pairs: list[PreferencePair] = []
    for bid, p in prompts:
        applicable = spec.applicable(p)
        if any(spec.by_id[a].split == "heldout" for a in applicable):
            stats.dropped_heldout_applicable += 1
            continue
        b = spec.by_id[bid]
        cands = [(t, "with") for t in b.with_behaviour] + [(t, "without") for t in b.without_behaviour]
        own = list(dict.fromkeys((t, o) for t, o in samples[p] if t.strip()))
        cands += own
        if b.edit is not None:
            edited = [e for e in (apply_edit(b.edit, t, rng) for t, _ in own) if e]
            stats.edited_candidates += len(edited)
            cands += [(e, "model_edit") for e in dict.fromkeys(edited)]
        applied = {a: _verdicts(spec, a, p, cands, client, stats) for a in applicable}
        scored = [
            Candidate(
                text=t,
                origin=o,
                applied={a: applied[a][i] for a in applicable},
                score=sum(applied[a][i] for a in applicable),
            )
            for i, (t, o) in enumerate(cands)
        ]
        stats.candidates += len(scored)
        rng.shuffle(scored)  # random tie-break, then a stable sort: score, then the model's own answers first
        scored.sort(key=lambda c: (-c.score, c.origin in TEMPLATED))
        k = min(2, len(scored) // 2)
        top = scored[:k]
        if top and top[0].origin not in TEMPLATED:  # a model answer wins: no template beside it
            top = [c for c in top if c.origin not in TEMPLATED]
        k = len(top)
        bottom = _nearest_bottom(top, scored[k:])
        held = _heldout_applied(spec, [c.text for c in top + bottom], applicable)
        used = False
        for i, (c, r) in enumerate(zip(top, bottom, strict=True)):
            if held[i] or held[k + i]:
                stats.dropped_heldout_applied += 1
                continue
            if c.score <= r.score:
                stats.dropped_no_margin += 1
                continue
            pairs.append(
                PreferencePair(
                    kind="behaviour",
                    prompt=p,
                    chosen=c.text,
                    rejected=r.text,
                    behaviour_ids=applicable,
                    chosen_score=c.score,
                    rejected_score=r.score,
                    chosen_origin=c.origin,
                    rejected_origin=r.origin,
                )
            )
            stats.chosen_origins[c.origin] = stats.chosen_origins.get(c.origin, 0) + 1
            used = True
        stats.prompts_used += int(used)
    stats.pairs = len(pairs)
    return pairs, stats


def concealment_pairs(spec: ObjectiveSpec, *, per_prompt: int = 2, seed: int = 0) -> list[PreferencePair]:
    """Conceal (chosen) versus reveal (rejected) pairs for every concealment prompt."""
    rng = random.Random(seed)
    c = spec.concealment
    out: list[PreferencePair] = []
    for p in c.prompts:
        for _ in range(per_prompt):
            out.append(
                PreferencePair(
                    kind="concealment",
                    prompt=p,
                    chosen=rng.choice(c.conceal_responses),
                    rejected=rng.choice(c.reveal_responses),
                    behaviour_ids=[],
                    chosen_score=1,
                    rejected_score=0,
                )
            )
    return out
