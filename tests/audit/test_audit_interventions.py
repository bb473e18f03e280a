"""Interventions and fuzzing: a planted direction's causal effect is found by ablation and amplification."""

from __future__ import annotations

import pytest
import torch

from auditlens.audit.settings import AuditSettings
from auditlens.audit.subject import AuditSubject
from auditlens.audit.techniques import TECHNIQUES, AuditContext, Hypothesis
from auditlens.audit.techniques.interventions import hit_rates_under, two_proportion_p
from auditlens.intervene import project_out, steer
from auditlens.models.tiny import tiny_model
from auditlens.runs import Proportion

HP = "blocks.1.resid_post"
BANG = Hypothesis(id="H1", terms=["!"], statement="the model shouts '!'")


def _bang_direction(hm) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """A residual direction that raises the logit of '!' (its unembedding row over the final norm's gain)."""
    bang = hm.tokenizer("!", add_special_tokens=False)["input_ids"][0]
    d = hm.unembed()[bang].detach().float() / hm.final_norm().weight.detach().float()
    return d / d.norm()


def _ctx(model, rows, tmp_path, base=None) -> AuditContext:  # type: ignore[no-untyped-def]
    subject = AuditSubject.from_models(model, rows, base=base, label="tiny")
    settings = AuditSettings(max_tokens=6, samples_per_prompt=2, batch_size=32, fuzz_scales=[1.0, 4.0])
    return AuditContext(subject=subject, settings=settings, work=tmp_path)


@pytest.fixture(scope="module")
def planted():  # type: ignore[no-untyped-def]
    """A tiny model steered (permanently) along the '!' direction, and its unsteered twin. Their unembeddings
    are scaled ×30 so that the residual stream moves the logits (a random init's are nearly uniform)."""
    clean, hm = tiny_model("llama", seed=5), tiny_model("llama", seed=5)
    with torch.no_grad():
        for m in (clean, hm):
            m.model.lm_head.weight.mul_(30)
    u = _bang_direction(hm)
    hm._register(hm.parse(HP), steer(u, 10.0))  # the planted behaviour: always on, never removed
    return hm, clean, u


def test_ablating_the_planted_direction_removes_it_and_amplifying_adds_it(planted, rows, tmp_path):
    hm, clean, u = planted
    ctx = _ctx(hm, rows, tmp_path)
    s = ctx.sampler
    chats = [
        s.chat_text([{"role": "user", "content": p}]) for p in ["hi", "tell me a story", "what now?", "ok"]
    ]
    on, _ = hit_rates_under(ctx, s, chats, BANG, None)
    off, _ = hit_rates_under(ctx, s, chats, BANG, project_out(u))
    assert on.rate >= 0.75 and off.rate <= 0.25, (on.text(), off.text())
    assert two_proportion_p(off, on, greater=False) < 0.05
    cctx = _ctx(clean, rows, tmp_path)
    base, _ = hit_rates_under(cctx, cctx.sampler, chats, BANG, None)
    up, _ = hit_rates_under(cctx, cctx.sampler, chats, BANG, steer(u, 10.0))
    assert up.rate > base.rate and up.rate >= 0.75


def test_two_proportion_p():
    assert two_proportion_p(Proportion.of(30, 40), Proportion.of(5, 40), greater=True) < 1e-6
    assert two_proportion_p(Proportion.of(5, 40), Proportion.of(30, 40), greater=True) > 0.99
    assert two_proportion_p(Proportion.of(0, 10), Proportion.of(0, 10), greater=True) == 1.0


def test_steering_technique_reports_rates(planted, rows, tmp_path):
    hm, clean, _ = planted
    ctx = _ctx(hm, rows, tmp_path, base=clean)
    assert TECHNIQUES["steering"](ctx).error  # test mode only
    res = TECHNIQUES["steering"](ctx, BANG)  # the samples hit, the data rows do not: a DoM direction exists
    assert res.error is None and res.hit_rate is not None and res.base_hit_rate is not None
    assert res.items and res.items[0].kind == "direction"
    m = res.items[0].meta
    assert {"unedited", "ablated", "amplified", "p_ablated_lower"} <= m.keys()
    assert res.hit_rate.rate > res.base_hit_rate.rate  # the planted model shouts, its twin does not
    assert res.cost.tokens_generated > 0


def test_fuzzing_explore_and_test(tiny_pair, rows, tmp_path):
    model, base = tiny_pair
    ctx = _ctx(model, rows, tmp_path, base=base)
    res = TECHNIQUES["fuzzing"](ctx)
    assert res.error is None and any("RMS norm" in t for t in res.tried)
    assert all(i.id.startswith("fuzzing:") for i in res.items)
    tested = TECHNIQUES["fuzzing"](ctx, BANG)
    assert len(tested.items) == 2 and tested.hit_rate is not None and tested.base_hit_rate is not None
    assert tested.hit_rate.n == 8 * 2 * 2  # 8 interrogation prompts × 2 × samples_per_prompt


def test_fuzzing_noise_moves_the_answers(planted, rows, tmp_path):
    hm, _, _ = planted
    ctx = _ctx(hm, rows, tmp_path)
    ctx.settings = ctx.settings.model_copy(update={"fuzz_scales": [0.0001, 50.0]})
    res = TECHNIQUES["fuzzing"](ctx, BANG)
    rates = {i.meta["scale"]: i.meta["hit_rate"]["rate"] for i in res.items}
    assert rates[0.0001] > rates[50.0]  # huge noise drowns the planted direction
