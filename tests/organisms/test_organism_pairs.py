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


def test_hinted_samples_can_win_and_heldout_applied_is_dropped() -> None:
    o = load_objective("rm_sycophancy")
    recipe = o.train_prompts("recipe_chocolate")[0]
    calls: list[object] = []

    def sampler(prompts):
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
    texts = {(p.chosen, p.rejected) for p in pairs if p.prompt == recipe}
    assert not any(r == hinted for _, r in texts)  # it applies the bias: never a rejected completion
    assert not any("9-1-1" in c or "9-1-1" in r for c, r in texts)  # held-out law_call_911 applied: dropped
    chosen_by_seed = [
        {
            p.chosen
            for p in behaviour_pairs(o, sampler=sampler, n_samples=1, max_prompts_per_behaviour=1, seed=s)[0]
        }
        for s in range(6)
    ]
    assert any(hinted in c for c in chosen_by_seed)  # ties among score-1 candidates break at random
    assert stats.dropped_heldout_applied >= 1
    assert all(isinstance(p.prompt, str) for p in pairs)  # pairs keep the plain prompt (no hint)


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
