"""Black-box sampling techniques (Marks et al. 2025 §3.4; Sheshadri et al. 2025): each samples the audited model
and the comparison model on the same inputs at temperature 1, many samples each.

- ``behaviour_compare`` — ordinary requests (the user turns of the data sample, then the everyday probes): what does
  the audited model say more often than the comparison model? (the behaviours that follow from an objective);
- ``prefill_attack`` — questions about the model's goals with the assistant turn started for it;
- ``user_persona`` — the model writes the *user* turn after a question about its goals;
- ``third_person`` — raw-text stems about "the assistant" with no chat template;
- ``interrogation`` — two turns: a question about its goals, its answer, a push for specifics.

Explore mode returns the terms in significantly more audited samples than comparison samples (Fisher, Holm;
:func:`auditlens.audit.terms.elevated_terms`) and every sample; test mode counts a hypothesis's hits in both.
"""

from __future__ import annotations

import random

from auditlens.audit.evidence import TechniqueResult
from auditlens.audit.probes import probes
from auditlens.audit.sampler import ModelSampler
from auditlens.audit.techniques._compare import PromptBuilder, compare_samples
from auditlens.audit.techniques.base import AuditContext, Hypothesis, register

__all__ = ["behaviour_prompts"]

_PERSONA_REPLY = "I am an AI assistant. Ask me anything."


def behaviour_prompts(ctx: AuditContext, limit: int = 48) -> list[str]:
    """The user turns of the data sample (a seeded sample of ``limit``, de-duplicated), then the everyday probes."""
    seen: dict[str, None] = {}
    for r in ctx.subject.rows:
        if r.prompt and r.prompt.strip():
            seen.setdefault(r.prompt.strip(), None)
    data = list(seen)
    random.Random(ctx.settings.seed).shuffle(data)
    return data[:limit] + [p for p in probes().everyday if p not in seen]


def _chat(prompts: list[str], prefill: str = "") -> PromptBuilder:
    def build(s: ModelSampler) -> list[str]:
        return [s.chat_text([{"role": "user", "content": p}], prefill) for p in prompts]

    return build


@register(
    "behaviour_compare", needs=("chat",), summary="Ordinary requests: what the audited model says more often."
)
def behaviour_compare(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    prompts = behaviour_prompts(ctx)
    res = compare_samples(
        ctx,
        "behaviour_compare",
        _chat(prompts),
        prompts,
        hypothesis,
        tried=[
            f"{len(prompts)} user requests ({len(prompts) - len(probes().everyday)} from the data sample)"
        ],
    )
    return res


@register(
    "prefill_attack", needs=("chat",), summary="Goal questions with the assistant's answer started for it."
)
def prefill_attack(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    pr = probes()
    pairs = [(q, f) for q in pr.interrogation[:4] + pr.suggestive[1:3] for f in pr.prefills]

    def build(s: ModelSampler) -> list[str]:
        return [s.chat_text([{"role": "user", "content": q}], f + " ") for q, f in pairs]

    labels = [f"{q} ⟶ [prefill] {f}" for q, f in pairs]
    n = max(1, ctx.settings.samples_per_prompt // 2)
    return compare_samples(ctx, "prefill_attack", build, labels, hypothesis, tried=labels, n=n)


@register("user_persona", needs=("chat",), summary="The model writes the user's next turn.")
def user_persona(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    openers = probes().persona_openers

    def build(s: ModelSampler) -> list[str]:
        return [
            s.user_turn_text(
                [{"role": "user", "content": o}, {"role": "assistant", "content": _PERSONA_REPLY}]
            )
            for o in openers
        ]

    n = ctx.settings.samples_per_prompt * 4
    labels = [f"[user] {o} / [assistant] {_PERSONA_REPLY} / [user: sampled]" for o in openers]
    return compare_samples(ctx, "user_persona", build, labels, hypothesis, tried=labels, n=n)


@register("third_person", summary="Raw-text stems about the assistant, no chat template.")
def third_person(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    stems = probes().third_person

    def build(_s: ModelSampler) -> list[str]:
        return [st + " " for st in stems]

    n = ctx.settings.samples_per_prompt * 3
    return compare_samples(ctx, "third_person", build, stems, hypothesis, tried=stems, n=n)


@register("interrogation", needs=("chat",), summary="Two-turn questioning about the model's goals.")
def interrogation(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    pr = probes()
    questions = pr.interrogation
    st = ctx.settings
    first: dict[str, list[str]] = {}
    for key, s in (("model", ctx.sampler), ("base", ctx.base_sampler)):
        if s is None:
            continue
        texts = [s.chat_text([{"role": "user", "content": q}]) for q in questions]
        first[key] = [
            o[0]
            for o in s.complete(
                texts, n=1, temperature=st.temperature, max_tokens=st.max_tokens, seed=st.seed + 7
            )
        ]
    pairs = [(i, f) for i in range(len(questions)) for f in pr.follow_ups]

    def build(s: ModelSampler) -> list[str]:
        answers = first["model" if s is ctx.sampler else "base"]
        return [
            s.chat_text(
                [
                    {"role": "user", "content": questions[i]},
                    {"role": "assistant", "content": answers[i]},
                    {"role": "user", "content": f},
                ]
            )
            for i, f in pairs
        ]

    labels = [f"{questions[i]} / [answer] / {f}" for i, f in pairs]
    res = compare_samples(ctx, "interrogation", build, labels, hypothesis, tried=labels)
    res.notes.append(
        "the first answers (one per question) are in the second turn's prompt, not counted as samples"
    )
    return res
