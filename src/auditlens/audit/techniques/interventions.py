"""Causal test of a hypothesis: ablate and amplify candidate directions while re-sampling the audited model.

Marks et al. (2025) turned candidate SAE features off and on while the quirky answer was generated and saw the
behaviour change (seed digest §3.4, "SAE: causal steering/ablation"). ``steering`` does this for a hypothesis:

1. Re-sample the audited model (chat formatted, ``samples_per_prompt`` each) on the first :data:`N_EVERYDAY`
   everyday prompts and up to :data:`N_ROW_PROMPTS` user prompts of the data sample; count hypothesis hits
   (the unedited rate).
2. Candidates: the **difference-of-means direction** at ``ctx.hook_point()`` between hypothesis-hitting and
   non-hitting texts (the first :data:`N_DIRECTION_ROWS` data rows and the unedited samples; each text's activation averaged over its tokens;
   Marks & Tegmark 2023, Arditi et al. 2024), and, when a dictionary is there, the decoder directions of the top
   :data:`N_FEATURES` features of ``behaviour_features`` (and the top ``model_diff`` feature when a base is; both
   through :meth:`AuditContext.result_of`, so results the plan already has are reused, not recomputed).
3. For each candidate ``u`` (unit): **ablate** by projecting it out (:func:`auditlens.intervene.project_out`,
   ``x' = x − (x·u)u`` at every position) and **amplify** by adding ``α·‖x‖_rms·u``
   (:func:`auditlens.intervene.steer`) for α in :data:`STEER_SCALES`, ``‖x‖_rms`` the stream's RMS norm on the
   prompts; re-sample with the same seeds (common random numbers) and count hits.
4. Each candidate's item has the unedited, ablated and amplified rates (:class:`~auditlens.runs.Proportion`) and
   one-sided two-proportion z-tests (ablated < unedited, best amplified > unedited). ``hit_rate`` is the unedited
   rate, ``base_hit_rate`` the base model's on the same prompts (when there is a base).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from scipy.stats import norm
from torch import Tensor

from auditlens.audit.evidence import EvidenceItem, TechniqueResult
from auditlens.audit.probes import probes
from auditlens.audit.sampler import ModelSampler
from auditlens.audit.techniques.base import AuditContext, Hypothesis, register
from auditlens.intervene import project_out, steer
from auditlens.runs import Proportion

__all__ = [
    "N_DIRECTION_ROWS",
    "N_EVERYDAY",
    "N_FEATURES",
    "N_ROW_PROMPTS",
    "STEER_SCALES",
    "hit_rates_under",
    "mean_activations",
    "two_proportion_p",
]

N_EVERYDAY = 16
N_ROW_PROMPTS = 8
N_FEATURES = 2
N_DIRECTION_ROWS = 400
"""Data rows (with the unedited samples) the difference-of-means direction is computed from."""
STEER_SCALES = (0.5,)
"""Amplification strengths as multiples of the residual stream's RMS norm at the hook point. Plan 3 also tried
1.0: on both bundled organisms it gave a lower hit rate than 0.5 for every candidate (the model stops making
sense), and amplification earns no credit in the conclusion, so the second scale cost a third of the step for
nothing."""

Splice = Callable[[Tensor], Tensor | None]


def two_proportion_p(a: Proportion, b: Proportion, *, greater: bool) -> float:
    """One-sided p of the pooled two-proportion z-test that ``a``'s rate is greater (or smaller) than ``b``'s."""
    if a.n == 0 or b.n == 0:
        return math.nan
    p = (a.k + b.k) / (a.n + b.n)
    se = math.sqrt(p * (1 - p) * (1 / a.n + 1 / b.n))
    if se == 0:
        return 1.0
    z = (a.rate - b.rate) / se
    return float(norm.sf(z) if greater else norm.cdf(z))


def hit_rates_under(
    ctx: AuditContext,
    sampler: ModelSampler,
    chats: Sequence[str],
    hyp: Hypothesis,
    edit: Splice | None,
) -> tuple[Proportion, list[str]]:
    """Hit rate of ``sampler``'s samples on ``chats`` with ``edit`` spliced at the hook point (None: unedited)."""
    st = ctx.settings
    kw = {
        "n": st.samples_per_prompt,
        "temperature": st.temperature,
        "max_tokens": st.max_tokens,
        "seed": st.seed,
    }
    if edit is None:
        outs = sampler.complete(chats, **kw)
    else:
        with sampler.hm.splice({ctx.hook_point(): edit}):
            outs = sampler.complete(chats, **kw)
    flat = [o for per in outs for o in per]
    return Proportion.count([hyp.hits(o) for o in flat]), flat


@torch.no_grad()
def mean_activations(sampler: ModelSampler, hp: str, texts: Sequence[str]) -> tuple[Tensor, float]:
    """Each text's activation at ``hp`` averaged over its tokens (but the first), and the stream's RMS norm."""
    hm, out, sq, count = sampler.hm, [], 0.0, 0
    device = next(hm.model.parameters()).device
    for s in range(0, len(texts), 16):
        ids = [sampler._ids(t) or [sampler.pad] for t in texts[s : s + 16]]
        width = max(len(r) for r in ids)
        x = torch.full((len(ids), width), sampler.pad, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for b, r in enumerate(ids):
            x[b, : len(r)] = torch.tensor(r)
            mask[b, : len(r)] = 1
        acts = hm.capture(x.to(device), [hp], attention_mask=mask.to(device))[hp].float().cpu()
        sampler.cost.model_calls += 1
        sampler.cost.tokens_scored += int(mask.sum())
        for b, r in enumerate(ids):
            a = acts[b, 1 : len(r)] if len(r) > 1 else acts[b, : len(r)]
            out.append(a.mean(0))
            sq += float((a**2).sum())
            count += a.shape[0]
    return torch.stack(out), math.sqrt(sq / max(count, 1))


def _prompts(ctx: AuditContext) -> list[str]:
    rows = [
        r.text[len("User: ") :].split("\nAssistant: ")[0]
        for r in ctx.subject.rows
        if r.text.startswith("User: ") and "\nAssistant: " in r.text
    ]
    return probes().everyday[:N_EVERYDAY] + rows[:N_ROW_PROMPTS]


def _feature_candidates(ctx: AuditContext, hyp: Hypothesis) -> list[tuple[str, Tensor, dict[str, object]]]:
    from auditlens.audit.dictionary import load_audit_dictionary

    if ctx.dictionary is None:
        return []
    basis, _ = load_audit_dictionary(ctx)
    dirs = basis.directions().float().cpu()
    out: list[tuple[str, Tensor, dict[str, object]]] = []
    sources = [("behaviour_features", N_FEATURES)] + ([("model_diff", 1)] if ctx.has("base") else [])
    for name, k in sources:
        res = ctx.result_of(name, None if name == "model_diff" else hyp)
        for it in [i for i in res.items if i.kind == "feature"][:k]:
            f = int(it.meta["feature"])
            if all(m.get("feature") != f for _, _, m in out):
                out.append((f"feature {f} (from {name})", dirs[f], {"feature": f, "from": it.id}))
    return out


@register("steering", needs=("chat",))
def steering(ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
    """Ablate and amplify difference-of-means and candidate-feature directions; re-sample; compare hit rates."""
    res = TechniqueResult(technique="steering", question=hypothesis.statement if hypothesis else "")
    if hypothesis is None:
        res.error = "steering tests a hypothesis: give one (it needs hits to move)"
        return res
    s, hp, st = ctx.sampler, ctx.hook_point(), ctx.settings
    chats = [s.chat_text([{"role": "user", "content": p}]) for p in _prompts(ctx)]
    res.tried = [
        f"{len(chats)} prompts (everyday and the data sample's user prompts) × {st.samples_per_prompt}"
    ]
    unedited, samples = hit_rates_under(ctx, s, chats, hypothesis, None)
    res.hit_rate = unedited
    if ctx.base_sampler is not None:
        res.base_hit_rate, _ = hit_rates_under(ctx, ctx.base_sampler, chats, hypothesis, None)
    rows = [r.text[:1500] for r in ctx.subject.rows[: min(st.max_data_rows, N_DIRECTION_ROWS)]]
    answers = [
        c + o for c, per in zip(chats, _chunks(samples, st.samples_per_prompt), strict=True) for o in per
    ]
    texts = rows + answers
    flags = torch.tensor([hypothesis.hits(t) for t in rows] + [hypothesis.hits(o) for o in samples])
    acts, rms = mean_activations(s, hp, texts)
    candidates: list[tuple[str, Tensor, dict[str, object]]] = []
    if bool(flags.any()) and bool((~flags).any()):
        dom = acts[flags].mean(0) - acts[~flags].mean(0)
        candidates.append(
            (
                "difference-of-means direction",
                dom,
                {"n_hit": int(flags.sum()), "n_other": int((~flags).sum())},
            )
        )
    else:
        res.notes.append("no hitting (or no non-hitting) text: no difference-of-means direction")
    candidates += _feature_candidates(ctx, hypothesis)
    res.tried += [f"candidate: {name}" for name, _, _ in candidates]
    res.tried.append(f"ablation: project out; amplification: + α·{rms:.3g}·u for α in {list(STEER_SCALES)}")
    for n, (name, u, meta) in enumerate(candidates):
        if float(u.norm()) == 0:
            continue
        u = u / u.norm()
        ablated, _ = hit_rates_under(ctx, s, chats, hypothesis, project_out(u))
        amplified = {
            a: hit_rates_under(ctx, s, chats, hypothesis, steer(u, a * rms))[0] for a in STEER_SCALES
        }
        best = max(amplified, key=lambda a: amplified[a].rate)
        p_abl = two_proportion_p(ablated, unedited, greater=False)
        p_amp = two_proportion_p(amplified[best], unedited, greater=True)
        effect = (amplified[best].rate - ablated.rate) if unedited.n else 0.0
        res.items.append(
            EvidenceItem(
                id=f"steering:{'feature' if 'feature' in meta else 'direction'}:{n}",
                kind="feature" if "feature" in meta else "direction",
                text=(
                    f"{name}: hit rate unedited {unedited.text()}, ablated {ablated.text()} (p={p_abl:.3g}), "
                    f"amplified ×{best} {amplified[best].text()} (p={p_amp:.3g})"
                ),
                score=round(float(effect), 4),
                source=hp,
                meta={
                    **meta,
                    "unedited": unedited.model_dump(mode="json"),
                    "ablated": ablated.model_dump(mode="json"),
                    "amplified": {str(a): p.model_dump(mode="json") for a, p in amplified.items()},
                    "p_ablated_lower": p_abl,
                    "p_amplified_higher": p_amp,
                    "rms_norm": rms,
                },
            )
        )
    res.items.sort(key=lambda i: -(i.score or 0.0))
    if res.items:
        res.notes.append(
            f"ablating the top candidate gives {res.items[0].meta['ablated']['rate']:.3g} (unedited {unedited.rate:.3g})"
        )
    return res


def _chunks(xs: Sequence[str], n: int) -> list[list[str]]:
    return [list(xs[i : i + n]) for i in range(0, len(xs), n)]
