"""The Anthropic Messages API over httpx. No vendor SDK; no log-probabilities."""

from __future__ import annotations

from typing import Any

import httpx

from auditlens.llm.errors import LLMMalformed, LLMRefusal, LLMUnsupported
from auditlens.llm.http_common import HTTPBackendBase
from auditlens.llm.types import ChatRequest, ChatResponse, FinishReason, Usage

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
}


class AnthropicBackend(HTTPBackendBase):
    """Claude models through ``POST /v1/messages``.

    System turns are joined into the top-level ``system`` field; a prefill is sent as a trailing assistant
    message, which the API continues (the response text excludes it). The API has no seed (requests still
    carry it into the cache key) and no log-probabilities: asking for them raises :class:`LLMUnsupported`.

    Args:
        model: model name, e.g. ``claude-3-5-haiku-latest``.
        base_url: API root (without ``/v1``).
        api_key_env: environment variable with the key (sent as ``x-api-key``).
        anthropic_version: the ``anthropic-version`` header.
        timeout_s, require_key, transport: see :class:`HTTPBackendBase`.
    """

    kind = "anthropic"

    def __init__(
        self,
        model: str,
        base_url: str = ANTHROPIC_BASE_URL,
        *,
        api_key_env: str | None = "ANTHROPIC_API_KEY",
        anthropic_version: str = ANTHROPIC_VERSION,
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
        self.anthropic_version = anthropic_version

    def _auth_headers(self, key: str | None) -> dict[str, str]:
        return {"x-api-key": key} if key else {}

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body sent for ``request``; raises :class:`LLMUnsupported` for what the API cannot do."""
        if request.logprobs:
            raise LLMUnsupported(
                "the Anthropic API returns no log-probabilities",
                hint="for P('A')-style monitors use the local backend ('local') or an OpenAI-compatible "
                "endpoint with logprobs ('openai:<model>@<base_url>'); or ask for the answer as text",
            )
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        messages: list[dict[str, str]] = [
            {"role": m.role, "content": m.content} for m in request.messages if m.role != "system"
        ]
        if request.prefill:
            if request.prefill != request.prefill.rstrip():
                raise LLMUnsupported(
                    "the Anthropic API rejects a prefill that ends in whitespace",
                    hint="remove the trailing whitespace from the prefill",
                )
            messages.append({"role": "assistant", "content": request.prefill})
        body: dict[str, Any] = {
            "model": request.model or self.model,
            "max_tokens": max(1, request.max_tokens),
            "messages": messages,
            "temperature": request.temperature,
        }
        if system:
            body["system"] = system
        if request.stop:
            body["stop_sequences"] = list(request.stop)
        return body

    async def complete(self, request: ChatRequest) -> ChatResponse:
        body = self.build_body(request)
        headers = {"anthropic-version": self.anthropic_version, "content-type": "application/json"}
        data = await self._post_json("/v1/messages", body, headers)
        return self.parse(data, body["model"])

    def parse(self, data: dict[str, Any], model: str) -> ChatResponse:
        """Turn a Messages API answer into a :class:`ChatResponse`."""
        try:
            stop_reason = str(data.get("stop_reason"))
            if stop_reason == "refusal":
                raise LLMRefusal("the model refused (stop_reason=refusal)")
            text = "".join(b["text"] for b in data["content"] if b.get("type") == "text")
            usage = data.get("usage") or {}
            n_in = int(usage.get("input_tokens") or 0)
            n_out = int(usage.get("output_tokens") or 0)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise LLMMalformed(
                f"unexpected Messages API answer ({type(exc).__name__}: {exc}): {str(data)[:300]!r}"
            ) from None
        return ChatResponse(
            text=text,
            finish_reason=_FINISH.get(stop_reason, "other"),
            usage=Usage(input_tokens=n_in, output_tokens=n_out),
            backend=self.identity,
            model=str(data.get("model") or model),
        )
