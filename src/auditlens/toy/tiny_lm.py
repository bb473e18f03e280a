"""The tiny transformer itself: the nanoGPT-shaped model, its resumable training on the byte-level corpus, and the
harvest of its MLP activations (seeds-digest §7.2).

The model is a ``transformers.GPT2LMHeadModel`` trained with the **byte-level tokenizer**
(:func:`auditlens.models.tiny.byte_tokenizer`, 257 ids). Its checkpoint ``<out>/lm`` holds safetensors (model, AdamW
state) plus ``train_state.json`` (step, loss curve, RNG, the model's fingerprint), swapped in as a whole folder every
``checkpoint_every`` steps (:func:`auditlens.runs.write_dir_atomically`); a re-run under the same model settings
resumes it exactly, one under other settings trains afresh.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, load_model, save_file, save_model

from auditlens.errors import DataError, RunFolderError
from auditlens.runs import bar, read_json, write_dir_atomically, write_json
from auditlens.toy.tiny_config import TinyTransformerConfig, TrainLMResult

__all__ = ["build_model", "corpus_tokens", "harvest_mlp_activations", "train_language_model"]

log = logging.getLogger(__name__)

MODEL_FILE = "model.safetensors"
OPTIM_FILE = "optimizer.safetensors"
STATE_FILE = "train_state.json"


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
    """Write the checkpoint as a whole folder: the old one is replaced only by a complete new one."""
    tensors = {}
    for pi, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"{pi}.{k}"] = v.detach().contiguous().clone()

    def write(tmp: Path) -> None:
        save_model(model, str(tmp / MODEL_FILE))
        save_file(tensors, str(tmp / OPTIM_FILE))
        write_json(tmp / STATE_FILE, state, indent=None)

    write_dir_atomically(folder, write)


def _load_lm(folder: Path, model: torch.nn.Module, opt: torch.optim.Optimizer) -> None:
    """Restore the model and AdamW state of a checkpoint (the caller restores the step, losses and RNG)."""
    load_model(model, str(folder / MODEL_FILE))
    opt_sd = opt.state_dict()
    st: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in load_file(str(folder / OPTIM_FILE)).items():
        pi, name = k.split(".", 1)
        st.setdefault(int(pi), {})[name] = v
    opt_sd["state"] = st
    opt.load_state_dict(opt_sd)


def train_language_model(
    cfg: TinyTransformerConfig, out_dir: str | Path, *, source: str = "default"
) -> tuple[torch.nn.Module, TrainLMResult]:
    """Train (or resume) the model into ``<out_dir>/lm``; returns the model (eval mode) and its record."""
    folder = Path(out_dir) / "lm"
    model = build_model(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    state: dict = {"fingerprint": cfg.model_fingerprint(), "step": 0, "loss_steps": [], "losses": []}
    if (folder / STATE_FILE).exists():
        old = read_json(folder / STATE_FILE, what="language-model checkpoint state")
        if old.get("fingerprint") == cfg.model_fingerprint():
            _load_lm(folder, model, opt)
            torch.set_rng_state(torch.tensor(old["rng"], dtype=torch.uint8))
            state = old
            log.info("language model: resuming from step %d", state["step"])
        else:
            log.info("language model: checkpoint belongs to other settings; training afresh")
    start = int(state["step"])
    n_params = sum(p.numel() for p in model.parameters())
    t0 = time.perf_counter()
    model.train()
    stream = _context_stream(cfg, source)
    for _ in range(start):
        next(stream)
    acc, n_acc = 0.0, 0
    record_every = max(1, min(25, cfg.steps // 20))
    progress = bar(total=cfg.steps, initial=start, desc="language model", unit="step", leave=False)
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
        progress.update(1)
        progress.set_postfix(loss=f"{value:.3f}", refresh=False)
        if done % record_every == 0 or done == cfg.steps:
            state["loss_steps"].append(done)
            state["losses"].append(acc / n_acc)
            acc, n_acc = 0.0, 0
        if done % cfg.checkpoint_every == 0 or done == cfg.steps:
            state["step"] = done
            state["rng"] = torch.get_rng_state().tolist()
            _save_lm(folder, model, opt, state)
            log.info("  LM step %d/%d: loss %.3f", done, cfg.steps, state["losses"][-1])
    progress.close()
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
