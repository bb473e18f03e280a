"""Training the toy grid's cells: many dictionaries per data batch, packed into chunks under a memory budget.

All coefficients of one (convention, ratio) are stacked into one vectorised group, and as many groups as fit
``memory_budget_gib`` share one :class:`~auditlens.sae.Trainer` (one data batch feeds them all). A chunk checkpoints
every ``checkpoint_every`` steps into ``chunks/<hash>/`` and resumes from there; each finished cell is evaluated on
held-out samples and written atomically to ``cells/<key>.json`` (+ its decoder as safetensors), and never
recomputed.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from auditlens.evals.mmcs import mmcs
from auditlens.runs import fingerprint, read_json, write_file_atomically, write_json
from auditlens.sae import ReluL1UntiedConfig, Trainer, TrainerConfig
from auditlens.toy.data import ToyDataset
from auditlens.toy.grid_config import Convention, ToyGridConfig, cell_key
from auditlens.toy.grid_result import ToyCell

__all__ = ["Cell", "GridCells", "chunk_cells", "dict_config", "matmul_precision", "sync", "trainer_config"]

log = logging.getLogger(__name__)

Cell = tuple[Convention, float, float]
"""(convention, ratio, divided-convention coefficient)."""


def trained_on(cfg: ToyGridConfig) -> str:
    """Device, matrix-product precision and torch version of this run (recorded in every cell it trains)."""
    dev = torch.device(cfg.device)
    name = f"{dev.type} ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else dev.type
    precision = "bfloat16" if cfg.bf16 else "tf32" if cfg.tf32 and dev.type == "cuda" else "float32"
    return f"{name}, {precision}, torch {torch.__version__}"


def dict_config(cfg: ToyGridConfig, conv: Convention, ratio: float, coef: float) -> ReluL1UntiedConfig:
    """The seed's autoencoder for one cell (undivided cells get α ÷ n_features)."""
    return ReluL1UntiedConfig(
        d_in=cfg.data.d_model,
        d_sae=cfg.d_sae(ratio),
        coefficient=coef if conv == "divided" else cfg.undivided_coefficient(coef),
        divide_by_dict_size=conv == "divided",
        name=cell_key(conv, ratio, coef),
        seed=cfg.seed,
    )


def trainer_config(cfg: ToyGridConfig, steps: int, checkpoint: bool) -> TrainerConfig:
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


def chunk_cells(cfg: ToyGridConfig, todo: list[Cell]) -> list[list[Cell]]:
    """Pack the unfinished cells into chunks: one group per (convention, ratio), groups packed under the budget."""
    groups: dict[tuple[str, float], list[Cell]] = {}
    for cell in todo:
        groups.setdefault((cell[0], cell[1]), []).append(cell)
    budget = cfg.memory_budget_gib * 2**30
    chunks: list[list[Cell]] = []
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


@contextlib.contextmanager
def matmul_precision(cfg: ToyGridConfig) -> Iterator[None]:
    """TF32 matrix products while training when ``cfg.tf32`` (CUDA only; restored afterwards)."""
    old = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = cfg.tf32
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = old


def sync(device: str) -> None:
    """Wait for queued kernels (CUDA) so that wall times mean something."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


class GridCells:
    """The cells of one grid in its folder: which are finished, training a chunk, reading them back."""

    def __init__(self, cfg: ToyGridConfig, out: Path):
        self.cfg = cfg
        self.out = out
        self.cells_dir = out / "cells"
        self.dataset = ToyDataset(cfg.data, device=cfg.device)

    def done(self, key: str) -> bool:
        return (self.cells_dir / f"{key}.json").exists() and (self.cells_dir / f"{key}.safetensors").exists()

    def todo(self) -> list[Cell]:
        return [c for c in self.cfg.cells() if not self.done(cell_key(*c))]

    def batches(self) -> Iterator[torch.Tensor]:
        return self.dataset.batches(self.cfg.batch_size)

    def _held_out(self) -> torch.Tensor:
        gen = torch.Generator().manual_seed(10_007 + self.cfg.data.seed)
        evals = [self.dataset.sample(min(1024, self.cfg.eval_samples), gen).x]
        while sum(e.shape[0] for e in evals) < self.cfg.eval_samples:
            evals.append(self.dataset.sample(min(1024, self.cfg.eval_samples), gen).x)
        return torch.cat(evals)[: self.cfg.eval_samples]

    @torch.no_grad()
    def finish(self, trainer: Trainer, chunk: list[Cell]) -> None:
        """Evaluate every member of a trained chunk and store each cell atomically (decoder first, record last)."""
        x = self._held_out()
        var = (x - x.mean(0)).pow(2).mean()
        truth = self.dataset.features
        where = trained_on(self.cfg)
        self.cells_dir.mkdir(parents=True, exist_ok=True)
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
                weights = {"decoder": dec[j].detach().cpu().contiguous()}
                write_file_atomically(
                    self.cells_dir / f"{cell.key}.safetensors", lambda p, w=weights: save_file(w, str(p))
                )
                write_json(self.cells_dir / f"{cell.key}.json", cell, indent=None)

    def chunk_dir(self, chunk: list[Cell]) -> Path:
        names = sorted(cell_key(*c) for c in chunk)
        return self.out / "chunks" / fingerprint([self.cfg.fingerprint(), names], length=12)

    def train_chunk(self, chunk: list[Cell]) -> int:
        """Train (or resume) one chunk and store its cells; returns the steps trained in this call."""
        cfg = self.cfg
        cdir = self.chunk_dir(chunk)
        ckpts = sorted((cdir / "checkpoints").glob("step_*")) if cdir.exists() else []
        if ckpts:
            trainer = Trainer.from_checkpoint(cdir, progress=True)
            log.info("  resuming chunk %s from step %d", cdir.name, trainer.step)
        else:
            trainer = Trainer(
                [dict_config(cfg, *c) for c in chunk], trainer_config(cfg, cfg.steps, True), out_dir=cdir
            )
        start = trainer.step
        trainer.train(self.batches())
        self.finish(trainer, chunk)
        for old in sorted((cdir / "checkpoints").glob("step_*")):
            shutil.rmtree(old)
        return trainer.step - start

    def load_cells(self) -> tuple[list[ToyCell], dict[str, torch.Tensor]]:
        """Every cell of the grid and its decoder, in grid order."""
        cells, decoders = [], {}
        for c in self.cfg.cells():
            key = cell_key(*c)
            cells.append(read_json(self.cells_dir / f"{key}.json", ToyCell, what="toy grid cell"))
            decoders[key] = load_file(str(self.cells_dir / f"{key}.safetensors"))["decoder"]
        return cells, decoders
