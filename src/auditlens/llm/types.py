"""Typed requests and responses shared by every LLM backend.

A :class:`ChatRequest` is the whole question: it is hashed (with the backend identity and model) to form the
cache key, so everything that changes the answer lives in it and nothing else does. A :class:`ChatResponse`
holds the continuation only — never the prefill — plus log-probabilities, usage and provenance.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["system", "user", "assistant"]

FinishReason = Literal["stop", "length", "refusal", "other"]
"""Why generation ended: ``stop`` (end of turn or a stop sequence), ``length`` (``max_tokens`` reached),
``refusal`` (the provider flagged a refusal or content filter), ``other`` (anything else)."""


class Message(BaseModel):
    """One chat turn."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role = Field(description="Who speaks: system, user or assistant.")
    content: str = Field(description="The turn's text.")


class ChatRequest(BaseModel):
    """One chat completion request. Every field is part of the cache key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: list[Message] = Field(min_length=1, description="The conversation so far, oldest first.")
    model: str | None = Field(default=None, description="Model name; None means the backend's default model.")
    max_tokens: int = Field(
        default=256,
        ge=0,
        description="Most tokens to generate. 0 asks for log-probabilities of the first position only "
        "(remote APIs are sent 1, their minimum).",
    )
    temperature: float = Field(default=0.0, ge=0.0, description="Sampling temperature; 0 is greedy.")
    seed: int | None = Field(
        default=None,
        description="Sampling seed. Requests are cached by content, so vary the seed to draw distinct "
        "samples of the same prompt.",
    )
    stop: list[str] = Field(default_factory=list, description="Stop sequences; the text ends before them.")
    prefill: str | None = Field(
        default=None,
        description="Prefix of the assistant turn the model continues from (e.g. '(' before an A/B "
        "answer). The response text excludes it.",
    )
    logprobs: bool = Field(
        default=False, description="Return log-probabilities of generated positions (set by top_logprobs>0)."
    )
    top_logprobs: int = Field(
        default=0,
        ge=0,
        description="How many most likely tokens to return per generated position (OpenAI allows <= 20).",
    )

    @field_validator("stop")
    @classmethod
    def _no_empty_stop(cls, v: list[str]) -> list[str]:
        if any(s == "" for s in v):
            raise ValueError("stop sequences must be non-empty strings")
        return v

    @model_validator(mode="after")
    def _logprobs_implied(self) -> ChatRequest:
        if self.top_logprobs > 0 and not self.logprobs:
            object.__setattr__(self, "logprobs", True)
        return self

    @classmethod
    def from_prompt(cls, prompt: str, *, system: str | None = None, **kwargs: object) -> ChatRequest:
        """A request with one user turn (and an optional system turn)."""
        messages = [Message(role="system", content=system)] if system is not None else []
        messages.append(Message(role="user", content=prompt))
        return cls(messages=messages, **kwargs)  # type: ignore[arg-type]


class Usage(BaseModel):
    """Tokens counted by the backend (the provider's counts for remote APIs, the tokenizer's locally)."""

    input_tokens: int = Field(default=0, ge=0, description="Prompt tokens, prefill included.")
    output_tokens: int = Field(default=0, ge=0, description="Generated tokens.")


class ChatResponse(BaseModel):
    """The answer to one :class:`ChatRequest`."""

    text: str = Field(description="The generated continuation, without the prefill.")
    finish_reason: FinishReason = Field(description="Why generation ended (see FinishReason).")
    tokens: list[str] = Field(
        default_factory=list, description="The generated tokens, when the backend reports them."
    )
    token_logprobs: list[float] = Field(
        default_factory=list, description="Log-probability of each generated token (when logprobs asked)."
    )
    top_logprobs: list[dict[str, float]] = Field(
        default_factory=list,
        description="Per generated position (the first at least, when logprobs asked): token -> "
        "log-probability of the most likely tokens, under the model's own distribution (temperature 1).",
    )
    usage: Usage = Field(default_factory=Usage, description="Token counts for this call.")
    cost_usd: float = Field(
        default=0.0, ge=0.0, description="Price of the original call from the client's price table."
    )
    cached: bool = Field(default=False, description="True when served from the on-disk cache.")
    backend: str = Field(description="Backend identity (kind and endpoint; never a key).")
    model: str = Field(description="Model that answered.")

    @field_validator("top_logprobs")
    @classmethod
    def _finite(cls, v: list[dict[str, float]]) -> list[dict[str, float]]:
        return [{t: lp for t, lp in d.items() if math.isfinite(lp)} for d in v]
