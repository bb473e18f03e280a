"""Sampling and scoring text with a local model, counted: the one way techniques talk to a model.

:class:`ModelSampler` renders chat conversations with the model's own template (with an assistant prefill, or up
to the start of a new *user* turn for user-persona sampling), or takes raw text without any template, decodes many
requests together (:func:`auditlens.llm.local_generate.generate_batch`: batching is what makes sampling affordable
on CPU), and scores completions by their log-probability. Every call adds to :attr:`ModelSampler.cost`.
Hook-point edits (steering, ablation, noise) apply when the caller wraps a call in ``model.splice``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch

from auditlens.audit.errors import AuditError
from auditlens.audit.evidence import Cost
from auditlens.llm.local_generate import Decoding, generate_batch
from auditlens.models.hooked import HookedModel

__all__ = ["Message", "ModelSampler"]

Message = dict[str, str]
_MARK = "\x00AUDITLENS-MARK\x00"


class ModelSampler:
    """Counted sampling from one model."""

    def __init__(self, hm: HookedModel, *, batch_size: int = 32, max_length: int = 512) -> None:
        self.hm = hm
        self.tok = hm.tokenizer
        self.batch_size = batch_size
        self.max_length = max_length
        self.cost = Cost()
        self.pad = (
            self.tok.pad_token_id if self.tok.pad_token_id is not None else (self.tok.eos_token_id or 0)
        )
        self.eos = {self.tok.eos_token_id} if self.tok.eos_token_id is not None else set()

    # ---------------------------------------------------------------- prompts
    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tok, "chat_template", None))

    def _template(self, messages: Sequence[Message], *, generation_prompt: bool) -> str:
        if not self.has_chat_template:
            raise AuditError(
                f"{self.hm.model_id} has no chat template, so chat-formatted prompts cannot be built",
                hint="raw-text techniques still run; give a chat model for the chat techniques",
            )
        return self.tok.apply_chat_template(
            list(messages), add_generation_prompt=generation_prompt, tokenize=False
        )

    def chat_text(self, messages: Sequence[Message], prefill: str = "") -> str:
        """The prompt text of an assistant turn after ``messages``, starting with ``prefill``."""
        return self._template(messages, generation_prompt=True) + prefill

    def user_turn_text(self, messages: Sequence[Message], prefill: str = "") -> str:
        """The prompt text of a *user* turn after ``messages`` (the model writes the user's words)."""
        full = self._template([*messages, {"role": "user", "content": _MARK}], generation_prompt=False)
        cut = full.find(_MARK)
        if cut < 0:  # pragma: no cover - a template that drops content
            raise AuditError("the chat template drops message content", hint="use raw-text sampling")
        return full[:cut] + prefill

    # --------------------------------------------------------------- sampling
    def _ids(self, text: str) -> list[int]:
        ids = self.tok(text, add_special_tokens=False)["input_ids"]
        return ids[-self.max_length :]

    def complete(
        self,
        prompts: Sequence[str],
        *,
        n: int = 1,
        temperature: float = 1.0,
        max_tokens: int = 48,
        seed: int = 0,
        stop: Sequence[str] = (),
    ) -> list[list[str]]:
        """``n`` continuations of each prompt text (exactly the text: no template is added), request ``j`` of
        prompt ``i`` seeded ``seed + i * n + j``. Returns one list of ``n`` strings per prompt."""
        flat = [(i, j) for i in range(len(prompts)) for j in range(n)]
        ids = [self._ids(p) for p in prompts]
        out: list[list[str]] = [[] for _ in prompts]
        t0 = time.perf_counter()
        for s in range(0, len(flat), self.batch_size):
            chunk = flat[s : s + self.batch_size]
            reqs = [
                Decoding(
                    max_tokens=max_tokens, temperature=temperature, seed=seed + i * n + j, stop=list(stop)
                )
                for i, j in chunk
            ]
            decoded = generate_batch(
                self.hm.model,
                [ids[i] for i, _ in chunk],
                reqs,
                pad_id=self.pad,
                eos_ids=self.eos,
                decode=lambda t: self.tok.decode(t),
            )
            for (i, _), d in zip(chunk, decoded, strict=True):
                text = self.tok.decode([t for t in d.tokens if t not in self.eos], skip_special_tokens=True)
                for st in stop:
                    if st and st in text:
                        text = text[: text.index(st)]
                out[i].append(text)
                self.cost.tokens_generated += len(d.tokens)
            self.cost.model_calls += len(chunk)
        self.cost.seconds += time.perf_counter() - t0
        return out

    # ---------------------------------------------------------------- scoring
    @torch.no_grad()
    def logprobs(self, prompts: Sequence[str], completions: Sequence[str]) -> list[tuple[float, int]]:
        """Summed log-probability and token count of each completion after its prompt (raw text, no template)."""
        if len(prompts) != len(completions):
            raise AuditError("prompts and completions differ in number", hint="pair them one to one")
        device = next(self.hm.model.parameters()).device
        rows: list[tuple[list[int], int]] = []
        for p, c in zip(prompts, completions, strict=True):
            pi = self.tok(p, add_special_tokens=False)["input_ids"] if p else []
            ci = self.tok(c, add_special_tokens=False)["input_ids"]
            if not pi:  # score from a start token so the first completion token has a context
                start = self.tok.bos_token_id if self.tok.bos_token_id is not None else self.pad
                pi = [start]
            ids = (pi + ci)[-self.max_length :]
            rows.append((ids, min(len(ci), len(ids) - 1)))
        out: list[tuple[float, int]] = []
        t0 = time.perf_counter()
        for s in range(0, len(rows), self.batch_size):
            chunk = rows[s : s + self.batch_size]
            width = max(len(r) for r, _ in chunk)
            ids = torch.full((len(chunk), width), self.pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for b, (r, _) in enumerate(chunk):
                ids[b, : len(r)] = torch.tensor(r)
                mask[b, : len(r)] = 1
            logits = self.hm.model(
                input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False
            ).logits
            logp = torch.log_softmax(logits.float(), dim=-1).cpu()
            for b, (r, k) in enumerate(chunk):
                if k <= 0:
                    out.append((0.0, 0))
                    continue
                pos = torch.arange(len(r) - k - 1, len(r) - 1)
                tgt = torch.tensor(r[len(r) - k :])
                out.append((float(logp[b, pos, tgt].sum()), k))
            self.cost.model_calls += len(chunk)
            self.cost.tokens_scored += sum(len(r) for r, _ in chunk)
        self.cost.seconds += time.perf_counter() - t0
        return out

    def take_cost(self) -> Cost:
        """The cost since the last call, and reset."""
        c, self.cost = self.cost, Cost()
        return c

    def __repr__(self) -> str:  # pragma: no cover
        return f"ModelSampler({self.hm.model_id})"


def sampler_pair(
    model: HookedModel, base: HookedModel | None, **kw: Any
) -> tuple[ModelSampler, ModelSampler | None]:
    """Samplers for the audited model and its comparison model (None when there is none)."""
    return ModelSampler(model, **kw), (ModelSampler(base, **kw) if base is not None else None)
