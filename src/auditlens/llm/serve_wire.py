"""The OpenAI and Anthropic wire formats of :mod:`auditlens.llm.serve`: request bodies to :class:`ChatRequest`,
responses and errors back, as the clients in :mod:`auditlens.llm.openai_compat` and :mod:`auditlens.llm.anthropic_api`
write and read them (translation rules: see :mod:`auditlens.llm.serve`)."""

from __future__ import annotations

import math
import time
import uuid
from typing import Any, Literal

from pydantic import ValidationError

from auditlens.llm.types import ChatRequest, ChatResponse, Message

__all__ = [
    "Dialect",
    "RequestError",
    "anthropic_request",
    "anthropic_response",
    "error_body",
    "openai_refusal",
    "openai_request",
    "openai_response",
]

Dialect = Literal["openai", "anthropic"]

MAX_BODY_BYTES = 32 * 1024 * 1024
"""Largest request body accepted (413 above)."""
UNLIKELY_LOGPROB = -9999.0
"""What a non-finite log-probability is sent as (OpenAI's own stand-in for -inf)."""

STATUS_OF_KIND: dict[str, int] = {
    "bad_request": 400,
    "unsupported": 400,
    "auth": 401,
    "rate_limit": 429,
    "timeout": 504,
    "connection": 502,
    "malformed": 502,
    "server": 500,
    "config": 500,
    "backend": 500,
}
_OPENAI_FINISH = {"stop": "stop", "length": "length", "refusal": "content_filter", "other": "other"}
_ANTHROPIC_STOP: dict[str, str | None] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "refusal": "refusal",
    "other": None,
}


class RequestError(Exception):
    """A request the server answers with an error: HTTP status, message and (OpenAI) the offending field."""

    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param


# ------------------------------------------------------------------------------------------- request parsing
def _field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = False) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise RequestError(400, f"missing required field '{name}'", name)
        return None
    bad_bool = isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))
    if bad_bool or not isinstance(value, kind):
        raise RequestError(400, f"field '{name}' has the wrong type ({type(value).__name__})", name)
    return value


def _text_of(content: Any, where: str) -> str:
    """A message content: a string, or a list of text parts/blocks (joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if not (
                isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
            ):
                raise RequestError(400, f"{where}: only text content is supported", where)
            parts.append(part["text"])
        return "".join(parts)
    raise RequestError(400, f"{where}: content must be a string or a list of text parts", where)


def _stop_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return list(value)
    raise RequestError(400, f"field '{name}' must be a string or a list of strings", name)


def _model_for_backend(model: str | None, served: set[str]) -> str | None:
    """The served model's own names mean 'the backend's default' (``model`` unset, as in a direct call)."""
    return None if model is None or model in served else model


def _build(messages: list[Message], prefill: str | None, **fields: Any) -> ChatRequest:
    if not messages:
        raise RequestError(400, "the request has no message before the assistant prefill", "messages")
    try:
        return ChatRequest(messages=messages, prefill=prefill, **fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or None
        raise RequestError(400, f"invalid request: {loc}: {first.get('msg')}", loc) from None


def openai_request(body: dict[str, Any], served_models: set[str]) -> ChatRequest:
    """The :class:`ChatRequest` of a ``/v1/chat/completions`` body; raises :class:`RequestError`."""
    if body.get("stream"):
        raise RequestError(400, "streaming is not supported by this server", "stream")
    n = _field(body, "n", int)
    if n not in (None, 1):
        raise RequestError(400, "only n=1 is supported", "n")
    model = _field(body, "model", str, required=True)
    raw = _field(body, "messages", list, required=True)
    messages: list[Message] = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict):
            raise RequestError(400, f"messages[{i}] must be an object", f"messages[{i}]")
        role = {"developer": "system"}.get(m.get("role"), m.get("role"))
        if role not in ("system", "user", "assistant"):
            raise RequestError(
                400, f"messages[{i}]: unsupported role {m.get('role')!r}", f"messages[{i}].role"
            )
        messages.append(Message(role=role, content=_text_of(m.get("content"), f"messages[{i}].content")))
    if not messages:
        raise RequestError(400, "'messages' must not be empty", "messages")
    prefill = None
    if messages[-1].role == "assistant":  # continued, as llama.cpp and vLLM's continue_final_message do
        prefill = messages.pop().content
    max_tokens = _field(body, "max_completion_tokens", int)
    if max_tokens is None:
        max_tokens = _field(body, "max_tokens", int)
    top = _field(body, "top_logprobs", int) or 0
    if top > 20:
        raise RequestError(400, "top_logprobs must be at most 20", "top_logprobs")
    temperature = _field(body, "temperature", (int, float))
    fields: dict[str, Any] = {
        "model": _model_for_backend(model, served_models),
        "max_tokens": 256 if max_tokens is None else max_tokens,
        "temperature": 1.0 if temperature is None else float(temperature),
        "seed": _field(body, "seed", int),
        "stop": _stop_list(body.get("stop"), "stop"),
        "logprobs": bool(_field(body, "logprobs", bool)),
        "top_logprobs": top,
    }
    return _build(messages, prefill, **fields)


def anthropic_request(body: dict[str, Any], served_models: set[str]) -> ChatRequest:
    """The :class:`ChatRequest` of a ``/v1/messages`` body; raises :class:`RequestError`."""
    if body.get("stream"):
        raise RequestError(400, "streaming is not supported by this server", "stream")
    model = _field(body, "model", str, required=True)
    max_tokens = _field(body, "max_tokens", int, required=True)
    if max_tokens < 1:
        raise RequestError(400, "max_tokens must be at least 1", "max_tokens")
    raw = _field(body, "messages", list, required=True)
    messages: list[Message] = []
    system = body.get("system")
    if system is not None:
        if isinstance(system, list):
            system = "\n\n".join(_text_of([b], "system") for b in system)
        elif not isinstance(system, str):
            raise RequestError(400, "system must be a string or a list of text blocks", "system")
        if system:
            messages.append(Message(role="system", content=system))
    turns: list[Message] = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            raise RequestError(400, f"messages.{i}: role must be 'user' or 'assistant'", f"messages.{i}")
        turns.append(Message(role=m["role"], content=_text_of(m.get("content"), f"messages.{i}.content")))
    if not turns:
        raise RequestError(400, "'messages' must not be empty", "messages")
    prefill = None
    if turns[-1].role == "assistant":
        prefill = turns.pop().content
        if prefill != prefill.rstrip():
            raise RequestError(400, "final assistant content cannot end with trailing whitespace", "messages")
    temperature = _field(body, "temperature", (int, float))
    fields: dict[str, Any] = {
        "model": _model_for_backend(model, served_models),
        "max_tokens": max_tokens,
        "temperature": 1.0 if temperature is None else float(temperature),
        "stop": _stop_list(_field(body, "stop_sequences", list), "stop_sequences"),
    }
    return _build(messages + turns, prefill, **fields)


# ------------------------------------------------------------------------------------------ response building
def _finite(x: float) -> float:
    return x if math.isfinite(x) else UNLIKELY_LOGPROB


def _entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": _finite(logprob), "bytes": list(token.encode("utf-8"))}


def _logprob_content(response: ChatResponse) -> list[dict[str, Any]]:
    """OpenAI's ``logprobs.content``: one entry per position with a distribution or a generated token.

    A position with a distribution but no generated token (the model ended its turn there, or only the first
    position's distribution was asked for) is sent with its most likely token, as a server reporting the end
    token would; a client reading ``max_tokens=0`` requests drops those tokens again.
    """
    out: list[dict[str, Any]] = []
    for i in range(max(len(response.tokens), len(response.top_logprobs))):
        top = response.top_logprobs[i] if i < len(response.top_logprobs) else {}
        if i < len(response.tokens):
            token = response.tokens[i]
        else:
            token = max(top.items(), key=lambda kv: kv[1])[0] if top else ""
        if i < len(response.token_logprobs):
            lp = response.token_logprobs[i]
        else:
            lp = top.get(token, UNLIKELY_LOGPROB)
        entry = _entry(token, lp)
        entry["top_logprobs"] = [_entry(t, v) for t, v in top.items()]
        out.append(entry)
    return out


def openai_response(request: ChatRequest, response: ChatResponse) -> dict[str, Any]:
    """The ``/v1/chat/completions`` answer for ``response``."""
    usage = response.usage
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": response.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": response.text, "refusal": None},
                "logprobs": {"content": _logprob_content(response), "refusal": None}
                if request.logprobs
                else None,
                "finish_reason": _OPENAI_FINISH[response.finish_reason],
            }
        ],
        "usage": {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
        },
    }


def openai_refusal(model: str, message: str) -> dict[str, Any]:
    """A chat completion whose message is a refusal (what a backend's :class:`LLMRefusal` becomes)."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "refusal": message},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def anthropic_response(response: ChatResponse, stop_reason: str | None = "") -> dict[str, Any]:
    """The ``/v1/messages`` answer for ``response``."""
    reason = _ANTHROPIC_STOP[response.finish_reason] if stop_reason == "" else stop_reason
    return {
        "id": f"msg_{uuid.uuid4().hex}",
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": [{"type": "text", "text": response.text}] if response.text else [],
        "stop_reason": reason,
        "stop_sequence": None,
        "usage": {"input_tokens": response.usage.input_tokens, "output_tokens": response.usage.output_tokens},
    }


def error_body(dialect: Dialect, status: int, message: str, param: str | None = None) -> dict[str, Any]:
    """An error in the JSON shape of ``dialect``'s API."""
    if dialect == "anthropic":
        kind = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            405: "invalid_request_error",
            411: "invalid_request_error",
            413: "request_too_large",
            429: "rate_limit_error",
        }.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    kind = {401: "authentication_error", 429: "rate_limit_error"}.get(
        status, "server_error" if status >= 500 else "invalid_request_error"
    )
    code = {401: "invalid_api_key", 404: "unknown_url", 429: "rate_limit_exceeded"}.get(status)
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
