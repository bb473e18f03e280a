"""Modern dictionary architectures on the toy ground truth at matched L0 (issue item 3, second command).

TopK, BatchTopK and Matryoshka get ``k = round(target_l0)``. ReLU+L1 (seed-style untied, undivided) gets the
coefficient that :func:`~auditlens.sae.find_coefficient_for_l0` finds for the target with runs as long as the final
one (L0 keeps falling during L1 training: with half-length runs the default comparison ended at L0 4.2 for target 5).
JumpReLU is steered to the target by its target-L0 penalty λ·(L0/target − 1)² (as dictionary_learning / SAEBench
match JumpReLU's L0), with λ = d_in (the reconstruction term is a sum over d_in normalised dimensions), bandwidth and
initial threshold 1.0 in the trainer's normalised units (E‖x‖² = d_in): with the literature's 1e-3/1e-3, made for
hundreds of thousands of steps, or 0.05/0.1, a plain λ·L0 penalty had to be searched up to λ ≈ 2·10⁴, where L0 is set
by how far the thresholds (about one learning rate per step in log space) have climbed when training stops. All are
then trained together in one :class:`~auditlens.sae.Trainer` on the same seeded stream (each architecture with the
trainer's default learning rate and normalisation) and scored against the known features: MMCS with truth,
precision/recall/F1 of recovered features at a cosine threshold, MCC of codes (held-out samples).

With an output folder the comparison is a run folder (:class:`auditlens.runs.RunFolder`, kind ``toy-architectures``):
``run.json`` records the config; a comparison of other settings found there is replaced (it is recomputed on every
call anyway), a folder of an older version (``architectures.json`` without ``run.json``) is recognised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import torch
from pydantic import BaseModel, Field, model_validator

from auditlens.errors import DataError
from auditlens.evals.mmcs import GroundTruthScores, ground_truth_scores
from auditlens.runs import RunFolder, RunRecord, fingerprint, read_json, write_json
from auditlens.sae import (
    BatchTopKConfig,
    DictionaryConfig,
    JumpReLUConfig,
    MatryoshkaConfig,
    ReluL1UntiedConfig,
    TopKConfig,
    Trainer,
    TrainerConfig,
    find_coefficient_for_l0,
)
from auditlens.toy.config import ToyConfigModel, require
from auditlens.toy.data import ToyDataConfig, ToyDataset

__all__ = ["ArchitectureRun", "ArchitecturesConfig", "ArchitecturesResult", "run_architectures"]

log = logging.getLogger(__name__)

KIND = "toy-architectures"
RESULT_JSON = "architectures.json"

ArchName = Literal["relu_l1", "topk", "batchtopk", "jumprelu", "matryoshka"]


class ArchitecturesConfig(ToyConfigModel):
    """What :func:`run_architectures` compares; :meth:`quick` is a CI-sized version of the same code."""

    data: ToyDataConfig = Field(
        default_factory=ToyDataConfig, description="Toy ground truth (seed 256/512/5)."
    )
    architectures: list[ArchName] = Field(
        default_factory=lambda: ["relu_l1", "topk", "batchtopk", "jumprelu", "matryoshka"],
        description="Architectures to compare.",
    )
    ratio: float = Field(2.0, description="Dictionary size as a multiple of n_features.")
    target_l0: float | None = Field(None, description="Matched L0; None: the data's mean_active.")
    steps: int = Field(8000, description="Training steps (seed 8000).")
    batch_size: int = Field(256, description="Rows per batch (seed 256).")
    search_steps: int | None = Field(
        None,
        description="Steps of each run of the ReLU+L1 coefficient search (None: steps; L0 keeps falling during "
        "L1 training, so shorter runs pick too large a coefficient).",
    )
    threshold: float = Field(0.9, description="Cosine threshold for precision/recall/F1.")
    eval_samples: int = Field(4096, description="Held-out samples for L0, dead count and MCC.")
    seed: int = Field(0, description="Dictionary init seed.")

    @model_validator(mode="after")
    def _check(self) -> ArchitecturesConfig:
        require(len(self.architectures) > 0, "no architectures given", "e.g. relu_l1 topk")
        require(self.ratio > 0, f"ratio must be positive, got {self.ratio}", "e.g. 2")
        require(self.target_l0 is None or self.target_l0 > 0, "target_l0 must be positive", "e.g. 5")
        require(
            self.search_steps is None or self.search_steps > 0, "search_steps must be positive", "or None"
        )
        for name in ("steps", "batch_size", "eval_samples"):
            require(
                getattr(self, name) > 0,
                f"{name} must be positive, got {getattr(self, name)}",
                "use e.g. 1000",
            )
        require(0 < self.threshold < 1, f"threshold must lie in (0, 1), got {self.threshold}", "e.g. 0.9")
        return self

    @classmethod
    def quick(cls) -> ArchitecturesConfig:
        """32-d data with 64 features (3 active), 1,500 steps (coefficient searches as long)."""
        return cls(data=ToyDataConfig(d_model=32, n_features=64, mean_active=3), steps=1500)

    def l0(self) -> float:
        return self.target_l0 if self.target_l0 is not None else self.data.mean_active


class ArchitectureRun(BaseModel):
    """One architecture's scores."""

    name: str = Field(description="Architecture (as configured).")
    d_sae: int = Field(description="Dictionary size.")
    setting: str = Field(description="k, or the coefficient found, that sets its sparsity.")
    l0: float = Field(description="Mean active latents on the held-out samples.")
    fvu: float = Field(description="Fraction of variance unexplained on the held-out samples.")
    scores: GroundTruthScores = Field(description="MMCS, precision/recall/F1, dead count, MCC.")


class ArchitecturesResult(BaseModel):
    """The comparison."""

    config: ArchitecturesConfig = Field(description="What was run.")
    runs: list[ArchitectureRun] = Field(description="One per architecture, in config order.")
    seconds: dict[str, float] = Field(description="Wall seconds: coefficient search and training.")

    def summary(self) -> str:
        """One line per architecture: L0, MMCS, F1 and MCC (what ``replicate architectures`` prints)."""
        return "\n".join(
            f"{r.name:11s} L0 {r.l0:6.2f}  MMCS {r.scores.mmcs_with_truth:.3f}  F1 {r.scores.recovery.f1:.3f}  "
            f"MCC {r.scores.mcc.mcc if r.scores.mcc else float('nan'):.3f}"
            for r in self.runs
        )


def legacy_architectures_record(path: Path) -> RunRecord | None:
    """The record of a comparison folder written before ``run.json``: the config in its ``architectures.json``."""
    f = path / RESULT_JSON
    if not f.is_file():
        return None
    try:
        config = read_json(f, what="architectures result").get("config") or {}
    except (DataError, AttributeError):
        config = {}
    return RunRecord(kind=KIND, fingerprint=fingerprint(config), config=config, legacy_source=RESULT_JSON)


def run_architectures(cfg: ArchitecturesConfig, out_dir: str | Path | None = None) -> ArchitecturesResult:
    """Run the comparison; with ``out_dir`` (a run folder, claimed first) also write ``architectures.json`` there."""
    folder = (
        RunFolder.claim(
            out_dir,
            KIND,
            cfg,
            on_other="replace",
            legacy=legacy_architectures_record,
            label="architectures run",
        )
        if out_dir is not None
        else None
    )
    ds = ToyDataset(cfg.data)
    d, n = cfg.data.d_model, max(1, round(cfg.ratio * cfg.data.n_features))
    k = max(1, round(cfg.l0()))
    tcfg = TrainerConfig(total_steps=cfg.steps, progress=False, seed=cfg.seed)

    def batches() -> Iterator[torch.Tensor]:
        return ds.batches(cfg.batch_size)

    configs: list[DictionaryConfig] = []
    settings: list[str] = []
    t = time.perf_counter()
    for name in cfg.architectures:
        if name == "relu_l1":
            base = ReluL1UntiedConfig(d_in=d, d_sae=n, seed=cfg.seed)
            found = find_coefficient_for_l0(
                base,
                cfg.l0(),
                batches,
                tcfg.model_copy(update={"total_steps": cfg.search_steps or cfg.steps}),
                low=1e-4,
                high=10.0,
                max_rounds=5,
            )
            log.info(
                "  %s: coefficient %.3g gives L0 %.2f (target %g)",
                name,
                found.coefficient,
                found.l0,
                cfg.l0(),
            )
            configs.append(base.model_copy(update={"coefficient": found.coefficient, "name": name}))
            settings.append(f"coefficient={found.coefficient:.4g}")
        elif name == "jumprelu":
            configs.append(
                JumpReLUConfig(
                    d_in=d,
                    d_sae=n,
                    seed=cfg.seed,
                    name=name,
                    target_l0=cfg.l0(),
                    coefficient=float(d),
                    bandwidth=1.0,
                    init_threshold=1.0,
                )
            )
            settings.append(f"target_l0={cfg.l0():g}")
        else:
            cls = {"topk": TopKConfig, "batchtopk": BatchTopKConfig, "matryoshka": MatryoshkaConfig}[name]
            configs.append(cls(d_in=d, d_sae=n, k=k, name=name, seed=cfg.seed))
            settings.append(f"k={k}")
    search_s = time.perf_counter() - t
    t = time.perf_counter()
    trainer = Trainer(configs, tcfg)
    trainer.train(batches())
    train_s = time.perf_counter() - t
    held = ds.sample(cfg.eval_samples, torch.Generator().manual_seed(10_007 + cfg.data.seed))
    var = float((held.x - held.x.mean(0)).pow(2).mean())
    runs = []
    with torch.no_grad():
        for c, setting in zip(configs, settings, strict=True):
            module, j = trainer.member(c.name or "")
            module.eval()
            codes = module.encode(held.x)[j]
            recon = module.decode(codes[None])[0]
            _, weights = module.saelens_state(j)
            scores = ground_truth_scores(
                weights["W_dec"],
                ds.features,
                threshold=cfg.threshold,
                learned_codes=codes,
                true_codes=held.codes,
            )
            runs.append(
                ArchitectureRun(
                    name=c.name or c.architecture,
                    d_sae=n,
                    setting=setting,
                    l0=float((codes > 0).sum(-1).float().mean()),
                    fvu=float((recon - held.x).pow(2).mean()) / var,
                    scores=scores,
                )
            )
    result = ArchitecturesResult(
        config=cfg, runs=runs, seconds={"coefficient_search": search_s, "training": train_s}
    )
    if folder is not None:
        write_json(folder.path / RESULT_JSON, result)
        folder.mark("complete")
    return result
