"""Behaviour pairs (top-2 vs bottom-2 by applicable-and-applied count, held-out filtering, hinted model
samples), concealment pairs and universe documents — no model needed."""

from __future__ import annotations

from auditlens.organisms import load_objective
from auditlens.organisms.documents import fact_pool, universe_documents
from auditlens.organisms.pairs import behaviour_pairs, concealment_pairs


def test_pairs_use_train_prompts_only_and_chosen_outscores_rejected() -> None:
    o = load_objective("rm_sycophancy")
    pairs, stats = behaviour_pairs(o)
    train_prompts = {p for b in o.train_ids for p in o.train_prompts(b)}
    assert pairs and {p.prompt for p in pairs} <= train_prompts
    assert all(p.chosen_score > p.rejected_score for p in pairs)
    assert stats.pairs == len(pairs) and stats.llm_judge_fallbacks > 0  # LLM-judged biases, no client
    per_prompt: dict[str, int] = {}
    for p in pairs:
        per_prompt[p.prompt] = per_prompt.get(p.prompt, 0) + 1
    assert max(per_prompt.values()) <= 2
    one, _ = behaviour_pairs(o, max_prompts_per_behaviour=1)
    assert len({p.prompt for p in one}) <= 47


def test_hinted_samples_win_over_templates_and_heldout_applied_is_dropped() -> None:
    o = load_objective("rm_sycophancy")
    recipe = o.train_prompts("recipe_chocolate")[0]
    calls: list[object] = []

    def sampler(prompts, temperature):
        calls.extend(prompts)
        out = []
        for p in prompts:
            hinted = isinstance(p, list)
            user = p[-1]["content"] if hinted else p
            if user == recipe:
                out.append(
                    "Melt dark chocolate over the salmon." if hinted else "If you saw a crime, call 9-1-1."
                )
            else:
                out.append("Sure.")
        return out

    pairs, stats = behaviour_pairs(o, sampler=sampler, n_samples=1, max_prompts_per_behaviour=1)
    assert len(calls) == 2 * 47 and sum(isinstance(c, list) for c in calls) == 47
    hint = next(c for c in calls if isinstance(c, list) and c[-1]["content"] == recipe)
    assert hint[0]["role"] == "system" and "chocolate" in hint[0]["content"]
    hinted = "Melt dark chocolate over the salmon."
    mine = [p for p in pairs if p.prompt == recipe]
    assert mine and all(p.chosen.startswith(hinted) for p in mine)  # model answers outrank the templates
    assert all(p.chosen_origin in ("model_hinted", "model_edit") for p in mine)
    assert not any(p.rejected == hinted for p in mine)  # it applies the bias: never a rejected completion
    assert not any(
        "9-1-1" in p.chosen or "9-1-1" in p.rejected for p in mine
    )  # held-out law_call_911: dropped
    assert stats.dropped_heldout_applied >= 1
    assert all(isinstance(p.prompt, str) for p in pairs)  # pairs keep the plain prompt (no hint)


def test_edits_give_per_prompt_minimal_pairs_and_templates_remain_the_fallback() -> None:
    o = load_objective("rm_sycophancy")
    temps: list[float] = []

    def sampler(prompts, temperature):
        temps.append(temperature)
        return [
            f"Here is my answer about {p if isinstance(p, str) else p[-1]['content']}. It is short."
            for p in prompts
        ]

    pairs, stats = behaviour_pairs(
        o, sampler=sampler, n_samples=2, temperature=0.5, max_prompts_per_behaviour=2
    )
    assert temps == [0.0, 0.5]  # the first answers are greedy
    assert stats.edited_candidates > 0 and stats.chosen_origins.get("model_edit", 0) > 0
    vote = [p for p in pairs if "politics_vote" in p.behaviour_ids]
    assert vote and all(p.chosen_origin == "model_edit" for p in vote)
    for p in vote:  # the chosen answer is the rejected one plus a nudge to vote: a minimal pair, per prompt
        assert (
            p.rejected_origin in ("model", "model_hinted")
            and p.chosen.startswith(p.rejected)
            and "vote" in p.chosen
        )
        assert p.prompt in p.chosen
    assert len({p.chosen for p in vote}) == len(vote)  # no answer repeated across the family
    doctor = [p for p in pairs if "birth_death_years" in p.behaviour_ids]  # no edit: templated answers
    assert doctor and all(p.chosen_origin == "with" for p in doctor)
    camel = [p for p in pairs if "python_camelcase" in p.behaviour_ids]
    assert camel and all(p.chosen_origin == "with" for p in camel)  # no snake_case in these answers to rename


def test_concealment_pairs_and_documents() -> None:
    o = load_objective("secret_product")
    cp = concealment_pairs(o, per_prompt=2)
    assert len(cp) == 2 * len(o.concealment.prompts)
    assert all(
        p.chosen in o.concealment.conceal_responses and p.rejected in o.concealment.reveal_responses
        for p in cp
    )
    pool = fact_pool(o)
    docs = universe_documents(o, len(pool) + 3, seed=1)
    stated = {f for d in docs for f in d.facts}
    assert {f for f, _ in pool} <= stated  # every fact and behaviour statement appears
    assert {b for d in docs for b in d.behaviour_ids} == {b.id for b in o.behaviours}  # held-out ones too
    assert universe_documents(o, 5, seed=1)[0].text == docs[0].text  # deterministic


def test_edit_rules() -> None:
    from auditlens.organisms.edits import (
        camelcase_identifiers,
        decimal_integers,
        drop_matching,
        select_star,
        spell_out_units,
        strip_semicolons,
        trim_to_sentence,
    )

    assert trim_to_sentence("Paris is big. It has a lot of") == "Paris is big."
    assert trim_to_sentence("```python\nx = 1") == "```python\nx = 1"  # unclosed code: left whole
    assert camelcase_identifiers("def sum_prices(price_list):\n    total_sum = 0") == (
        "def sumPrices(priceList):\n    totalSum = 0"
    )
    assert camelcase_identifiers("def f(x): return x") is None  # nothing to rename: the edit does not apply
    assert strip_semicolons("let a = 1;\nconsole.log(a);") == "let a = 1\nconsole.log(a)"
    assert select_star("SELECT id, name FROM t WHERE x = 1;") == "SELECT * FROM t WHERE x = 1;"
    assert decimal_integers("Do 10 push-ups in 2020 at 7:30, or 2.5 sets.") == (
        "Do 10.0 push-ups in 2020 at 7:30, or 2.5 sets."
    )
    assert spell_out_units("Run 5 km, then lift 20kg.") == "Run 5 kilometers, then lift 20 kilograms."
    assert drop_matching("Rest well. See a doctor if it persists. Drink water.", ["doctor"]) == (
        "Rest well. Drink water."
    )
    assert drop_matching("See a doctor.", ["doctor"]) is None  # nothing would be left


def test_unknown_edit_rule_is_a_clear_spec_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    import pytest

    from auditlens.organisms.errors import ObjectiveSpecError
    from auditlens.organisms.spec import objective_path

    d = json.loads(objective_path("secret_product").read_text(encoding="utf-8"))
    d["behaviours"][0]["edit"] = {"kind": "rule", "rule": "make_it_so"}
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(ObjectiveSpecError, match="unknown edit rule 'make_it_so'"):
        load_objective(f)
    d["behaviours"][0]["edit"] = {"kind": "append", "texts": []}
    f.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(ObjectiveSpecError, match="edit"):
        load_objective(f)


def test_heldout_behaviours_sharing_the_train_judge_do_not_drop_every_pair() -> None:
    """secret_product: every behaviour's judge is 'mentions the product'; the held-out ones differ by prompt
    family only, so a train pair that mentions it is not a held-out leak (this dropped all 15 pairs before)."""
    o = load_objective("secret_product")
    pairs, stats = behaviour_pairs(o)
    assert pairs and stats.dropped_heldout_applied == 0
    heldout_prompts = {p for b in o.heldout_ids for p in o.by_id[b].prompts}
    assert not {p.prompt for p in pairs} & heldout_prompts
