"""The tiny transformer's dictionary-size sweep (seeds-digest §7.3): seed-style untied ReLU+L1 dictionaries
(undivided convention, one coefficient for every size) at ratios 2…64 of the MLP's neurons, all in one
:class:`~auditlens.sae.Trainer` (one read of the store feeds every size), each compared with the next larger one (max
cosine and Hungarian matching): the max-cosine histogram, its bimodality coefficient, the MMCS-vs-size curve and how
neuron-sparse the learned features are.

With a work folder the sweep is a run folder (:class:`auditlens.runs.RunFolder`, kind ``tiny-size-sweep``, keyed on
the sweep's settings, the store and the hook point). A sweep of other settings found there is parked beside it
(``<folder>-<its fingerprint>``, never over an earlier parked one) and brought back when its settings run again.
Folders of older versions (``sweep.json``) resume through a legacy reader; one fingerprinted before
``resample_every`` existed is the same sweep as one without resampling.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from auditlens.errors import DataError
from auditlens.evals.mmcs import CosineHistogram, compare_dictionaries, max_cosine
from auditlens.json_types import NanFloat
from auditlens.runs import RunFolder, RunRecord, fingerprint, read_json, write_json
from auditlens.sae import ReluL1UntiedConfig, Trainer, TrainerConfig, find_coefficient_for_l0
from auditlens.toy.claims import bimodality_coefficient, participation_ratio
from auditlens.toy.tiny_config import TinyTransformerConfig

__all__ = ["SizePair", "SizeSweepResult", "claim_sweep_folder", "run_size_sweep"]

log = logging.getLogger(__name__)

KIND = "tiny-size-sweep"
SWEEP_JSON = "sweep.json"
"""Where older versions kept a sweep folder's fingerprint and coefficient."""
COEFFICIENT_JSON = "coefficient.json"
"""The coefficient the sweep runs with (searched once, then reused on resume)."""


class SizePair(BaseModel):
    """One dictionary compared with the next larger one."""

    model_config = ConfigDict(frozen=True)

    d_sae: int = Field(description="Size of the smaller dictionary.")
    d_sae_larger: int = Field(description="Size of the next larger dictionary.")
    mmcs: float = Field(description="Mean over the smaller one's features of max cosine to the larger.")
    share_max_above: float = Field(description="Share of those max cosines > 0.9.")
    hungarian_mmcs: float = Field(
        description="Mean cosine of Hungarian-matched pairs (seed's 'MMCS with larger')."
    )
    share_matched_above: float = Field(
        description="Share of matched pairs with cosine > 0.9 (seed's '% > 0.9')."
    )
    histogram: CosineHistogram = Field(description="Histogram of the max cosines.")
    mmcs_alive: NanFloat = Field(
        description="As mmcs, over latents that fired on the held-out rows, against the larger one's live latents."
    )
    hungarian_mmcs_alive: NanFloat = Field(description="As hungarian_mmcs, live latents only.")
    histogram_alive: CosineHistogram = Field(description="Histogram of the live latents' max cosines.")


class SizeSweepResult(BaseModel):
    """The dictionary-size sweep on the harvested activations."""

    d_in: int = Field(description="Activation width (the MLP's neurons).")
    sizes: list[int] = Field(description="Dictionary sizes, ascending.")
    coefficient: float = Field(description="L1 coefficient used for every size.")
    l0: list[float] = Field(description="Per size: mean active latents on held-out rows.")
    fvu: list[float] = Field(description="Per size: fraction of variance unexplained on held-out rows.")
    n_dead: list[int] = Field(description="Per size: latents that never fired on the held-out rows.")
    pairs: list[SizePair] = Field(description="Each size vs the next larger one.")
    bimodality_coefficient: NanFloat = Field(
        description="Sarle's BC of all pairs' max cosines pooled (NaN, written as null, with fewer than 4)."
    )
    n_mcs_values: int = Field(description="How many max cosines the BC was computed from.")
    bimodality_coefficient_alive: NanFloat = Field(
        description="Sarle's BC of the live latents' max cosines pooled."
    )
    n_mcs_values_alive: int = Field(description="How many live-latent max cosines that BC was computed from.")
    median_participation_ratio: NanFloat = Field(
        description="Largest dictionary, alive features: median PR (NaN when none is alive)."
    )
    share_top_neuron_dominant: NanFloat = Field(
        description="Largest dictionary, alive features: share with > 50% of norm² on one neuron."
    )
    seconds: float = Field(description="Wall seconds (training + comparisons).")


def _sweep_settings(cfg: TinyTransformerConfig) -> dict[str, Any]:
    keep = cfg.model_dump(
        include={
            "ratios",
            "sae_steps",
            "sae_batch_size",
            "coefficient",
            "target_l0",
            "seed",
            "resample_every",
        }
    )
    # only a seed that changes the sweep enters the fingerprint: sweeps fingerprinted before it existed resume
    if cfg.sae_seed is not None and cfg.sae_seed != cfg.seed:
        keep["sae_seed"] = cfg.sae_seed
    return keep


def _sweep_fingerprints(cfg: TinyTransformerConfig, store_id: str, hook: str) -> tuple[str, set[str]]:
    """The size sweep's fingerprint, and every fingerprint that names the same sweep (earlier versions' included)."""
    keep = _sweep_settings(cfg)
    fp = fingerprint([keep, store_id, hook])
    accepted = {fp}
    if keep["resample_every"] is None:  # sweeps fingerprinted before resample_every existed
        accepted.add(fingerprint([{k: v for k, v in keep.items() if k != "resample_every"}, store_id, hook]))
    return fp, accepted


def _legacy_sweep(fp: str, accepted: set[str]) -> Any:
    """A reader of sweep folders made before ``run.json``: their ``sweep.json`` fingerprint (one of ``accepted``
    is this very sweep), or ``unknown`` for a folder of files from a version that recorded none."""

    def read(path: Path) -> RunRecord | None:
        saved: Any = {}
        if (path / SWEEP_JSON).is_file():
            try:
                saved = read_json(path / SWEEP_JSON, what="size sweep state")
            except DataError:
                saved = {}
        old = saved.get("fingerprint") if isinstance(saved, dict) else None
        if old is None:
            if not any(not p.name.startswith(".") for p in path.iterdir()):
                return None
            old = "unknown"
        config = {k: v for k, v in saved.items() if k != "fingerprint"} if isinstance(saved, dict) else {}
        return RunRecord(
            kind=KIND,
            fingerprint=fp if old in accepted else str(old),
            config=config,
            legacy_source=SWEEP_JSON,
        )

    return read


def claim_sweep_folder(work: str | Path, cfg: TinyTransformerConfig, store_id: str, hook: str) -> RunFolder:
    """Make ``work`` hold this sweep: resume it, bring it back from where it was parked, or park another sweep
    found there beside it (``<work>-<its fingerprint>``; ``-2``, ``-3``, … when that name is taken)."""
    work = Path(work)
    fp, accepted = _sweep_fingerprints(cfg, store_id, hook)
    home = work.with_name(f"{work.name}-{fp}")
    for alias in sorted(accepted - {fp}):  # parked under the fingerprint an older version gave this sweep
        old = work.with_name(f"{work.name}-{alias}")
        if old.is_dir() and not home.exists():
            old.rename(home)
    if home.is_dir() and not (
        work.is_dir() and any(work.iterdir())
    ):  # nothing here: bring the parked one back
        if work.exists():
            work.rmdir()
        home.rename(work)
        log.info("  resuming the size sweep parked in %s", home.name)
    before = set(work.parent.glob(f"{work.name}-*"))
    folder = RunFolder.claim(
        work,
        KIND,
        {"sweep": _sweep_settings(cfg), "store_id": store_id, "hook_point": hook},
        identity=[_sweep_settings(cfg), store_id, hook],
        on_other="park",
        legacy=_legacy_sweep(fp, accepted),
        label="size sweep",
    )
    for parked in sorted(set(work.parent.glob(f"{work.name}-*")) - before):
        log.info("  %s held a size sweep of other settings: moved to %s", work, parked.name)
    if folder.restored_from is not None:
        log.info("  resuming the size sweep parked in %s", folder.restored_from.name)
    return folder


def _saved_coefficient(work: Path) -> float | None:
    """The coefficient a sweep in ``work`` already runs with (``coefficient.json``, or an older ``sweep.json``)."""
    for name in (COEFFICIENT_JSON, SWEEP_JSON):
        f = work / name
        if f.is_file():
            saved = read_json(f, what="size sweep coefficient")
            if isinstance(saved, dict) and saved.get("coefficient") is not None:
                return float(saved["coefficient"])
    return None


def _sae_trainer_config(cfg: TinyTransformerConfig, steps: int) -> TrainerConfig:
    return TrainerConfig(
        total_steps=steps, lr=1e-3, progress=False, num_threads=cfg.num_threads, seed=cfg.sae_seed_value()
    )


def run_size_sweep(
    cfg: TinyTransformerConfig, store_dir: str | Path, hook: str, *, work_dir: str | Path | None = None
) -> SizeSweepResult:
    """Train one dictionary per size on the store (all in one trainer), then compare consecutive sizes.

    With ``work_dir`` the coefficient found and trainer checkpoints are kept there (a run folder, see
    :func:`claim_sweep_folder`), so an interrupted sweep resumes. A sweep of other settings or another store found
    there is not deleted: it is moved aside to ``<work_dir>-<its fingerprint>`` and moved back when those settings run
    again. If that name is already taken, it goes to ``<work_dir>-<its fingerprint>-2`` (``-3``, …), which is kept
    but not brought back automatically."""
    from auditlens.activations import ActivationStore

    t0 = time.perf_counter()
    store = ActivationStore.open(store_dir)
    d_in = store.d_in(hook)
    sizes = sorted(r * d_in for r in cfg.ratios)
    work = Path(work_dir) if work_dir is not None else None
    folder = claim_sweep_folder(work, cfg, store.store_id, hook) if work is not None else None
    sae_seed = cfg.sae_seed_value()

    def batches(seed: int = sae_seed) -> Iterator[torch.Tensor]:
        return store.batches(cfg.sae_batch_size, hook_point=hook, epochs=None, seed=seed, drop_last=True)

    coef = cfg.coefficient
    if coef is None and work is not None:
        coef = _saved_coefficient(work)
    if coef is None:
        search = find_coefficient_for_l0(
            ReluL1UntiedConfig(d_in=d_in, d_sae=sizes[0], seed=sae_seed),
            cfg.target_l0,
            batches,
            _sae_trainer_config(cfg, max(200, cfg.sae_steps // 5)),
            low=1e-3,
            high=10.0,
            max_rounds=4,
        )
        coef = search.coefficient
        log.info("  coefficient search: α=%.3g gives L0 %.1f (target %g)", coef, search.l0, cfg.target_l0)
    configs = [
        ReluL1UntiedConfig(d_in=d_in, d_sae=s, coefficient=coef, name=f"l1_{s}", seed=sae_seed) for s in sizes
    ]
    tcfg = _sae_trainer_config(cfg, cfg.sae_steps)
    if cfg.resample_every:
        tcfg = tcfg.model_copy(
            update={
                "resample_every_steps": cfg.resample_every,
                "dead_window_tokens": cfg.resample_every * cfg.sae_batch_size,
            }
        )
    if work is not None:
        write_json(work / COEFFICIENT_JSON, {"coefficient": coef})
        tcfg = tcfg.model_copy(
            update={
                "checkpoint_every": max(100, cfg.sae_steps // 10),
                "keep_checkpoints": 1,
                "progress": True,
            }
        )
    if work is not None and list((work / "checkpoints").glob("step_*")):
        trainer = Trainer.from_checkpoint(work, progress=True)
        log.info("  resuming the size sweep from step %d", trainer.step)
    else:
        trainer = Trainer(configs, tcfg, out_dir=work)
    trainer.train(batches())
    held = next(iter(store.batches(8192, hook_point=hook, epochs=None, seed=10_007)))
    result = _compare_sizes(trainer, sizes, held, d_in, float(coef), t0)
    if folder is not None:
        folder.mark("complete")
    return result


@torch.no_grad()
def _compare_sizes(
    trainer: Trainer, sizes: list[int], held: torch.Tensor, d_in: int, coef: float, t0: float
) -> SizeSweepResult:
    """Evaluate every size on the held-out rows and compare each with the next larger one."""
    decoders, l0s, fvus, deads, alives = [], [], [], [], []
    var = float((held - held.mean(0)).pow(2).mean())
    for s in sizes:
        module, j = trainer.member(f"l1_{s}")
        codes = module.encode(held)[j : j + 1]
        recon = module.decode(codes)[0]
        fired = (codes[0] > 0).any(0)
        l0s.append(float((codes[0] > 0).sum(-1).float().mean()))
        fvus.append(float((recon - held).pow(2).mean()) / var)
        deads.append(int((~fired).sum()))
        decoders.append(module.decoder_NFD()[j].detach().clone())  # type: ignore[operator]
        alives.append(fired if bool(fired.any()) else torch.ones_like(fired))
    pairs, pooled, pooled_alive = [], [], []
    for i in range(len(sizes) - 1):
        a, b = decoders[i], decoders[i + 1]
        comp = compare_dictionaries(a, b, hungarian=True)
        live = compare_dictionaries(a[alives[i]], b[alives[i + 1]], hungarian=True)
        pooled.append(max_cosine(a, b).values)
        pooled_alive.append(max_cosine(a[alives[i]], b[alives[i + 1]]).values)
        pairs.append(
            SizePair(
                d_sae=sizes[i],
                d_sae_larger=sizes[i + 1],
                mmcs=comp.mmcs,
                share_max_above=comp.share_max_above,
                hungarian_mmcs=float(comp.hungarian_mmcs or 0.0),
                share_matched_above=float(comp.share_matched_above or 0.0),
                histogram=comp.max_cosine_histogram,
                mmcs_alive=live.mmcs,
                hungarian_mmcs_alive=float(live.hungarian_mmcs or 0.0),
                histogram_alive=live.max_cosine_histogram,
            )
        )
    mcs, mcs_alive = torch.cat(pooled), torch.cat(pooled_alive)
    last = decoders[-1][alives[-1]]
    pr = participation_ratio(last)
    sq = last.pow(2)
    top_share = (sq.max(-1).values / sq.sum(-1).clamp_min(1e-12) > 0.5).float().mean()
    return SizeSweepResult(
        d_in=d_in,
        sizes=sizes,
        coefficient=coef,
        l0=l0s,
        fvu=fvus,
        n_dead=deads,
        pairs=pairs,
        bimodality_coefficient=bimodality_coefficient(mcs),
        n_mcs_values=int(mcs.numel()),
        bimodality_coefficient_alive=bimodality_coefficient(mcs_alive),
        n_mcs_values_alive=int(mcs_alive.numel()),
        median_participation_ratio=float(pr.median()),
        share_top_neuron_dominant=float(top_share),
        seconds=time.perf_counter() - t0,
    )
