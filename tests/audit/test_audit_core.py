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
