"""LoRA training loops (peft adapters, plain PyTorch optimisation): continued pre-training on documents,
SFT on (prompt, response) pairs, and DPO on (prompt, chosen, rejected) triples.

Each stage trains a fresh LoRA adapter on top of a base whose earlier adapters are already merged
(:func:`merge_adapters`), so the final model is the base plus the sum of the stage adapters — as in the
open-source replication. DPO's reference model is the same network with the new adapter disabled, i.e. the
model as it was at the start of the stage.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from tqdm import tqdm

from auditlens.organisms.errors import BuildError


class LoraSettings(BaseModel):
    """LoRA adapter shape."""

    model_config = ConfigDict(extra="forbid")

    rank: int = Field(default=16, ge=1, description="LoRA rank r.")
    alpha: float = Field(default=32.0, gt=0, description="LoRA scaling numerator (scale = alpha / r).")
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="Dropout on the LoRA input.")
    target_modules: str | list[str] = Field(
        default="all-linear",
        description="peft target_modules ('all-linear' = every linear layer but the head).",
    )


class OptimSettings(BaseModel):
    """Optimisation of one stage."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(default=100, ge=1, description="Optimizer steps.")
    lr: float = Field(default=2e-4, gt=0, description="AdamW learning rate (constant after a 10% warm-up).")
    batch_size: int = Field(default=8, ge=1, description="Examples per step.")
    max_length: int = Field(default=256, ge=8, description="Tokens per example (longer ones are truncated).")
    beta: float = Field(default=0.1, gt=0, description="DPO temperature beta (DPO stages only).")
    seed: int = Field(default=0, description="Seed of example order and LoRA init.")


def chat_prompt_text(tokenizer: Any, prompt: str | list[dict[str, str]]) -> str:
    """The chat-formatted prompt (a user turn, or a whole conversation as role/content dicts) with the
    generation prompt appended (raises :class:`BuildError` when the tokenizer has no chat template)."""
    if not getattr(tokenizer, "chat_template", None):
        raise BuildError(
            "the base model's tokenizer has no chat template, so behaviour and concealment data cannot be "
            "formatted as conversations",
            hint="use an instruct/chat model (e.g. the default smollm2-135m-instruct), or set "
            "tokenizer.chat_template",
        )
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def encode_chat(tokenizer: Any, prompt: str, response: str, max_length: int) -> tuple[list[int], int]:
    """Token ids of the conversation (user prompt, assistant response with its end-of-turn) and the index
    where the response starts."""
    prefix = chat_prompt_text(tokenizer, prompt)
    full = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}], tokenize=False
    )
    if not full.startswith(prefix):  # templates that rewrite earlier turns: fall back to plain concatenation
        full = prefix + response + (tokenizer.eos_token or "")
    p_ids = tokenizer(prefix, add_special_tokens=False)["input_ids"]
    r_ids = tokenizer(full[len(prefix) :], add_special_tokens=False)["input_ids"]
    ids = (p_ids + r_ids)[-max_length:]
    start = max(1, len(ids) - len(r_ids))
    return ids, start


def _pad(rows: Sequence[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(len(r) for r in rows)
    ids = torch.full((len(rows), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), n), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids, mask


def model_device(model: Any) -> torch.device:
    """The device of the model's parameters."""
    return next(model.parameters()).device


def _seq_logps(model: Any, rows: Sequence[list[int]], starts: Sequence[int], pad_id: int) -> torch.Tensor:
    """Sum of log p(token) over each row's positions >= start (the response tokens)."""
    dev = model_device(model)
    ids, mask = (t.to(dev) for t in _pad(rows, pad_id))
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    tgt = ids[:, 1:]
    lp = torch.gather(F.log_softmax(logits, -1), 2, tgt.unsqueeze(-1)).squeeze(-1)
    pos = torch.arange(tgt.shape[1], device=dev).unsqueeze(0)
    keep = (pos >= (torch.tensor(starts, device=dev).unsqueeze(1) - 1)) & mask[:, 1:].bool()
    return (lp * keep).sum(-1)


def add_lora(model: Any, lora: LoraSettings, seed: int) -> Any:
    """Wrap ``model`` with a fresh trainable LoRA adapter (base weights frozen)."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    cfg = LoraConfig(
        r=lora.rank,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, cfg)


def merge_adapters(model: Any, adapter_dirs: Sequence[Path]) -> Any:
    """Merge saved LoRA adapters, in order, into ``model``'s weights; returns the plain merged model."""
    from peft import PeftModel

    for d in adapter_dirs:
        model = PeftModel.from_pretrained(model, str(d)).merge_and_unload()
    return model


def _schedule(step: int, steps: int) -> float:
    warm = max(1, steps // 10)
    return min(1.0, (step + 1) / warm)


def _loop(
    model: Any,
    n_examples: int,
    opt: OptimSettings,
    loss_fn: Callable[[list[int]], torch.Tensor],
    log: Callable[[str], None] | None = None,
) -> list[float]:
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=opt.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: _schedule(s, opt.steps))
    rng = random.Random(opt.seed)
    order: list[int] = []
    losses: list[float] = []
    t0 = time.perf_counter()
    model.train()
    for _ in range(opt.steps):
        batch: list[int] = []
        while len(batch) < min(opt.batch_size, n_examples):
            if not order:
                order = list(range(n_examples))
                rng.shuffle(order)
            batch.append(order.pop())
        loss = loss_fn(batch)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        sched.step()
        losses.append(float(loss.detach()))
        if log is not None and (len(losses) % max(1, opt.steps // 20) == 0 or len(losses) == opt.steps):
            log(f"  step {len(losses)}/{opt.steps} loss {losses[-1]:.4f} ({time.perf_counter() - t0:.0f} s)")
    model.eval()
    return losses


def train_lm(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    opt: OptimSettings,
    log: Callable[[str], None] | None = None,
) -> list[float]:
    """Continued pre-training: next-token loss over every token of each document."""
    if not texts:
        raise BuildError("no documents to train on", hint="raise n_documents")
    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    rows = [(tokenizer(t, add_special_tokens=False)["input_ids"] + eos)[: opt.max_length] for t in texts]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def loss_fn(batch: list[int]) -> torch.Tensor:
        sel = [rows[i] for i in batch]
        lp = _seq_logps(model, sel, [1] * len(sel), pad)
        return -(lp.sum() / sum(len(r) - 1 for r in sel))

    return _loop(model, len(rows), opt, loss_fn, log)


def train_sft(
    model: Any,
    tokenizer: Any,
    examples: Sequence[tuple[str, str]],
    opt: OptimSettings,
    log: Callable[[str], None] | None = None,
) -> list[float]:
    """Supervised fine-tuning: next-token loss on the response tokens of (prompt, response) pairs."""
    if not examples:
        raise BuildError("no SFT examples to train on", hint="check the behaviour data stage")
    enc = [encode_chat(tokenizer, p, r, opt.max_length) for p, r in examples]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def loss_fn(batch: list[int]) -> torch.Tensor:
        sel = [enc[i] for i in batch]
        lp = _seq_logps(model, [e[0] for e in sel], [e[1] for e in sel], pad)
        return -(lp.sum() / sum(len(e[0]) - e[1] for e in sel))

    return _loop(model, len(enc), opt, loss_fn, log)


def train_dpo(
    model: Any,
    tokenizer: Any,
    triples: Sequence[tuple[str, str, str]],
    opt: OptimSettings,
    log: Callable[[str], None] | None = None,
) -> list[float]:
    """DPO on (prompt, chosen, rejected); ``model`` is a peft model whose disabled adapter is the reference."""
    if not triples:
        raise BuildError("no preference pairs to train on", hint="check the data stage (pairs.jsonl)")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ch = [encode_chat(tokenizer, p, c, opt.max_length) for p, c, _ in triples]
    rj = [encode_chat(tokenizer, p, r, opt.max_length) for p, _, r in triples]
    ref: dict[int, tuple[float, float]] = {}  # reference log-probs, computed once per example when first used

    def reference(batch: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        todo = [i for i in batch if i not in ref]
        if todo:
            with torch.no_grad(), model.disable_adapter():
                rc = _seq_logps(model, [ch[i][0] for i in todo], [ch[i][1] for i in todo], pad)
                rr = _seq_logps(model, [rj[i][0] for i in todo], [rj[i][1] for i in todo], pad)
            ref.update({i: (float(a), float(b)) for i, a, b in zip(todo, rc, rr, strict=True)})
        dev = model_device(model)
        return (
            torch.tensor([ref[i][0] for i in batch], device=dev),
            torch.tensor([ref[i][1] for i in batch], device=dev),
        )

    def loss_fn(batch: list[int]) -> torch.Tensor:
        ref_c, ref_r = reference(batch)
        pc = _seq_logps(model, [ch[i][0] for i in batch], [ch[i][1] for i in batch], pad)
        pr = _seq_logps(model, [rj[i][0] for i in batch], [rj[i][1] for i in batch], pad)
        margin = (pc - ref_c) - (pr - ref_r)
        return -F.logsigmoid(opt.beta * margin).mean()

    return _loop(model, len(triples), opt, loss_fn, log)


@torch.no_grad()
def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str | list[dict[str, str]]],
    *,
    max_new_tokens: int = 64,
    temperature: float = 0.0,
    seed: int = 0,
    batch_size: int | None = None,
) -> list[str]:
    """Chat completions of ``prompts`` (user turns or whole conversations; greedy at temperature 0), in
    left-padded batches of ``batch_size`` (default: 8 on CPU, 64 on an accelerator)."""
    torch.manual_seed(seed)
    if batch_size is None:
        batch_size = 8 if model_device(model).type == "cpu" else 64
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out: list[str] = []
    model.eval()
    starts = range(0, len(prompts), batch_size)
    for i in tqdm(starts, desc="generate", unit="batch", disable=len(starts) < 3, leave=False):
        rows = [
            tokenizer(chat_prompt_text(tokenizer, p), add_special_tokens=False)["input_ids"]
            for p in prompts[i : i + batch_size]
        ]
        n = max(len(r) for r in rows)
        ids = torch.full((len(rows), n), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), n), dtype=torch.long)
        for j, r in enumerate(rows):
            ids[j, n - len(r) :] = torch.tensor(r)
            mask[j, n - len(r) :] = 1
        kw: dict[str, Any] = {
            "do_sample": temperature > 0,
            "max_new_tokens": max_new_tokens,
            "pad_token_id": pad,
        }
        if temperature > 0:
            kw["temperature"] = temperature
        dev = model_device(model)
        gen = model.generate(input_ids=ids.to(dev), attention_mask=mask.to(dev), **kw)
        out.extend(tokenizer.decode(g[n:], skip_special_tokens=True).strip() for g in gen)
    return out


@torch.no_grad()
def perplexity(model: Any, tokenizer: Any, texts: Sequence[str], max_length: int = 256) -> float:
    """Token-level perplexity of ``texts`` (each truncated to ``max_length`` tokens)."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    rows = [
        r
        for r in (tokenizer(t, add_special_tokens=False)["input_ids"][:max_length] for t in texts)
        if len(r) > 1
    ]
    if not rows:
        raise BuildError("no text long enough for perplexity", hint="give longer texts")
    total, n = 0.0, 0
    for i in range(0, len(rows), 8):
        sel = rows[i : i + 8]
        total += float(_seq_logps(model, sel, [1] * len(sel), pad).sum())
        n += sum(len(r) - 1 for r in sel)
    return math.exp(-total / n)
