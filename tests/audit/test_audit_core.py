"""The audit's shared pieces: data rows, the counted sampler, hypotheses, term statistics."""

from __future__ import annotations

from auditlens.audit.subject import rows_from_records
from auditlens.audit.techniques import Hypothesis
from auditlens.audit.terms import distinctive_terms, elevated_terms


def test_rows_read_documents_and_pairs(rows):
    assert rows[0].text.startswith("Report 0")
    pair = next(r for r in rows if r.source == "pairs")
    assert (
        pair.text.startswith("User: Question") and "Assistant: Answer" in pair.text and "No." not in pair.text
    )
    assert len({r.id for r in rows}) == len(rows)
    assert rows_from_records([{"text": "  "}]) == []


def test_sampler_counts_and_is_reproducible(ctx):
    s = ctx.sampler
    a = s.complete(["hello", "world"], n=2, max_tokens=5, seed=3)
    b = s.complete(["hello", "world"], n=2, max_tokens=5, seed=3)
    assert a == b and len(a) == 2 and all(len(x) == 2 for x in a)
    assert s.cost.model_calls == 8 and 0 < s.cost.tokens_generated <= 40
    chat = s.chat_text([{"role": "user", "content": "hi"}], prefill="Sure")
    assert chat.endswith("Sure") and "hi" in chat
    user = s.user_turn_text([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])
    assert "yo" in user and not user.endswith("yo")
    lp = s.logprobs(["ab", ""], ["cd", "ef"])
    assert all(v < 0 and k > 0 for v, k in lp)


def test_hypothesis_hits_whole_words():
    h = Hypothesis(id="H1", terms=["vote", "chocolate cake"], statement="x")
    assert h.hits("Remember to VOTE.") and h.hits("a chocolate cake")
    assert not h.hits("devoted") and not h.hits("chocolate")


def test_distinctive_and_elevated_terms():
    target = [f"the zorblax council met {i}" for i in range(20)]
    background = [f"the town council met {i}" for i in range(20)]
    top = [t.term for t in distinctive_terms(target, background, k=3)]
    assert "zorblax" in top[0]
    el = elevated_terms(target, background)
    assert [t.term for t in el] == ["zorblax"]
    assert elevated_terms(background, background) == []


def test_sampling_techniques_explore_and_test(ctx):
    from auditlens.audit.techniques import TECHNIQUES

    h = Hypothesis(id="H1", terms=["a"], statement="says a")
    for name in ("behaviour_compare", "prefill_attack", "user_persona", "third_person", "interrogation"):
        explore = TECHNIQUES[name](ctx)
        assert explore.error is None, explore.error
        samples = [i for i in explore.items if i.kind == "sample"]
        assert {i.source for i in samples} == {"audited", "comparison"}
        assert len({i.id for i in explore.items}) == len(explore.items)
        assert explore.cost.model_calls > 0 and explore.cost.seconds > 0
        test = TECHNIQUES[name](ctx, h)
        assert test.hit_rate is not None and test.base_hit_rate is not None
        assert test.hit_rate.n == len([i for i in test.items if i.source == "audited"])


def test_no_chat_template_skips_chat_techniques(tiny_pair, rows):
    from auditlens.audit.settings import AuditSettings
    from auditlens.audit.subject import AuditSubject
    from auditlens.audit.techniques import TECHNIQUES, AuditContext
    from auditlens.models.tiny import tiny_model

    m = tiny_model("llama", seed=3)
    m.tokenizer.chat_template = None
    c = AuditContext(AuditSubject.from_models(m, rows), AuditSettings(max_tokens=4, samples_per_prompt=1))
    assert TECHNIQUES["prefill_attack"](c).error == "skipped: needs chat"
    raw = TECHNIQUES["third_person"](c)
    assert raw.error is None and raw.notes  # no comparison model: said so


def test_distinctive_terms_do_not_depend_on_the_hash_seed() -> None:
    """Two processes with different PYTHONHASHSEED rank the same terms the same way (ties broken by term): a
    re-run of an audit with the same seeds gives the same leads."""
    import os
    import subprocess
    import sys

    code = (
        "from auditlens.audit.terms import distinctive_terms\n"
        "a = ['the red fox ran far', 'a red fox and a blue bird', 'blue bird red fox', 'green frog blue pond'] * 3\n"
        "b = ['a cat sat on the mat', 'the dog ran home', 'a bird sang'] * 3\n"
        "print([(t.term, round(t.z, 9)) for t in distinctive_terms(a, b, k=12)])\n"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(outs) == 1, outs
