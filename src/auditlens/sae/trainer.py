"""Train many dictionaries from one read of each activation batch.

Configs that match in everything but per-member fields (coefficient, seed, name) are stacked into one
:class:`~auditlens.sae.base.Dictionary` and trained with batched matmuls; different widths, k or architectures
form separate groups that all see the same batch. Adam with LR warm-up and linear decay, sparsity-coefficient
warm-up, unit-norm decoder (parallel gradient removed, rows re-projected after each step), a fixed activation
scale and decoder-bias init from the data, dead-latent tracking over a token window (AuxK for TopK-style
dictionaries, resampling for L1 ones), atomic checkpoints with exact resume, NaN/inf guard.

The data is any ``Iterable[torch.Tensor]`` of (batch, d_in) float activations, read from its beginning.

Data parallel: under ``torchrun`` (``torch.distributed`` initialised, gloo on CPU or NCCL on GPU) each process
passes its own equal-sized shard of every global batch; gradients are averaged, FVU-style losses use the global
batch's variance, fired-latent masks and the data statistics are combined, resampling follows rank 0, and only
rank 0 writes checkpoints and results. Dictionaries whose selection couples the whole batch (BatchTopK,
Matryoshka) select per shard, so they match a single process only approximately.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from auditlens.cpu_memory import keep_freed_memory
from auditlens.runs import bar, write_json
from auditlens.sae import parallel
from auditlens.sae.base import Dictionary, DictionaryConfig
from auditlens.sae.checkpoint import save_dictionary
from auditlens.sae.data import check_batch, estimate_data_stats, peek
from auditlens.sae.errors import ConfigError, NonFiniteError
from auditlens.sae.registry import config_from_dict, get_architecture
from auditlens.sae.train_groups import MemberGroup, member_metrics
from auditlens.sae.trainer_config import MemberMetrics, TrainerConfig, TrainResult
from auditlens.sae.trainer_state import STATE_JSON, STATE_TENSORS, load_checkpoint, save_checkpoint

__all__ = ["RESULT_JSON", "STATE_JSON", "STATE_TENSORS", "Trainer", "clip_member_grads"]

RESULT_JSON = "train_result.json"


@torch.no_grad()
def clip_member_grads(module: Dictionary, max_norm: float) -> None:
    """Clip the gradient norm of each stacked member separately (members stay independent)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    sq = torch.stack([g.pow(2).reshape(module.n, -1).sum(1) for g in grads]).sum(0)
    factor = (max_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(factor.view(-1, *([1] * (g.dim() - 1))))


class Trainer:
    """Trains a list of dictionary configs together; see the module docstring."""

    def __init__(
        self,
        configs: Sequence[DictionaryConfig | dict[str, Any]],
        config: TrainerConfig,
        out_dir: str | Path | None = None,
    ):
        cfgs = [c if isinstance(c, DictionaryConfig) else config_from_dict(dict(c)) for c in configs]
        if not cfgs:
            raise ConfigError("no dictionary configs to train", hint="pass at least one config")
        d_ins = {c.d_in for c in cfgs}
        if len(d_ins) != 1:
            raise ConfigError(
                f"configs disagree on d_in ({sorted(d_ins)})", hint="one run trains one hook point"
            )
        if config.checkpoint_every is not None and out_dir is None:
            raise ConfigError("checkpoint_every needs an out_dir", hint="pass out_dir=...")
        names: list[str] = []
        for i, c in enumerate(cfgs):
            name = c.name or f"{c.architecture}_{c.d_sae}_{i}"
            if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name) or name in names:
                raise ConfigError(
                    f"bad or duplicate member name {name!r}", hint="use unique [A-Za-z0-9_.-] names"
                )
            names.append(name)
            cfgs[i] = c.model_copy(
                update={"name": name, "seed": c.seed if c.seed is not None else config.seed * 100_003 + i}
            )
        self.config = config
        self.configs = cfgs
        self.d_in = cfgs[0].d_in
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.device = torch.device(config.device)
        if config.keep_freed_memory and self.device.type == "cpu":
            keep_freed_memory()
        #: data parallel: each process passes its own shard of every global batch; gradients are averaged
        self.rank, self.world = parallel.world()
        self.step = 0
        self.tokens = 0
        self.stats_done = False
        #: wall seconds of the training loop over every call (saved in checkpoints, restored on resume)
        self.train_seconds = 0.0
        self.generator = torch.Generator().manual_seed(config.seed)
        self.history: list[dict[str, Any]] = []
        self._last_metrics: list[MemberMetrics] = []
        self.last_checkpoint: Path | None = None
        self.groups: list[MemberGroup] = []
        by_key: dict[tuple[Any, ...], list[int]] = {}
        for i, c in enumerate(cfgs):
            by_key.setdefault(c.stack_key(), []).append(i)
        for indices in by_key.values():
            members = [cfgs[i] for i in indices]
            cls, _ = get_architecture(members[0].architecture)
            gens = [torch.Generator().manual_seed(int(m.seed or 0)) for m in members]
            self.groups.append(MemberGroup(cls(members, gens).to(self.device), indices, self.device))
        param_groups = [
            {"params": list(g.module.parameters()), "lr": config.lr or g.module.configs[0].default_lr()}
            for g in self.groups
        ]
        for pg in param_groups:
            pg["base_lr"] = pg["lr"]
        try:
            self.optimizer = torch.optim.Adam(
                param_groups, betas=config.betas, eps=config.eps, fused=config.fused_adam
            )
        except RuntimeError:  # pragma: no cover - fused kernel unavailable for this device/dtype
            self.optimizer = torch.optim.Adam(param_groups, betas=config.betas, eps=config.eps)
        for g in self.groups:
            if g.module.constrain_decoder_norm:
                g.module.normalize_decoder()

    # ------------------------------------------------------------------ schedules
    def lr_factor(self, step: int) -> float:
        c = self.config
        f = min(1.0, (step + 1) / c.lr_warmup_steps) if c.lr_warmup_steps else 1.0
        decay_start = int(c.lr_decay_start * c.total_steps)
        if c.lr_decay_start < 1.0 and step >= decay_start:
            f *= max(0.0, (c.total_steps - step) / max(1, c.total_steps - decay_start))
        return f

    def sparsity_scale(self, step: int) -> float:
        w = self.config.sparsity_warmup_steps
        return min(1.0, (step + 1) / w) if w else 1.0

    # ------------------------------------------------------------------ helpers
    @property
    def modules(self) -> list[Dictionary]:
        return [g.module for g in self.groups]

    def dictionary(self, name: str) -> Dictionary:
        """Member ``name`` as a standalone single-member dictionary (a copy, in eval mode)."""
        module, j = self.member(name)
        return module.member(j)

    def member(self, name: str) -> tuple[Dictionary, int]:
        """The stacked module holding member ``name`` and its index there."""
        for g in self.groups:
            for j, i in enumerate(g.indices):
                if self.configs[i].name == name:
                    return g.module, j
        raise ConfigError(f"no member named {name!r}", hint=f"members: {[c.name for c in self.configs]}")

    def initialize_from_data(self, head: list[Tensor]) -> None:
        """Set the activation scale and decoder bias from these batches (done by :meth:`train` on a fresh run)."""
        c = self.config
        for i, x in enumerate(head):
            check_batch(x, self.d_in, f"step {i}")
        stats = estimate_data_stats(
            head, n_batches=len(head), bias_init=c.b_dec_init, normalize=c.normalize_activations
        )
        scale, center = stats.act_scale, stats.center
        if self.world > 1:  # average the per-shard estimates (exact for the mean, close for the median)
            buf = torch.cat([torch.tensor([scale**2]), center * scale]).to(self.device)
            torch.distributed.all_reduce(buf)
            buf = (buf / self.world).cpu()
            scale = math.sqrt(float(buf[0]))
            center = buf[1:] / scale
        for g in self.groups:
            g.module.set_act_scale(scale)
            g.module.init_decoder_bias(center.to(self.device))
        for g in self.groups:
            for j, i in enumerate(g.indices):
                self.configs[i] = g.module.configs[j]
        self.stats_done = True

    # ------------------------------------------------------------------ training
    def train(self, batches: Iterable[Tensor], *, skip: int | None = None) -> TrainResult:
        """Train until ``total_steps``. ``batches`` is read from the start of the data; on a resumed trainer the
        first ``self.step`` batches are skipped (pass ``skip=0`` when the iterable is already positioned).
        With an ``out_dir`` the result is also written to ``<out_dir>/train_result.json``."""
        c = self.config
        old_threads = torch.get_num_threads()
        if c.num_threads:
            torch.set_num_threads(c.num_threads)
        try:
            return self._train(batches, self.step if skip is None else skip)
        finally:
            torch.set_num_threads(old_threads)

    def _train(self, batches: Iterable[Tensor], skip: int) -> TrainResult:
        c = self.config
        it: Iterable[Tensor] = batches
        if not self.stats_done:
            head, it = peek(batches, c.stats_batches)
            self.initialize_from_data(head)
        it = iter(it)
        for _ in range(skip):
            if next(it, None) is None:
                break
        t0 = time.perf_counter()
        seconds_before = self.train_seconds
        rows = 0
        progress = bar(
            total=c.total_steps,
            initial=self.step,
            enabled=c.progress and self.rank == 0,
            desc="train",
            unit="step",
        )
        for m in self.modules:
            m.train()
        try:
            for x in it:
                if self.step >= c.total_steps:
                    break
                rows += self.train_step(x)
                self.train_seconds = seconds_before + (time.perf_counter() - t0)
                progress.update(1)
                if self.step % c.log_every == 0 or self.step == c.total_steps:
                    rec = self._log()
                    fvus = [m["fvu"] for m in rec["members"].values()]
                    progress.set_postfix(fvu=f"{min(fvus):.3f}", l0=f"{rec['mean_l0']:.1f}")
                if c.checkpoint_every and self.step % c.checkpoint_every == 0 and self.rank == 0:
                    self.save_checkpoint()
        finally:
            progress.close()
        done = self.checkpoint_dir() / f"step_{self.step:08d}" if self.out_dir is not None else None
        if (
            c.checkpoint_every
            and self.rank == 0
            and self.step == c.total_steps
            and done
            and not done.exists()
        ):
            self.save_checkpoint()  # the finished state, so that a re-run resumes past the end instead of retraining
        wall = time.perf_counter() - t0
        result = TrainResult(
            steps=self.step,
            tokens=self.tokens,
            wall_seconds=wall,
            train_seconds=self.train_seconds,
            activations_per_second=rows / wall if wall > 0 else 0.0,
            act_scale=float(self.groups[0].module.act_scale),
            members=self.member_metrics(),
            history=self.history,
        )
        if self.out_dir is not None and self.rank == 0:
            write_json(self.out_dir / RESULT_JSON, result)
        return result

    def train_step(self, x: Tensor) -> int:
        """One optimisation step of every dictionary on batch ``x``; returns the rows consumed."""
        c = self.config
        step = self.step
        x = check_batch(
            x, self.d_in, f"step {step}", f"; last good checkpoint: {self.last_checkpoint or 'none written'}"
        ).to(self.device, non_blocking=True)
        B = x.shape[0]
        lr_f = self.lr_factor(step)
        for pg in self.optimizer.param_groups:
            pg["lr"] = pg["base_lr"] * lr_f
        s_scale = self.sparsity_scale(step)
        self.optimizer.zero_grad(set_to_none=True)
        fired_list = []
        variance = parallel.global_variance(x) if self.world > 1 else None
        for g in self.groups:
            dead = g.tokens_since_fired >= c.dead_window_tokens
            g.module.variance_override = None if variance is None else variance / g.module.act_scale**2
            try:
                with self._autocast():
                    out = g.module(x, dead_mask=dead, sparsity_scale=s_scale)
            finally:
                g.module.variance_override = None
            finite = torch.isfinite(out.loss).to(torch.uint8)
            if self.world > 1:  # all processes stop together
                finite = parallel.all_min_finite(finite)
            if not bool(finite):
                bad = [
                    g.module.configs[j].name
                    for j in range(g.module.n)
                    if not torch.isfinite(out.losses["total"][j])
                ]
                raise NonFiniteError(
                    f"step {step}: the training loss of {bad or 'a dictionary'} is NaN or inf; training stopped",
                    hint=f"last good checkpoint: {self.last_checkpoint or 'none written'}; lower the learning rate "
                    "or check the activations",
                )
            out.loss.backward()
            fired_list.append(out.aux["fired"])
            g.accumulate(out.losses, out.aux, dead)
            if (
                c.resample_every_steps
                and g.module.supports_resampling
                and (step + 1) % c.resample_every_steps == 0
                and step + 1 <= c.total_steps - c.resample_every_steps
            ):
                g.resample_err = ((out.reconstruction.detach() - x) / g.module.act_scale).pow(2).sum(-1)
        if self.world > 1:
            parallel.average_grads((p for g in self.groups for p in g.module.parameters()), self.world)
            fired_list = [parallel.all_max_bool(f) for f in fired_list]
        for g in self.groups:
            if g.module.constrain_decoder_norm:
                g.module.remove_parallel_decoder_grad()
            if c.grad_clip_norm:
                clip_member_grads(g.module, c.grad_clip_norm)
        self.optimizer.step()
        for g, fired in zip(self.groups, fired_list, strict=True):
            if g.module.constrain_decoder_norm:
                g.module.normalize_decoder()
            g.tokens_since_fired += B * self.world
            g.tokens_since_fired.masked_fill_(fired, 0)
            if g.resample_err is not None:
                self._resample(g, x, g.resample_err)
                g.resample_err = None
        self.step += 1
        self.tokens += B * self.world
        return B

    def _autocast(self) -> torch.autocast:
        """bfloat16 products when ``matmul_dtype='bfloat16'`` (a no-op context otherwise)."""
        low = self.config.matmul_dtype == "bfloat16"
        return torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16, enabled=low)

    @torch.no_grad()
    def _resample(self, g: MemberGroup, x: Tensor, sq_err: Tensor) -> None:
        dead = g.tokens_since_fired >= self.config.dead_window_tokens  # on the device
        if not bool(dead.any()):
            return
        g.module.resample(dead, g.module.normalise(x), sq_err, self.generator)
        if self.world > 1:  # every process resampled from its own shard: keep rank 0's choice
            parallel.broadcast_from_rank0(g.module.parameters())
        for name in g.module.latent_params:
            p = getattr(g.module, name)
            st = self.optimizer.state.get(p, {})
            for key in ("exp_avg", "exp_avg_sq"):
                if key in st:
                    st[key][dead] = 0.0
        g.tokens_since_fired[dead] = 0

    def member_metrics(self) -> list[MemberMetrics]:
        """Every member's metrics over the steps since the last log (the last logged ones right after a log)."""
        if all(g.recent_steps == 0 for g in self.groups) and self._last_metrics:
            return list(self._last_metrics)
        return member_metrics(self.configs, self.groups)

    def _log(self) -> dict[str, Any]:
        metrics = self.member_metrics()  # reads each group's device sums once
        members = {
            m.name: m.model_dump(include={"mse", "fvu", "l0", "dead_fraction", "loss"}) for m in metrics
        }
        rec = {
            "step": self.step,
            "tokens": self.tokens,
            "lr_factor": self.lr_factor(self.step - 1),
            "sparsity_scale": self.sparsity_scale(self.step - 1),
            "mean_l0": sum(m["l0"] for m in members.values()) / len(members),
            "members": members,
        }
        self.history.append(rec)
        self._last_metrics = metrics
        for g in self.groups:
            g.reset()
        return rec

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_dir(self) -> Path:
        if self.out_dir is None:
            raise ConfigError("this trainer has no out_dir", hint="pass out_dir=... to Trainer")
        return self.out_dir / "checkpoints"

    def save_checkpoint(self, path: str | Path | None = None) -> Path:
        """Write a checkpoint (see :mod:`auditlens.sae.trainer_state`); returns its folder."""
        return save_checkpoint(self, path)

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, out_dir: str | Path | None = None, **overrides: Any
    ) -> Trainer:
        """Rebuild a trainer from a checkpoint folder (a ``step_*`` folder, or a run folder: its latest one).
        ``overrides`` replace TrainerConfig fields (e.g. ``progress=False``)."""
        return load_checkpoint(cls, path, out_dir, **overrides)

    def export(self, out_dir: str | Path | None = None, **provenance: Any) -> list[Path]:
        """Write every member as a SAELens-layout folder ``<out_dir>/<name>`` (see :func:`save_dictionary`)."""
        root = Path(out_dir) if out_dir is not None else self.out_dir
        if root is None:
            raise ConfigError("no folder to export to", hint="pass out_dir")
        metrics = {m.name: m for m in (self._last_metrics or self.member_metrics())}
        paths = []
        for g in self.groups:
            for j, i in enumerate(g.indices):
                name = self.configs[i].name or str(i)
                m = metrics.get(name)
                paths.append(
                    save_dictionary(
                        g.module,
                        root / name,
                        j,
                        training={
                            **self.config.model_dump(mode="json"),
                            "steps": self.step,
                            "tokens": self.tokens,
                        },
                        metrics=m.model_dump(exclude={"name", "architecture", "d_sae"}) if m else None,
                        **provenance,
                    )
                )
        return paths
