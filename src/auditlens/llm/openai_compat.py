"""Any OpenAI-compatible ``/chat/completions`` endpoint over httpx (OpenAI, vLLM, llama.cpp server,
OpenRouter, ...). No vendor SDK."""

from __future__ import annotations

from typing import Any, Literal

import httpx

from auditlens.llm.errors import LLMMalformed, LLMRefusal, LLMUnsupported
from auditlens.llm.http_common import HTTPBackendBase
from auditlens.llm.types import ChatRequest, ChatResponse, FinishReason, Usage

OPENAI_BASE_URL = "https://api.openai.com/v1"

PrefillMode = Literal["assistant_message", "continue_final_message", "error"]

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "refusal",
}


class OpenAICompatibleBackend(HTTPBackendBase):
    """Chat completions over HTTP.

    Args:
        model: model name sent to the endpoint.
        base_url: endpoint root including ``/v1``.
        api_key_env: environment variable with the key (``Authorization: Bearer``); not needed for a
            local server.
        prefill_mode: how a request's prefill is sent. ``assistant_message`` appends a trailing assistant
            message (servers that continue it, e.g. llama.cpp, honour it; OpenAI's own API starts a new
            reply). ``continue_final_message`` also sends vLLM's ``continue_final_message=true,
            add_generation_prompt=false`` so the prefill is truly continued. ``error`` refuses prefills.
        extra_body: extra JSON fields merged into every request body (e.g. provider routing).
        timeout_s, require_key, transport: see :class:`HTTPBackendBase`.

    Log-probabilities use the ``logprobs`` / ``top_logprobs`` fields; an endpoint that drops them makes
    logprob requests fail with :class:`LLMUnsupported`.
    """

    kind = "openai-compatible"

    def __init__(
        self,
        model: str,
        base_url: str = OPENAI_BASE_URL,
        *,
        api_key_env: str | None = "OPENAI_API_KEY",
        prefill_mode: PrefillMode = "assistant_message",
        extra_body: dict[str, Any] | None = None,
        timeout_s: float = 120.0,
        require_key: bool | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url,
            model,
            api_key_env=api_key_env,
            require_key=require_key,
            timeout_s=timeout_s,
            transport=transport,
        )
        self.prefill_mode = prefill_mode
        self.extra_body = dict(extra_body or {})

    @property
    def identity(self) -> str:
        return f"{self.kind}:{self.base_url}:prefill={self.prefill_mode}"

    def _auth_headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body sent for ``request``."""
        messages: list[dict[str, str]] = [{"role": m.role, "content": m.content} for m in request.messages]
        body: dict[str, Any] = {
            "model": request.model or self.model,
            "messages": messages,
            "max_tokens": max(1, request.max_tokens),
            "temperature": request.temperature,
        }
        if request.prefill:
            if self.prefill_mode == "error":
                raise LLMUnsupported(
                    "this endpoint is configured without prefill support",
                    hint="use prefill_mode='assistant_message' or 'continue_final_message' (vLLM)",
                )
            messages.append({"role": "assistant", "content": request.prefill})
            if self.prefill_mode == "continue_final_message":
                body["continue_final_message"] = True
                body["add_generation_prompt"] = False
        if request.seed is not None:
            body["seed"] = request.seed
        if request.stop:
            body["stop"] = list(request.stop)
        if request.logprobs:
            body["logprobs"] = True
            if request.top_logprobs:
                body["top_logprobs"] = request.top_logprobs
        body.update(self.extra_body)
        return body

    async def complete(self, request: ChatRequest) -> ChatResponse:
        body = self.build_body(request)
        data = await self._post_json("/chat/completions", body, {"Content-Type": "application/json"})
        return self.parse(request, data, body["model"])

    def parse(self, request: ChatRequest, data: dict[str, Any], model: str) -> ChatResponse:
        """Turn a ``/chat/completions`` answer into a :class:`ChatResponse`."""
        try:
            choice = data["choices"][0]
            message = choice.get("message") or {}
            if message.get("refusal"):
                raise LLMRefusal(f"the model refused: {str(message['refusal'])[:300]}")
            finish = _FINISH.get(str(choice.get("finish_reason")), "other")
            if finish == "refusal":
                raise LLMRefusal("the provider's content filter stopped the answer")
            text = message.get("content") or ""
            content = (choice.get("logprobs") or {}).get("content") or []
            tokens = [str(c["token"]) for c in content]
            token_lps = [float(c["logprob"]) for c in content]
            top = [
                {str(t["token"]): float(t["logprob"]) for t in (c.get("top_logprobs") or [])}
                or {str(c["token"]): float(c["logprob"])}
                for c in content
            ]
            usage = data.get("usage") or {}
            n_in = int(usage.get("prompt_tokens") or 0)
            n_out = int(usage.get("completion_tokens") or len(tokens))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise LLMMalformed(
                f"unexpected /chat/completions answer ({type(exc).__name__}: {exc}): {str(data)[:300]!r}"
            ) from None
        if request.logprobs and not content:
            raise LLMUnsupported(
                f"{self.base_url} returned no log-probabilities for model {model!r}",
                hint="use an endpoint that returns logprobs (OpenAI chat models, vLLM) or the local backend",
            )
        if request.max_tokens == 0:  # remote minimum is 1; the caller asked for the distribution only
            text, tokens, token_lps = "", [], []
        return ChatResponse(
            text=text,
            finish_reason=finish,
            tokens=tokens,
            token_logprobs=token_lps,
            top_logprobs=top[:1] if request.max_tokens == 0 else top,
            usage=Usage(input_tokens=n_in, output_tokens=n_out),
            backend=self.identity,
            model=str(data.get("model") or model),
        )
