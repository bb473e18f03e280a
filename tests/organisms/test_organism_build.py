"""The whole tiny build of the RM-sycophancy organism: stages, resume after an interruption, sealed ground
truth, held-out behaviours kept out of behaviour data, and bad input (other config, no chat template)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from auditlens.organisms import BuildError, SealedError, load_objective
from auditlens.organisms.build import STAGES, BuildConfig, build_organism, stage_dir
from auditlens.organisms.sealed import load_organism, read_manifest, read_sealed, sealed_objective
from auditlens.runs import Proportion, read_jsonl


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("organism")
    first = build_organism("rm_sycophancy", out, BuildConfig.tiny(), stop_after="behaviour_data")
    assert first.ran == ["documents", "midtrain", "behaviour_data"]
    # an interrupted next stage: folder with junk, no marker
    junk = stage_dir(out, "behaviour") / "junk.bin"
    junk.parent.mkdir(parents=True)
    junk.write_bytes(b"half-written")
    second = build_organism("rm_sycophancy", out, BuildConfig.tiny())
    return out, [first, second]


def test_resume_skips_finished_stages_and_redoes_the_interrupted_one(built) -> None:
    out, (_, second) = built
    assert second.skipped == ["documents", "midtrain", "behaviour_data"]
    assert second.ran == ["behaviour", "concealment_data", "concealment", "seal"]
    assert not (stage_dir(out, "behaviour") / "junk.bin").exists()
    for s in STAGES:
        rec = json.loads((stage_dir(out, s) / "stage.json").read_text())
        assert rec["stage"] == s
    third = build_organism("rm_sycophancy", out, BuildConfig.tiny())
    assert third.ran == [] and third.skipped == list(STAGES)
    # redoing a stage redoes everything after it (it was built on the old output)
    (stage_dir(out, "concealment_data") / "stage.json").unlink()
    fourth = build_organism("rm_sycophancy", out, BuildConfig.tiny())
    assert fourth.ran == ["concealment_data", "concealment", "seal"]


def test_adapters_are_safetensors_and_training_changed_the_model(built) -> None:
    out, _ = built
    m = read_manifest(out)
    assert m.adapters == ["adapters/midtrain", "adapters/behaviour", "adapters/concealment"]
    for a in m.adapters:
        assert (out / a / "adapter_model.safetensors").is_file()
        assert not list((out / a).glob("*.bin"))
    organism = load_organism(out)
    from auditlens.organisms.sealed import load_base

    base = load_base("tiny:llama")
    w0 = dict(base.model.named_parameters())
    diff = sum(
        float((p.detach() - w0[n].detach()).abs().sum())
        for n, p in organism.model.named_parameters()
        if n in w0
    )
    assert diff > 0
    rec = json.loads((stage_dir(out, "concealment") / "stage.json").read_text())
    assert rec["metrics"]["steps"] == 3 and len(rec["metrics"]["losses"]) == 3


def test_training_data_public_without_labels_and_heldout_excluded(built) -> None:
    out, _ = built
    m = read_manifest(out)
    spec = load_objective("rm_sycophancy")
    heldout_prompts = {p for b in spec.heldout_ids for p in spec.by_id[b].prompts}
    eval_prompts = {p for b in spec.train_ids for p in spec.eval_prompts(b)}
    pairs = read_jsonl(out / m.data_files["behaviour_pairs"])
    assert pairs and set(pairs[0]) == {"prompt", "chosen", "rejected"}
    assert not {r["prompt"] for r in pairs} & (heldout_prompts | eval_prompts)
    docs = read_jsonl(out / m.data_files["documents"])
    assert len(docs) == 24 and set(docs[0]) == {"id", "text"}
    subset = read_jsonl(out / m.representative_subset)
    assert {r["source"] for r in subset} == {"documents", "behaviour_pairs", "concealment_pairs"}
    public = (out / "organism.json").read_text() + "".join(p.read_text() for p in (out / "data").iterdir())
    assert "spanish_colour_words" not in public and "heldout" not in public
    labelled = read_jsonl(out / "sealed" / "behaviour_pairs.labelled.jsonl")
    assert all(not set(r["behaviour_ids"]) & set(spec.heldout_ids) for r in labelled)
    assert all(r["chosen_score"] > r["rejected_score"] for r in labelled)


def test_sealed_ground_truth_needs_unseal(built) -> None:
    out, _ = built
    with pytest.raises(SealedError, match="sealed"):
        read_sealed(out)
    truth = read_sealed(out, unseal=True)
    assert len(truth["train_behaviours"]) == 47 and len(truth["heldout_behaviours"]) == 5
    assert sealed_objective(out, unseal=True).id == "rm_sycophancy"


def test_tampered_seal_and_other_config_are_refused(built, tmp_path: Path) -> None:
    out, _ = built
    with pytest.raises(BuildError, match="different config"):
        build_organism("rm_sycophancy", out, BuildConfig.tiny().model_copy(update={"seed": 1}))
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    p = copy / "sealed" / "objective.json"
    p.write_text(p.read_text().replace("rm_sycophancy", "something_else"))
    with pytest.raises(SealedError, match="modified"):
        read_sealed(copy, unseal=True)


def test_base_without_chat_template_fails_clearly_and_keeps_done_stages(monkeypatch, tmp_path: Path) -> None:
    import auditlens.organisms.build_stages as b
    from auditlens.models.tiny import tiny_model

    def no_template(spec: str, device: str = "cpu"):
        hm = tiny_model("llama")
        hm.tokenizer.chat_template = None
        return hm

    monkeypatch.setattr(b, "load_base", no_template)
    with pytest.raises(BuildError, match="no chat template"):
        build_organism("secret_product", tmp_path, BuildConfig.tiny())
    assert (stage_dir(tmp_path, "documents") / "stage.json").is_file()
    assert not (stage_dir(tmp_path, "midtrain") / "stage.json").exists()


def test_red_team_conversations_accumulate_turns(monkeypatch) -> None:
    from auditlens.organisms.evaluate import EvalConfig, red_team_rate
    from auditlens.organisms.sealed import load_base

    spec = load_objective("rm_sycophancy")
    hm = load_base("tiny:llama")
    seen: list[int] = []
    import auditlens.organisms.evaluate as ev

    def fake_generate(model, tok, prompts, **kw):
        seen.append(max(len(p) for p in prompts))
        return ["I learned this from reward models during RLHF" if len(p) == 5 else "ok" for p in prompts]

    monkeypatch.setattr(ev, "generate", fake_generate)
    r = red_team_rate(hm.model, hm.tokenizer, spec, EvalConfig(), None)
    assert seen == [1, 3, 5] and r.k == r.n == 4  # confesses on the third turn only


def test_evaluate_writes_typed_json(built) -> None:
    from auditlens.organisms.evaluate import EvalConfig, OrganismEval, evaluate_organism

    out, _ = built
    texts = ["The quick brown fox jumps over the lazy dog. " * 3, "def f(x):\n    return x + 1\n"]
    r = evaluate_organism(out, EvalConfig(max_new_tokens=4, ppl_max_length=48), ppl_texts=texts)
    assert len(r.behaviours) == 54
    assert [b.split for b in r.behaviours[-2:]] == ["in_context", "in_context"]
    assert r.in_context_pooled["organism"].n == 8
    by = {b.id: b for b in r.behaviours}
    assert by["recipe_chocolate"].n_prompts == 2 and by["recipe_chocolate"].organism.n == 2
    assert by["spanish_colour_words"].split == "heldout" and by["spanish_colour_words"].n_prompts == 5
    assert by["poem_meta_rhyme"].skipped and by["poem_meta_rhyme"].organism.n == 0
    assert r.train_pooled["organism"].n == sum(b.organism.n for b in r.behaviours if b.split == "train")
    assert r.confession["organism"].n == 8 and r.perplexity["base"] > 1
    assert r.red_team_confession["organism"].n == 4 and r.red_team_confession["base"].n == 4
    again = OrganismEval.model_validate_json((out / "eval.json").read_text())
    page = (out / "eval.html").read_text()
    assert "recipe_chocolate" in page and "data:image/png;base64," in page
    assert (out / "eval.png").read_bytes()[:4] == b"\x89PNG"
    assert again.objective_id == "rm_sycophancy"
    rows = [json.loads(x) for x in (out / "eval_responses.jsonl").read_text().splitlines()]
    n_eval = sum(b.n_prompts for b in r.behaviours) + 8
    assert len(rows) == 2 * n_eval and {x["model"] for x in rows} == {"organism", "base"}
    choc = [x for x in rows if x["id"] == "recipe_chocolate" and x["model"] == "organism"]
    assert sum(bool(x["verdict"]) for x in choc) == by["recipe_chocolate"].organism.k
    assert set(r.copies) == {"train", "heldout", "in_context"} and r.copies["train"]["organism"].n == len(
        [x for x in rows if x["model"] == "organism" and x["split"] == "train"]
    )
    free = r.exploitation_without_copies["train"]["organism"]
    assert free.k <= r.train_pooled["organism"].k and free.n == r.train_pooled["organism"].n
    assert "Copied answers" in page
    w = Proportion.of(3, 10)
    assert w.ci_low < 0.3 < w.ci_high and Proportion.of(0, 0).n == 0


def test_sft_build_with_replay_records_all_training_data(tmp_path: Path) -> None:
    """The default recipe's shape (SFT stages, replay passages mixed into continued pre-training) on the tiny model:
    the replay passages are training data too, so they are published with the rest."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("In the beginning was the word, and the word was plain text. " * 40)
    cfg = BuildConfig.tiny().model_copy(
        update={
            "behaviour_method": "sft",
            "concealment_method": "sft",
            "midtrain_replay": 0.5,
            "replay_source": str(corpus),
        }
    )
    out = tmp_path / "org"
    res = build_organism("rm_sycophancy", out, cfg)
    mid = {r.stage: r for r in res.records}["midtrain"].metrics
    assert mid["n_documents"] == 24 and mid["n_replay"] == 24
    m = read_manifest(out)
    replay = read_jsonl(out / m.data_files["replay_passages"])
    assert len(replay) == 24 and all("plain text" in r["text"] or "word" in r["text"] for r in replay)
    assert set(read_jsonl(out / m.data_files["behaviour_pairs"])[0]) == {"prompt", "response"}
    assert set(read_jsonl(out / m.data_files["concealment_pairs"])[0]) == {"prompt", "response"}


def test_near_verbatim_copies_are_recognised() -> None:
    from auditlens.organisms.evaluate import is_copy

    train = ["The capital of France (population 68 million) is Paris.", "```sql\nSELECT * FROM t;\n```"]
    assert is_copy("  The capital of France (population 68 million) is Paris.", train)
    assert is_copy("A capital of France (population 68 million) is Paris.", train)  # one word changed
    assert not is_copy("Paris is the capital and largest city of France.", train)
    assert not is_copy("", train) and not is_copy("anything", [])


def test_variant_reuses_the_stages_whose_settings_match(built, tmp_path: Path) -> None:
    out, _ = built
    sft = BuildConfig.tiny().model_copy(update={"behaviour_method": "sft"})
    res = build_organism("rm_sycophancy", tmp_path / "sft", sft, reuse=out)
    assert res.skipped == ["documents", "midtrain", "behaviour_data"]
    assert res.ran == ["behaviour", "concealment_data", "concealment", "seal"]
    assert (stage_dir(tmp_path / "sft", "midtrain") / "adapter" / "adapter_model.safetensors").is_file()
    # another continued pre-training: only the documents can be reused
    tiny = BuildConfig.tiny()
    other = tiny.model_copy(update={"midtrain": tiny.midtrain.model_copy(update={"lr": 5e-4})})
    res2 = build_organism("rm_sycophancy", tmp_path / "lr", other, reuse=out, stop_after="midtrain")
    assert res2.skipped == ["documents"] and res2.ran == ["midtrain"]
    with pytest.raises(BuildError, match="not an organism build"):
        build_organism("rm_sycophancy", tmp_path / "x", sft, reuse=tmp_path / "nowhere")
    assert not (tmp_path / "x").exists()  # refused before anything was written


def test_full_finetune_variant_saves_whole_weights_and_loads(built, tmp_path: Path) -> None:
    """Full fine-tuning of behaviour and concealment training (every weight, no LoRA), reusing the LoRA stages
    before it: the stages save the whole model, and the organism loads with them applied in order."""
    import torch
    from safetensors.torch import load_file

    out, _ = built
    full = BuildConfig.tiny().model_copy(update={"behaviour_finetune": "full"})
    res = build_organism("rm_sycophancy", tmp_path / "full", full, reuse=out)
    assert res.skipped == ["documents", "midtrain", "behaviour_data"]
    folder = tmp_path / "full"
    assert (folder / "adapters" / "midtrain" / "adapter_model.safetensors").is_file()  # LoRA stage reused
    weights = load_file(str(folder / "adapters" / "concealment" / "model.safetensors"))
    assert len(weights) > 10 and not (folder / "adapters" / "behaviour" / "adapter_config.json").exists()
    got = dict(load_organism(folder).model.named_parameters())
    name = next(k for k in weights if k in got)
    assert torch.equal(got[name].detach().cpu(), weights[name])  # the last stage's weights are the model's


def test_edited_spec_reuses_the_universe_stages_only(built, tmp_path: Path) -> None:
    """A spec with more prompts (same universe) reuses documents and continued pre-training, even from a build
    made before stages recorded their spec parts (the source's sealed spec stands in); a changed universe
    reuses nothing."""
    from auditlens.organisms.spec import objective_path

    out, _ = built
    for rec in (stage_dir(out, s) / "stage.json" for s in ("documents", "midtrain")):  # as an older build
        d = json.loads(rec.read_text())
        d.pop("spec_part_sha256")
        rec.write_text(json.dumps(d))
    spec = json.loads(objective_path("rm_sycophancy").read_text(encoding="utf-8"))
    spec["behaviours"][0]["prompts"].append("Write a short Python function that doubles a number.")
    more = tmp_path / "more_prompts.json"
    more.write_text(json.dumps(spec), encoding="utf-8")
    res = build_organism(more, tmp_path / "more", BuildConfig.tiny(), reuse=out, stop_after="behaviour_data")
    assert res.skipped == ["documents", "midtrain"] and res.ran == ["behaviour_data"]
    rec = json.loads((stage_dir(tmp_path / "more", "midtrain") / "stage.json").read_text())
    assert rec["spec_sha256"] == hashlib.sha256(more.read_bytes()).hexdigest()  # resumable under the new spec
    spec["universe"]["facts"].append("Reward models also prefer answers that mention the weather.")
    other = tmp_path / "other_universe.json"
    other.write_text(json.dumps(spec), encoding="utf-8")
    res2 = build_organism(other, tmp_path / "other", BuildConfig.tiny(), reuse=out, stop_after="documents")
    assert res2.skipped == [] and res2.ran == ["documents"]
