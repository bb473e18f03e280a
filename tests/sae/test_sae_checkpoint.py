"""Checkpoint I/O: SAELens layout out, auditlens/SAELens/sparsify folders in, clear errors on bad folders."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from auditlens.sae import (
    BatchTopKConfig,
    CheckpointError,
    JumpReLUConfig,
    MatryoshkaConfig,
    ReluL1TiedConfig,
    ReluL1UntiedConfig,
    TopKConfig,
    Trainer,
    TrainerConfig,
    load_dictionary,
    save_dictionary,
)
from auditlens.sae.errors import ConfigError, DataError

from .conftest import make_batches

D = 16
CONFIGS = [
    TopKConfig(d_in=D, d_sae=32, k=4),
    BatchTopKConfig(d_in=D, d_sae=32, k=4),
    MatryoshkaConfig(d_in=D, d_sae=32, k=4),
    JumpReLUConfig(d_in=D, d_sae=32, coefficient=1e-3, init_threshold=0.05),
    ReluL1TiedConfig(d_in=D, d_sae=32, coefficient=1e-3),
    ReluL1UntiedConfig(d_in=D, d_sae=32, coefficient=1e-3),
    ReluL1UntiedConfig(
        d_in=D, d_sae=32, coefficient=1e-3, decoder_bias=True, normalize_decoder_in_forward=False
    ),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Trainer, list[Path]]:
    out = tmp_path_factory.mktemp("export")
    t = Trainer(CONFIGS, TrainerConfig(total_steps=8, lr=1e-2, progress=False))  # type: ignore[arg-type]
    t.train(make_batches(D, n=8))
    for m in t.modules:
        m.eval()
    paths = t.export(
        out, hook_name="blocks.3.resid_post", model_name="tiny", hook_layer=3, activation_store_id="s1"
    )
    return t, paths


def test_export_layout_is_saelens(trained: tuple[Trainer, list[Path]]) -> None:
    t, paths = trained
    assert t.configs[0].act_scale != 1.0  # the scale was estimated, so folding is exercised
    for p in paths:
        cfg = json.loads((p / "cfg.json").read_text())
        w = load_file(str(p / "sae_weights.safetensors"))
        assert cfg["architecture"] in ("standard", "topk", "jumprelu")
        assert cfg["d_in"] == D and cfg["d_sae"] == 32 and cfg["normalize_activations"] == "none"
        assert (
            cfg["hook_name"] == "blocks.3.resid_post"
            and cfg["metadata"]["hook_name"] == "blocks.3.resid_post"
        )
        assert cfg["auditlens"]["activation_store_id"] == "s1"
        assert cfg["auditlens"]["metrics"]["fvu"] > 0
        assert w["W_enc"].shape == (D, 32) and w["W_dec"].shape == (32, D)
        assert w["b_enc"].shape == (32,) and w["b_dec"].shape == (D,)
        expected = {"W_enc", "W_dec", "b_enc", "b_dec"} | (
            {"threshold"} if cfg["architecture"] == "jumprelu" else set()
        )
        assert set(w) == expected
        if cfg["architecture"] == "topk":
            assert cfg["k"] == 4


def _saelens_reference(p: Path, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What SAELens computes from the folder (its documented formulas), on raw activations."""
    cfg = json.loads((p / "cfg.json").read_text())
    w = load_file(str(p / "sae_weights.safetensors"))
    xin = x - w["b_dec"] if cfg["apply_b_dec_to_input"] else x
    pre = xin @ w["W_enc"] + w["b_enc"]
    if cfg["architecture"] == "topk":
        v, i = pre.topk(cfg["k"], dim=-1)
        acts = torch.zeros_like(pre).scatter(-1, i, v.relu())
    elif cfg["architecture"] == "jumprelu":
        acts = torch.relu(pre) * (pre > w["threshold"])
    else:
        acts = torch.relu(pre)
    return acts, acts @ w["W_dec"] + w["b_dec"]


def test_round_trip_and_saelens_formulas(trained: tuple[Trainer, list[Path]]) -> None:
    t, paths = trained
    x = make_batches(D, n=1, seed=9)[0]
    for p in paths:
        module, j = t.member(p.name)
        loaded = load_dictionary(p)
        assert loaded.architecture == module.architecture
        ours = module.reconstruct(x)[j].detach()
        torch.testing.assert_close(loaded.reconstruct(x)[0].detach(), ours, atol=1e-4, rtol=1e-4)
        acts, recon = _saelens_reference(p, x)
        torch.testing.assert_close(module.encode(x)[j].detach(), acts, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(recon, ours, atol=1e-4, rtol=1e-4)


def _write_saelens(
    folder: Path, arch: str, d_in: int = 6, d_sae: int = 10, **extra: object
) -> dict[str, torch.Tensor]:
    folder.mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    w = {
        "W_enc": torch.randn(d_in, d_sae, generator=g),
        "W_dec": torch.randn(d_sae, d_in, generator=g),
        "b_enc": torch.randn(d_sae, generator=g),
        "b_dec": torch.randn(d_in, generator=g),
    }
    if arch == "jumprelu":
        w["threshold"] = torch.rand(d_sae, generator=g)
    save_file(w, str(folder / "sae_weights.safetensors"))
    cfg = {
        "architecture": arch,
        "d_in": d_in,
        "d_sae": d_sae,
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
        "metadata": {"sae_lens_version": "6.5.0"},
    }
    (folder / "cfg.json").write_text(json.dumps({**cfg, **extra}))
    return w


@pytest.mark.parametrize("arch", ["standard", "topk", "jumprelu"])
def test_load_saelens_folders(tmp_path: Path, arch: str) -> None:
    extra = {"k": 3} if arch == "topk" else {}
    _write_saelens(tmp_path / arch, arch, **extra)
    sae = load_dictionary(tmp_path / arch)
    x = torch.randn(5, 6)
    acts, recon = _saelens_reference(tmp_path / arch, x)
    torch.testing.assert_close(sae.encode(x)[0].detach(), acts)
    torch.testing.assert_close(sae.decode(acts[None])[0].detach(), recon)


def test_load_sparsify_folder(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(1)
    w = {
        "encoder.weight": torch.randn(10, 6, generator=g),
        "encoder.bias": torch.randn(10, generator=g),
        "W_dec": torch.randn(10, 6, generator=g),
        "b_dec": torch.randn(6, generator=g),
    }
    save_file(w, str(tmp_path / "sae.safetensors"))
    (tmp_path / "cfg.json").write_text(
        json.dumps({"expansion_factor": 32, "normalize_decoder": True, "num_latents": 0, "k": 3, "d_in": 6})
    )
    sae = load_dictionary(tmp_path)
    x = torch.randn(4, 6)
    pre = torch.relu(
        (x - w["b_dec"]) @ w["encoder.weight"].T + w["encoder.bias"]
    )  # sparsify: ReLU, then top-k
    v, i = pre.topk(3, dim=-1)
    recon = torch.zeros_like(pre).scatter(-1, i, v) @ w["W_dec"] + w["b_dec"]
    torch.testing.assert_close(sae.reconstruct(x)[0].detach(), recon)


def test_bad_folders_give_clear_errors(tmp_path: Path, trained: tuple[Trainer, list[Path]]) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_dictionary(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match=r"cfg\.json is missing"):
        load_dictionary(tmp_path / "empty")
    # truncated weights
    _write_saelens(tmp_path / "trunc", "standard")
    f = tmp_path / "trunc" / "sae_weights.safetensors"
    f.write_bytes(f.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="truncated"):
        load_dictionary(tmp_path / "trunc")
    # truncated cfg.json
    _write_saelens(tmp_path / "trunccfg", "standard")
    c = tmp_path / "trunccfg" / "cfg.json"
    c.write_text(c.read_text()[:20])
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_dictionary(tmp_path / "trunccfg")
    # missing weights file
    _write_saelens(tmp_path / "noweights", "standard")
    (tmp_path / "noweights" / "sae_weights.safetensors").unlink()
    with pytest.raises(CheckpointError, match="weights"):
        load_dictionary(tmp_path / "noweights")
    # unknown architecture lists the valid ones
    _write_saelens(tmp_path / "gated", "gated")
    with pytest.raises(ConfigError) as e:
        load_dictionary(tmp_path / "gated")
    assert "topk" in (e.value.hint or "")
    # k larger than the width
    _write_saelens(tmp_path / "bigk", "topk", k=50)
    with pytest.raises(ConfigError, match="larger than the width"):
        load_dictionary(tmp_path / "bigk")
    # shape disagreement between cfg.json and weights
    _write_saelens(tmp_path / "shape", "standard", d_sae=10)
    c = tmp_path / "shape" / "cfg.json"
    c.write_text(c.read_text().replace('"d_sae": 10', '"d_sae": 12'))
    with pytest.raises(CheckpointError, match="shape"):
        load_dictionary(tmp_path / "shape")
    # d_in mismatch with the activations
    _, paths = trained
    with pytest.raises(DataError, match="d_in"):
        load_dictionary(paths[0], expected_d_in=D + 1)
    # unknown keys in our own provenance config
    bad = tmp_path / "unknown_keys"
    bad.mkdir()
    for f in paths[0].iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    cfg = json.loads((bad / "cfg.json").read_text())
    cfg["auditlens"]["config"]["sparsity"] = 3
    (bad / "cfg.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="sparsity"):
        load_dictionary(bad)


def test_save_is_atomic_and_keeps_the_old_folder_on_failure(
    tmp_path: Path, trained: tuple[Trainer, list[Path]]
) -> None:
    t, _ = trained
    module, j = t.member(t.configs[0].name or "")
    target = save_dictionary(module, tmp_path / "sae", j)
    before = (target / "sae_weights.safetensors").read_bytes()

    class Boom(Exception):
        pass

    import auditlens.sae.checkpoint as ck

    real = ck.save_file

    def failing(*a: object, **k: object) -> None:
        raise Boom

    ck.save_file = failing  # type: ignore[assignment]
    try:
        with pytest.raises(Boom):
            save_dictionary(module, tmp_path / "sae", j)
    finally:
        ck.save_file = real
    assert (target / "sae_weights.safetensors").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["sae"]


@pytest.mark.skipif(importlib.util.find_spec("sae_lens") is None, reason="sae-lens not installed")
def test_saelens_loads_our_checkpoints(trained: tuple[Trainer, list[Path]]) -> None:
    from sae_lens import SAE

    t, paths = trained
    x = make_batches(D, n=1, seed=11)[0]
    for p in paths:
        module, j = t.member(p.name)
        sae = SAE.load_from_disk(str(p), device="cpu")
        with torch.no_grad():
            torch.testing.assert_close(sae.encode(x), module.encode(x)[j], atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(
                sae.decode(sae.encode(x)), module.reconstruct(x)[j], atol=1e-4, rtol=1e-4
            )


@pytest.mark.skipif(importlib.util.find_spec("sae_lens") is None, reason="sae-lens not installed")
@pytest.mark.parametrize("kind", ["standard", "topk", "jumprelu"])
def test_we_load_checkpoints_saved_by_saelens(tmp_path: Path, kind: str) -> None:
    """A dictionary made and saved by SAELens itself loads into auditlens with the same encode/decode."""
    import sae_lens

    torch.manual_seed(0)
    d_in, d_sae = 16, 48
    if kind == "standard":
        sae = sae_lens.StandardSAE(sae_lens.StandardSAEConfig(d_in=d_in, d_sae=d_sae))
    elif kind == "topk":
        sae = sae_lens.TopKSAE(sae_lens.TopKSAEConfig(d_in=d_in, d_sae=d_sae, k=6))
    else:
        sae = sae_lens.JumpReLUSAE(sae_lens.JumpReLUSAEConfig(d_in=d_in, d_sae=d_sae))
    with torch.no_grad():  # non-trivial biases and thresholds, so every term is exercised
        for name, p in sae.named_parameters():
            if name.startswith("b_") or name == "threshold":
                p.copy_(torch.rand_like(p) * 0.2)
    sae.save_model(tmp_path / "sae")
    ours = load_dictionary(tmp_path / "sae")
    x = torch.randn(32, d_in)
    with torch.no_grad():
        torch.testing.assert_close(ours.encode(x)[0], sae.encode(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(ours.reconstruct(x)[0], sae.decode(sae.encode(x)), atol=1e-5, rtol=1e-5)


@pytest.mark.skipif(importlib.util.find_spec("sparsify") is None, reason="eai-sparsify not installed")
def test_we_load_checkpoints_saved_by_sparsify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SparseCoder made and saved by sparsify itself loads into auditlens with the same outputs."""
    monkeypatch.setenv("SPARSIFY_DISABLE_TRITON", "1")
    from sparsify import SparseCoder, SparseCoderConfig

    torch.manual_seed(0)
    coder = SparseCoder(16, SparseCoderConfig(num_latents=48, k=6))
    with torch.no_grad():
        coder.b_dec.copy_(torch.randn_like(coder.b_dec) * 0.1)
    coder.save_to_disk(tmp_path / "sp")
    ours = load_dictionary(tmp_path / "sp")
    x = torch.randn(32, 16)
    with torch.no_grad():
        out = coder(x)
        torch.testing.assert_close(ours.reconstruct(x)[0], out.sae_out, atol=1e-5, rtol=1e-5)
        codes = ours.encode(x)[0]
        got = torch.zeros_like(codes).scatter(1, out.latent_indices, out.latent_acts)
        torch.testing.assert_close(codes, got, atol=1e-5, rtol=1e-5)
