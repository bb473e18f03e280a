"""A local Transformers chat model (default: the embedded SmolLM2-135M-Instruct).

Requests asking for at most one token (``max_tokens`` 0 or 1: what log-probability monitors send) are
answered by ONE batched forward pass over all such requests in flight (left-padded, explicit position ids).
Longer generations are decoded together too, up to ``max_batch_size`` at a time, with one KV cache and each
request's own temperature, seed, stop sequences and length (:mod:`auditlens.llm.local_generate`). Work runs in a
worker thread so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import math
import threading
from collections.abc import Sequence
from typing import Any

import torch

from auditlens.errors import AuditlensError
from auditlens.llm.backend import apply_stop
from auditlens.llm.errors import LLMBadRequest, LLMConfigError, LLMError
from auditlens.llm.local_generate import Decoded, generate_batch
from auditlens.llm.types import ChatRequest, ChatResponse, FinishReason, Usage

DEFAULT_LOCAL_MODEL = "smollm2-135m-instruct"
"""Spec of the embedded default model, resolved by :func:`auditlens.models.load_model`."""


def _fingerprint(model: Any, tokenizer: Any) -> str:
    """A short hash of a loaded model's config, a sample of its weights and its chat template."""
    h = hashlib.sha256()
    config = getattr(model, "config", None)
    h.update((config.to_json_string() if config is not None else type(model).__name__).encode())
    for p in list(model.parameters())[:4]:
        h.update(p.detach().flatten()[:2048].float().cpu().numpy().tobytes())
    h.update(str(getattr(tokenizer, "chat_template", "")).encode())
    h.update(str(len(tokenizer)).encode())
    return h.hexdigest()[:16]


class LocalHFBackend:
    """Chat generation and log-probabilities from a Hugging Face causal LM on this machine.

    Args:
        model: a model spec string (loaded lazily through :func:`auditlens.models.load_model` on the first
            uncached call, so a warm cache never loads the model), a ``(model, tokenizer)`` pair, an object
            with ``.model`` and ``.tokenizer`` (e.g. a loaded ``HookedModel``), or a bare model with
            ``tokenizer`` given.
        tokenizer: the tokenizer, when ``model`` is a bare model.
        name: model name in responses and the cache identity. Default: the spec, or for an in-memory model
            ``model_id`` when it has one, else a fingerprint of config, weights and chat template.
        max_batch_size: most requests in one forward pass (also the client's default concurrency).
        device: device to load a spec onto (``"cuda"``, ``"cpu"``; default: the loader's, CPU). An
            in-memory model is used where it already is.
        dtype: dtype to load a spec in (default: the loader's, float32).

    The prompt is the tokenizer's chat template with a generation prompt, followed by the prefill (a plain
    ``role: content`` layout when the tokenizer has no template). Token counts come from the tokenizer.
    Log-probabilities are the model's own (temperature 1), whatever the sampling temperature.
    """

    def __init__(
        self,
        model: str | tuple[Any, Any] | Any = DEFAULT_LOCAL_MODEL,
        *,
        tokenizer: Any = None,
        name: str | None = None,
        max_batch_size: int = 16,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        self.spec: str | None = model if isinstance(model, str) else None
        self._model: Any = None
        self._tokenizer: Any = tokenizer
        if isinstance(model, tuple):
            self._model, self._tokenizer = model
        elif self.spec is None and hasattr(model, "tokenizer") and hasattr(model, "model"):
            self._model, self._tokenizer = model.model, model.tokenizer
            name = name or getattr(model, "model_id", None)
        elif self.spec is None:
            self._model = model
        if self.spec is None and self._tokenizer is None:
            raise LLMConfigError(
                "LocalHFBackend got a model without a tokenizer",
                hint="pass (model, tokenizer), an object with .model and .tokenizer, or tokenizer=...",
            )
        self.name = name or self.spec or _fingerprint(self._model, self._tokenizer)
        self.max_batch_size = max_batch_size
        self.load_options: dict[str, Any] = {}
        if device is not None:
            self.load_options["device"] = device
        if dtype is not None:
            self.load_options["dtype"] = dtype
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._pending: list[tuple[ChatRequest, asyncio.Future[ChatResponse]]] = []
        self._worker: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"LocalHFBackend(name={self.name!r}, loaded={self._model is not None})"

    @property
    def identity(self) -> str:
        return f"local-hf:{self.name}"

    @property
    def default_model(self) -> str:
        return self.name

    @property
    def default_timeout_s(self) -> float | None:
        return None

    @property
    def default_concurrency(self) -> int:
        return self.max_batch_size

    @property
    def free(self) -> bool:
        return True

    # ------------------------------------------------------------------------------------------ loading
    def _ensure_loaded(self) -> tuple[Any, Any]:
        with self._load_lock:
            if self._model is None:
                try:
                    from auditlens.models import load_model
                except ImportError as exc:
                    raise LLMConfigError(
                        f"cannot load local model {self.spec!r}: auditlens.models.load_model is unavailable",
                        hint="pass an already loaded (model, tokenizer) pair to LocalHFBackend",
                    ) from exc
                try:
                    loaded = load_model(self.spec, **self.load_options)
                except AuditlensError as exc:
                    raise LLMConfigError(
                        f"cannot load local model {self.spec!r}: {exc.message}", hint=exc.hint
                    ) from exc
                self._model, self._tokenizer = loaded.model, loaded.tokenizer
                if self._tokenizer is None:
                    raise LLMConfigError(f"local model {self.spec!r} was loaded without a tokenizer")
            self._model.eval()
            return self._model, self._tokenizer

    # ------------------------------------------------------------------------------------------ async
    async def complete(self, request: ChatRequest) -> ChatResponse:
        if request.model is not None and request.model != self.name:
            raise LLMBadRequest(
                f"this local backend serves {self.name!r}, not {request.model!r}",
                hint="leave request.model unset, or make a client for the other model",
            )
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[ChatResponse] = loop.create_future()
        self._pending.append((request, fut))
        if self._worker is None or self._worker.done() or self._worker.get_loop() is not loop:
            self._worker = loop.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        """Answer queued requests in batches until the queue is empty."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0)  # let callers that are ready enqueue first
            mine = [(r, f) for r, f in self._pending if f.get_loop() is loop and not f.done()]
            batch = mine[: self.max_batch_size]
            taken = {id(f) for _, f in batch}
            self._pending = [(r, f) for r, f in self._pending if id(f) not in taken and not f.done()]
            if not batch:
                return
            try:
                results = await asyncio.to_thread(self.run_batch, [r for r, _ in batch])
            except Exception as exc:  # loading failed, or a bug: every request of the batch fails
                err = exc if isinstance(exc, LLMError) else LLMError(f"local model failed: {exc!r}")
                results = [err] * len(batch)
            for (_, f), res in zip(batch, results, strict=True):
                if not f.done():
                    if isinstance(res, BaseException):
                        f.set_exception(res)
                    else:
                        f.set_result(res)

    # ------------------------------------------------------------------------------------------ sync core
    def run_batch(self, requests: Sequence[ChatRequest]) -> list[ChatResponse | LLMError]:
        """Answer requests synchronously: one forward pass for all short ones, ``generate`` for the rest."""
        model, tok = self._ensure_loaded()
        out: list[ChatResponse | LLMError | None] = [None] * len(requests)
        short: list[tuple[int, list[int]]] = []
        long: list[tuple[int, list[int]]] = []
        with self._run_lock, torch.inference_mode():
            for i, req in enumerate(requests):
                try:
                    ids = self.prompt_ids(req)
                    self._check_length(model, len(ids), req.max_tokens)
                except LLMError as err:
                    out[i] = err
                    continue
                if req.max_tokens <= 1:
                    short.append((i, ids))
                else:
                    long.append((i, ids))
            long.sort(key=lambda item: len(item[1]))  # similar lengths together: less padding
            for start in range(0, len(long), self.max_batch_size):
                chunk = long[start : start + self.max_batch_size]
                try:
                    made = self._generate_many(
                        model, tok, [requests[i] for i, _ in chunk], [x for _, x in chunk]
                    )
                except Exception as exc:
                    made = [LLMError(f"local generation failed: {exc!r}")] * len(chunk)
                for (i, _), res in zip(chunk, made, strict=True):
                    out[i] = res
            for start in range(0, len(short), self.max_batch_size):
                chunk = short[start : start + self.max_batch_size]
                try:
                    answers = self._first_token(
                        model, tok, [requests[i] for i, _ in chunk], [x for _, x in chunk]
                    )
                except Exception as exc:
                    answers = [LLMError(f"local forward pass failed: {exc!r}")] * len(chunk)
                for (i, _), ans in zip(chunk, answers, strict=True):
                    out[i] = ans
        return [o if o is not None else LLMError("no answer") for o in out]

    @staticmethod
    def _catch(fn: Any) -> ChatResponse | LLMError:
        try:
            return fn()
        except LLMError as err:
            return err
        except Exception as exc:
            return LLMError(f"local generation failed: {exc!r}")

    def prompt_text(self, request: ChatRequest) -> str:
        """The prompt string: chat template + generation prompt + prefill."""
        _, tok = self._ensure_loaded()
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        if getattr(tok, "chat_template", None):
            text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            text = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "
        return str(text) + (request.prefill or "")

    def prompt_ids(self, request: ChatRequest) -> list[int]:
        """Token ids of :meth:`prompt_text` (special tokens come from the template, none are added)."""
        _, tok = self._ensure_loaded()
        return list(tok(self.prompt_text(request), add_special_tokens=False)["input_ids"])

    @staticmethod
    def _check_length(model: Any, n_prompt: int, max_tokens: int) -> None:
        limit = getattr(model.config, "max_position_embeddings", None)
        if limit is not None and n_prompt + max(max_tokens, 1) > limit:
            raise LLMBadRequest(
                f"prompt of {n_prompt} tokens + max_tokens {max_tokens} exceeds the model's context of {limit}",
                hint="shorten the prompt or lower max_tokens",
            )

    def _pad_id(self, model: Any, tok: Any) -> int:
        for cand in (tok.pad_token_id, tok.eos_token_id, getattr(model.config, "pad_token_id", None)):
            if cand is not None:
                return int(cand)
        return 0

    def _eos_ids(self, model: Any, tok: Any) -> set[int]:
        ids: set[int] = set()
        for cand in (
            tok.eos_token_id,
            getattr(getattr(model, "generation_config", None), "eos_token_id", None),
        ):
            if isinstance(cand, int):
                ids.add(cand)
            elif isinstance(cand, list | tuple):
                ids.update(int(c) for c in cand)
        return ids

    def _top(self, tok: Any, logp: torch.Tensor, k: int) -> dict[str, float]:
        """Top-``k`` decoded tokens of one log-probability row; tokens decoding alike add up."""
        vals, idx = torch.topk(logp, min(k, logp.shape[-1]))
        out: dict[str, float] = {}
        for v, i in zip(vals.tolist(), idx.tolist(), strict=True):
            s = tok.decode([i])
            out[s] = v if s not in out else float(torch.logaddexp(torch.tensor(out[s]), torch.tensor(v)))
        return out

    @staticmethod
    def _sample(logits: torch.Tensor, request: ChatRequest) -> int:
        if request.temperature == 0:
            return int(torch.argmax(logits))
        gen = torch.Generator(device="cpu")
        if request.seed is not None:
            gen.manual_seed(request.seed)
        else:
            gen.seed()
        probs = torch.softmax(logits.float().cpu() / request.temperature, dim=-1)
        return int(torch.multinomial(probs, 1, generator=gen))

    def _first_token(
        self, model: Any, tok: Any, requests: Sequence[ChatRequest], prompts: Sequence[list[int]]
    ) -> list[ChatResponse | LLMError]:
        """One left-padded forward pass; reads the last position's distribution for every request."""
        device = next(model.parameters()).device
        width = max(len(p) for p in prompts)
        pad = self._pad_id(model, tok)
        ids = torch.full((len(prompts), width), pad, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, p in enumerate(prompts):
            ids[row, width - len(p) :] = torch.tensor(p, dtype=torch.long)
            mask[row, width - len(p) :] = 1
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
        kwargs: dict[str, Any] = {}
        if "logits_to_keep" in inspect.signature(model.forward).parameters:
            kwargs["logits_to_keep"] = 1
        logits = (
            model(
                input_ids=ids.to(device),
                attention_mask=mask.to(device),
                position_ids=position_ids.to(device),
                **kwargs,
            )
            .logits[:, -1, :]
            .float()
        )
        logp = torch.log_softmax(logits, dim=-1).cpu()
        eos = self._eos_ids(model, tok)
        answers: list[ChatResponse | LLMError] = []
        for row, (req, p) in enumerate(zip(requests, prompts, strict=True)):
            top = [self._top(tok, logp[row], max(1, req.top_logprobs))] if req.logprobs else []
            text, tokens, token_lps, finish = "", [], [], "length"
            if req.max_tokens == 1:
                t = self._sample(logits[row], req)
                if t in eos:
                    finish = "stop"
                else:
                    piece = tok.decode([t])
                    text, hit = apply_stop(piece, req.stop)
                    finish = "stop" if hit else "length"
                    tokens = [piece]
                    token_lps = [float(logp[row, t])] if req.logprobs else []
            answers.append(
                ChatResponse(
                    text=text,
                    finish_reason=finish,
                    tokens=tokens,
                    token_logprobs=token_lps,
                    top_logprobs=top,
                    usage=Usage(input_tokens=len(p), output_tokens=req.max_tokens),
                    backend=self.identity,
                    model=self.name,
                )
            )
        return answers

    def _generate_many(
        self, model: Any, tok: Any, requests: Sequence[ChatRequest], prompts: Sequence[list[int]]
    ) -> list[ChatResponse | LLMError]:
        """Autoregressive generation of several requests in one batch (:mod:`auditlens.llm.local_generate`)."""
        eos = self._eos_ids(model, tok)
        decoded = generate_batch(
            model,
            prompts,
            requests,
            pad_id=self._pad_id(model, tok),
            eos_ids=eos,
            decode=lambda ids: tok.decode(ids, skip_special_tokens=True),
        )
        return [
            self._catch(lambda r=r, p=p, d=d: self._response(tok, r, p, d, eos))
            for r, p, d in zip(requests, prompts, decoded, strict=True)
        ]

    def _response(
        self, tok: Any, request: ChatRequest, prompt: list[int], decoded: Decoded, eos: set[int]
    ) -> ChatResponse:
        """The response of one decoded request: text cut at an end token or stop sequence, log-probabilities."""
        new = decoded.tokens
        finish: FinishReason = "length"
        n_out = len(new)
        for j, t in enumerate(new):
            if t in eos:
                new, finish, n_out = new[:j], "stop", j + 1
                break
        text = tok.decode(new, skip_special_tokens=True)
        text, hit = apply_stop(text, request.stop)
        if hit:
            finish = "stop"
            keep = next(
                (
                    n
                    for n in range(1, len(new) + 1)
                    if len(tok.decode(new[:n], skip_special_tokens=True)) > len(text)
                ),
                len(new),
            )
            new = new[:keep]
        top: list[dict[str, float]] = []
        token_lps: list[float] = []
        if request.logprobs:
            for step, t in enumerate(new):
                row = decoded.logprob_rows[step]
                top.append(self._top(tok, row, max(1, request.top_logprobs)))
                token_lps.append(float(row[t]))
        if not math.isfinite(sum(token_lps)):
            token_lps = [lp if math.isfinite(lp) else -1e9 for lp in token_lps]
        return ChatResponse(
            text=text,
            finish_reason=finish,
            tokens=[tok.decode([t]) for t in new],
            token_logprobs=token_lps,
            top_logprobs=top,
            usage=Usage(input_tokens=len(prompt), output_tokens=n_out),
            backend=self.identity,
            model=self.name,
        )
