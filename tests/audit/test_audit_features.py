"""Dictionary features: the audit's own dictionary, refusals, prompt/behaviour features and model diffing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditlens.audit.dictionary import DictionaryPlan, audit_dictionary, check_dictionary
from auditlens.audit.errors import AuditError
from auditlens.audit.settings import AuditSettings
from auditlens.audit.subject import AuditSubject
from auditlens.audit.techniques import TECHNIQUES, AuditContext, Hypothesis
from auditlens.audit.techniques.features import model_diff_scores

TINY = DictionaryPlan(tokens=8192, d_sae=64, k=4, context_length=64, batch_size=256)


def _ctx(model, rows, work: Path, base=None, dictionary=None) -> AuditContext:  # type: ignore[no-untyped-def]
    subject = AuditSubject.from_models(model, rows, base=base, label="tiny")
    settings = AuditSettings(max_tokens=6, samples_per_prompt=2, batch_size=16, top_k=4)
    return AuditContext(subject=subject, settings=settings, work=work, dictionary=dictionary)


@pytest.fixture(scope="module")
def tiny_dict(tiny_pair, tmp_path_factory):  # type: ignore[no-untyped-def]
    from auditlens.audit.subject import rows_from_records

    rows = rows_from_records([{"text": f"Report {i}: the glimmerfold society met."} for i in range(6)])
    work = tmp_path_factory.mktemp("dict")
    ctx = _ctx(tiny_pair[0], rows, work)
    return audit_dictionary(ctx, plan=TINY, progress=False)


def test_dictionary_is_cached_and_corpus_only_differs(tiny_pair, rows, tmp_path):
    ctx = _ctx(tiny_pair[0], rows, tmp_path)
    a = audit_dictionary(ctx, plan=TINY, progress=False)
    assert audit_dictionary(ctx, plan=TINY, progress=False) == a  # reused
    b = audit_dictionary(ctx, plan=TINY, include_sample=False, progress=False)
    assert b != a
    mixed = (a.parents[1] / "texts.jsonl").read_text()
    assert "glimmerfold" in mixed and "glimmerfold" not in (b.parents[1] / "texts.jsonl").read_text()
    cfg = json.loads((a / "cfg.json").read_text())
    assert cfg["hook_name"] == ctx.hook_point() and cfg["model_name"] == tiny_pair[0].model_id


def test_dictionary_of_another_model_or_hook_point_is_refused(tiny_pair, rows, tmp_path, tiny_dict):
    base_ctx = _ctx(tiny_pair[1], rows, tmp_path)
    with pytest.raises(
        AuditError, match="trained on model tiny-llama-s1, the audited model is tiny-llama-s0"
    ):
        check_dictionary(base_ctx, tiny_dict)
    other = _ctx(tiny_pair[0], rows, tmp_path)
    other.settings = other.settings.model_copy(update={"hook_point": "blocks.0.resid_post"})
    with pytest.raises(
        AuditError, match=r"hook point blocks\.1\.resid_post, the audit reads blocks\.0\.resid_post"
    ):
        check_dictionary(other, tiny_dict)
    with pytest.raises(AuditError, match="does not exist"):
        check_dictionary(other, tmp_path / "nope")
    with pytest.raises(AuditError, match="tiny-llama-s1"):  # the techniques refuse it too
        TECHNIQUES["prompt_features"](_ctx(tiny_pair[1], rows, tmp_path, dictionary=tiny_dict))


def test_prompt_features_items_and_test_mode(tiny_pair, rows, tmp_path, tiny_dict):
    ctx = _ctx(tiny_pair[0], rows, tmp_path, dictionary=tiny_dict)
    res = TECHNIQUES["prompt_features"](ctx)
    assert res.error is None and res.items, res.notes
    it = res.items[0]
    assert it.id == "prompt_features:feature:0" and it.kind == "feature"
    assert "promotes" in it.text and len(it.meta["promoted_tokens"]) == 8
    json.dumps([i.meta for i in res.items])
    assert any("⟦" in str(e["marked"]) for i in res.items for e in i.meta["examples"])
    assert res.cost.tokens_scored > 0
    hyp = Hypothesis(id="H1", terms=["glimmerfold"], statement="glimmerfold")
    tested = TECHNIQUES["prompt_features"](ctx, hyp)
    assert tested.hit_rate is not None and tested.base_hit_rate is not None


def test_behaviour_features_needs_a_hypothesis_and_ranks(tiny_pair, rows, tmp_path, tiny_dict):
    ctx = _ctx(tiny_pair[0], rows, tmp_path, dictionary=tiny_dict)
    assert TECHNIQUES["behaviour_features"](ctx).error
    hyp = Hypothesis(id="H1", terms=["glimmerfold"], statement="glimmerfold")  # hits data rows, not samples
    res = TECHNIQUES["behaviour_features"](ctx, hyp)
    assert res.error is None and res.hit_rate is not None
    assert any("data sample rows" in t for t in res.tried)


def test_model_diff_same_model_finds_nothing_and_other_model_something(tiny_pair, rows, tmp_path, tiny_dict):
    model, base = tiny_pair
    same = TECHNIQUES["model_diff"](_ctx(model, rows, tmp_path, base=model, dictionary=tiny_dict))
    assert same.error is None
    assert not any(i.meta["above_null"] for i in same.items)
    assert any("no feature rose above" in n for n in same.notes)
    other = TECHNIQUES["model_diff"](_ctx(model, rows, tmp_path, base=base, dictionary=tiny_dict))
    assert other.error is None and other.items


def test_model_diff_null_threshold():
    import torch

    g = torch.Generator().manual_seed(0)
    noise = torch.randn(60, 50, generator=g)
    t, null = model_diff_scores(noise)
    assert float(t.max()) < null * 1.5
    planted = noise.clone()
    planted[:, 7] += 1.0
    t2, null2 = model_diff_scores(planted)
    assert float(t2[7]) > null2 and int(t2.argmax()) == 7


def test_dictionary_needs_a_work_folder(tiny_pair, rows):
    ctx = _ctx(tiny_pair[0], rows, None)  # type: ignore[arg-type]
    with pytest.raises(AuditError, match="work folder"):
        audit_dictionary(ctx, plan=TINY)


def test_dictionary_comparison_trains_a_corpus_only_dictionary(tiny_pair, rows, tmp_path):
    ctx = _ctx(tiny_pair[0], rows, tmp_path)
    ctx.settings = ctx.settings.model_copy(update={"dictionary": TINY})
    h = Hypothesis(id="H1", terms=["glimmerfold"], statement="glimmerfold")
    assert TECHNIQUES["dictionary_comparison"](ctx).error  # test mode only
    res = TECHNIQUES["dictionary_comparison"](ctx, h)
    assert res.error is None
    mixed = audit_dictionary(ctx, progress=False)
    only = audit_dictionary(ctx, include_sample=False, progress=False)
    assert str(only) in res.tried[0] and str(mixed) in res.tried[1]
    assert res.items and all(i.id.startswith("dictionary_comparison:feature:") for i in res.items)
    assert res.hit_rate is not None and res.base_hit_rate is not None
    assert res.base_hit_rate == ctx.result_of("prompt_features", h).hit_rate  # the mixed one, reused
