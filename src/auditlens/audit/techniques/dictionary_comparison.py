"""The seed's dictionary ablation (Marks et al. 2025, §3.4 of the seed digest): do the features that carry a
hypothesis need the data sample in the dictionary's training mix?

The audit's own dictionary is trained on the default corpus mixed with the data sample
(:func:`auditlens.audit.dictionary.audit_dictionary`). This technique trains a second one, same plan, on the default
corpus only, runs :func:`~auditlens.audit.techniques.features.prompt_features` with each, and compares the share of
the top features' top examples that hit the hypothesis (``hit_rate``: corpus-only dictionary; ``base_hit_rate``:
the mixed one), with a one-sided two-proportion test that the mixed dictionary's share is higher. Test mode only;
opt-in in the plan (``AuditSettings.compare_dictionaries``): the second dictionary costs as much as the first.
"""

from __future__ import annotations

from dataclasses import replace

from auditlens.audit.dictionary import audit_dictionary
from auditlens.audit.evidence import TechniqueResult
from auditlens.audit.techniques.base import TECHNIQUES, AuditContext, Hypothesis, register

__all__ = ["dictionary_comparison"]


@register("dictionary_comparison", needs=("chat",))
def dictionary_comparison(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    """Prompt features of a corpus-only dictionary against the audit's (corpus + data sample) dictionary."""
    from auditlens.audit.techniques.interventions import two_proportion_p

    res = TechniqueResult(
        technique="dictionary_comparison", question=hypothesis.statement if hypothesis else ""
    )
    if hypothesis is None:
        res.error = (
            "dictionary_comparison tests a hypothesis: give one (it compares hit rates of two dictionaries)"
        )
        return res
    mixed = ctx.result_of("prompt_features", hypothesis)
    # its own memo: results are memoised by technique, hypothesis and seed, not by dictionary
    only_ctx = replace(ctx, dictionary=audit_dictionary(ctx, include_sample=False), _memo={})
    only = TECHNIQUES["prompt_features"](only_ctx, hypothesis)
    res.tried = [
        f"prompt features of a dictionary trained on the default corpus only ({only_ctx.dictionary})",
        f"against the audit's dictionary, trained on the corpus mixed with the data sample ({ctx.dictionary})",
    ]
    if mixed.error or only.error:
        res.error = mixed.error or only.error
        return res
    for n, it in enumerate(only.items):
        res.items.append(
            it.model_copy(
                update={"id": f"dictionary_comparison:feature:{n}", "source": str(only_ctx.dictionary)}
            )
        )
    res.hit_rate, res.base_hit_rate = only.hit_rate, mixed.hit_rate
    if only.hit_rate is not None and mixed.hit_rate is not None:
        p = two_proportion_p(mixed.hit_rate, only.hit_rate, greater=True)
        res.notes.append(
            f"top features' examples hitting the hypothesis: corpus-only dictionary {only.hit_rate.text()}, "
            f"corpus + data sample {mixed.hit_rate.text()} (one-sided p that the mixed one is higher: {p:.3g})"
        )
    else:
        res.notes.append("no hit rate: one of the dictionaries has no top feature for the prompts")
    return res
