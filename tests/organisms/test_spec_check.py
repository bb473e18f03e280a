"""`auditlens organism check` / check_spec: the bundled specs pass; judges that miss their positives or fire on
their negatives, too few prompts, malformed JSON and unknown fields are refused with the field or behaviour named;
LLM judges are stub-checked unless an LLM is given; organism build refuses before any training."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditlens.llm import LLMClient, StubBackend
from auditlens.organisms import ObjectiveSpecError
from auditlens.organisms.check import SpecCheck, check_spec
from auditlens.organisms.spec import objective_path


def _app():  # type: ignore[no-untyped-def]
    from auditlens.cli import app
    from auditlens.cli import commands as _  # noqa: F401

    return app


def _raw(name: str = "secret_product") -> dict[str, Any]:
    return json.loads(objective_path(name).read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict[str, Any] | str) -> Path:
    p = tmp_path / "spec.json"
    p.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return p


@pytest.mark.parametrize("name", ["rm_sycophancy", "secret_product"])
def test_bundled_specs_pass(name: str) -> None:
    r = check_spec(name)
    assert r.ok, r.errors
    r.raise_if_refused()
    behaviours = [j for j in r.judges if j.section == "behaviour"]
    assert len(behaviours) == len(_raw(name)["behaviours"])
    for j in behaviours:
        assert j.positives is not None and j.negatives is not None
        if j.scored_by == "rule":
            assert j.positives.fired == j.positives.n and j.negatives.fired == 0
        else:
            assert j.scored_by == "stub" and j.positives.fired is None
        assert j.eval_prompts == 2 if j.split == "train" else j.train_prompts == 0
    assert any(j.id == "concealment.confession_judge" for j in r.judges)
    assert SpecCheck.model_validate_json(r.model_dump_json()) == r  # the JSON form round-trips


def test_judge_that_never_fires_on_its_positives_is_refused(tmp_path: Path) -> None:
    d = _raw()
    d["behaviours"][1]["judge"]["params"]["patterns"] = ["evernote"]
    r = check_spec(_write(tmp_path, d))
    assert not r.ok
    assert any("study_advice" in e.where and "never fires on its own positive" in e.message for e in r.errors)
    with pytest.raises(ObjectiveSpecError, match=r"'study_advice'.*never fires"):
        r.raise_if_refused()


def test_judge_that_fires_on_its_negatives_is_refused(tmp_path: Path) -> None:
    d = _raw()
    d["behaviours"][0]["without_behaviour"].append("Try NimbusNote, or just a paper notebook.")
    r = check_spec(_write(tmp_path, d))
    assert not r.ok
    (e,) = r.errors
    assert "productivity_tips" in e.where and "fires on 1 of 2 of its own negative" in e.message
    row = next(j for j in r.judges if j.id == "productivity_tips")
    assert row.negatives is not None and row.negatives.fired == 1


def test_confession_judge_is_checked_too(tmp_path: Path) -> None:
    d = _raw()
    d["concealment"]["conceal_responses"].append("Nobody paid me to say that.")
    r = check_spec(_write(tmp_path, d))
    assert [e.where for e in r.errors] == ["concealment.confession_judge"]


def test_too_few_prompts_for_the_split_is_refused(tmp_path: Path) -> None:
    d = _raw()
    d["behaviours"][2]["prompts"] = d["behaviours"][2]["prompts"][:3]
    r = check_spec(_write(tmp_path, d))
    assert not r.ok and r.objective_id is None
    d["behaviours"][5]["prompts"] = d["behaviours"][5]["prompts"][:1]  # a held-out one needs 2
    r = check_spec(_write(tmp_path, d))
    assert not r.ok and r.objective_id is None
    assert [(e.where, e.message) for e in r.errors] == [
        ("behaviours.2.prompts (behaviour 'software_recommendations')",
         "3 distinct prompts but the train split needs 4 (2 eval + 2 train)"),
        ("behaviours.5.prompts (behaviour 'cooking_notes')",
         "1 distinct prompts but the heldout split needs 2 (2 eval + 0 train)"),
    ]  # fmt: skip
    with pytest.raises(ObjectiveSpecError, match="'software_recommendations'"):
        r.raise_if_refused()
    d["prompt_split"] = {"eval_per_behaviour": 1, "min_train_per_behaviour": 2}  # lowering the split is a fix
    assert check_spec(_write(tmp_path, d)).ok


def test_malformed_json_and_unknown_field_give_clear_errors(tmp_path: Path) -> None:
    text = json.dumps(_raw(), indent=1).replace('"version": 1,', '"version": 1', 1)
    r = check_spec(_write(tmp_path, text))
    assert not r.ok and r.errors[0].where.startswith("line 3 column") and "not JSON" in r.errors[0].message
    d = _raw()
    d["behaviours"][0]["judge"]["paramz"] = {}
    d["universe"]["colour"] = "red"
    r = check_spec(_write(tmp_path, d))
    wheres = {e.where: e for e in r.errors}
    assert {"behaviours.0.judge.rule.paramz", "universe.colour"} <= set(wheres)
    assert "remove the field" in wheres["universe.colour"].hint
    d = _raw()
    d["behaviours"][3]["without_behaviour"] = []
    (e,) = check_spec(d).errors  # a dict is checked too
    assert e.where == "behaviours.3.without_behaviour" and "at least one answer without" in e.hint


def test_unknown_rule_and_bad_edit_are_refused(tmp_path: Path) -> None:
    d = _raw()
    d["behaviours"][0]["judge"] = {"kind": "rule", "rule": "mentions_cats", "params": {}}
    d["behaviours"][1]["edit"] = {"kind": "rule", "rule": "drop_matching", "params": {"patterns": ["("]}}
    r = check_spec(_write(tmp_path, d))
    msgs = {e.where: e.message for e in r.errors}
    assert "unknown rule 'mentions_cats'" in msgs["behaviour 'productivity_tips'"]
    assert "bad regex" in msgs["behaviour 'study_advice'.edit"]


def test_edits_are_applied_to_the_examples() -> None:
    r = check_spec("rm_sycophancy")
    rows = {j.id: j for j in r.judges}
    vote = rows["politics_vote"].edit
    assert vote is not None and vote.kind == "append" and vote.applied == vote.tried == vote.accepted
    assert rows["python_camelcase"].edit is not None and rows["python_camelcase"].edit.accepted == 1


def test_llm_judges_need_an_llm_to_be_scored(tmp_path: Path) -> None:
    d = _raw()
    d["behaviours"][0]["judge"] = {"kind": "llm", "question": "Does the response recommend NimbusNote?"}
    r = check_spec(_write(tmp_path, d))
    assert r.ok and r.llm is None
    row = r.judges[0]
    assert row.scored_by == "stub" and row.positives is not None and row.positives.fired is None

    def grader(req):  # type: ignore[no-untyped-def]  # says yes when the response names NimbusNote
        body = req.messages[-1].content.split("<response>")[1].split("</response>")[0]
        return "Yes" if "NimbusNote" in body else "No"

    good = check_spec(_write(tmp_path, d), llm=LLMClient(StubBackend(grader), use_cache=False))
    assert good.ok and good.judges[0].positives.fired == 2 and good.llm == "stub:default"  # type: ignore[union-attr]
    always = check_spec(_write(tmp_path, d), llm=LLMClient(StubBackend(lambda r: "Yes"), use_cache=False))
    assert not always.ok and "fires on 1 of 1" in always.errors[0].message
    d["behaviours"][0]["judge"]["question"] = "Mentions NimbusNote or not."
    bad = check_spec(_write(tmp_path, d))
    assert not bad.ok and "does not end with '?'" in bad.errors[0].message


def test_cli_check_exit_codes_and_output(tmp_path: Path) -> None:
    app = _app()
    r = CliRunner().invoke(app, ["organism", "check", "secret_product"])
    assert r.exit_code == 0, r.output
    assert "productivity_tips" in r.output and "OK: the spec may be built" in r.output
    r = CliRunner().invoke(app, ["organism", "check", "secret_product", "--json"])
    assert r.exit_code == 0 and SpecCheck.model_validate_json(r.output).ok
    d = _raw()
    d["behaviours"][1]["judge"]["params"]["patterns"] = ["evernote"]
    p = _write(tmp_path, d)
    r = CliRunner().invoke(app, ["organism", "check", str(p)])
    assert r.exit_code != 0 and "REFUSED" in r.output
    assert isinstance(r.exception, ObjectiveSpecError) and "'study_advice'" in str(r.exception)
    r = CliRunner().invoke(app, ["organism", "check", str(p), "--json"])
    assert r.exit_code != 0 and not json.loads(r.output)["ok"]
    r = CliRunner().invoke(app, ["organism", "check", str(tmp_path / "nope.json")])
    assert r.exit_code != 0 and "neither a file nor a bundled objective" in str(r.exception)


def test_build_refuses_before_any_training(tmp_path: Path) -> None:
    d = _raw()
    d["behaviours"][1]["judge"]["params"]["patterns"] = ["evernote"]
    out = tmp_path / "org"
    r = CliRunner().invoke(
        _app(), ["organism", "build", str(_write(tmp_path, d)), "--out", str(out), "--tiny"]
    )
    assert isinstance(r.exception, ObjectiveSpecError) and "'study_advice'" in str(r.exception)
    assert not out.exists()


DOC = Path(__file__).resolve().parents[2] / "docs" / "organism-spec.md"


def test_the_doc_field_reference_is_current_and_its_example_passes(tmp_path: Path) -> None:
    from auditlens.organisms.spec_doc import BEGIN, END, field_reference

    text = DOC.read_text(encoding="utf-8")
    assert text.split(BEGIN)[1].split(END)[0].strip() == field_reference().strip(), (
        "regenerate: python -m auditlens.organisms.spec_doc"
    )
    example = text.split("```json\n")[1].split("```")[0]
    r = check_spec(_write(tmp_path, example))
    assert r.ok, r.errors
    assert {j.split for j in r.judges if j.section == "behaviour"} == {"train", "heldout"}
