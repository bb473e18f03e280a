"""Stage training with trl and peft: continued pre-training on documents and SFT on (prompt, response) chats
with trl's SFTTrainer, DPO on (prompt, chosen, rejected) chats with trl's DPOTrainer, each through a LoRA
adapter (peft) or, optionally, on every weight.

Each stage trains a fresh LoRA adapter on top of a base whose earlier adapters are already merged
(:func:`merge_adapters`), so the final model is the base plus the sum of the stage adapters — as in the
open-source replication. DPO's reference model is the same network with the new adapter disabled, i.e. the
model as it was at the start of the stage. With ``lora=None`` a stage fine-tunes every weight instead and saves
the whole model (:func:`save_update`); DPO's reference is then a frozen copy made by trl.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field

from auditlens.llm.local_generate import Decoding, generate_batch
from auditlens.organisms.errors import BuildError
from auditlens.runs import bar

log = logging.getLogger(__name__)

LORA_ALPHA_PER_RANK = 2.0
"""LoRA alpha per unit of rank when a rank is chosen (the default adapter's ratio: alpha 32 at rank 16)."""


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

    def for_rank(self, rank: int) -> LoraSettings:
        """These settings at LoRA rank ``rank``, alpha following it (:data:`LORA_ALPHA_PER_RANK` × rank)."""
        return LoraSettings.model_validate(
            {**self.model_dump(), "rank": rank, "alpha": LORA_ALPHA_PER_RANK * rank}
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


FULL_WEIGHTS = "model.safetensors"
"""File of a fully fine-tuned stage's update (the whole model's weights), in place of a LoRA adapter."""


def save_update(model: Any, folder: Path) -> None:
    """Save a trained stage: its LoRA adapter (peft, safetensors), or — fully fine-tuned — the model's weights."""
    if hasattr(model, "peft_config"):
        model.save_pretrained(str(folder), safe_serialization=True)
        return
    from safetensors.torch import save_model

    folder.mkdir(parents=True, exist_ok=True)
    save_model(model, str(folder / FULL_WEIGHTS))  # handles tied embeddings


def merge_adapters(model: Any, adapter_dirs: Sequence[Path]) -> Any:
    """Apply saved stage updates, in order, to ``model``: LoRA adapters are merged into its weights, full weights
    replace them; returns the plain merged model."""
    from peft import PeftModel
    from safetensors.torch import load_model

    for d in adapter_dirs:
        if (d / FULL_WEIGHTS).is_file():
            load_model(model, str(d / FULL_WEIGHTS), device=str(model_device(model)))
        elif (d / "adapter_config.json").is_file():
            model = PeftModel.from_pretrained(model, str(d)).merge_and_unload()
        else:
            raise BuildError(
                f"{d} holds neither a LoRA adapter nor full weights",
                hint="the build folder is incomplete: delete the stage folder and re-run the build to redo it",
            )
    return model


def _progress(steps: int, desc: str) -> Any:
    from transformers import TrainerCallback

    class _Progress(TrainerCallback):  # type: ignore[misc]
        """Collects the per-step training loss, shows a progress bar and logs ~20 lines per stage."""

        def __init__(self, steps: int, desc: str) -> None:
            self.steps, self.desc = steps, desc
            self.losses: list[float] = []
            self.bar: Any = None
            self.t0 = 0.0

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.bar = bar(total=self.steps, desc=self.desc, unit="step", leave=False)
            self.t0 = time.perf_counter()

        def on_log(
            self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kw: Any
        ) -> None:
            if not logs or "loss" not in logs:
                return
            self.losses.append(float(logs["loss"]))
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{self.losses[-1]:.4f}")
            n = len(self.losses)
            if n % max(1, self.steps // 20) == 0 or n == self.steps:
                log.info(
                    "  step %d/%d loss %.4f (%.0f s)",
                    n,
                    self.steps,
                    self.losses[-1],
                    time.perf_counter() - self.t0,
                )

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.bar.close()

    return _Progress(steps, desc)


def _fit(
    kind: str,
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, Any]],
    opt: OptimSettings,
    lora: LoraSettings | None,
) -> tuple[Any, list[float]]:
    """Train a fresh LoRA adapter on ``model`` (``lora`` None: every weight — full fine-tuning) with trl's
    SFTTrainer (``kind`` "lm" or "sft") or DPOTrainer ("dpo"); returns the trained model (a peft model with the
    adapter enabled, or the model itself; eval mode) and the loss of every step."""
    import datasets
    from peft import LoraConfig
    from transformers import PrinterCallback, ProgressCallback, TrainingArguments
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    peft_config = (
        None
        if lora is None
        else LoraConfig(
            r=lora.rank,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            target_modules=lora.target_modules,
            task_type="CAUSAL_LM",
        )
    )
    common: dict[str, Any] = {
        "max_steps": opt.steps,
        "learning_rate": opt.lr,
        "per_device_train_batch_size": opt.batch_size,
        "lr_scheduler_type": "constant_with_warmup",
        "warmup_steps": max(1, opt.steps // 10),
        "max_grad_norm": 1.0,
        "weight_decay": 0.0,
        "optim": "adamw_torch",
        "seed": opt.seed,
        "data_seed": opt.seed,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": [],
        "use_cpu": model_device(model).type == "cpu",
        "bf16": False,
        "max_length": opt.max_length,
        "dataloader_num_workers": 0,
    }
    # trl turns activation checkpointing on by default: recomputation that buys memory a 135M model does not need
    fields = TrainingArguments.__dataclass_fields__
    common[
        "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
    ] = False
    if peft_config is None:  # loaded models come frozen (for inference); full fine-tuning trains every weight
        model.requires_grad_(True)
    progress = _progress(opt.steps, f"{kind} training")
    was_enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    torch.manual_seed(opt.seed)  # the LoRA initialisation happens while the trainer is built
    try:
        with tempfile.TemporaryDirectory(prefix="auditlens-trl-") as tmp:
            data = datasets.Dataset.from_list(rows)
            if kind == "dpo":
                trainer_class: Any = DPOTrainer
                args = DPOConfig(output_dir=tmp, beta=opt.beta, precompute_ref_log_probs=True, **common)
            else:
                trainer_class = SFTTrainer
                args = SFTConfig(output_dir=tmp, packing=False, **common)
            trainer = trainer_class(
                model=model,
                args=args,
                train_dataset=data,
                processing_class=tokenizer,
                peft_config=peft_config,
            )
            for cb in (ProgressCallback, PrinterCallback):
                trainer.remove_callback(cb)
            trainer.add_callback(progress)
            trainer.train()
            trained = trainer.model
    finally:
        if was_enabled:
            datasets.enable_progress_bars()
    trained.eval()
    return trained, progress.losses


def train_lm(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    opt: OptimSettings,
    lora: LoraSettings | None,
) -> tuple[Any, list[float]]:
    """Continued pre-training: next-token loss over every token of each document (truncated to
    ``opt.max_length``; end-of-text appended)."""
    if not texts:
        raise BuildError("no documents to train on", hint="raise n_documents")
    return _fit("lm", model, tokenizer, [{"text": t} for t in texts], opt, lora)


def _user(prompt: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}]


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def train_sft(
    model: Any,
    tokenizer: Any,
    examples: Sequence[tuple[str, str]],
    opt: OptimSettings,
    lora: LoraSettings | None,
) -> tuple[Any, list[float]]:
    """Supervised fine-tuning: next-token loss on the response tokens only of (prompt, response) chats."""
    if not examples:
        raise BuildError("no SFT examples to train on", hint="check the behaviour data stage")
    chat_prompt_text(tokenizer, "check")  # a tokenizer without a chat template fails clearly, here
    rows = [{"prompt": _user(p), "completion": _assistant(r)} for p, r in examples]
    return _fit("sft", model, tokenizer, rows, opt, lora)


def train_dpo(
    model: Any,
    tokenizer: Any,
    triples: Sequence[tuple[str, str, str]],
    opt: OptimSettings,
    lora: LoraSettings | None,
) -> tuple[Any, list[float]]:
    """DPO on (prompt, chosen, rejected) chats; the reference is the model with the new adapter disabled (the
    model as it was at the start of the stage), its log-probabilities computed once before training."""
    if not triples:
        raise BuildError("no preference pairs to train on", hint="check the data stage (pairs.jsonl)")
    chat_prompt_text(tokenizer, "check")
    rows = [{"prompt": _user(p), "chosen": _assistant(c), "rejected": _assistant(r)} for p, c, r in triples]
    return _fit("dpo", model, tokenizer, rows, opt, lora)


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
    """Chat completions of ``prompts`` (user turns or whole conversations; greedy at temperature 0, else prompt
    ``k`` is sampled with seed ``seed + k``), decoded ``batch_size`` at a time (default: 8 on CPU, 64 on an
    accelerator) by :func:`auditlens.llm.local_generate.generate_batch`."""
    if batch_size is None:
        batch_size = 8 if model_device(model).type == "cpu" else 64
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    eos = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    out: list[str] = []
    model.eval()
    starts = range(0, len(prompts), batch_size)
    for i in bar(starts, desc="generate", unit="batch", enabled=len(starts) >= 3, leave=False):
        rows = [
            tokenizer(chat_prompt_text(tokenizer, p), add_special_tokens=False)["input_ids"]
            for p in prompts[i : i + batch_size]
        ]
        settings = [
            Decoding(max_tokens=max_new_tokens, temperature=temperature, seed=seed + i + j)
            for j in range(len(rows))
        ]
        decoded = generate_batch(
            model, rows, settings, pad_id=pad, eos_ids=eos, decode=lambda t: tokenizer.decode(t)
        )
        out.extend(
            tokenizer.decode([t for t in d.tokens if t not in eos], skip_special_tokens=True).strip()
            for d in decoded
        )
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
