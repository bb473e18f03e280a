"""The toy "MLP-only transformer" that must compute new features, with linear probes on its hidden layer.

Re-implements ``HoagyC/transformers_toy_compute_model`` (``model.py``, ``train_model.py::train_multiple``,
``train_probes.py``; Jun–Jul 2023; seeds-digest §4.1 item 4):

* sparse codes c from the toy generator (:class:`~auditlens.toy.data.ToyDataset` with
  ``mean_active = 5``, ``prob_decay = 1`` and the correlated copula, as ``train_multiple``);
* residual input r = c @ G_in and target r + c @ G_out, where G_in, G_out are independent random unit
  feature directions: the MLP has to *compute* the new directions;
* one residual block r + W₂ ReLU(W₁ r + b₁) + b₂, width ``mlp_ratio × d_resid``, Xavier-uniform weights,
  zero biases; MSE loss, Adam lr 1e-3, 15,000 steps, batch 1024 (the final loss is an exponential moving
  average with factor 0.99, as the seed's ``rolling_loss``);
* then linear probes without bias, one per input feature, from the MLP hidden layer (post-ReLU) to the
  feature's level, trained with MSE and Adam lr 1e-3 for 10,000 steps. (The seed's hook sat on the MLP
  module, i.e. its *output*; at ``mlp_ratio = 1`` both have width d_resid. We probe the hidden layer as the
  digest describes, and also train the same probe on the residual input as a baseline.)
* grid: d_resid ∈ {16, 32, 64, 128, 256}, n_feats = int(d_resid × 1.5^k), k = 0…4, ``mlp_ratio = 1``;
  the seed plots loss against the feature ratio per d_resid on log–log axes.

Deviations: strengths are U[0,1) (the seed's ``rand_dataset.py`` still multiplied two uniforms; see
:mod:`auditlens.toy.data`), and we report held-out losses and probe R² besides the seed's rolling loss.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

from auditlens.json_types import NanFloat
from auditlens.toy.config import ToyConfigModel, require
from auditlens.toy.data import ToyDataConfig, ToyDataset

__all__ = [
    "MLPOnlyTransformer",
    "ToyMLPConfig",
    "ToyMLPGridConfig",
    "ToyMLPGridResult",
    "ToyMLPResult",
    "run_toy_mlp",
    "run_toy_mlp_grid",
]


class MLPOnlyTransformer(nn.Module):
    """A residual stream with one MLP block: ``x + l2(relu(l1(x)))`` (the seed's ``MLPOnlyTransformer``)."""

    def __init__(self, d_resid: int, d_mlp: int) -> None:
        super().__init__()
        self.l1 = nn.Linear(d_resid, d_mlp)
        self.l2 = nn.Linear(d_mlp, d_resid)
        for layer in (self.l1, self.l2):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def hidden(self, x_BD: torch.Tensor) -> torch.Tensor:
        """Post-ReLU hidden activations, (batch, d_mlp)."""
        return torch.relu(self.l1(x_BD))

    def forward(self, x_BD: torch.Tensor) -> torch.Tensor:
        return x_BD + self.l2(self.hidden(x_BD))


class ToyMLPConfig(ToyConfigModel):
    """One toy-MLP run; defaults are the seed's ``train_multiple`` constants."""

    d_resid: int = Field(64, description="Residual-stream width (seed grid: 16 … 256).")
    n_feats: int = Field(64, description="Number of sparse input features (seed: int(d_resid * 1.5**k)).")
    mlp_ratio: float = Field(1.0, description="d_mlp = int(d_resid * mlp_ratio) (seed train_multiple: 1).")
    mean_active: float = Field(5.0, description="Expected active features per sample (seed: 5).")
    prob_decay: float = Field(1.0, description="Per-feature probability decay (seed train_multiple: 1).")
    correlated: bool = Field(True, description="Gaussian-copula correlated codes (seed: True).")
    batch_size: int = Field(1024, description="Training batch (seed: 1024).")
    steps: int = Field(15_000, description="MLP training steps (seed: 15,000).")
    lr: float = Field(1e-3, description="Adam learning rate for the MLP (seed: 1e-3).")
    probe_steps: int = Field(10_000, description="Probe training steps (seed: 10,000).")
    probe_lr: float = Field(1e-3, description="Adam learning rate for the probes (seed: 1e-3).")
    probe_residual_baseline: bool = Field(
        True, description="Also train the same probes on the residual input, for comparison."
    )
    eval_batches: int = Field(8, description="Held-out batches for the reported losses and probe scores.")
    seed: int = Field(0, description="Seed for data, feature directions and initialisation.")

    @model_validator(mode="after")
    def _check(self) -> ToyMLPConfig:
        hint = "use positive sizes, e.g. the seed's d_resid=64, n_feats=96, batch_size=1024"
        for name in ("d_resid", "n_feats", "batch_size", "eval_batches"):
            require(getattr(self, name) > 0, f"{name} must be positive, got {getattr(self, name)}", hint)
        for name in ("steps", "probe_steps"):
            require(getattr(self, name) >= 0, f"{name} must be non-negative, got {getattr(self, name)}", hint)
        require(self.mlp_ratio > 0, f"mlp_ratio must be positive, got {self.mlp_ratio}", hint)
        require(int(self.d_resid * self.mlp_ratio) >= 1, "d_resid * mlp_ratio must be at least 1", hint)
        require(self.lr > 0 and self.probe_lr > 0, "learning rates must be positive", "use 1e-3 (the seed)")
        require(self.seed >= 0, f"seed must be non-negative, got {self.seed}", "use e.g. 0")
        # mean_active and prob_decay are validated by ToyDataConfig
        self.data_config()
        return self

    @property
    def d_mlp(self) -> int:
        """MLP hidden width."""
        return int(self.d_resid * self.mlp_ratio)

    def data_config(self) -> ToyDataConfig:
        """The toy-data config producing this run's codes (d_model = d_resid)."""
        return ToyDataConfig(
            d_model=self.d_resid,
            n_features=self.n_feats,
            mean_active=min(self.mean_active, float(self.n_feats)),
            prob_decay=self.prob_decay,
            correlated=self.correlated,
            seed=self.seed,
        )


class ToyMLPResult(BaseModel):
    """Losses of one trained toy MLP and the decodability of its input features."""

    model_config = ConfigDict(frozen=True)

    config: ToyMLPConfig = Field(description="The configuration that produced this result.")
    feat_ratio: float = Field(description="n_feats / d_resid.")
    rolling_loss: NanFloat = Field(
        description="EMA (factor 0.99) of the training MSE at the end (seed's number); NaN with no steps."
    )
    eval_loss: float = Field(description="MSE of model(r) against the target on held-out batches.")
    zero_mlp_loss: float = Field(
        description="Held-out MSE of the identity map (an MLP that outputs 0): the scale of the job."
    )
    fraction_unexplained: NanFloat = Field(
        description="eval_loss / zero_mlp_loss (0 = new features computed); NaN when zero_mlp_loss is 0."
    )
    probe_mse_hidden: float = Field(
        description="Held-out MSE of the hidden-layer probes for the input levels."
    )
    probe_r2_hidden: NanFloat = Field(
        description="Mean over input features (that vary on the held-out set) of the probes' R²; NaN when none varies."
    )
    probe_mse_residual: float | None = Field(description="Same probe trained on the residual input; or None.")
    probe_r2_residual: float | None = Field(description="Mean R² of the residual-input probe; or None.")
    loss_curve: list[float] = Field(description="Rolling loss every 1,000 steps (and at the last step).")


def _train_probe(
    features_of: Callable[[torch.Tensor], torch.Tensor],
    width: int,
    ds: ToyDataset,
    cfg: ToyMLPConfig,
    eval_codes: list[torch.Tensor],
) -> tuple[float, float]:
    torch.manual_seed(cfg.seed + 7)
    probe = nn.Linear(width, cfg.n_feats, bias=False)
    opt = torch.optim.Adam(probe.parameters(), lr=cfg.probe_lr)
    for codes in itertools.islice(_codes_stream(ds, cfg.batch_size, offset=1), cfg.probe_steps):
        with torch.no_grad():
            acts = features_of(codes)
        loss = nn.functional.mse_loss(probe(acts), codes)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        codes = torch.cat(eval_codes)
        pred = probe(features_of(codes))
        mse = float(nn.functional.mse_loss(pred, codes))
        ss_res = ((pred - codes) ** 2).sum(dim=0)
        ss_tot = ((codes - codes.mean(dim=0)) ** 2).sum(dim=0)
        varies = ss_tot > 0
        r2 = float((1 - ss_res[varies] / ss_tot[varies]).mean()) if bool(varies.any()) else float("nan")
    return mse, r2


def _codes_stream(ds: ToyDataset, batch_size: int, offset: int) -> Iterator[torch.Tensor]:
    """Independent code streams for training (offset 0), probing (1) and evaluation (2)."""
    sub = ToyDataset(ds.cfg.model_copy(update={"seed": ds.cfg.seed + 1000 * offset}))
    return (b.codes for b in sub.batches_with_codes(batch_size))


def run_toy_mlp(cfg: ToyMLPConfig | None = None) -> ToyMLPResult:
    """Train one toy MLP and its probes (CPU; minutes at the seed's 15,000 steps, seconds when tiny)."""
    cfg = cfg if cfg is not None else ToyMLPConfig()
    ds = ToyDataset(cfg.data_config())
    g = torch.Generator().manual_seed(cfg.seed + 1)
    directions = torch.randn(2, cfg.n_feats, cfg.d_resid, generator=g)
    g_in, g_out = directions / directions.norm(dim=2, keepdim=True)
    torch.manual_seed(cfg.seed)
    model = MLPOnlyTransformer(cfg.d_resid, cfg.d_mlp)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rolling, curve = 0.0, []
    for step, codes in enumerate(itertools.islice(_codes_stream(ds, cfg.batch_size, 0), cfg.steps)):
        resid = codes @ g_in
        loss = nn.functional.mse_loss(model(resid), resid + codes @ g_out)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rolling = loss.item() if step == 0 else 0.99 * rolling + 0.01 * loss.item()
        if step % 1000 == 0 or step == cfg.steps - 1:
            curve.append(rolling)
    model.eval()
    eval_codes = list(itertools.islice(_codes_stream(ds, cfg.batch_size, 2), cfg.eval_batches))
    with torch.no_grad():
        codes = torch.cat(eval_codes)
        resid = codes @ g_in
        target = resid + codes @ g_out
        eval_loss = float(nn.functional.mse_loss(model(resid), target))
        zero_loss = float(nn.functional.mse_loss(resid, target))
    for p in model.parameters():
        p.requires_grad_(False)
    mse_h, r2_h = _train_probe(lambda c: model.hidden(c @ g_in), cfg.d_mlp, ds, cfg, eval_codes)
    mse_r = r2_r = None
    if cfg.probe_residual_baseline:
        mse_r, r2_r = _train_probe(lambda c: c @ g_in, cfg.d_resid, ds, cfg, eval_codes)
    return ToyMLPResult(
        config=cfg,
        feat_ratio=cfg.n_feats / cfg.d_resid,
        rolling_loss=rolling if cfg.steps > 0 else math.nan,
        eval_loss=eval_loss,
        zero_mlp_loss=zero_loss,
        fraction_unexplained=eval_loss / zero_loss if zero_loss > 0 else math.nan,
        probe_mse_hidden=mse_h,
        probe_r2_hidden=r2_h,
        probe_mse_residual=mse_r,
        probe_r2_residual=r2_r,
        loss_curve=curve,
    )


class ToyMLPGridConfig(ToyConfigModel):
    """The seed's ``train_multiple`` grid; ``base`` supplies every other field of each run."""

    d_resid_values: list[int] = Field(
        [16, 32, 64, 128, 256], description="Residual widths (seed: 2**4 … 2**8)."
    )
    feat_ratio_values: list[float] = Field(
        [1.5**k for k in range(5)], description="n_feats = int(d_resid * ratio) (seed: 1.5**k, k = 0…4)."
    )
    base: ToyMLPConfig = Field(
        default_factory=ToyMLPConfig,
        description="Shared settings; d_resid and n_feats are overridden per cell.",
    )

    @model_validator(mode="after")
    def _check(self) -> ToyMLPGridConfig:
        hint = "e.g. d_resid_values=[16, 32], feat_ratio_values=[1, 1.5]"
        require(bool(self.d_resid_values), "d_resid_values is empty", hint)
        require(bool(self.feat_ratio_values), "feat_ratio_values is empty", hint)
        require(
            all(d > 0 for d in self.d_resid_values), f"d_resid must be positive: {self.d_resid_values}", hint
        )
        require(
            all(r > 0 for r in self.feat_ratio_values),
            f"ratios must be positive: {self.feat_ratio_values}",
            hint,
        )
        return self

    def cells(self) -> list[ToyMLPConfig]:
        """One run config per (d_resid, ratio), d_resid-major."""
        return [
            self.base.model_copy(update={"d_resid": d, "n_feats": max(1, int(d * r))})
            for d in self.d_resid_values
            for r in self.feat_ratio_values
        ]


class ToyMLPGridResult(BaseModel):
    """Every run of the grid (loss vs feature ratio per d_resid)."""

    model_config = ConfigDict(frozen=True)

    config: ToyMLPGridConfig = Field(description="The grid that produced this result.")
    runs: list[ToyMLPResult] = Field(description="One result per cell, in ToyMLPGridConfig.cells() order.")


def run_toy_mlp_grid(
    cfg: ToyMLPGridConfig | None = None, on_run: Callable[[ToyMLPResult], None] | None = None
) -> ToyMLPGridResult:
    """Run every cell in order (the seed's full grid is hours of CPU; ``on_run`` sees each result)."""
    cfg = cfg if cfg is not None else ToyMLPGridConfig()
    runs = []
    for cell in cfg.cells():
        result = run_toy_mlp(cell)
        if on_run is not None:
            on_run(result)
        runs.append(result)
    return ToyMLPGridResult(config=cfg, runs=runs)
