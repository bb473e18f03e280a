"""The small-transformer replication (seeds-digest §7.2/7.3) on CPU.

1. Train a nanoGPT-style model — a ``transformers.GPT2LMHeadModel`` with 6 layers, d_model 32, 8 heads, MLP 128,
   context 256, exact GELU, dropout 0.2 — on the default offline corpus with the **byte-level tokenizer**
   (:func:`auditlens.models.tiny.byte_tokenizer`, 257 ids: SmolLM2's 49,152-token vocabulary would make the
   embedding 50× larger than the rest of a d_model-32 model). Checkpoints are safetensors (model, AdamW state) plus
   JSON (step, loss curve, RNG), written atomically every ``checkpoint_every`` steps; a re-run resumes.
2. Harvest its layer-2 post-GELU MLP activations (hook point ``blocks.2.mlp.post``, 128 wide) through
   :func:`auditlens.activations.harvest` into an activation store (resumable by the harvester itself).
3. Train seed-style untied ReLU+L1 dictionaries (undivided convention, one coefficient for every size) at ratios
   2…64 of the 128 neurons, all in one :class:`~auditlens.sae.Trainer` (one read of the store feeds every size),
   compare each with the next larger one (max cosine and Hungarian matching), and report the max-cosine histogram,
   its bimodality coefficient, the MMCS-vs-size curve and how neuron-sparse the learned features are.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from safetensors.torch import load_file, load_model, save_file, save_model
from tqdm.auto import tqdm

from auditlens.errors import DataError, RunFolderError
from auditlens.evals.mmcs import CosineHistogram, compare_dictionaries, max_cosine
from auditlens.json_types import NanFloat
from auditlens.sae import ReluL1UntiedConfig, Trainer, TrainerConfig, find_coefficient_for_l0
from auditlens.toy.claims import bimodality_coefficient, participation_ratio
from auditlens.toy.config import ToyConfigModel, require

__all__ = [
    "SizePair",
    "SizeSweepResult",
    "TinyTransformerConfig",
    "TinyTransformerResult",
    "TrainLMResult",
    "build_model",
    "harvest_mlp_activations",
    "run_size_sweep",
    "run_tiny_transformer",
    "train_language_model",
]

MODEL_FILE = "model.safetensors"
OPTIM_FILE = "optimizer.safetensors"
STATE_FILE = "train_state.json"


class TinyTransformerConfig(ToyConfigModel):
    """The whole replication. Defaults: the seed's model shape (§7.2) with a CPU-sized training budget;
    :meth:`quick` runs the same code in a few minutes."""

    n_layer: int = Field(6, description="Transformer blocks (seed 6).")
    d_model: int = Field(32, description="Residual width (seed 32; Conjecture used 16).")
    n_head: int = Field(8, description="Attention heads (seed 8).")
    d_mlp: int = Field(128, description="MLP width (seed 128 = 4 × d_model).")
    context_length: int = Field(256, description="Context length in tokens (seed block_size 256).")
    dropout: float = Field(0.2, description="Dropout on embeddings and the residual stream (seed 0.2).")
    attn_dropout: float = Field(
        0.0,
        description="Dropout on the attention weights (seed 0.2, as its other dropouts). 0 here on purpose: with "
        "it the CPU cannot use the fused flash-attention kernel and materialises every attention matrix, 3.8x slower "
        "per step (measured on the dev box, one core, batch 32 x 256: 4.6 s vs 1.2 s).",
    )
    batch_size: int = Field(32, description="Contexts per language-model step (seed 64).")
    steps: int = Field(3000, description="Language-model steps (the seed's checkpoint had ~70k).")
    lr: float = Field(1e-3, description="AdamW learning rate (cosine decay to 10% after a 100-step warm-up).")
    weight_decay: float = Field(0.1, description="AdamW weight decay.")
    checkpoint_every: int = Field(250, description="Write the LM checkpoint every N steps.")
    layer: int = Field(2, description="Block whose post-GELU MLP activations are harvested (seed: index 2).")
    harvest_tokens: int = Field(2_000_000, description="Activation rows to harvest.")
    ratios: list[int] = Field(
        default_factory=lambda: [2, 4, 8, 16, 32, 64],
        description="Dictionary sizes as multiples of d_mlp (seed 2…64).",
    )
    sae_steps: int = Field(8000, description="Dictionary training steps (batch sae_batch_size).")
    sae_batch_size: int = Field(256, description="Activation rows per dictionary step (seed 256).")
    coefficient: float | None = Field(
        None,
        description="L1 coefficient (undivided, normalised activations) for every size; None: search the one "
        "giving target_l0 at the smallest size with short runs.",
    )
    target_l0: float = Field(12.0, description="L0 the coefficient search aims at.")
    resample_every: int | None = Field(
        None,
        description="Resample the dictionaries' dead latents every N steps (Anthropic 2023; a latent is dead when it "
        "did not fire in those N steps). None: never (the seed's replication did not).",
    )
    seed: int = Field(0, description="Seed of the model init, the document order and the dictionaries.")
    sae_seed: int | None = Field(
        None,
        description="Seed of the dictionaries' init and of the order they see the activation rows in (None: seed). "
        "Another value re-runs only the size sweep: the language model and the store are reused — a check that a "
        "curve is not one draw's accident.",
    )
    num_threads: int | None = Field(None, description="torch threads (None: keep).")

    @model_validator(mode="after")
    def _check(self) -> TinyTransformerConfig:
        hint = "use positive sizes (seed: 6 layers, d_model 32, 8 heads, MLP 128, context 256)"
        for name in ("n_layer", "d_model", "n_head", "d_mlp", "context_length", "batch_size", "steps",
                     "checkpoint_every", "harvest_tokens", "sae_steps", "sae_batch_size"):  # fmt: skip
            require(getattr(self, name) > 0, f"{name} must be positive, got {getattr(self, name)}", hint)
        require(self.d_model % self.n_head == 0, "d_model must be a multiple of n_head", hint)
        require(
            0 <= self.layer < self.n_layer, f"layer must lie in [0, {self.n_layer}), got {self.layer}", hint
        )
        require(0 <= self.dropout < 1, f"dropout must lie in [0, 1), got {self.dropout}", "e.g. 0.2")
        require(
            0 <= self.attn_dropout < 1, f"attn_dropout must lie in [0, 1), got {self.attn_dropout}", "e.g. 0"
        )
        require(self.lr > 0, f"lr must be positive, got {self.lr}", "e.g. 1e-3")
        require(len(self.ratios) >= 2, "the size sweep needs at least two ratios", "e.g. 2 4 8 16 32 64")
        for r in self.ratios:
            require(r > 0, f"dictionary ratios must be positive, got {r}", "ratios are multiples of d_mlp")
        require(len(set(self.ratios)) == len(self.ratios), "duplicate ratios", "list each ratio once")
        require(
            self.coefficient is None or self.coefficient >= 0,
            f"coefficient must be non-negative, got {self.coefficient}",
            "e.g. 1e-3, or leave it unset to search",
        )
        require(self.target_l0 > 0, "target_l0 must be positive", "e.g. 12")
        require(
            self.resample_every is None or self.resample_every > 0,
            f"resample_every must be positive, got {self.resample_every}",
            "e.g. 1000, or leave it unset",
        )
        return self

    @classmethod
    def quick(cls) -> TinyTransformerConfig:
        """A few minutes on one idle CPU core: 100 LM steps of 8 contexts, 128k activation rows, sizes 2…16×."""
        return cls(
            batch_size=8,
            steps=100,
            checkpoint_every=50,
            harvest_tokens=131_072,
            ratios=[2, 4, 8, 16],
            sae_steps=1000,
        )

    def model_fingerprint(self) -> str:
        keep = self.model_dump(include={"n_layer", "d_model", "n_head", "d_mlp", "context_length", "dropout",
                                        "attn_dropout", "batch_size", "lr", "weight_decay", "seed"})  # fmt: skip
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


class TrainLMResult(BaseModel):
    """The language model's training record."""

    steps: int = Field(description="Steps completed.")
    loss_steps: list[int] = Field(description="Steps at which the loss was recorded.")
    losses: list[float] = Field(description="Mean training loss (nats/token) over each recording interval.")
    seconds: float = Field(description="Wall seconds of this call.")
    resumed_from: int = Field(description="Step the call started at (0 for a fresh run).")
    n_parameters: int = Field(description="Model parameters (tied embedding counted once).")


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


class TinyTransformerResult(BaseModel):
    """Everything the command produced."""

    config: TinyTransformerConfig = Field(description="What was run.")
    lm: TrainLMResult = Field(description="Language-model training.")
    store: str = Field(description="Activation store folder.")
    hook_point: str = Field(description="Hook point harvested.")
    sweep: SizeSweepResult = Field(description="Dictionary-size sweep.")
    seconds: dict[str, float] = Field(description="Wall seconds per stage.")


def build_model(cfg: TinyTransformerConfig) -> torch.nn.Module:
    """The nanoGPT-shaped ``GPT2LMHeadModel`` (byte vocabulary, exact GELU, tied embeddings)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(cfg.seed)
    config = GPT2Config(
        vocab_size=257,
        n_positions=cfg.context_length,
        n_embd=cfg.d_model,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        n_inner=cfg.d_mlp,
        activation_function="gelu",
        resid_pdrop=cfg.dropout,
        embd_pdrop=cfg.dropout,
        attn_pdrop=cfg.attn_dropout,
        bos_token_id=256,
        eos_token_id=256,
        pad_token_id=256,
    )
    return GPT2LMHeadModel(config)


def _tokenizer() -> object:
    from auditlens.models.tiny import byte_tokenizer

    return byte_tokenizer()


def corpus_tokens(source: str = "default") -> int:
    """Tokens the byte tokenizer makes of ``source`` (UTF-8 bytes of every document)."""
    from auditlens.data import open_source

    return sum(len(doc.encode("utf-8")) for doc in open_source(source))


def _context_stream(cfg: TinyTransformerConfig, source: str) -> Iterator[torch.Tensor]:
    """Endless (batch, context) token batches: epoch e packs the corpus in document order seed + 1 + e."""
    from auditlens.data import open_source, pack_documents

    tok = _tokenizer()
    epoch = 0
    while True:
        packed = pack_documents(
            open_source(source), tok, cfg.context_length, seed=cfg.seed + 1 + epoch, batch_size=cfg.batch_size
        )
        got = False
        for arr in packed:
            if len(arr) == cfg.batch_size:
                got = True
                yield torch.from_numpy(np.asarray(arr, dtype=np.int64))
        if not got:
            raise DataError(
                f"the corpus {source!r} is too small for one batch of {cfg.batch_size} contexts of "
                f"{cfg.context_length} tokens",
                hint="use a smaller batch size or context length, or a larger corpus",
            )
        epoch += 1


def _lr(cfg: TinyTransformerConfig, step: int) -> float:
    warm = min(100, max(1, cfg.steps // 10))
    if step < warm:
        return cfg.lr * (step + 1) / warm
    frac = (step - warm) / max(1, cfg.steps - warm)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def _save_lm(folder: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, state: dict) -> None:
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    save_model(model, str(tmp / MODEL_FILE))
    tensors = {}
    for pi, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"{pi}.{k}"] = v.detach().contiguous().clone()
    save_file(tensors, str(tmp / OPTIM_FILE))
    (tmp / STATE_FILE).write_text(json.dumps(state))
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    if old.exists():
        for f in old.iterdir():
            f.unlink()
        old.rmdir()


def train_language_model(
    cfg: TinyTransformerConfig,
    out_dir: str | Path,
    *,
    source: str = "default",
    log: Callable[[str], None] = print,
) -> tuple[torch.nn.Module, TrainLMResult]:
    """Train (or resume) the model into ``<out_dir>/lm``; returns the model (eval mode) and its record."""
    folder = Path(out_dir) / "lm"
    model = build_model(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    state: dict = {"fingerprint": cfg.model_fingerprint(), "step": 0, "loss_steps": [], "losses": []}
    if (folder / STATE_FILE).exists():
        old = json.loads((folder / STATE_FILE).read_text())
        if old.get("fingerprint") == cfg.model_fingerprint():
            load_model(model, str(folder / MODEL_FILE))
            opt_sd = opt.state_dict()
            tensors = load_file(str(folder / OPTIM_FILE))
            st: dict[int, dict[str, torch.Tensor]] = {}
            for k, v in tensors.items():
                pi, name = k.split(".", 1)
                st.setdefault(int(pi), {})[name] = v
            opt_sd["state"] = st
            opt.load_state_dict(opt_sd)
            torch.set_rng_state(torch.tensor(old["rng"], dtype=torch.uint8))
            state = old
            log(f"language model: resuming from step {state['step']}")
        else:
            log("language model: checkpoint belongs to other settings; training afresh")
    start = int(state["step"])
    n_params = sum(p.numel() for p in model.parameters())
    t0 = time.perf_counter()
    model.train()
    stream = _context_stream(cfg, source)
    for _ in range(start):
        next(stream)
    acc, n_acc = 0.0, 0
    record_every = max(1, min(25, cfg.steps // 20))
    bar = tqdm(total=cfg.steps, initial=start, desc="language model", unit="step", leave=False)
    for step in range(start, cfg.steps):
        ids = next(stream)
        for g in opt.param_groups:
            g["lr"] = _lr(cfg, step)
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        value = loss.item()
        acc += value
        n_acc += 1
        done = step + 1
        bar.update(1)
        bar.set_postfix(loss=f"{value:.3f}", refresh=False)
        if done % record_every == 0 or done == cfg.steps:
            state["loss_steps"].append(done)
            state["losses"].append(acc / n_acc)
            acc, n_acc = 0.0, 0
        if done % cfg.checkpoint_every == 0 or done == cfg.steps:
            state["step"] = done
            state["rng"] = torch.get_rng_state().tolist()
            _save_lm(folder, model, opt, state)
            log(f"  LM step {done}/{cfg.steps}: loss {state['losses'][-1]:.3f}")
    bar.close()
    model.eval()
    return model, TrainLMResult(
        steps=cfg.steps,
        loss_steps=state["loss_steps"],
        losses=state["losses"],
        seconds=time.perf_counter() - t0,
        resumed_from=start,
        n_parameters=n_params,
    )


def harvest_mlp_activations(
    cfg: TinyTransformerConfig, model: torch.nn.Module, out_dir: str | Path, *, source: str = "default"
) -> tuple[Path, str]:
    """Harvest ``blocks.<layer>.mlp.post`` through the normal hook-point path into ``<out_dir>/store``."""
    from auditlens.activations import HarvestConfig, harvest
    from auditlens.models import HookedModel

    out = Path(out_dir)
    available = corpus_tokens(source)
    if cfg.harvest_tokens > available:
        raise DataError(
            f"the corpus {source!r} has about {available:,} byte tokens, fewer than the {cfg.harvest_tokens:,} "
            "activation rows requested",
            hint=f"request at most {available:,} harvest tokens, or use a larger corpus",
        )
    weights_hash = hashlib.sha256((out / "lm" / MODEL_FILE).read_bytes()).hexdigest()
    hooked = HookedModel(model, _tokenizer(), model_id="auditlens-tiny-gpt2", weights_hash=weights_hash)
    hook = f"blocks.{cfg.layer}.mlp.post"
    hc = HarvestConfig(
        model="auditlens-tiny-gpt2",
        hook_points=[hook],
        source=source,
        tokens=cfg.harvest_tokens,
        context_length=cfg.context_length,
        batch_size=16,
        dtype="float16",
        seed=cfg.seed,
        out=out / "store",
    )
    try:  # resumes (or reuses) a store of this very model; a store of other weights is replaced
        harvest(hc, model=hooked, progress=True)
    except RunFolderError:
        harvest(hc, model=hooked, overwrite=True, progress=True)
    return out / "store", hook


def _sae_seed(cfg: TinyTransformerConfig) -> int:
    return cfg.seed if cfg.sae_seed is None else cfg.sae_seed


def _sae_trainer_config(cfg: TinyTransformerConfig, steps: int) -> TrainerConfig:
    return TrainerConfig(
        total_steps=steps, lr=1e-3, progress=False, num_threads=cfg.num_threads, seed=_sae_seed(cfg)
    )


def _sweep_fingerprints(cfg: TinyTransformerConfig, store_id: str, hook: str) -> tuple[str, set[str]]:
    """The size sweep's fingerprint, and every fingerprint that names the same sweep (earlier versions' included)."""
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

    def digest(d: dict[str, Any]) -> str:
        return hashlib.sha256(json.dumps([d, store_id, hook], sort_keys=True).encode()).hexdigest()[:16]

    fp = digest(keep)
    accepted = {fp}
    if keep["resample_every"] is None:  # sweeps fingerprinted before resample_every existed
        accepted.add(digest({k: v for k, v in keep.items() if k != "resample_every"}))
    return fp, accepted


def _claim_sweep_folder(
    work: Path, fp: str, accepted: set[str], log: Callable[[str], None]
) -> dict[str, Any]:
    """Make ``work`` hold this sweep: park another sweep found there beside it (``<work>-<fingerprint>``), bring back a
    parked one of these settings; returns the folder's saved state (``sweep.json``) with the fingerprint set."""
    meta = work / "sweep.json"
    saved: dict[str, Any] = json.loads(meta.read_text()) if meta.exists() else {}
    if work.exists() and saved.get("fingerprint") not in accepted and any(work.iterdir()):
        base = f"{work.name}-{saved.get('fingerprint') or 'unknown'}"
        parked = work.with_name(base)
        n = 1
        while parked.exists():  # never over an earlier parked folder: it may hold other work (or more steps)
            n += 1
            parked = work.with_name(f"{base}-{n}")
        work.rename(parked)
        log(f"  {work} held a size sweep of other settings: moved to {parked.name}")
        saved = {}
    if not work.exists() or not any(work.iterdir()):
        for old in accepted:
            parked = work.with_name(f"{work.name}-{old}")
            if parked.exists():
                if work.exists():
                    work.rmdir()
                parked.rename(work)
                log(f"  resuming the size sweep parked in {parked.name}")
                saved = json.loads(meta.read_text()) if meta.exists() else {}
                break
    saved["fingerprint"] = fp
    work.mkdir(parents=True, exist_ok=True)
    return saved


def run_size_sweep(
    cfg: TinyTransformerConfig,
    store_dir: str | Path,
    hook: str,
    *,
    work_dir: str | Path | None = None,
    log: Callable[[str], None] = print,
) -> SizeSweepResult:
    """Train one dictionary per size on the store (all in one trainer), then compare consecutive sizes.

    With ``work_dir`` the coefficient found and trainer checkpoints are kept there, so an interrupted sweep resumes.
    A sweep of other settings or another store found there is not deleted: it is moved aside to
    ``<work_dir>-<its fingerprint>`` and moved back when those settings run again. If that name is already taken, it
    goes to ``<work_dir>-<its fingerprint>-2`` (``-3``, …), which is kept but not brought back automatically."""
    from auditlens.activations import ActivationStore

    t0 = time.perf_counter()
    store = ActivationStore.open(store_dir)
    d_in = store.d_in(hook)
    sizes = sorted(r * d_in for r in cfg.ratios)
    work = Path(work_dir) if work_dir is not None else None
    saved: dict = {}
    if work is not None:
        fp, accepted = _sweep_fingerprints(cfg, store.store_id, hook)
        saved = _claim_sweep_folder(work, fp, accepted, log)

    sae_seed = _sae_seed(cfg)

    def batches(seed: int = sae_seed) -> Iterator[torch.Tensor]:
        return store.batches(cfg.sae_batch_size, hook_point=hook, epochs=None, seed=seed, drop_last=True)

    coef = cfg.coefficient if cfg.coefficient is not None else saved.get("coefficient")
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
        log(f"  coefficient search: α={coef:.3g} gives L0 {search.l0:.1f} (target {cfg.target_l0:g})")
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
        saved["coefficient"] = coef
        (work / "sweep.json").write_text(json.dumps(saved))
        tcfg = tcfg.model_copy(
            update={
                "checkpoint_every": max(100, cfg.sae_steps // 10),
                "keep_checkpoints": 1,
                "progress": True,
            }
        )
    if work is not None and list((work / "checkpoints").glob("step_*")):
        trainer = Trainer.from_checkpoint(work, progress=True)
        log(f"  resuming the size sweep from step {trainer.step}")
    else:
        trainer = Trainer(configs, tcfg, out_dir=work)
    trainer.train(batches())
    held = next(iter(store.batches(8192, hook_point=hook, epochs=None, seed=10_007)))
    decoders, l0s, fvus, deads, alives = [], [], [], [], []
    var = float((held - held.mean(0)).pow(2).mean())
    with torch.no_grad():
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
        a, b, s_a, s_b = decoders[i], decoders[i + 1], sizes[i], sizes[i + 1]
        comp = compare_dictionaries(a, b, hungarian=True)
        live = compare_dictionaries(a[alives[i]], b[alives[i + 1]], hungarian=True)
        pooled.append(max_cosine(a, b).values)
        pooled_alive.append(max_cosine(a[alives[i]], b[alives[i + 1]]).values)
        pairs.append(
            SizePair(
                d_sae=s_a,
                d_sae_larger=s_b,
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
        coefficient=float(coef),
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


def run_tiny_transformer(
    cfg: TinyTransformerConfig,
    out_dir: str | Path,
    *,
    source: str = "default",
    log: Callable[[str], None] = print,
) -> TinyTransformerResult:
    """Train (resuming), harvest, sweep; writes ``tiny_transformer.json`` in ``out_dir`` and returns it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    old = torch.get_num_threads()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    try:
        seconds: dict[str, float] = {}
        t = time.perf_counter()
        log(f"language model: {cfg.steps} steps of {cfg.batch_size}×{cfg.context_length} tokens")
        model, lm = train_language_model(cfg, out, source=source, log=log)
        seconds["train_lm"] = time.perf_counter() - t
        t = time.perf_counter()
        log(f"harvest: {cfg.harvest_tokens:,} rows of blocks.{cfg.layer}.mlp.post")
        store, hook = harvest_mlp_activations(cfg, model, out, source=source)
        seconds["harvest"] = time.perf_counter() - t
        t = time.perf_counter()
        log(f"size sweep: ratios {cfg.ratios} × {cfg.sae_steps} steps")
        sweep = run_size_sweep(cfg, store, hook, work_dir=out / "sweep", log=log)
        seconds["size_sweep"] = time.perf_counter() - t
    finally:
        torch.set_num_threads(old)
    result = TinyTransformerResult(
        config=cfg, lm=lm, store=str(store), hook_point=hook, sweep=sweep, seconds=seconds
    )
    (out / "tiny_transformer.json").write_text(result.model_dump_json(indent=1))
    return result
