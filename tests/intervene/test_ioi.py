"""The IOI task: prompts in both orders with aligned counterfactuals, and the logit-difference score."""

from __future__ import annotations

import re

import pytest
import torch

from auditlens.errors import ConfigError
from auditlens.intervene.ioi import ioi_prompts, ioi_score, same_length_groups
from auditlens.models.tiny import byte_tokenizer, tiny_model


class WordTokenizer:
    """One token per whitespace-separated word (punctuation split off), ids below a tiny model's vocabulary."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        words = re.findall(r" ?[A-Za-z]+|[.,]", text)
        return {"input_ids": [self.vocab.setdefault(w, 5 + len(self.vocab) % 240) for w in words]}


def test_prompts_name_io_once_and_s_twice_in_both_orders() -> None:
    ps = ioi_prompts(WordTokenizer(), n=24, seed=1)
    assert {p.order for p in ps} == {"ABBA", "BABA"} and len({p.template for p in ps}) == 6
    for p in ps:
        words = re.findall(r"[A-Za-z]+", p.text)
        assert words.count(p.io) == 1 and words.count(p.s) == 2 and p.io != p.s != p.counterfactual_io
        first = next(w for w in words if w in (p.io, p.s))
        assert first == (p.io if p.order == "ABBA" else p.s)
        assert p.counterfactual == p.text.replace(p.io, p.counterfactual_io)
        assert len(p.ids) == len(p.counterfactual_ids)
    groups = same_length_groups(ps)
    assert sum(len(g) for g in groups.values()) == len(ps)
    assert all(len({len(p.ids) for p in g}) == 1 for g in groups.values())
    assert ioi_prompts(WordTokenizer(), n=24, seed=1) == ps  # seeded


def test_score_is_the_logit_difference_at_the_last_position() -> None:
    torch.manual_seed(0)
    model = tiny_model("llama", n_layers=2)
    ps = ioi_prompts(WordTokenizer(), n=12, seed=2)
    sc = ioi_score(model, ps, batch=5)
    assert sc.n == 12 and sc.accuracy.n == 12 and sum(v.n for v in sc.per_template.values()) == 12
    manual = []
    for p in ps:
        row = model.logits(torch.tensor([p.ids]))[0, -1]
        manual.append(float(row[p.io_token] - row[p.s_token]))
    assert sc.logit_diff.value == pytest.approx(sum(manual) / len(manual), abs=1e-4)
    assert sc.accuracy.k == sum(d > 0 for d in manual)
    assert sc.logit_diff.ci_low <= sc.logit_diff.value <= sc.logit_diff.ci_high


def test_bad_input_is_refused() -> None:
    with pytest.raises(ConfigError, match="single tokens"):
        ioi_prompts(byte_tokenizer(), n=4)
    with pytest.raises(ConfigError, match="no IOI prompts"):
        ioi_score(tiny_model("llama", n_layers=1), [])
