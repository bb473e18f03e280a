"""A deterministic, offline backend for tests: answers derived from a hash of the request, a function,
or a script."""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Callable, Iterable

from auditlens.llm.backend import apply_stop, whitespace_tokens
from auditlens.llm.types import ChatRequest, ChatResponse, FinishReason, Usage

STUB_VOCAB: tuple[str, ...] = (
    "A", "B", "C", "D", "Yes", "No", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
    "the", "feature", "fires", "on", "tokens", "about", "code", "numbers", "names", "words", "end",
)  # fmt: skip
"""Tokens the hash-driven stub speaks and assigns log-probabilities to."""

Responder = Callable[[ChatRequest], "str | ChatResponse"]
ScriptItem = str | ChatResponse | Exception


def _hash_floats(*parts: str, n: int) -> list[float]:
    """``n`` deterministic floats in [0, 1) from the parts."""
    out: list[float] = []
    counter = 0
    while len(out) < n:
        h = hashlib.sha256(("\x1f".join(parts) + f"\x1e{counter}").encode()).digest()
        out.extend(int.from_bytes(h[i : i + 4], "big") / 2**32 for i in range(0, 32, 4))
        counter += 1
    return out[:n]


def _stub_distribution(request_key: str, position: int) -> dict[str, float]:
    """A deterministic log-softmax over :data:`STUB_VOCAB` for one position."""
    logits = [4.0 * u for u in _hash_floats(request_key, str(position), n=len(STUB_VOCAB))]
    m = max(logits)
    lse = m + math.log(sum(math.exp(x - m) for x in logits))
    return {tok: x - lse for tok, x in zip(STUB_VOCAB, logits, strict=True)}


def _top(dist: dict[str, float], k: int) -> dict[str, float]:
    return dict(sorted(dist.items(), key=lambda kv: -kv[1])[:k])


class StubBackend:
    """Deterministic offline backend.

    Args:
        responder: called with each request; returns the text (log-probabilities then come from the hash) or
            a full :class:`ChatResponse` (returned as is, with backend and model filled in).
        script: answers handed out in order, one per call; an ``Exception`` item is raised instead (use
            :class:`LLMError` subclasses to exercise retries and per-item failures). When it runs out the
            stub falls back to ``responder`` or the hash.
        delay_s: seconds each call sleeps first (to exercise timeouts and concurrency).
        name: part of the identity, so two differently scripted stubs do not share cache entries.

    Without responder or script, the text is 1–8 tokens of :data:`STUB_VOCAB`, each the most likely token
    of a hash-derived distribution for its position, so greedy text agrees with ``top_logprobs``.
    Usage counts whitespace-separated pieces. ``calls`` counts calls and ``requests`` records them.
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        script: Iterable[ScriptItem] | None = None,
        delay_s: float = 0.0,
        name: str = "default",
    ) -> None:
        self.responder = responder
        self.script: list[ScriptItem] = list(script or [])
        self.delay_s = delay_s
        self.name = name
        self.calls = 0
        self.requests: list[ChatRequest] = []

    def __repr__(self) -> str:
        return f"StubBackend(name={self.name!r}, calls={self.calls})"

    @property
    def identity(self) -> str:
        return f"stub:{self.name}"

    @property
    def default_model(self) -> str:
        return "stub"

    @property
    def default_timeout_s(self) -> float | None:
        return None

    @property
    def free(self) -> bool:
        return True

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.calls += 1
        self.requests.append(request)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        model = request.model or self.default_model
        answer: str | ChatResponse | None = None
        if self.script:
            item = self.script.pop(0)
            if isinstance(item, Exception):
                raise item
            answer = item
        elif self.responder is not None:
            answer = self.responder(request)
        if isinstance(answer, ChatResponse):
            return answer.model_copy(update={"backend": self.identity, "model": model, "cached": False})
        return self._answer(request, answer, model)

    def _answer(self, request: ChatRequest, text: str | None, model: str) -> ChatResponse:
        key = request.model_dump_json()
        prompt = " ".join(m.content for m in request.messages) + " " + (request.prefill or "")
        if text is None:
            n = 1 + int(_hash_floats(key, "length", n=1)[0] * 8)
            text = " ".join(max(d.items(), key=lambda kv: kv[1])[0] for d in self._dists(key, n))
        out, _ = apply_stop(text, request.stop)
        tokens = out.split()
        finish: FinishReason = "stop"
        if len(tokens) > request.max_tokens:
            tokens = tokens[: request.max_tokens]
            out = " ".join(tokens)
            finish = "length"
        top: list[dict[str, float]] = []
        chosen: list[float] = []
        if request.logprobs:
            n_pos = max(1, len(tokens))
            for pos, dist in enumerate(self._dists(key, n_pos)):
                tok = tokens[pos] if pos < len(tokens) else None
                if tok is not None and tok not in dist:
                    dist = {**dist, tok: max(dist.values()) + 0.5}  # scripted token: make it the likeliest
                if tok is not None:
                    chosen.append(dist[tok])
                top.append(_top(dist, max(1, request.top_logprobs)))
        return ChatResponse(
            text=out,
            finish_reason=finish,
            tokens=tokens,
            token_logprobs=chosen,
            top_logprobs=top,
            usage=Usage(input_tokens=whitespace_tokens(prompt), output_tokens=len(tokens)),
            backend=self.identity,
            model=model,
        )

    @staticmethod
    def _dists(key: str, n: int) -> list[dict[str, float]]:
        return [_stub_distribution(key, pos) for pos in range(n)]


__all__ = ["STUB_VOCAB", "StubBackend"]
