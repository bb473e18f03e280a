"""The toy-model replication grid (seeds-digest §7.1): sparsity coefficient × dictionary ratio, two L1 conventions.

Every cell trains the seed's autoencoder (ReLU encoder with bias, bias-free decoder whose rows are renormalised
inside the forward pass, loss = per-element MSE + α · mean_batch ‖c‖₁, optionally ÷ dictionary size) on one shared,
seeded toy data stream, then records MMCS with the ground truth, the dead count on held-out samples, L0 and MSE.
Differences from the seed, on purpose and stated: the decoder init is xavier-uniform (the replication used an
orthogonal init), and activations are *not* normalised (as the seed; ``TrainerConfig.normalize_activations=False``).

The settings are :mod:`auditlens.toy.grid_config`, the result models :mod:`auditlens.toy.grid_result`, the chunked
training :mod:`auditlens.toy.grid_chunks`. The output folder is a run folder (:class:`auditlens.runs.RunFolder`,
kind ``toy-grid``): ``run.json`` records the config and the fingerprint of the recipe (folders of older versions,
with ``grid_config.json``, resume through a legacy reader). A finished cell is never recomputed. Re-running resumes;
a run with other grid axes (ratios, coefficients, conventions) in the same folder reuses the cells it shares (a cell
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

import logging
import time
from collections import Counter
from pathlib import Path

import torch

from auditlens.errors import DataError, RunFolderError
from auditlens.evals.mmcs import mmcs_with_larger
from auditlens.runs import RunFolder, RunRecord, config_diff, read_json, write_json
from auditlens.sae import ReluL1Untied, Trainer
from auditlens.toy.data import ToyDataset
from auditlens.toy.grid_chunks import Cell, GridCells, chunk_cells, matmul_precision, sync
from auditlens.toy.grid_chunks import dict_config as _dict_config
from auditlens.toy.grid_chunks import trainer_config as _trainer_config
from auditlens.toy.grid_config import (
    Convention,
    ToyGridConfig,
    cell_key,
    fmt_number,
    seed_coefficients,
    seed_ratios,
)
from auditlens.toy.grid_result import ToyCell, ToyGridEstimate, ToyGridResult
from auditlens.toy.result_files import load_result

__all__ = [
    "Convention",
    "ToyCell",
    "ToyGridConfig",
    "ToyGridEstimate",
    "ToyGridResult",
    "cell_key",
    "claim_grid_folder",
    "estimate_toy_grid",
    "load_toy_grid",
    "run_toy_grid",
    "seed_coefficients",
    "seed_ratios",
]
log = logging.getLogger(__name__)

KIND = "toy-grid"
LABEL = "toy grid run"
GRID_JSON = "grid_config.json"
"""Where folders made before ``run.json`` recorded the grid (``{"fingerprint": …, "config": …}``)."""
RESULT_JSON = "toy_grid.json"
_HINT = (
    "use another --out folder, or the same data, steps, batch, lr, eval samples and seed (the ratios, "
    "coefficients and conventions may change: finished cells are reused)"
)


def legacy_grid_record(path: Path) -> RunRecord | None:
    """The record of a grid folder written before ``run.json``: its ``grid_config.json`` (None when absent or
    unreadable). Its fingerprint is the one it recorded, the same hash :meth:`ToyGridConfig.fingerprint` gives."""
    f = path / GRID_JSON
    if not f.is_file():
        return None
    try:
        old = read_json(f, what="toy grid settings")
    except DataError:
        return None
    if not isinstance(old, dict) or not old.get("fingerprint"):
        return None
    return RunRecord(
        kind=KIND,
        fingerprint=str(old["fingerprint"]),
        config=old.get("config") or {},
        legacy_source=GRID_JSON,
    )


def claim_grid_folder(cfg: ToyGridConfig, out: str | Path) -> RunFolder:
    """Claim ``out`` for this grid: a new folder, or one of the same recipe (resumed, whatever its axes); a folder of
    another recipe is refused, naming the settings that differ."""
    out = Path(out)
    existing = RunFolder.read_record(out) or (legacy_grid_record(out) if out.is_dir() else None)
    fp = cfg.fingerprint()
    if existing is not None and existing.kind == KIND and existing.fingerprint != fp:
        raise RunFolderError(
            f"{out} holds a toy grid run with different settings (fingerprint {existing.fingerprint}, now {fp}: "
            f"{config_diff(existing.config, cfg.model_dump(mode='json'))})",
            hint=_HINT,
        )
    folder = RunFolder.claim(
        out, KIND, cfg, identity=cfg.identity(), legacy=legacy_grid_record, hint=_HINT, label=LABEL
    )
    folder.mark("in_progress")
    return folder


def load_toy_grid(path: str | Path) -> ToyGridResult:
    """A toy grid's result: ``path`` is its folder or its ``toy_grid.json`` (a missing or invalid file raises
    :class:`~auditlens.errors.DataError` naming it)."""
    p = Path(path)
    return load_result(p / RESULT_JSON if p.is_dir() else p, ToyGridResult)


def estimate_toy_grid(
    cfg: ToyGridConfig, out_dir: str | Path | None = None, *, timing_steps: int = 3
) -> ToyGridEstimate:
    """Time ``timing_steps`` steps (after one warm-up step) of every unfinished (convention, ratio) group and
    extrapolate to the remaining cells (data generation included, evaluation not)."""
    todo = cfg.cells() if out_dir is None else GridCells(cfg, Path(out_dir)).todo()
    groups: dict[tuple[Convention, float], list[Cell]] = {}
    for c in todo:
        groups.setdefault((c[0], c[1]), []).append(c)
    ds = ToyDataset(cfg.data, device=cfg.device)
    per_step: dict[str, float] = {}
    n_data = 4
    next(ds.batches(cfg.batch_size, 1))  # warm-up (first kernels on an accelerator), not timed
    sync(cfg.device)
    t = time.perf_counter()
    batches = list(ds.batches(cfg.batch_size, n_data))
    sync(cfg.device)
    data_s = (time.perf_counter() - t) / n_data
    old = torch.get_num_threads()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    try:
        with matmul_precision(cfg):
            for (conv, ratio), members in groups.items():
                trainer = Trainer(
                    [_dict_config(cfg, *c) for c in members], _trainer_config(cfg, timing_steps + 1, False)
                )
                trainer.initialize_from_data(batches[:1])
                trainer.train_step(batches[0])
                sync(cfg.device)
                t = time.perf_counter()
                for i in range(timing_steps):
                    trainer.train_step(batches[(i + 1) % n_data])
                sync(cfg.device)
                per_step[f"{conv}-r{fmt_number(ratio)}"] = (time.perf_counter() - t) / timing_steps
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
    est.estimated_seconds = sum(est.chunk_seconds(c, cfg.steps) for c in chunk_cells(cfg, todo))
    return est


def _log_estimate(cfg: ToyGridConfig, est: ToyGridEstimate) -> None:
    worst = max(est.seconds_per_step, key=est.seconds_per_step.__getitem__)
    log.info(
        "estimate: %.1f min of training (slowest group %s: %.0f ms/step × %d steps)",
        est.estimated_seconds / 60,
        worst,
        est.seconds_per_step[worst] * 1000,
        cfg.steps,
    )
    if est.upper_bound:
        log.info(
            "  an upper estimate: timed on the first steps, where all codes are dense; members whose codes turn "
            "sparse train faster on a CPU, so expect less (re-estimated after each chunk)"
        )


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


def _mmcs_with_larger(
    cfg: ToyGridConfig, decoders: dict[str, torch.Tensor]
) -> dict[str, list[list[float | None]]]:
    """Per convention and cell: MMCS with the next (up to two) larger dictionaries at the same α (None on the
    largest ratio)."""
    ratios = sorted(cfg.ratios)
    larger: dict[str, list[list[float | None]]] = {}
    for conv in cfg.conventions:
        rows: list[list[float | None]] = []
        for i, r in enumerate(ratios):
            row: list[float | None] = []
            for a in cfg.coefficients:
                bigger = [decoders[cell_key(conv, rr, a)] for rr in ratios[i + 1 :]]
                row.append(mmcs_with_larger(decoders[cell_key(conv, r, a)], bigger) if bigger else None)
            rows.append(row)
        larger[conv] = rows
    return larger


def run_toy_grid(cfg: ToyGridConfig, out_dir: str | Path, *, estimate: bool = True) -> ToyGridResult:
    """Run (or resume) the grid into ``out_dir``; returns the result also written to ``toy_grid.json``.

    Logs an up-front estimate (``estimate=True``), trains the unfinished cells chunk by chunk, then computes
    the MMCS-with-larger grid from the stored decoders.
    """
    out = Path(out_dir)
    folder = claim_grid_folder(cfg, out)
    run = GridCells(cfg, out)
    todo = run.todo()
    n_all = len(cfg.cells())
    log.info("toy grid: %d cells, %d already finished, %d to train", n_all, n_all - len(todo), len(todo))
    est = estimate_toy_grid(cfg, out) if todo and estimate else None
    if est is not None:
        _log_estimate(cfg, est)
    chunks = chunk_cells(cfg, todo)
    t0 = time.perf_counter()
    measured = estimated = 0.0
    for i, chunk in enumerate(chunks):
        ratios = ", ".join(fmt_number(r) for r in sorted({c[1] for c in chunk}))
        log.info(
            "chunk %d/%d: %d dictionaries (ratios %s) × %d steps",
            i + 1,
            len(chunks),
            len(chunk),
            ratios,
            cfg.steps,
        )
        tc = time.perf_counter()
        with matmul_precision(cfg):
            steps = run.train_chunk(chunk)
        took = time.perf_counter() - tc
        log.info("  done in %.1f s", took)
        if est is not None and steps > 0:
            measured += took
            estimated += est.chunk_seconds(chunk, steps)
            rest = sum(est.chunk_seconds(c, cfg.steps) for c in chunks[i + 1 :])
            if rest > 0 and estimated > 0:
                log.info(
                    "  took %.2f× the estimate so far; the remaining %d chunk(s) re-estimated at %.1f min",
                    measured / estimated,
                    len(chunks) - i - 1,
                    rest * measured / estimated / 60,
                )
    seconds = time.perf_counter() - t0
    cells, decoders = run.load_cells()
    by_key = {c.key: c for c in cells}
    result = ToyGridResult(
        config=cfg,
        cells=cells,
        ratios=sorted(cfg.ratios),
        coefficients=list(cfg.coefficients),
        mmcs_with_truth={c: _grid(cfg, by_key, c, "mmcs_with_truth") for c in cfg.conventions},
        n_dead={c: _grid(cfg, by_key, c, "n_dead") for c in cfg.conventions},  # type: ignore[misc]
        l0={c: _grid(cfg, by_key, c, "l0") for c in cfg.conventions},
        mmcs_with_larger=_mmcs_with_larger(cfg, decoders),
        seconds_training=seconds,
        cells_trained=len(todo),
        trained_on=dict(Counter(c.trained_on or "not recorded" for c in cells)),
        train_seconds_total=_train_seconds_total(cells),
    )
    write_json(out / RESULT_JSON, result)
    folder.mark("complete")
    return result
