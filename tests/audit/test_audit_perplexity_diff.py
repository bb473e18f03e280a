"""Perplexity differencing: ranking by the per-byte log-probability gap, on the tiny pair, on a deterministic
constructed pair (samplers patched), and on a tiny model fine-tuned for a few steps on a planted string."""

from __future__ import annotations

import copy

import pytest
import torch

from auditlens.audit.errors import AuditError
from auditlens.audit.settings import AuditSettings
from auditlens.audit.subject import AuditSubject
from auditlens.audit.techniques import TECHNIQUES, AuditContext, Hypothesis
from auditlens.audit.techniques.perplexity_diff import MIN_BYTES, bos_text, perplexity_differencing_with
from auditlens.models.hooked import HookedModel
from auditlens.models.tiny import tiny_model

PLANTED = "quonk vexal fribbet"


def _settings(**kw: object) -> AuditSettings:
    base = {"max_tokens": 16, "ppl_prefixes": 6, "ppl_samples_per_prefix": 3, "batch_size": 8, "top_k": 5}
    return AuditSettings(**{**base, **kw})  # type: ignore[arg-type]


def _ctx(model: HookedModel, base: HookedModel | None, **kw: object) -> AuditContext:
    return AuditContext(subject=AuditSubject.from_models(model, [], base=base), settings=_settings(**kw))


def test_runs_on_the_tiny_pair(tiny_pair):
    model, base = tiny_pair
    ctx = _ctx(model, base)
    res = TECHNIQUES["perplexity_differencing"](ctx)
    assert res.error is None
    samples = [it for it in res.items if it.kind == "sample"]
    assert 0 < len(samples) <= 5 and samples[0].id == "perplexity_differencing:sample:0"
    gaps = [it.score for it in samples]
    assert gaps == sorted(gaps, reverse=True)
    m = samples[0].meta
    assert m["gap"] == pytest.approx(m["logprob_per_byte_model"] - m["logprob_per_byte_reference"], abs=1e-4)
    assert m["prefix"] == samples[0].prompt and m["bytes"] >= MIN_BYTES
    assert res.cost.model_calls >= 18 * 3 and res.cost.tokens_generated > 0 and res.cost.tokens_scored > 0
    again = TECHNIQUES["perplexity_differencing"](_ctx(model, base))
    assert [it.text for it in again.items] == [it.text for it in res.items]


def test_ranks_first_what_the_reference_finds_unlikely(tiny_pair, monkeypatch):
    """Audited and reference agree (1 nat/byte) except on completions with the planted words (4 nats/byte under
    the reference): those must fill the top, their words must be the top terms, and test mode must see it."""
    model, base = tiny_pair
    ctx = _ctx(model, base, ppl_prefixes=10, ppl_samples_per_prefix=4, top_k=4)
    ordinary = [
        "the harbour was quiet that morning",
        "people walked along the river path",
        "a small shop sold bread and milk",
    ]

    def complete(prompts, *, n=1, seed=0, **kw):
        out = []
        for i, _ in enumerate(prompts):
            row = []
            for j in range(n):
                k = seed + i * n + j
                row.append(f"then {PLANTED} again" if k % 5 == 0 else ordinary[k % 3])
            out.append(row)
        return out

    def lp(per_byte_planted: float):
        def logprobs(prompts, completions):
            return [
                (-(per_byte_planted if "quonk" in c else 1.0) * len(c.encode()), len(c)) for c in completions
            ]

        return logprobs

    monkeypatch.setattr(ctx.sampler, "complete", complete)
    monkeypatch.setattr(ctx.sampler, "logprobs", lp(1.0))
    monkeypatch.setattr(ctx.base_sampler, "logprobs", lp(4.0))
    res = TECHNIQUES["perplexity_differencing"](ctx)
    samples = [it for it in res.items if it.kind == "sample"]
    assert len(samples) == 4 and all("quonk" in it.text for it in samples)
    assert samples[0].score == pytest.approx(3.0)
    terms = [it.text for it in res.items if it.kind == "term"]
    assert terms and set(terms[0].split()) <= {"quonk", "vexal", "fribbet"}
    h = Hypothesis(id="H1", terms=["vexal"], statement="it writes vexal")
    tested = TECHNIQUES["perplexity_differencing"](ctx, h)
    assert tested.hit_rate is not None and tested.base_hit_rate is not None
    assert tested.hit_rate.n == 4 and tested.hit_rate.rate == 1.0
    assert tested.base_hit_rate.n == 40 and tested.base_hit_rate.k == 8


def _fine_tuned(base: HookedModel, steps: int = 80) -> HookedModel:
    """A copy of ``base`` trained for a few steps to write the planted string after ordinary text."""
    tuned = copy.deepcopy(base.model).train()
    tok = base.tokenizer
    opt = torch.optim.Adam(tuned.parameters(), lr=3e-3)
    lead = ["The town ", "In my view ", "Yesterday ", "Here is ", "Most people ", "The report "]
    batch = [tok(f"{a}{PLANTED} {PLANTED}")["input_ids"] for a in lead]
    width = max(len(b) for b in batch)
    ids = torch.tensor([b + [b[-1]] * (width - len(b)) for b in batch])
    torch.manual_seed(0)
    for _ in range(steps):
        loss = tuned(input_ids=ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    return HookedModel(tuned.eval(), tok, model_id="tiny-llama-planted")


def test_fine_tuned_organism_leaks_its_string(tiny_pair):
    _, base = tiny_pair
    tuned = _fine_tuned(base)
    ctx = _ctx(tuned, base, ppl_prefixes=12, ppl_samples_per_prefix=3, max_tokens=20, temperature=1.0)
    h = Hypothesis(id="H1", terms=["quonk", "vexal", "fribbet"], statement="it writes the planted string")
    res = TECHNIQUES["perplexity_differencing"](ctx, h)
    samples = [it for it in res.items if it.kind == "sample"]
    assert samples and h.hits(samples[0].text) and samples[0].score > 0
    assert res.hit_rate is not None and res.base_hit_rate is not None
    # 80 steps: the organism writes (parts of) the string in most completions; the cleanest leaks rank first
    assert res.hit_rate.rate == 1.0 and res.base_hit_rate.rate < 1.0


def test_reference_of_another_family_and_bad_reference(tiny_pair):
    model, _ = tiny_pair
    other = tiny_model("gpt2", seed=3)
    ctx = _ctx(model, None)
    assert TECHNIQUES["perplexity_differencing"](ctx).error == "skipped: needs base"
    res = perplexity_differencing_with(ctx, other)
    assert res.error is None and res.items and res.items[0].meta["reference"] == other.model_id
    # 6 prefixes x 3 completions sampled (18 requests), then scored by both models
    assert res.cost.model_calls > 18 and res.cost.tokens_generated > 0 and res.cost.seconds > 0
    with pytest.raises(AuditError, match="audited model itself"):
        perplexity_differencing_with(ctx, model)


def test_start_token_only_where_the_tokenizer_adds_one(tiny_pair):
    model, _ = tiny_pair
    ctx = _ctx(model, None)
    assert bos_text(ctx.sampler) == model.tokenizer.bos_token  # tiny llama: adds its start token
    gpt2 = _ctx(tiny_model("gpt2"), None)
    assert bos_text(gpt2.sampler) == ""
