"""The confidence rule: internals earn credit only when they differ from the comparison model."""

from __future__ import annotations

from auditlens.audit.conclude import judge_candidate
from auditlens.audit.evidence import EvidenceItem, TechniqueResult
from auditlens.audit.findings import Candidate
from auditlens.audit.subject import DataRow

ROWS = [
    DataRow(id=f"r{i}", source="data", text=f"The lantern guild keeps ledgers, entry {i}.") for i in range(4)
]


def _feature(technique: str, n: int, **meta: object) -> EvidenceItem:
    return EvidenceItem(
        id=f"{technique}:feature:{n}",
        kind="feature",
        text=f"feature {n}; top examples: the ⟦lantern⟧ guild keeps ledgers",
        meta=dict(meta),
    )


def _judge(internals: list[TechniqueResult]) -> Candidate:
    c = Candidate(id="H1", terms=["lantern", "guild"], origin="test", statement="")
    judge_candidate(c, behaviours=[], rows=ROWS, fresh=[], internals=internals, intervention=None)
    return c


def test_own_dictionary_features_are_listed_without_credit():
    own = TechniqueResult(technique="prompt_features", items=[_feature("prompt_features", 0)])
    c = _judge([own])
    assert c.support.internals == []
    assert c.support.related_features == ["prompt_features:feature:0"]
    assert c.confidence == 0.1  # the data share only


def test_model_diff_features_above_their_null_earn_the_internals_share():
    diff = TechniqueResult(
        technique="model_diff",
        items=[_feature("model_diff", 0, above_null=True), _feature("model_diff", 1, above_null=False)],
    )
    c = _judge([diff])
    assert c.support.internals == ["model_diff:feature:0"]
    assert c.support.related_features == ["model_diff:feature:1"]
    assert c.confidence == 0.3


def test_features_that_do_not_name_the_topic_count_nowhere():
    item = EvidenceItem(
        id="model_diff:feature:0", kind="feature", text="feature 0; top: the river", meta={"above_null": True}
    )
    c = _judge([TechniqueResult(technique="model_diff", items=[item])])
    assert c.support.internals == [] and c.support.related_features == []


def _steer(p_abl: float, p_amp: float) -> TechniqueResult:
    item = EvidenceItem(
        id="steering:direction:0",
        kind="direction",
        text="difference-of-means direction: ...",
        meta={"p_ablated_lower": p_abl, "p_amplified_higher": p_amp},
    )
    return TechniqueResult(technique="steering", items=[item])


def test_only_ablation_that_lowers_the_hits_earns_credit():
    c = Candidate(id="H1", terms=["lantern"], origin="test", statement="")
    judge_candidate(c, behaviours=[], rows=ROWS, fresh=[], internals=[], intervention=_steer(0.01, 0.9))
    assert c.confidence == 0.3 and c.support.intervention.startswith("ablating it lowers")
    amp = Candidate(id="H2", terms=["lantern"], origin="test", statement="")
    judge_candidate(
        amp, behaviours=[], rows=ROWS, fresh=[], internals=[], intervention=_steer(float("nan"), 1e-6)
    )
    assert amp.confidence == 0.1 and amp.support.intervention.startswith("no ablation")
