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

import json
import math
import re
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from safetensors.torch import load_file, save_file
from torch import Tensor
from tqdm.auto import tqdm

from auditlens.cpu_memory import keep_freed_memory
from auditlens.sae.base import Dictionary, DictionaryConfig
from auditlens.sae.checkpoint import save_dictionary, write_dir_atomically
from auditlens.sae.data import BiasInit, check_batch, estimate_data_stats, peek
from auditlens.sae.errors import CheckpointError, ConfigError, NonFiniteError
from auditlens.sae.registry import config_from_dict, get_architecture

L1_ARCHITECTURES = ("relu_l1_tied", "relu_l1_untied")
STATE_JSON = "trainer_state.json"
STATE_TENSORS = "trainer_state.safetensors"
RESULT_JSON = "train_result.json"


class TrainerConfig(BaseModel):
    """Optimisation and bookkeeping settings shared by every dictionary in one training run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    total_steps: int = Field(gt=0, description="Number of batches to train on (the schedules' length).")
    lr: float | None = Field(
        default=None,
        gt=0,
        description="Adam learning rate. None: 1e-3 for ReLU+L1 (seed), else 2e-4 / sqrt(d_sae / 2^14) (sparsify).",
    )
    lr_warmup_steps: int = Field(
        default=0, ge=0, description="Linear LR warm-up from 0 over this many steps."
    )
    lr_decay_start: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Fraction of total_steps after which the LR decays linearly to 0.",
    )
    sparsity_warmup_steps: int = Field(
        default=0, ge=0, description="Linear sparsity-coefficient warm-up steps."
    )
    betas: tuple[float, float] = Field(default=(0.9, 0.999), description="Adam betas.")
    eps: float = Field(default=1e-8, gt=0, description="Adam epsilon.")
    grad_clip_norm: float | None = Field(
        default=None, gt=0, description="Clip each member's grad norm (None: off)."
    )
    seed: int = Field(default=0, description="Seeds member inits (seed, member index) and the trainer's RNG.")
    normalize_activations: bool = Field(default=True, description="Divide inputs by a fixed data scale.")
    b_dec_init: BiasInit = Field(default="geometric_median", description="Decoder-bias init from the data.")
    stats_batches: int = Field(default=4, ge=1, description="Batches used to estimate the scale and b_dec.")
    dead_window_tokens: int = Field(
        default=10_000_000, gt=0, description="A latent is dead after this many tokens without firing."
    )
    resample_every_steps: int | None = Field(
        default=None,
        gt=0,
        description="Resample dead latents of ReLU+L1 dictionaries every N steps (None: off). Never within the "
        "last N steps: a latent resampled there would be exported untrained.",
    )
    checkpoint_every: int | None = Field(default=None, gt=0, description="Write a checkpoint every N steps.")
    keep_checkpoints: int = Field(default=2, ge=1, description="How many recent checkpoints to keep.")
    log_every: int = Field(default=10, gt=0, description="Record metrics every N steps.")
    progress: bool = Field(default=True, description="Show a tqdm progress bar.")
    device: str = Field(default="cpu", description="torch device for dictionaries and batches.")
    num_threads: int | None = Field(
        default=None, gt=0, description="torch.set_num_threads for training (None: keep)."
    )
    fused_adam: bool = Field(default=True, description="Use torch's fused Adam kernel where available.")
    keep_freed_memory: bool = Field(
        default=True,
        description="On a CPU, have glibc malloc keep freed memory for reuse (process-wide, once; "
        ":func:`auditlens.cpu_memory.keep_freed_memory`): without it a step's large temporaries come back as fresh "
        "pages every step (toy-grid steps 1.24x slower; benchmarks/cpu_allocator.py). Memory the process frees is then kept.",
    )
    matmul_dtype: Literal["float32", "bfloat16"] = Field(
        default="float32",
        description="'bfloat16': the forward and backward passes run under torch.autocast, so matrix products take "
        "bfloat16 inputs (float32 accumulation); parameters, optimizer state and losses stay float32. Products "
        "about 3x faster on CPUs with AVX512-BF16 (dev box), whole steps 1.1-1.5x at d_in 256; on the quick toy "
        "grid MMCS with truth stays within 0.001 of float32 in every cell.",
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainerConfig:
        """Validate a dict (e.g. from TOML/JSON); unknown keys or bad values raise :class:`ConfigError`."""
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in e.errors()
            )
            raise ConfigError(
                f"invalid trainer config: {problems}",
                hint=f"valid keys: {', '.join(sorted(cls.model_fields))}",
            ) from None


class MemberMetrics(BaseModel):
    """Metrics of one dictionary, averaged over the last ``log_every`` steps (normalised units)."""

    name: str = Field(description="Member name (its export folder).")
    architecture: str = Field(description="Architecture name.")
    d_sae: int = Field(description="Width.")
    mse: float = Field(description="Mean squared error per element, in normalised units.")
    fvu: float = Field(description="Fraction of variance unexplained (seed §5.4).")
    l0: float = Field(description="Mean number of active latents per input.")
    dead_fraction: float = Field(description="Fraction of latents that did not fire within the dead window.")
    loss: float = Field(description="Total training loss.")


class TrainResult(BaseModel):
    """What :meth:`Trainer.train` returns."""

    steps: int = Field(description="Steps completed (including steps before a resume).")
    tokens: int = Field(description="Activation rows consumed.")
    wall_seconds: float = Field(description="Wall time of this call.")
    train_seconds: float = Field(
        default=0.0,
        description="Wall seconds of the training loop up to the last step, over every call: a resumed run adds to "
        "the time saved in its checkpoint (steps lost after a checkpoint are not counted).",
    )
    activations_per_second: float = Field(description="Rows per second in this call (training steps only).")
    act_scale: float = Field(description="The data scale in use.")
    members: list[MemberMetrics] = Field(description="Final metrics per dictionary, in config order.")
    history: list[dict[str, Any]] = Field(description="Logged metrics every log_every steps.")


class _Group:
    """Members stacked into one module, with their position in the trainer's config list."""

    def __init__(self, module: Dictionary, indices: list[int], device: torch.device):
        self.module = module
        self.indices = indices
        #: on the training device, so that the per-step bookkeeping never waits for it
        self.tokens_since_fired = torch.zeros(module.n, module.d_sae, dtype=torch.int64, device=device)
        #: (5, n) sums of (mse, fvu, l0, dead share, loss) since the last log, on the device, and their count
        self.recent_sums: Tensor | None = None
        self.recent_steps = 0
        #: per-input squared error (n, B) kept for one step when dead latents are to be resampled
        self.resample_err: Tensor | None = None


def _world() -> tuple[int, int]:
    """(rank, world size) of the initialised torch.distributed group, else (0, 1)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


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


def default_lr(cfg: DictionaryConfig) -> float:
    if cfg.architecture in L1_ARCHITECTURES:
        return 1e-3
    return 2e-4 / math.sqrt(cfg.d_sae / 2**14)


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
        self.rank, self.world = _world()
        self.step = 0
        self.tokens = 0
        self.stats_done = False
        #: wall seconds of the training loop over every call (saved in checkpoints, restored on resume)
        self.train_seconds = 0.0
        self.generator = torch.Generator().manual_seed(config.seed)
        self.history: list[dict[str, Any]] = []
        self.last_checkpoint: Path | None = None
        self.groups: list[_Group] = []
        by_key: dict[tuple[Any, ...], list[int]] = {}
        for i, c in enumerate(cfgs):
            by_key.setdefault(c.stack_key(), []).append(i)
        for indices in by_key.values():
            members = [cfgs[i] for i in indices]
            cls, _ = get_architecture(members[0].architecture)
            gens = [torch.Generator().manual_seed(int(m.seed or 0)) for m in members]
            self.groups.append(_Group(cls(members, gens).to(self.device), indices, self.device))
        param_groups = [
            {"params": list(g.module.parameters()), "lr": config.lr or default_lr(g.module.configs[0])}
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
        bar = tqdm(
            total=c.total_steps,
            initial=self.step,
            disable=not c.progress or self.rank != 0,
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
                bar.update(1)
                if self.step % c.log_every == 0 or self.step == c.total_steps:
                    rec = self._log()
                    fvus = [m["fvu"] for m in rec["members"].values()]
                    bar.set_postfix(fvu=f"{min(fvus):.3f}", l0=f"{rec['mean_l0']:.1f}")
                if c.checkpoint_every and self.step % c.checkpoint_every == 0 and self.rank == 0:
                    self.save_checkpoint()
        finally:
            bar.close()
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
            self.out_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.out_dir / f".{RESULT_JSON}.tmp"
            tmp.write_text(result.model_dump_json(indent=1))
            tmp.replace(self.out_dir / RESULT_JSON)
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
        variance = self._global_variance(x) if self.world > 1 else None
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
                torch.distributed.all_reduce(finite, op=torch.distributed.ReduceOp.MIN)
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
            self._accumulate(g, out.losses, out.aux, dead)
            if (
                c.resample_every_steps
                and g.module.supports_resampling
                and (step + 1) % c.resample_every_steps == 0
                and step + 1 <= c.total_steps - c.resample_every_steps
            ):
                g.resample_err = ((out.reconstruction.detach() - x) / g.module.act_scale).pow(2).sum(-1)
        if self.world > 1:
            self._sync_grads()
            for i, fired in enumerate(fired_list):
                f = fired.to(torch.uint8)
                torch.distributed.all_reduce(f, op=torch.distributed.ReduceOp.MAX)
                fired_list[i] = f.bool()
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
    def _global_variance(self, x: Tensor) -> Tensor:
        """Per-element variance (raw units) of the global batch = the union of every process's shard."""
        stats = torch.cat([x.sum(0), x.pow(2).sum().reshape(1), x.new_tensor([x.shape[0]])]).double()
        torch.distributed.all_reduce(stats)
        n = stats[-1]
        mean = stats[:-2] / n
        return ((stats[-2] / n - mean.pow(2).sum()) / x.shape[1]).to(x.dtype)

    @torch.no_grad()
    def _sync_grads(self) -> None:
        """Average gradients over data-parallel processes (one flat all-reduce)."""
        grads = [p.grad for g in self.groups for p in g.module.parameters() if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([t.reshape(-1) for t in grads])
        torch.distributed.all_reduce(flat)
        flat /= self.world
        offset = 0
        for t in grads:
            t.copy_(flat[offset : offset + t.numel()].view_as(t))
            offset += t.numel()

    @torch.no_grad()
    def _resample(self, g: _Group, x: Tensor, sq_err: Tensor) -> None:
        dead = g.tokens_since_fired >= self.config.dead_window_tokens  # on the device
        if not bool(dead.any()):
            return
        g.module.resample(dead, g.module.normalise(x), sq_err, self.generator)
        if self.world > 1:  # every process resampled from its own shard: keep rank 0's choice
            for p in g.module.parameters():
                torch.distributed.broadcast(p.data, src=0)
        for name in g.module.latent_params:
            p = getattr(g.module, name)
            st = self.optimizer.state.get(p, {})
            for key in ("exp_avg", "exp_avg_sq"):
                if key in st:
                    st[key][dead] = 0.0
        g.tokens_since_fired[dead] = 0

    def _accumulate(self, g: _Group, losses: dict[str, Tensor], aux: dict[str, Tensor], dead: Tensor) -> None:
        """Adds this step's metrics to the group's running sums, on the device (read back only when logged)."""
        vals = torch.stack(
            [
                aux["mse"].detach(),
                aux["fvu"].detach(),
                aux["l0"].detach(),
                dead.float().mean(-1),
                losses["total"].detach(),
            ]
        ).float()
        g.recent_sums = vals if g.recent_sums is None else g.recent_sums.add_(vals)
        g.recent_steps += 1

    def member_metrics(self) -> list[MemberMetrics]:
        if all(g.recent_steps == 0 for g in self.groups) and getattr(self, "_last_metrics", None):
            return list(self._last_metrics)
        means: dict[int, list[float]] = {}
        for g in self.groups:
            if g.recent_sums is not None and g.recent_steps:
                cols = (g.recent_sums / g.recent_steps).cpu().t().tolist()
                means.update(zip(g.indices, cols, strict=True))
        out = []
        for i, cfg in enumerate(self.configs):
            v = means.get(i, [math.nan] * 5)
            out.append(
                MemberMetrics(
                    name=cfg.name or "",
                    architecture=cfg.architecture,
                    d_sae=cfg.d_sae,
                    mse=v[0],
                    fvu=v[1],
                    l0=v[2],
                    dead_fraction=v[3],
                    loss=v[4],
                )
            )
        return out

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
            g.recent_sums, g.recent_steps = None, 0
        return rec

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_dir(self) -> Path:
        if self.out_dir is None:
            raise ConfigError("this trainer has no out_dir", hint="pass out_dir=... to Trainer")
        return self.out_dir / "checkpoints"

    def save_checkpoint(self, path: str | Path | None = None) -> Path:
        """Write weights, optimizer state and dead-latent trackers (safetensors) plus step, RNG states and configs
        (JSON) to ``<out_dir>/checkpoints/step_<N>`` (or ``path``), atomically; keeps ``keep_checkpoints``."""
        target = Path(path) if path is not None else self.checkpoint_dir() / f"step_{self.step:08d}"
        tensors: dict[str, Tensor] = {}
        for gi, g in enumerate(self.groups):
            for k, v in g.module.state_dict().items():
                if not bool(torch.isfinite(v).all()):
                    raise NonFiniteError(
                        f"step {self.step}: parameter {k} of group {gi} is NaN or inf; checkpoint not written",
                        hint=f"last good checkpoint: {self.last_checkpoint or 'none written'}",
                    )
                tensors[f"group{gi}.module.{k}"] = v.detach().cpu().contiguous()
            tensors[f"group{gi}.tokens_since_fired"] = g.tokens_since_fired.to("cpu", copy=True)
        opt_state = self.optimizer.state_dict()
        for pi, st in opt_state["state"].items():
            for k, v in st.items():
                if isinstance(v, Tensor):
                    tensors[f"optim.{pi}.{k}"] = v.detach().cpu().contiguous().clone()
        meta = {
            "format_version": 1,
            "step": self.step,
            "tokens": self.tokens,
            "stats_done": self.stats_done,
            "train_seconds": self.train_seconds,
            "rng": {
                "trainer": self.generator.get_state().tolist(),
                "torch_cpu": torch.get_rng_state().tolist(),
            },
            "trainer_config": self.config.model_dump(mode="json"),
            "dictionary_configs": [c.model_dump(mode="json") for c in self.configs],
            "history": self.history,
        }

        def write(tmp: Path) -> None:
            save_file(tensors, str(tmp / STATE_TENSORS))
            (tmp / STATE_JSON).write_text(json.dumps(meta, indent=1))

        write_dir_atomically(target, write)
        self.last_checkpoint = target
        if path is None:
            steps = sorted(self.checkpoint_dir().glob("step_*"))
            for old in steps[: -self.config.keep_checkpoints]:
                shutil.rmtree(old, ignore_errors=True)
        return target

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, out_dir: str | Path | None = None, **overrides: Any
    ) -> Trainer:
        """Rebuild a trainer from a checkpoint folder (a ``step_*`` folder, or a run folder: its latest one).
        ``overrides`` replace TrainerConfig fields (e.g. ``progress=False``)."""
        path = Path(path)
        if not (path / STATE_JSON).exists():
            candidates = sorted((path / "checkpoints").glob("step_*")) or sorted(path.glob("step_*"))
            candidates = [p for p in candidates if (p / STATE_JSON).exists() and (p / STATE_TENSORS).exists()]
            if not candidates:
                raise CheckpointError(
                    f"no trainer checkpoint under {path}", hint="point at a step_* folder or run dir"
                )
            path = candidates[-1]
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

    def export(self, out_dir: str | Path | None = None, **provenance: Any) -> list[Path]:
        """Write every member as a SAELens-layout folder ``<out_dir>/<name>`` (see :func:`save_dictionary`)."""
        root = Path(out_dir) if out_dir is not None else self.out_dir
        if root is None:
            raise ConfigError("no folder to export to", hint="pass out_dir")
        metrics = {m.name: m for m in (getattr(self, "_last_metrics", None) or self.member_metrics())}
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


# ---------------------------------------------------------------------- coefficient search
class CoefficientSearchResult(BaseModel):
    """What :func:`find_coefficient_for_l0` found."""

    target_l0: float = Field(description="Requested L0.")
    coefficient: float = Field(description="Best coefficient found.")
    l0: float = Field(description="L0 it gave at the end of its short run.")
    within_tolerance: bool = Field(description="|l0 - target| <= tolerance · target.")
    rounds: int = Field(description="Search rounds run.")
    tried: list[tuple[float, float]] = Field(description="(coefficient, L0) for every short run.")


def _log_grid(low: float, high: float, n: int, tried: set[float]) -> list[float]:
    """``n`` log-spaced coefficients over [low, high], leaving out an end already tried (so it is not retrained)."""
    skip_low, skip_high = low in tried, high in tried
    segments = n - 1 + skip_low + skip_high
    pts = [
        math.exp(math.log(low) + (math.log(high) - math.log(low)) * i / segments) for i in range(segments + 1)
    ]
    return pts[1 if skip_low else 0 : len(pts) - 1 if skip_high else len(pts)]


def _bracket(tried: list[tuple[float, float]], target_l0: float) -> tuple[float, float]:
    """The tightest [low, high] around the target over every run so far (L0 falls as the coefficient grows);
    ×10 beyond the tried range when the target lies outside it."""
    dense = [c for c, l0 in tried if l0 > target_l0]  # coefficient too small
    sparse = [c for c, l0 in tried if l0 <= target_l0]  # coefficient too large
    if not dense:
        return min(sparse) / 10, min(sparse)
    if not sparse:
        return max(dense), max(dense) * 10
    high = min(sparse)
    below = [c for c in dense if c < high]
    return (max(below) if below else high / 10), high


def find_coefficient_for_l0(
    base_config: DictionaryConfig,
    target_l0: float,
    batches: Callable[[], Iterable[Tensor]],
    trainer_config: TrainerConfig,
    *,
    low: float = 1e-5,
    high: float = 1.0,
    candidates_per_round: int = 4,
    max_rounds: int = 8,
    tolerance: float = 0.1,
) -> CoefficientSearchResult:
    """Find the sparsity coefficient that gives ``target_l0`` (± ``tolerance``) after short runs.

    A vectorised bisection in log space: each round trains ``candidates_per_round`` new coefficients stacked in
    one run (``batches()`` must yield the same data each call), then narrows [low, high] to the tightest pair of
    runs so far that brackets the target (L0 falls as the coefficient grows), whose ends are not retrained; the
    range widens ×10 when the target lies outside every run so far.
    """
    if "coefficient" not in type(base_config).model_fields:
        raise ConfigError(
            f"architecture {base_config.architecture!r} has no sparsity coefficient",
            hint="set k directly instead",
        )
    if not (0 < low < high):
        raise ConfigError("need 0 < low < high", hint="e.g. low=1e-5, high=1.0")
    tcfg = trainer_config.model_copy(update={"checkpoint_every": None, "progress": False})
    tried: list[tuple[float, float]] = []
    rounds = 0
    bar = tqdm(total=max_rounds, desc="coefficient search", unit="round", leave=False)
    for rounds in range(1, max_rounds + 1):  # noqa: B007
        coefs = _log_grid(low, high, max(2, candidates_per_round), {c for c, _ in tried})
        configs = [
            base_config.model_copy(update={"coefficient": a, "name": f"c{i}", "seed": base_config.seed})
            for i, a in enumerate(coefs)
        ]
        result = Trainer(configs, tcfg).train(batches())
        tried.extend(zip(coefs, [m.l0 for m in result.members], strict=True))
        best = min(tried, key=lambda t: abs(t[1] - target_l0))
        bar.update(1)
        bar.set_postfix(coefficient=f"{best[0]:.3g}", l0=f"{best[1]:.2f}", target=f"{target_l0:g}")
        if abs(best[1] - target_l0) <= tolerance * target_l0:
            break
        low, high = _bracket(tried, target_l0)
    bar.close()
    best = min(tried, key=lambda t: abs(t[1] - target_l0))
    return CoefficientSearchResult(
        target_l0=target_l0,
        coefficient=best[0],
        l0=best[1],
        within_tolerance=abs(best[1] - target_l0) <= tolerance * target_l0,
        rounds=rounds,
        tried=tried,
    )
