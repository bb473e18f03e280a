"""Evaluation metrics agree with their definitions on dictionaries whose answer is known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from auditlens.activations import ActivationStore, HarvestConfig, harvest
from auditlens.evals.downstream import evaluate_downstream
from auditlens.evals.evaluate import evaluate_dictionary, load_report, summary_row
from auditlens.evals.reconstruction import evaluate_reconstruction
from auditlens.models.tiny import tiny_model
from auditlens.runs.stats import mean_ci, ratio_ci
from auditlens.sae import TopKConfig, Trainer, TrainerConfig


class _Fixed(torch.nn.Module):
    """A stand-in dictionary: identity ('perfect') or zero reconstruction, codes = ReLU of ±x."""

    architecture = "fixed"

    def __init__(self, d_in: int, mode: str) -> None:
        super().__init__()
        self.n, self.d_in, self.d_sae, self.mode = 1, d_in, 2 * d_in, mode

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.relu(), (-x).relu()], -1)[None]

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        x = codes[..., : self.d_in] - codes[..., self.d_in :]
        return x if self.mode == "identity" else torch.zeros_like(x)


def test_stats_helpers() -> None:
    e = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert e.value == 2.5 and e.ci_low < 2.5 < e.ci_high and e.n == 4
    r = ratio_ci([1.0, 1.0, 1.0], [2.0, 2.0, 2.0])
    assert r.value == 0.5 and r.ci_low == pytest.approx(0.5) and r.ci_high == pytest.approx(0.5)


def test_reconstruction_metrics_on_known_dictionaries() -> None:
    g = torch.Generator().manual_seed(0)
    batches = [torch.randn(256, 16, generator=g) for _ in range(4)]
    perfect = evaluate_reconstruction(_Fixed(16, "identity"), batches)[0]  # type: ignore[arg-type]
    assert perfect.fvu.value == pytest.approx(0, abs=1e-12) and perfect.explained_variance == pytest.approx(1)
    assert perfect.mse.value == pytest.approx(0, abs=1e-12)
    assert perfect.l0.value == pytest.approx(16, abs=1e-6)  # exactly one of ±x_i fires per dimension
    assert perfect.dead_fraction == 0 and perfect.tokens == 1024
    assert sum(perfect.l0_histogram.counts) == 1024
    zero = evaluate_reconstruction(_Fixed(16, "zero"), batches)[0]  # type: ignore[arg-type]
    raw = torch.cat(batches)
    assert zero.mse.value == pytest.approx(float((raw**2).mean()), rel=1e-5)
    assert zero.fvu.value == pytest.approx(1.0, abs=0.02)  # zero-mean data: Σx² ≈ Σ(x − x̄)²
    capped = evaluate_reconstruction(_Fixed(16, "zero"), batches, max_tokens=300)[0]  # type: ignore[arg-type]
    assert capped.tokens == 300


def test_downstream_metrics_on_known_dictionaries() -> None:
    model = tiny_model("llama", n_layers=3)
    ids = [torch.randint(0, 256, (4, 16), generator=torch.Generator().manual_seed(s)) for s in range(2)]
    hp = "blocks.1.resid_post"
    perfect = evaluate_downstream(model, hp, _Fixed(32, "identity"), ids, progress=False)[0]  # type: ignore[arg-type]
    assert perfect.kl_clean_spliced.value == pytest.approx(0, abs=1e-6)
    assert perfect.ce_spliced.value == pytest.approx(perfect.ce_clean.value, abs=1e-6)
    assert perfect.loss_recovered.value == pytest.approx(1.0, abs=1e-4)
    zero = evaluate_downstream(model, hp, _Fixed(32, "zero"), ids, progress=False)[0]  # type: ignore[arg-type]
    assert zero.ce_spliced.value == pytest.approx(zero.ce_zero_ablated.value, abs=1e-6)
    assert zero.loss_recovered.value == pytest.approx(0.0, abs=1e-4)
    assert zero.contexts == 8 and zero.tokens == 8 * 15
    # Special tokens keep their clean activations: with every token special, nothing changes.
    all_special = evaluate_downstream(
        model, "blocks.1.resid_post", _Fixed(32, "zero"), ids, special_token_ids=range(257), progress=False
    )[0]  # type: ignore[arg-type]
    assert all_special.kl_clean_spliced.value == pytest.approx(0, abs=1e-6)
    assert all_special.positions_kept_clean == 8 * 16
    # So do massive-activation outliers: with max_norm 0 every position is an outlier.
    outliers = evaluate_downstream(model, hp, _Fixed(32, "zero"), ids, max_norm=0.0, progress=False)[0]  # type: ignore[arg-type]
    assert (
        outliers.kl_clean_spliced.value == pytest.approx(0, abs=1e-6) and outliers.positions_kept_clean == 128
    )
    assert zero.positions_kept_clean == 0


def test_evaluate_checkpoint_writes_eval_json(tmp_path: Path) -> None:
    hm = tiny_model("llama", n_layers=2)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(" ".join(f"word{i % 37}" for i in range(6000)))
    cfg = HarvestConfig(
        model="tiny", hook_points=["blocks.0.resid_post"], source=str(corpus), tokens=2048, context_length=32,
        batch_size=8, shard_tokens=512, out=tmp_path / "store",
    )  # fmt: skip
    harvest(cfg, model=hm, progress=False)
    store = ActivationStore.open(tmp_path / "store")
    trainer = Trainer(
        [TopKConfig(d_in=32, d_sae=64, k=4, name="topk"), TopKConfig(d_in=32, d_sae=128, k=4, name="wide")],
        TrainerConfig(total_steps=20, progress=False),
        out_dir=tmp_path / "run",
    )
    trainer.train(store.batches(128, epochs=None))
    trainer.export(hook_name="blocks.0.resid_post", model_name="tiny")
    report = evaluate_dictionary(
        tmp_path / "run" / "topk", store, model=hm, tokens=1024, contexts=16, compare=[tmp_path / "run" / "wide"],
        progress=False,
    )  # fmt: skip
    assert report.reconstruction.l0.value <= 4 + 1e-6 and 0 < report.reconstruction.fvu.value < 1.5
    assert report.downstream is not None and report.downstream.contexts == 16
    assert 0 < report.comparisons[str(tmp_path / "run" / "wide")].mmcs <= 1
    saved = json.loads((tmp_path / "run" / "topk" / "eval.json").read_text())
    assert saved["reconstruction"]["fvu"]["value"] == report.reconstruction.fvu.value
    assert load_report(tmp_path / "run" / "topk") == report
    assert summary_row(report)["l0"] == report.reconstruction.l0.value
