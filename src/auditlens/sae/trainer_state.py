"""The trainer's checkpoints: everything needed to resume exactly, in safetensors (tensors) and JSON (the rest).

A checkpoint folder ``<out_dir>/checkpoints/step_<N>`` holds ``trainer_state.safetensors`` (every group's weights and
dead-latent trackers, the optimizer state) and ``trainer_state.json`` (step, tokens, RNG states, configs, history,
training time). It is written atomically (a folder is replaced only by a complete one); a non-finite weight refuses
the write, so the last good checkpoint survives a diverged run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from auditlens.runs.io import write_dir_atomically
from auditlens.sae.errors import CheckpointError, NonFiniteError
from auditlens.sae.registry import config_from_dict
from auditlens.sae.trainer_config import TrainerConfig

if TYPE_CHECKING:
    from auditlens.sae.trainer import Trainer

__all__ = ["STATE_JSON", "STATE_TENSORS", "find_checkpoint", "load_checkpoint", "save_checkpoint"]

STATE_JSON = "trainer_state.json"
STATE_TENSORS = "trainer_state.safetensors"


def _state_tensors(trainer: Trainer) -> dict[str, Tensor]:
    tensors: dict[str, Tensor] = {}
    for gi, g in enumerate(trainer.groups):
        for k, v in g.module.state_dict().items():
            if not bool(torch.isfinite(v).all()):
                raise NonFiniteError(
                    f"step {trainer.step}: parameter {k} of group {gi} is NaN or inf; checkpoint not written",
                    hint=f"last good checkpoint: {trainer.last_checkpoint or 'none written'}",
                )
            tensors[f"group{gi}.module.{k}"] = v.detach().cpu().contiguous()
        tensors[f"group{gi}.tokens_since_fired"] = g.tokens_since_fired.to("cpu", copy=True)
    for pi, st in trainer.optimizer.state_dict()["state"].items():
        for k, v in st.items():
            if isinstance(v, Tensor):
                tensors[f"optim.{pi}.{k}"] = v.detach().cpu().contiguous().clone()
    return tensors


def save_checkpoint(trainer: Trainer, path: str | Path | None = None) -> Path:
    """Write the trainer's state to ``<out_dir>/checkpoints/step_<N>`` (or ``path``), atomically; keeps the newest
    ``keep_checkpoints`` of the run's own checkpoints."""
    target = Path(path) if path is not None else trainer.checkpoint_dir() / f"step_{trainer.step:08d}"
    tensors = _state_tensors(trainer)
    meta = {
        "format_version": 1,
        "step": trainer.step,
        "tokens": trainer.tokens,
        "stats_done": trainer.stats_done,
        "train_seconds": trainer.train_seconds,
        "rng": {
            "trainer": trainer.generator.get_state().tolist(),
            "torch_cpu": torch.get_rng_state().tolist(),
        },
        "trainer_config": trainer.config.model_dump(mode="json"),
        "dictionary_configs": [c.model_dump(mode="json") for c in trainer.configs],
        "history": trainer.history,
    }

    def write(tmp: Path) -> None:
        save_file(tensors, str(tmp / STATE_TENSORS))
        (tmp / STATE_JSON).write_text(json.dumps(meta, indent=1))

    write_dir_atomically(target, write)
    trainer.last_checkpoint = target
    if path is None:
        steps = sorted(trainer.checkpoint_dir().glob("step_*"))
        for old in steps[: -trainer.config.keep_checkpoints]:
            shutil.rmtree(old, ignore_errors=True)
    return target


def find_checkpoint(path: str | Path) -> Path | None:
    """``path`` itself if it is a checkpoint folder, else the newest complete ``step_*`` under it (or under its
    ``checkpoints/``); None when there is none."""
    path = Path(path)
    if (path / STATE_JSON).exists():
        return path
    candidates = sorted((path / "checkpoints").glob("step_*")) or sorted(path.glob("step_*"))
    candidates = [p for p in candidates if (p / STATE_JSON).exists() and (p / STATE_TENSORS).exists()]
    return candidates[-1] if candidates else None


def load_checkpoint(
    cls: type[Trainer], path: str | Path, out_dir: str | Path | None = None, **overrides: Any
) -> Trainer:
    """Rebuild a trainer from a checkpoint folder (a ``step_*`` folder, or a run folder: its latest one).
    ``overrides`` replace TrainerConfig fields (e.g. ``progress=False``)."""
    found = find_checkpoint(path)
    if found is None:
        raise CheckpointError(
            f"no trainer checkpoint under {path}", hint="point at a step_* folder or run dir"
        )
    path = found
    try:
        meta = json.loads((path / STATE_JSON).read_text())
        tensors = load_file(str(path / STATE_TENSORS))
    except (OSError, ValueError, json.JSONDecodeError) as e:
        raise CheckpointError(
            f"cannot read trainer checkpoint {path}: {e}", hint="it may be truncated"
        ) from e
    tcfg = TrainerConfig.from_dict({**meta["trainer_config"], **overrides})
    if out_dir is None:
        out_dir = path.parent.parent if path.parent.name == "checkpoints" else None
    trainer = cls([config_from_dict(d) for d in meta["dictionary_configs"]], tcfg, out_dir)
    for gi, g in enumerate(trainer.groups):
        prefix = f"group{gi}.module."
        sd = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        g.module.load_state_dict(sd, strict=True)
        g.module.configs = [trainer.configs[i] for i in g.indices]
        g.tokens_since_fired = tensors[f"group{gi}.tokens_since_fired"].to(trainer.device, copy=True)
    opt_sd = trainer.optimizer.state_dict()
    state: dict[int, dict[str, Tensor]] = {}
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, pi, name = k.split(".", 2)
            state.setdefault(int(pi), {})[name] = v
    opt_sd["state"] = state
    trainer.optimizer.load_state_dict(opt_sd)
    trainer.generator.set_state(torch.tensor(meta["rng"]["trainer"], dtype=torch.uint8))
    torch.set_rng_state(torch.tensor(meta["rng"]["torch_cpu"], dtype=torch.uint8))
    trainer.step = int(meta["step"])
    trainer.tokens = int(meta["tokens"])
    trainer.stats_done = bool(meta["stats_done"])
    # absent in checkpoints written before 2026-11-27: their earlier training time is not known
    trainer.train_seconds = float(meta.get("train_seconds", 0.0))
    trainer.history = list(meta.get("history", []))
    trainer.last_checkpoint = path
    return trainer
