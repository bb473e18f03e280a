"""The toy-model replication grid (seeds-digest §7.1): sparsity coefficient × dictionary ratio, two L1 conventions.

Every cell trains the seed's autoencoder (ReLU encoder with bias, bias-free decoder whose rows are renormalised
inside the forward pass, loss = per-element MSE + α · mean_batch ‖c‖₁, optionally ÷ dictionary size) on one shared,
seeded toy data stream, then records MMCS with the ground truth, the dead count on held-out samples, L0 and MSE.
Differences from the seed, on purpose and stated: the decoder init is xavier-uniform (the replication used an
orthogonal init), and activations are *not* normalised (as the seed; ``TrainerConfig.normalize_activations=False``).

Cells are trained many at a time: all coefficients of one (convention, ratio) are stacked into one vectorised
group, and as many groups as fit a memory budget share one :class:`~auditlens.sae.Trainer` (one data batch feeds
them all). A chunk checkpoints every ``checkpoint_every`` steps and resumes from there; a finished cell is written
atomically to ``cells/<key>.json`` (+ its decoder as safetensors) and never recomputed. Re-running resumes; a
run with other grid axes (ratios, coefficients, conventions) in the same folder reuses the cells it shares (a cell
does not depend on its grid), and one with other data or optimisation settings is refused.

Measured (2026-11-27): the quick grid (90 dictionaries × 1,500 steps) trained in 55 s on one core of the 2-core dev
box with the other core busy (263 s before the hand-derived step and fused Adam, also on a loaded core; 60 s with
``bf16``, which does not pay at d=32). The full seed grid (272 dictionaries × 8,000 steps) trained in about 12 min on
one H100 in float32 (``--device cuda``: three chunks of 263 s, ~255 s — interrupted near its end and resumed from its
step-7,000 checkpoint — and 180 s; estimate printed 10.1 min; results in ``docs/results/toy-h100-2026-11-27``); on one
dev-box core it is estimated at 42 h in float32 and 31 h with ``bf16`` (``--estimate-only --threads 1``; 48 h on two
threads before). The sub-grid ratios 0.25–1 × 17 coefficients × both conventions (102 dictionaries × 8,000 steps)
trained in 2,993 s on one core (estimate printed: 52.8 min). ``bf16`` against float32 on the quick grid: MMCS with
truth within 0.0009 in every cell, dead counts within 3, the same 15 of 90 cells above 0.9. The H100 grid against
the CPU one on their 204 shared cells (both float32): MMCS with truth within 0.011 (median 0), dead counts within
45, the same 47 cells above 0.9.

The up-front estimate times a few of the first steps, where every code is still dense. On a CPU in float32 the
members whose codes turn sparse later take the sparse training path, so there it is an upper estimate (ratio 4, one
convention: 148.6 min printed, 43.8 min trained) and says so; after every chunk the run re-estimates the rest from
the measured / estimated time so far.

The two conventions share the coefficient list for the *divided* convention; the undivided coefficients are the
divided ones ÷ ``n_features`` (so at ratio 1 both conventions train the very same model, and the grids are
directly comparable along the coefficient axis).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from safetensors.torch import load_file, save_file

from auditlens.errors import RunFolderError
from auditlens.evals.mmcs import mmcs, mmcs_with_larger
from auditlens.sae import ReluL1Untied, ReluL1UntiedConfig, Trainer, TrainerConfig
from auditlens.toy.config import ToyConfigModel, require
from auditlens.toy.data import ToyDataConfig, ToyDataset

__all__ = [
    "Convention",
    "ToyCell",
    "ToyGridConfig",
    "ToyGridEstimate",
    "ToyGridResult",
    "estimate_toy_grid",
    "run_toy_grid",
    "seed_coefficients",
    "seed_ratios",
]

Convention = Literal["divided", "undivided"]
GRID_JSON = "grid_config.json"
RESULT_JSON = "toy_grid.json"


def seed_coefficients() -> list[float]:
    """α ∈ {10^(k/4) : k = −8…8}: 17 values from 0.01 to 100 (§7.1)."""
    return [10 ** (k / 4) for k in range(-8, 9)]


def seed_ratios() -> list[float]:
    """Dictionary size / n_features ∈ {2^k : k = −2…5} = 0.25 … 32 (§7.1)."""
    return [2.0**k for k in range(-2, 6)]


class ToyGridConfig(ToyConfigModel):
    """The grid. Defaults are the seed's full sweep (hours of CPU); :meth:`quick` is a small one (same code)."""

    data: ToyDataConfig = Field(
        default_factory=ToyDataConfig, description="The toy ground truth (seed: 256/512/5)."
    )
    coefficients: list[float] = Field(
        default_factory=seed_coefficients,
        description="L1 coefficients α of the divided convention (seed: 10^(k/4), k=−8…8).",
    )
    ratios: list[float] = Field(
        default_factory=seed_ratios,
        description="Dictionary sizes as multiples of n_features (seed: 0.25…32).",
    )
    conventions: list[Convention] = Field(
        default_factory=lambda: ["divided", "undivided"],
        description="L1 conventions: 'divided' (÷ dictionary size, the original) and/or 'undivided'.",
    )
    steps: int = Field(8000, description="Training steps per dictionary (seed 8000).")
    batch_size: int = Field(256, description="Rows per batch (seed 256).")
    lr: float = Field(1e-3, description="Adam learning rate, constant (seed 1e-3).")
    eval_samples: int = Field(4096, description="Held-out samples for the dead count and L0.")
    checkpoint_every: int = Field(1000, description="Checkpoint each training chunk every N steps.")
    memory_budget_gib: float = Field(
        6.0, description="Approximate training memory per chunk; groups are packed into chunks under it."
    )
    num_threads: int | None = Field(None, description="torch threads while training (None: keep).")
    device: str = Field(
        "cpu", description="torch device for training (data is drawn on the CPU, then moved)."
    )
    tf32: bool = Field(
        False,
        description="Allow TF32 matrix products on CUDA (10-bit mantissa inputs, fp32 accumulation; several "
        "times faster on Ampere/Hopper). Not part of the fingerprint: a grid may resume with it on or off.",
    )
    bf16: bool = Field(
        False,
        description="bfloat16 matrix products while training (TrainerConfig.matmul_dtype; float32 weights, optimizer "
        "and evaluation). About 3x faster products on CPUs with AVX512-BF16/AMX. Part of the fingerprint: "
        "a bfloat16 grid is its own recipe and never mixes cells with a float32 one.",
    )
    seed: int = Field(0, description="Dictionary init seed.")

    @model_validator(mode="after")
    def _check(self) -> ToyGridConfig:
        require(len(self.coefficients) > 0, "no sparsity coefficients given", "pass at least one, e.g. 1.0")
        for a in self.coefficients:
            require(
                math.isfinite(a) and a >= 0,
                f"sparsity coefficients must be finite and non-negative, got {a}",
                "use values like 0.01 … 100 (the seed's grid)",
            )
        require(len(self.ratios) > 0, "no dictionary ratios given", "pass at least one, e.g. 1")
        for r in self.ratios:
            require(
                math.isfinite(r) and r > 0,
                f"dictionary ratios must be positive, got {r}",
                "a ratio is dictionary size / n_features, e.g. 0.25 … 32",
            )
            require(
                round(r * self.data.n_features) >= 1,
                f"ratio {r} gives an empty dictionary for {self.data.n_features} features",
                "use a larger ratio",
            )
        require(len(set(self.ratios)) == len(self.ratios), "duplicate ratios", "list each ratio once")
        require(
            len(set(self.coefficients)) == len(self.coefficients), "duplicate coefficients", "list each once"
        )
        require(len(self.conventions) > 0, "no L1 convention given", "use 'divided' and/or 'undivided'")
        hint = "use positive values (seed: steps 8000, batch 256, lr 1e-3)"
        require(self.steps > 0, f"steps must be positive, got {self.steps}", hint)
        require(self.batch_size > 0, f"batch_size must be positive, got {self.batch_size}", hint)
        require(self.lr > 0, f"lr must be positive, got {self.lr}", hint)
        require(self.eval_samples > 0, f"eval_samples must be positive, got {self.eval_samples}", hint)
        require(
            self.checkpoint_every > 0, f"checkpoint_every must be positive, got {self.checkpoint_every}", hint
        )
        require(self.memory_budget_gib > 0, "memory_budget_gib must be positive", "e.g. 6")
        return self

    @classmethod
    def quick(cls) -> ToyGridConfig:
        """A CI-sized grid (a few minutes on one loaded core): 32-d data with 64 features and 3 active on average,
        ratios 0.25…4, 9 coefficients 10^(k/4) (k = −4…4, i.e. 0.1…10), 1,500 steps."""
        return cls(
            data=ToyDataConfig(d_model=32, n_features=64, mean_active=3),
            coefficients=[10 ** (k / 4) for k in range(-4, 5)],
            ratios=[0.25, 0.5, 1.0, 2.0, 4.0],
            steps=1500,
            eval_samples=2048,
            checkpoint_every=500,
        )

    def d_sae(self, ratio: float) -> int:
        return max(1, round(ratio * self.data.n_features))

    def undivided_coefficient(self, coefficient: float) -> float:
        return coefficient / self.data.n_features

    def cells(self) -> list[tuple[Convention, float, float]]:
        """Every (convention, ratio, divided-convention coefficient) in the grid."""
        return [(c, r, a) for c in self.conventions for r in sorted(self.ratios) for a in self.coefficients]

    def recipe(self) -> dict[str, object]:
        """What one cell's result depends on besides the matrix-product precision: the data, the optimisation and
        the evaluation — not the grid axes (a cell is trained the same whichever grid it is part of, so a folder can
        grow: small ratios on a CPU today, the large ones on a GPU later) and not the machine settings."""
        return self.model_dump(
            mode="json",
            exclude={
                "coefficients",
                "ratios",
                "conventions",
                "checkpoint_every",
                "memory_budget_gib",
                "num_threads",
                "device",
                "tf32",
                "bf16",
            },
        )

    def fingerprint(self) -> str:
        """Hash of the :meth:`recipe` and ``bf16`` (a bfloat16 grid is its own recipe and never mixes cells with a
        float32 one; TF32 is left out on purpose)."""
        keep = {**self.recipe(), "bf16": self.bf16}
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


class ToyCell(BaseModel):
    """One trained dictionary of the grid."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="Cell name: <convention>-r<ratio>-a<coefficient>.")
    convention: Convention = Field(description="L1 convention.")
    ratio: float = Field(description="Dictionary size / n_features.")
    d_sae: int = Field(description="Dictionary size.")
    coefficient: float = Field(description="α on the divided-convention axis (the grid's column).")
    effective_coefficient: float = Field(description="α as passed to the loss (÷ n_features when undivided).")
    steps: int = Field(description="Training steps.")
    mmcs_with_truth: float = Field(description="Mean over true features of max cosine to a learned feature.")
    n_dead: int = Field(description="Latents that never fired on the held-out samples.")
    l0: float = Field(description="Mean active latents per held-out sample.")
    mse: float = Field(description="Per-element reconstruction MSE on the held-out samples.")
    fvu: float = Field(description="Fraction of variance unexplained on the held-out samples.")
    trained_on: str | None = Field(
        default=None,
        description="Where the cell was trained: device (with the GPU's name), matrix-product precision (float32, "
        "tf32 or bfloat16) and torch version. TF32 is not part of the fingerprint, so this is what tells such cells "
        "apart. None for cells written before it was recorded.",
    )
    chunk_train_seconds: float | None = Field(
        default=None,
        description="Wall seconds the chunk this cell was trained in took to train, over every call (resumes add "
        "up); shared by the chunk's cells. None for cells written before it was recorded.",
    )
    chunk_cells: int | None = Field(default=None, description="How many cells that chunk trained together.")


class ToyGridResult(BaseModel):
    """The grid's numbers: cells plus the derived matrices the figures show (rows = ratios, cols = coefficients)."""

    config: ToyGridConfig = Field(description="The grid that was run.")
    cells: list[ToyCell] = Field(description="Every cell, in grid order.")
    ratios: list[float] = Field(description="Row labels (ascending).")
    coefficients: list[float] = Field(description="Column labels (divided-convention α).")
    mmcs_with_truth: dict[str, list[list[float]]] = Field(description="Per convention: MMCS with truth grid.")
    n_dead: dict[str, list[list[int]]] = Field(description="Per convention: dead-latent grid.")
    l0: dict[str, list[list[float]]] = Field(description="Per convention: L0 grid.")
    mmcs_with_larger: dict[str, list[list[float | None]]] = Field(
        description="Per convention: MMCS with the next (up to two) larger dictionaries at the same α; "
        "None on the largest ratio (the seed's void row)."
    )
    seconds_training: float = Field(description="Wall seconds spent training in this call.")
    train_seconds_total: float | None = Field(
        default=None,
        description="Wall seconds of training every cell of the grid took, over all calls and machines (the sum of "
        "each chunk's time); None when no cell recorded it, and a lower bound when some did not.",
    )
    cells_trained: int = Field(description="Cells trained in this call (the rest were already finished).")
    trained_on: dict[str, int] = Field(
        default_factory=dict,
        description="How many cells were trained where (ToyCell.trained_on; 'not recorded' for older cells).",
    )


class ToyGridEstimate(BaseModel):
    """The up-front time estimate from timing a few steps of every group."""

    seconds_per_step: dict[str, float] = Field(description="Per (convention, ratio) group: seconds per step.")
    data_seconds_per_step: float = Field(
        default=0.0, description="Seconds to draw one batch of toy data (once per step of a chunk)."
    )
    remaining_cells: int = Field(description="Cells still to train.")
    estimated_seconds: float = Field(description="Estimated training wall time for the remaining cells.")
    upper_bound: bool = Field(
        default=False,
        description="True when the timed steps are slower than most of the run will be: on a CPU in float32, "
        "members whose codes turn sparse (large coefficients, within tens of steps) take the sparse training path, "
        "but the estimate times the first steps, where every member's codes are still dense.",
    )

    def chunk_seconds(self, chunk: list[tuple[Convention, float, float]], steps: int) -> float:
        """Estimated wall time of ``steps`` steps of one chunk (its groups' step times plus one data batch)."""
        groups = {f"{c[0]}-r{_fmt(c[1])}" for c in chunk}
        return steps * (sum(self.seconds_per_step.get(g, 0.0) for g in groups) + self.data_seconds_per_step)


def _trained_on(cfg: ToyGridConfig) -> str:
    """Device, matrix-product precision and torch version of this run (recorded in every cell it trains)."""
    dev = torch.device(cfg.device)
    name = f"{dev.type} ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else dev.type
    precision = "bfloat16" if cfg.bf16 else "tf32" if cfg.tf32 and dev.type == "cuda" else "float32"
    return f"{name}, {precision}, torch {torch.__version__}"


def _fmt(v: float) -> str:
    return f"{v:.6g}".replace("+", "")


def cell_key(convention: str, ratio: float, coefficient: float) -> str:
    return f"{convention}-r{_fmt(ratio)}-a{_fmt(coefficient)}"


def _dict_config(cfg: ToyGridConfig, conv: Convention, ratio: float, coef: float) -> ReluL1UntiedConfig:
    return ReluL1UntiedConfig(
        d_in=cfg.data.d_model,
        d_sae=cfg.d_sae(ratio),
        coefficient=coef if conv == "divided" else cfg.undivided_coefficient(coef),
        divide_by_dict_size=conv == "divided",
        name=cell_key(conv, ratio, coef),
        seed=cfg.seed,
    )


def _trainer_config(cfg: ToyGridConfig, steps: int, checkpoint: bool) -> TrainerConfig:
    """The seed's optimisation: constant Adam lr, no warm-up, no normalisation, no resampling."""
    return TrainerConfig(
        total_steps=steps,
        lr=cfg.lr,
        lr_decay_start=1.0,
        normalize_activations=False,
        b_dec_init="zeros",
        stats_batches=1,
        dead_window_tokens=2**62,
        checkpoint_every=cfg.checkpoint_every if checkpoint else None,
        keep_checkpoints=1,
        log_every=max(1, min(100, steps)),
        progress=checkpoint,  # a bar while training a chunk (minutes to hours), none while timing the estimate
        num_threads=cfg.num_threads,
        device=cfg.device,
        fused_adam=True,
        matmul_dtype="bfloat16" if cfg.bf16 else "float32",
    )


def _group_bytes(n_members: int, d_sae: int, d_in: int, batch: int) -> int:
    """Rough training memory of one stacked group: weights, grads and Adam state of W_enc and W_dec, plus codes."""
    return 4 * n_members * (8 * d_sae * d_in + 6 * batch * d_sae)


def _chunks(
    cfg: ToyGridConfig, todo: list[tuple[Convention, float, float]]
) -> list[list[tuple[Convention, float, float]]]:
    """Pack the unfinished cells into chunks: one group per (convention, ratio), groups packed under the budget."""
    groups: dict[tuple[str, float], list[tuple[Convention, float, float]]] = {}
    for cell in todo:
        groups.setdefault((cell[0], cell[1]), []).append(cell)
    budget = cfg.memory_budget_gib * 2**30
    chunks: list[list[tuple[Convention, float, float]]] = []
    sizes: list[int] = []
    for members in sorted(groups.values(), key=lambda m: -cfg.d_sae(m[0][1])):
        need = _group_bytes(len(members), cfg.d_sae(members[0][1]), cfg.data.d_model, cfg.batch_size)
        for i, used in enumerate(sizes):
            if used + need <= budget:
                chunks[i].extend(members)
                sizes[i] += need
                break
        else:
            chunks.append(list(members))
            sizes.append(need)
    return chunks


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


class _Run:
    def __init__(self, cfg: ToyGridConfig, out: Path, log: Callable[[str], None]):
        self.cfg = cfg
        self.out = out
        self.cells_dir = out / "cells"
        self.log = log
        self.dataset = ToyDataset(cfg.data, device=cfg.device)

    def prepare(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        self.cells_dir.mkdir(exist_ok=True)
        f = self.out / GRID_JSON
        fp = self.cfg.fingerprint()
        if f.exists():
            try:
                old = json.loads(f.read_text()).get("fingerprint")
            except (OSError, json.JSONDecodeError):
                old = None
            if old != fp:
                raise RunFolderError(
                    f"{self.out} holds a toy grid run with different settings (fingerprint {old}, now {fp})",
                    hint="use another --out folder, or the same data, steps, batch, lr, eval samples and seed (the "
                    "ratios, coefficients and conventions may change: finished cells are reused)",
                )
        payload = {"fingerprint": fp, "config": self.cfg.model_dump(mode="json")}
        _write_atomic(f, lambda p: p.write_text(json.dumps(payload, indent=2)))

    def done(self, key: str) -> bool:
        return (self.cells_dir / f"{key}.json").exists() and (self.cells_dir / f"{key}.safetensors").exists()

    def todo(self) -> list[tuple[Convention, float, float]]:
        return [c for c in self.cfg.cells() if not self.done(cell_key(*c))]

    def batches(self) -> Iterator[torch.Tensor]:
        return self.dataset.batches(self.cfg.batch_size)

    @torch.no_grad()
    def finish(self, trainer: Trainer, chunk: list[tuple[Convention, float, float]]) -> None:
        """Evaluate every member of a trained chunk and store each cell atomically."""
        gen = torch.Generator().manual_seed(10_007 + self.cfg.data.seed)
        evals = [self.dataset.sample(min(1024, self.cfg.eval_samples), gen).x]
        while sum(e.shape[0] for e in evals) < self.cfg.eval_samples:
            evals.append(self.dataset.sample(min(1024, self.cfg.eval_samples), gen).x)
        x = torch.cat(evals)[: self.cfg.eval_samples]
        var = (x - x.mean(0)).pow(2).mean()
        truth = self.dataset.features
        where = _trained_on(self.cfg)
        for group in trainer.groups:
            module = group.module
            dev = x.device
            fired = torch.zeros(module.n, module.d_sae, dtype=torch.bool, device=dev)
            l0 = torch.zeros(module.n, device=dev)
            sq = torch.zeros(module.n, device=dev)
            for xb in x.split(512):
                codes = module.encode(xb)
                recon = module.decode(codes)
                fired |= (codes > 0).any(1)
                l0 += (codes > 0).sum(-1).float().sum(-1)
                sq += (recon - xb).pow(2).sum(dim=(1, 2))
            dec = module.decoder_NFD()  # type: ignore[operator]
            for j, ci in enumerate(group.indices):
                mcfg = trainer.configs[ci]
                conv, ratio, coef = next(c for c in chunk if cell_key(*c) == mcfg.name)
                cell = ToyCell(
                    key=mcfg.name or "",
                    convention=conv,
                    ratio=ratio,
                    d_sae=mcfg.d_sae,
                    coefficient=coef,
                    effective_coefficient=float(mcfg.coefficient),  # type: ignore[attr-defined]
                    steps=trainer.step,
                    mmcs_with_truth=mmcs(truth, dec[j]),
                    n_dead=int((~fired[j]).sum()),
                    l0=float(l0[j]) / x.shape[0],
                    mse=float(sq[j]) / x.numel(),
                    fvu=float(sq[j]) / x.numel() / float(var),
                    trained_on=where,
                    chunk_train_seconds=trainer.train_seconds,
                    chunk_cells=len(chunk),
                )
                key = cell.key
                _write_atomic(
                    self.cells_dir / f"{key}.safetensors",
                    lambda p, w=dec[j]: save_file({"decoder": w.detach().cpu().contiguous()}, str(p)),
                )
                _write_atomic(
                    self.cells_dir / f"{key}.json", lambda p, c=cell: p.write_text(c.model_dump_json())
                )

    def chunk_dir(self, chunk: list[tuple[Convention, float, float]]) -> Path:
        names = sorted(cell_key(*c) for c in chunk)
        h = hashlib.sha256(json.dumps([self.cfg.fingerprint(), names]).encode()).hexdigest()[:12]
        return self.out / "chunks" / h

    def train_chunk(self, chunk: list[tuple[Convention, float, float]]) -> int:
        """Train (or resume) one chunk and store its cells; returns the steps trained in this call."""
        cfg = self.cfg
        cdir = self.chunk_dir(chunk)
        ckpts = sorted((cdir / "checkpoints").glob("step_*")) if cdir.exists() else []
        if ckpts:
            trainer = Trainer.from_checkpoint(cdir, progress=True)
            self.log(f"  resuming chunk {cdir.name} from step {trainer.step}")
        else:
            trainer = Trainer(
                [_dict_config(cfg, *c) for c in chunk], _trainer_config(cfg, cfg.steps, True), out_dir=cdir
            )
        start = trainer.step
        trainer.train(self.batches())
        self.finish(trainer, chunk)
        for old in sorted((cdir / "checkpoints").glob("step_*")):
            for f in old.iterdir():
                f.unlink()
            old.rmdir()
        return trainer.step - start

    def load_cells(self) -> tuple[list[ToyCell], dict[str, torch.Tensor]]:
        cells, decoders = [], {}
        for c in self.cfg.cells():
            key = cell_key(*c)
            cells.append(ToyCell.model_validate_json((self.cells_dir / f"{key}.json").read_text()))
            decoders[key] = load_file(str(self.cells_dir / f"{key}.safetensors"))["decoder"]
        return cells, decoders


@contextlib.contextmanager
def _matmul_precision(cfg: ToyGridConfig) -> Iterator[None]:
    """TF32 matrix products while training when ``cfg.tf32`` (CUDA only; restored afterwards)."""
    old = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = cfg.tf32
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = old


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def estimate_toy_grid(
    cfg: ToyGridConfig, out_dir: str | Path | None = None, *, timing_steps: int = 3
) -> ToyGridEstimate:
    """Time ``timing_steps`` steps (after one warm-up step) of every unfinished (convention, ratio) group and
    extrapolate to the remaining cells (data generation included, evaluation not)."""
    todo = cfg.cells() if out_dir is None else _Run(cfg, Path(out_dir), lambda s: None).todo()
    groups: dict[tuple[Convention, float], list[tuple[Convention, float, float]]] = {}
    for c in todo:
        groups.setdefault((c[0], c[1]), []).append(c)
    ds = ToyDataset(cfg.data, device=cfg.device)
    per_step: dict[str, float] = {}
    n_data = 4
    next(ds.batches(cfg.batch_size, 1))  # warm-up (first kernels on an accelerator), not timed
    _sync(cfg.device)
    t = time.perf_counter()
    batches = list(ds.batches(cfg.batch_size, n_data))
    _sync(cfg.device)
    data_s = (time.perf_counter() - t) / n_data
    old = torch.get_num_threads()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    try:
        with _matmul_precision(cfg):
            for (conv, ratio), members in groups.items():
                trainer = Trainer(
                    [_dict_config(cfg, *c) for c in members], _trainer_config(cfg, timing_steps + 1, False)
                )
                trainer.initialize_from_data(batches[:1])
                trainer.train_step(batches[0])
                _sync(cfg.device)
                t = time.perf_counter()
                for i in range(timing_steps):
                    trainer.train_step(batches[(i + 1) % n_data])
                _sync(cfg.device)
                s = (time.perf_counter() - t) / timing_steps
                per_step[f"{conv}-r{_fmt(ratio)}"] = s
    finally:
        torch.set_num_threads(old)
    est = ToyGridEstimate(
        seconds_per_step=per_step,
        data_seconds_per_step=data_s,
        remaining_cells=len(todo),
        estimated_seconds=0.0,
        upper_bound=cfg.device == "cpu" and not cfg.bf16 and ReluL1Untied.sparse_density > 0,
    )
    # every chunk steps its groups and draws one data batch per step
    est.estimated_seconds = sum(est.chunk_seconds(c, cfg.steps) for c in _chunks(cfg, todo))
    return est


def _train_seconds_total(cells: list[ToyCell]) -> float | None:
    """Σ over chunks of their training time: each cell carries its chunk's time and the chunk's cell count."""
    timed = [c for c in cells if c.chunk_train_seconds is not None and c.chunk_cells]
    if not timed:
        return None
    return sum(c.chunk_train_seconds / c.chunk_cells for c in timed)  # type: ignore[operator]


def _grid(cfg: ToyGridConfig, cells: dict[str, ToyCell], conv: str, field: str) -> list[list[float]]:
    return [
        [getattr(cells[cell_key(conv, r, a)], field) for a in cfg.coefficients] for r in sorted(cfg.ratios)
    ]


def run_toy_grid(
    cfg: ToyGridConfig,
    out_dir: str | Path,
    *,
    log: Callable[[str], None] = print,
    estimate: bool = True,
) -> ToyGridResult:
    """Run (or resume) the grid into ``out_dir``; returns the result also written to ``toy_grid.json``.

    Prints an up-front estimate (``estimate=True``), trains the unfinished cells chunk by chunk, then computes
    the MMCS-with-larger grid from the stored decoders.
    """
    out = Path(out_dir)
    run = _Run(cfg, out, log)
    run.prepare()
    todo = run.todo()
    n_all = len(cfg.cells())
    log(f"toy grid: {n_all} cells, {n_all - len(todo)} already finished, {len(todo)} to train")
    est = estimate_toy_grid(cfg, out) if todo and estimate else None
    if est is not None:
        worst = max(est.seconds_per_step, key=est.seconds_per_step.__getitem__)
        log(
            f"estimate: {est.estimated_seconds / 60:.1f} min of training "
            f"(slowest group {worst}: {est.seconds_per_step[worst] * 1000:.0f} ms/step × {cfg.steps} steps)"
        )
        if est.upper_bound:
            log(
                "  an upper estimate: timed on the first steps, where all codes are dense; members whose codes turn "
                "sparse train faster on a CPU, so expect less (re-estimated after each chunk)"
            )
    chunks = _chunks(cfg, todo)
    t0 = time.perf_counter()
    measured = estimated = 0.0
    for i, chunk in enumerate(chunks):
        ratios = sorted({c[1] for c in chunk})
        log(
            f"chunk {i + 1}/{len(chunks)}: {len(chunk)} dictionaries (ratios {', '.join(_fmt(r) for r in ratios)}) "
            f"× {cfg.steps} steps"
        )
        tc = time.perf_counter()
        with _matmul_precision(cfg):
            steps = run.train_chunk(chunk)
        took = time.perf_counter() - tc
        log(f"  done in {took:.1f} s")
        if est is not None and steps > 0:
            measured += took
            estimated += est.chunk_seconds(chunk, steps)
            rest = sum(est.chunk_seconds(c, cfg.steps) for c in chunks[i + 1 :])
            if rest > 0 and estimated > 0:
                log(
                    f"  took {measured / estimated:.2f}× the estimate so far; the remaining "
                    f"{len(chunks) - i - 1} chunk(s) re-estimated at {rest * measured / estimated / 60:.1f} min"
                )
    seconds = time.perf_counter() - t0
    cells, decoders = run.load_cells()
    by_key = {c.key: c for c in cells}
    ratios = sorted(cfg.ratios)
    larger: dict[str, list[list[float | None]]] = {}
    for conv in cfg.conventions:
        rows: list[list[float | None]] = []
        for i, r in enumerate(ratios):
            row: list[float | None] = []
            for a in cfg.coefficients:
                bigger = [decoders[cell_key(conv, rr, a)] for rr in ratios[i + 1 :]]
                v = mmcs_with_larger(decoders[cell_key(conv, r, a)], bigger) if bigger else None
                row.append(v)
            rows.append(row)
        larger[conv] = rows
    result = ToyGridResult(
        config=cfg,
        cells=cells,
        ratios=ratios,
        coefficients=list(cfg.coefficients),
        mmcs_with_truth={c: _grid(cfg, by_key, c, "mmcs_with_truth") for c in cfg.conventions},
        n_dead={c: _grid(cfg, by_key, c, "n_dead") for c in cfg.conventions},  # type: ignore[misc]
        l0={c: _grid(cfg, by_key, c, "l0") for c in cfg.conventions},
        mmcs_with_larger=larger,
        seconds_training=seconds,
        cells_trained=len(todo),
        trained_on=dict(Counter(c.trained_on or "not recorded" for c in cells)),
        train_seconds_total=_train_seconds_total(cells),
    )
    _write_atomic(out / RESULT_JSON, lambda p: p.write_text(result.model_dump_json(indent=1)))
    return result
