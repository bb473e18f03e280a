"""Train dictionaries on an activation store — alone or data-parallel under ``torchrun``.

This is the glue between :class:`~auditlens.activations.ActivationStore` and :class:`~auditlens.sae.Trainer`
that ``auditlens train`` and ``auditlens pipeline`` share: it sizes the run from the store, resumes from the last
checkpoint in the output folder, and exports every dictionary in the SAELens layout with its provenance.

Under ``torchrun --nproc_per_node=N`` every process reads the same (seeded) global batches and trains on its
own contiguous shard of each; the trainer averages gradients across processes (gloo on CPU, NCCL on GPU) and
only rank 0 writes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, Field

from auditlens.activations import ActivationStore
from auditlens.errors import ConfigError
from auditlens.sae import DictionaryConfig, Trainer, TrainerConfig, TrainResult, config_from_dict
from auditlens.sae.trainer_state import STATE_JSON


class TrainOutcome(BaseModel):
    """What :func:`train_on_store` produced."""

    dictionaries: list[str] = Field(
        description="Exported dictionary folders (cfg.json + sae_weights.safetensors)."
    )
    result: TrainResult | None = Field(
        description="Training result; None when every dictionary already existed."
    )


def parse_dictionary_spec(spec: str, d_in: int) -> DictionaryConfig:
    """``"topk:d_sae=4608,k=32"`` → a validated config (``d_in`` filled from the store).

    Values are parsed as int, then float, then bool (``true``/``false``), else kept as strings.
    """
    arch, _, rest = spec.partition(":")
    fields: dict[str, Any] = {"architecture": arch.strip(), "d_in": d_in}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, raw = item.partition("=")
        if not eq:
            raise ConfigError(f"bad dictionary field {item!r} in {spec!r}", hint="write key=value, e.g. k=32")
        fields[key.strip()] = _parse_value(raw.strip())
    return config_from_dict(fields)


def _parse_value(raw: str) -> Any:
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return raw


def _sharded(batches: Iterator[torch.Tensor], rank: int, world: int) -> Iterator[torch.Tensor]:
    for b in batches:
        n = b.shape[0] // world
        if n == 0:
            continue
        yield b[rank * n : (rank + 1) * n]


def _init_distributed() -> tuple[int, int, bool]:
    """Join the process group ``torchrun`` describes in the environment; (rank, world size, joined here)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, False
    joined = not torch.distributed.is_initialized()
    if joined:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend=backend)
    return torch.distributed.get_rank(), torch.distributed.get_world_size(), joined


def _leave_distributed(world: int, joined: bool) -> None:
    """Wait for every process (rank 0 writes the exports), then leave a group joined here.

    Without the barrier a rank that finished early tore the gloo group down while rank 0 still wrote, and
    sometimes died in C++ teardown (``terminate called without an active exception``, SIGABRT: 2 of 30 runs of the
    2-process test); with it that became rare (about 1 in 50 under load) but not impossible: a torch/gloo teardown
    bug, after the work is written.
    """
    if world > 1:
        torch.distributed.barrier()
        if joined:
            torch.distributed.destroy_process_group()


def train_on_store(
    store: ActivationStore,
    configs: Sequence[DictionaryConfig],
    out: Path,
    *,
    hook_point: str | None = None,
    batch_size: int = 4096,
    epochs: float = 1.0,
    steps: int | None = None,
    seed: int = 0,
    checkpoint_every: int | None = None,
    progress: bool = True,
    **trainer_fields: Any,
) -> TrainOutcome:
    """Train ``configs`` on ``store`` into ``out`` (resuming), export them, and say where they are.

    The run lasts ``steps`` global batches, or ``epochs`` passes over the store's rows. Extra keyword arguments
    are :class:`~auditlens.sae.TrainerConfig` fields (``lr``, ``lr_warmup_steps``, ``sparsity_warmup_steps``…).
    """
    hp = store.resolve_hook_point(hook_point)
    names = [c.name or f"{c.architecture}_{c.d_sae}_{i}" for i, c in enumerate(configs)]
    configs = [c.model_copy(update={"name": n}) for c, n in zip(configs, names, strict=True)]
    for c in configs:
        if c.d_in != store.d_in(hp):
            raise ConfigError(
                f"dictionary {c.name} has d_in {c.d_in} but the store's {hp} has width {store.d_in(hp)}",
                hint="leave d_in out of the spec; it is taken from the store",
            )
    if all((out / n / "sae_weights.safetensors").exists() for n in names):
        return TrainOutcome(dictionaries=[str(out / n) for n in names], result=None)
    rank, world, joined = _init_distributed()
    if batch_size % world:
        if joined:
            torch.distributed.destroy_process_group()
        raise ConfigError(
            f"batch size {batch_size} does not split evenly over {world} processes",
            hint=f"use a multiple of {world}",
        )
    total = steps or max(1, int(store.n_rows * epochs) // batch_size)
    tcfg = TrainerConfig(
        total_steps=total,
        lr_warmup_steps=trainer_fields.pop("lr_warmup_steps", min(50, total // 10)),
        checkpoint_every=checkpoint_every or max(1, total // 8),
        seed=seed,
        progress=progress and rank == 0,
        log_every=trainer_fields.pop("log_every", max(1, min(25, total // 10))),
        **trainer_fields,
    )
    has_checkpoint = any((out / "checkpoints").glob(f"step_*/{STATE_JSON}"))
    if has_checkpoint:
        trainer = Trainer.from_checkpoint(out, progress=tcfg.progress)
        if [c.name for c in trainer.configs] != names:
            raise ConfigError(
                f"{out} holds a training run of other dictionaries ({[c.name for c in trainer.configs]})",
                hint="choose another --out folder",
            )
    else:
        trainer = Trainer(configs, tcfg, out_dir=out)
    batches = store.batches(batch_size, hook_point=hp, seed=seed, epochs=None)
    result = trainer.train(_sharded(batches, rank, world))
    layer = re.match(r"blocks\.(\d+)\.", hp)
    paths: list[Path] = []
    if rank == 0:
        paths = trainer.export(
            hook_name=hp,
            hook_layer=int(layer.group(1)) if layer else None,
            model_name=store.manifest.model.id,
            context_size=store.manifest.context_length,
            dataset_path=str(store.path),
            activation_store_id=store.store_id,
        )
    _leave_distributed(world, joined)
    return TrainOutcome(dictionaries=[str(p) for p in paths], result=result)
