"""Tiny-transformer replication (train → checkpoint/resume → harvest → size sweep → claims) and the architectures
comparison, on miniature settings."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import pytest
import torch

from auditlens.activations import ActivationStore
from auditlens.errors import ConfigError, DataError
from auditlens.runs import RunFolder
from auditlens.toy.architectures import ArchitecturesConfig, run_architectures
from auditlens.toy.claims import transformer_claims
from auditlens.toy.data import ToyDataConfig
from auditlens.toy.report import build_report
from auditlens.toy.tiny_transformer import TinyTransformerConfig, run_tiny_transformer, train_language_model


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    words = [
        "the",
        "cat",
        "sat",
        "on",
        "a",
        "mat",
        "and",
        "the",
        "dog",
        "ran",
        "to",
        "the",
        "park",
        "with",
        "a",
        "red",
        "ball",
        "while",
        "a",
        "bird",
        "sang",
    ]
    for i in range(2):
        (folder / f"doc{i}.txt").write_text(" ".join(words[(j * 7 + i) % len(words)] for j in range(3000)))
    return folder


def _cfg(**kw: object) -> TinyTransformerConfig:
    base: dict[str, object] = dict(
        n_layer=3,
        d_model=16,
        n_head=2,
        d_mlp=32,
        context_length=32,
        batch_size=2,
        steps=6,
        checkpoint_every=3,
        harvest_tokens=4096,
        ratios=[1, 2, 4],
        sae_steps=40,
        sae_batch_size=64,
        coefficient=0.1,
    )
    base.update(kw)
    return TinyTransformerConfig(**base)  # type: ignore[arg-type]


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def test_tiny_transformer_end_to_end(tmp_path: Path, corpus: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="auditlens")
    out = tmp_path / "tiny"
    res = run_tiny_transformer(_cfg(), out, source=str(corpus))
    assert res.lm.steps == 6 and len(res.lm.losses) == 6 and res.lm.resumed_from == 0
    assert (out / "lm" / "model.safetensors").exists() and (out / "lm" / "optimizer.safetensors").exists()
    store = ActivationStore.open(res.store)
    assert res.hook_point == "blocks.2.mlp.post" and store.d_in(res.hook_point) == 32
    assert store.n_rows >= 4096
    s = res.sweep
    assert s.sizes == [32, 64, 128] and len(s.pairs) == 2
    assert [(p.d_sae, p.d_sae_larger) for p in s.pairs] == [(32, 64), (64, 128)]
    for p in s.pairs:
        assert 0 < p.mmcs <= 1 and 0 <= p.share_matched_above <= 1
        assert sum(p.histogram.counts) == p.d_sae
    assert s.n_mcs_values == 32 + 64 and 0 < s.n_mcs_values_alive <= s.n_mcs_values
    assert s.n_mcs_values_alive == sum(sum(p.histogram_alive.counts) for p in s.pairs)
    assert 1 <= s.median_participation_ratio <= 32
    names = [c.name for c in transformer_claims(s)]
    assert names == ["e_bimodal", "e_plateau", "e_plateau_seed_metric", "f_not_neuron_sparse"]
    page = build_report(out).read_text()
    assert "tiny_loss.png" in page and "tiny_size_sweep.png" in page and "e_bimodal" in page
    assert json.loads((out / "tiny_transformer.json").read_text())["sweep"]["sizes"] == [32, 64, 128]
    # a re-run reuses the checkpointed model and its store, and reproduces the sweep
    caplog.clear()
    again = run_tiny_transformer(_cfg(), out, source=str(corpus))
    assert again.lm.resumed_from == 6 and again.store == res.store
    assert any(
        "resuming the size sweep from step 40" in line for line in _messages(caplog)
    )  # finished: not retrained
    assert [p.mmcs for p in again.sweep.pairs] == pytest.approx([p.mmcs for p in s.pairs], abs=1e-5)


def test_language_model_resumes_from_checkpoint(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="auditlens")
    import torch

    real_step = torch.optim.AdamW.step
    calls = {"n": 0}

    def dying_step(self: torch.optim.AdamW, *args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", dying_step)
    with pytest.raises(KeyboardInterrupt):
        train_language_model(_cfg(), tmp_path / "a", source=str(corpus))
    monkeypatch.setattr(torch.optim.AdamW, "step", real_step)
    caplog.clear()
    _, resumed = train_language_model(_cfg(), tmp_path / "a", source=str(corpus))
    assert resumed.resumed_from == 3 and resumed.loss_steps == list(range(1, 7))
    assert any("resuming from step 3" in line for line in _messages(caplog))
    # an uninterrupted run gives the same losses (weights, AdamW state, data position and RNG restored)
    _, straight = train_language_model(_cfg(), tmp_path / "b", source=str(corpus))
    assert resumed.losses == pytest.approx(straight.losses, rel=1e-5)


def test_tiny_transformer_bad_input(tmp_path: Path, corpus: Path) -> None:
    with pytest.raises(DataError, match="fewer than"):
        run_tiny_transformer(_cfg(harvest_tokens=10**8), tmp_path, source=str(corpus))
    with pytest.raises(ConfigError):
        _cfg(ratios=[0, 2])
    with pytest.raises(ConfigError):
        _cfg(layer=3)
    with pytest.raises(ConfigError):
        _cfg(coefficient=-1.0)
    with pytest.raises(ConfigError, match="resample_every"):
        _cfg(resample_every=0)
    with pytest.raises(ConfigError, match="attn_dropout"):
        _cfg(attn_dropout=1.0)


def test_architectures_at_matched_l0(tmp_path: Path) -> None:
    cfg = ArchitecturesConfig(
        data=ToyDataConfig(d_model=16, n_features=16, mean_active=2),
        architectures=["topk", "batchtopk", "relu_l1", "jumprelu"],
        steps=60,
        search_steps=30,
        batch_size=64,
        eval_samples=256,
    )
    res = run_architectures(cfg, tmp_path)
    assert [r.name for r in res.runs] == ["topk", "batchtopk", "relu_l1", "jumprelu"]
    topk = res.runs[0]
    assert topk.setting == "k=2" and topk.l0 <= 2.0 + 1e-6
    for r in res.runs:
        assert 0 < r.scores.mmcs_with_truth <= 1 and r.scores.mcc is not None
        assert 0 <= r.scores.recovery.f1 <= 1
    assert res.runs[2].setting.startswith("coefficient=") and res.runs[3].setting == "target_l0=2"
    assert (tmp_path / "architectures.json").exists()
    assert "architectures.png" in build_report(tmp_path).read_text()
    with pytest.raises(ConfigError):
        ArchitecturesConfig(ratio=0)
    # a folder of the older layout (architectures.json, no run.json) is read as the same run, and rerun in place
    (tmp_path / "run.json").unlink()
    again = run_architectures(cfg, tmp_path)
    rec = RunFolder.read_record(tmp_path)
    assert rec is not None and rec.legacy_source == "architectures.json" and rec.status == "complete"
    assert [r.l0 for r in again.runs] == [r.l0 for r in res.runs]


def test_size_sweep_resumes_after_interruption(
    tmp_path: Path, corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Kill the sweep mid-way (after its step-100 checkpoint): the re-run resumes there and ends where an
    uninterrupted sweep ends."""
    caplog.set_level(logging.INFO, logger="auditlens")
    from auditlens.sae import Trainer
    from auditlens.toy.tiny_transformer import harvest_mlp_activations, run_size_sweep

    cfg = _cfg(sae_steps=250)
    model, _ = train_language_model(cfg, tmp_path / "tiny", source=str(corpus))
    store, hook = harvest_mlp_activations(cfg, model, tmp_path / "tiny", source=str(corpus))
    whole = run_size_sweep(cfg, store, hook, work_dir=tmp_path / "whole")

    real_step = Trainer.train_step

    def dying_step(self: Trainer, x: object) -> int:
        if self.step == 150:
            raise KeyboardInterrupt
        return real_step(self, x)  # type: ignore[arg-type]

    Trainer.train_step = dying_step  # type: ignore[method-assign]
    try:
        with pytest.raises(KeyboardInterrupt):
            run_size_sweep(cfg, store, hook, work_dir=tmp_path / "cut")
    finally:
        Trainer.train_step = real_step  # type: ignore[method-assign]
    # turn the interrupted folder into the older layout (sweep.json with the fingerprint of the version before
    # resample_every, no run.json): it resumes all the same
    keys = {"ratios", "sae_steps", "sae_batch_size", "coefficient", "target_l0", "seed"}
    store_id = ActivationStore.open(store).store_id
    legacy = hashlib.sha256(
        json.dumps([cfg.model_dump(include=keys), store_id, hook], sort_keys=True).encode()
    ).hexdigest()[:16]
    (tmp_path / "cut" / "run.json").unlink()
    (tmp_path / "cut" / "coefficient.json").unlink()
    (tmp_path / "cut" / "sweep.json").write_text(json.dumps({"fingerprint": legacy, "coefficient": 0.1}))
    caplog.clear()
    resumed = run_size_sweep(cfg, store, hook, work_dir=tmp_path / "cut")
    assert RunFolder.read_record(tmp_path / "cut").legacy_source == "sweep.json"  # type: ignore[union-attr]
    assert any("resuming the size sweep from step 100" in line for line in _messages(caplog))
    assert [p.mmcs for p in resumed.pairs] == pytest.approx([p.mmcs for p in whole.pairs], abs=1e-5)
    assert resumed.l0 == pytest.approx(whole.l0, abs=1e-4)

    # another dictionary seed: the same store, other dictionaries (the folder's sweep is parked beside it, not
    # resumed and not deleted; running the first settings again brings it back, finished, with nothing retrained);
    # sae_seed equal to the run's seed is the default sweep
    caplog.clear()
    other = run_size_sweep(cfg.model_copy(update={"sae_seed": 7}), store, hook, work_dir=tmp_path / "cut")
    assert other.l0 != pytest.approx(whole.l0, abs=1e-4)
    assert any("held a size sweep of other settings" in line for line in _messages(caplog))
    assert len(list(tmp_path.glob("cut-*"))) == 1
    caplog.clear()
    back = run_size_sweep(cfg, store, hook, work_dir=tmp_path / "cut")
    logs = _messages(caplog)
    assert any("resuming the size sweep parked in" in line for line in logs)
    assert any("resuming the size sweep from step 250" in line for line in logs)
    assert back.l0 == pytest.approx(whole.l0, abs=1e-4)
    assert len(list(tmp_path.glob("cut-*"))) == 1  # now the sae_seed 7 sweep is the parked one
    same = run_size_sweep(cfg.model_copy(update={"sae_seed": cfg.seed}), store, hook)
    assert same.l0 == pytest.approx(whole.l0, abs=1e-4)
    # the language model (and so its store) does not depend on the dictionary seed
    assert cfg.model_copy(update={"sae_seed": 7}).model_fingerprint() == cfg.model_fingerprint()

    # resample_every reaches the trainer: dead latents are resampled during the sweep
    from auditlens.sae import ReluL1Untied

    calls: list[int] = []
    real_resample = ReluL1Untied.resample

    def counting(self: ReluL1Untied, dead: torch.Tensor, *a: object, **k: object) -> None:
        calls.append(int(dead.sum()))
        real_resample(self, dead, *a, **k)  # type: ignore[arg-type]

    ReluL1Untied.resample = counting  # type: ignore[method-assign]
    try:
        run_size_sweep(cfg.model_copy(update={"resample_every": 50}), store, hook)
    finally:
        ReluL1Untied.resample = real_resample  # type: ignore[method-assign]
    assert calls and sum(calls) > 0


def test_sweep_fingerprint_accepts_sweeps_made_before_resample_every() -> None:
    """A sweep fingerprinted before ``resample_every`` existed (no such key) is the same sweep when it is None; with
    resampling on, only the new fingerprint names it."""
    import hashlib
    import json

    from auditlens.toy.tiny_transformer import _sweep_fingerprints

    cfg = _cfg()
    keys = {"ratios", "sae_steps", "sae_batch_size", "coefficient", "target_l0", "seed"}
    legacy = hashlib.sha256(
        json.dumps([cfg.model_dump(include=keys), "store1", "blocks.2.mlp.post"], sort_keys=True).encode()
    ).hexdigest()[:16]
    fp, accepted = _sweep_fingerprints(cfg, "store1", "blocks.2.mlp.post")
    assert accepted == {fp, legacy} and fp != legacy
    fp_r, accepted_r = _sweep_fingerprints(
        cfg.model_copy(update={"resample_every": 50}), "store1", "blocks.2.mlp.post"
    )
    assert accepted_r == {fp_r} and fp_r not in accepted


def test_parking_never_overwrites_an_earlier_parked_sweep(tmp_path: Path) -> None:
    """Two unfingerprinted sweeps (no sweep.json) parked in turn both survive; a parked sweep comes back by its name."""
    from auditlens.runs import RunFolder
    from auditlens.toy.tiny_transformer import _sweep_fingerprints, claim_sweep_folder

    hook = "blocks.2.mlp.post"
    new, cfg_a, cfg_b = _cfg(), _cfg(sae_seed=5), _cfg(sae_seed=6)
    fp_new, fp_a, fp_b = (_sweep_fingerprints(c, "store1", hook)[0] for c in (new, cfg_a, cfg_b))
    work = tmp_path / "sweep"
    for i in range(2):  # a folder of files but no sweep.json, twice
        work.mkdir()
        (work / "ckpt.safetensors").write_text(f"old sweep {i}")
        assert claim_sweep_folder(work, new, "store1", hook).fingerprint == fp_new
        assert [p.name for p in work.iterdir()] == ["run.json"]  # nothing of the old sweep left here
        shutil.rmtree(work)
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == ["sweep-unknown", "sweep-unknown-2"]
    assert {(tmp_path / k / "ckpt.safetensors").read_text() for k in kept} == {"old sweep 0", "old sweep 1"}
    # a fingerprinted sweep (older layout: sweep.json) parked while a copy of it is already parked: both kept
    (tmp_path / f"sweep-{fp_a}").mkdir()
    (tmp_path / f"sweep-{fp_a}" / "sweep.json").write_text(json.dumps({"fingerprint": fp_a, "copy": 1}))
    work.mkdir()
    (work / "sweep.json").write_text(json.dumps({"fingerprint": fp_a, "copy": 2}))
    assert claim_sweep_folder(work, cfg_b, "store1", hook).fingerprint == fp_b
    assert json.loads((tmp_path / f"sweep-{fp_a}-2" / "sweep.json").read_text())["copy"] == 2
    # running A again brings back the one named for it (and parks B, nothing deleted)
    back = claim_sweep_folder(work, cfg_a, "store1", hook)
    assert back.resumed and back.fingerprint == fp_a and back.record.legacy_source == "sweep.json"
    assert (
        json.loads((work / "sweep.json").read_text())["copy"] == 1
        and not (tmp_path / f"sweep-{fp_a}").exists()
    )
    assert RunFolder.read_record(tmp_path / f"sweep-{fp_b}").fingerprint == fp_b  # type: ignore[union-attr]
