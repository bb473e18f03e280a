"""Typed LLM failures. Each says whether retrying may help; callers record them per item and go on."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from auditlens.errors import AuditlensError

FailureKind = Literal[
    "timeout",
    "rate_limit",
    "server",
    "connection",
    "auth",
    "bad_request",
    "malformed",
    "refusal",
    "unsupported",
    "config",
    "backend",
]


class LLMError(AuditlensError):
    """Base class of every failure of an LLM call."""

    kind: ClassVar[FailureKind] = "backend"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.attempts = 1
        """How many tries were made before giving up (set by the client)."""


class LLMTimeout(LLMError):
    """The call did not finish within the per-call timeout."""

    kind = "timeout"
    retryable = True


class LLMRateLimited(LLMError):
    """The provider answered 429 (too many requests)."""

    kind = "rate_limit"
    retryable = True

    def __init__(self, message: str, hint: str | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message, hint)
        self.retry_after_s = retry_after_s


class LLMServerError(LLMError):
    """The provider answered 5xx (or 529 overloaded)."""

    kind = "server"
    retryable = True


class LLMConnectionError(LLMError):
    """The endpoint could not be reached or dropped the connection."""

    kind = "connection"
    retryable = True


class LLMAuthError(LLMError):
    """Missing or rejected API key (401/403). Not retried."""

    kind = "auth"


class LLMBadRequest(LLMError):
    """The provider rejected the request (4xx other than auth and 429). Not retried."""

    kind = "bad_request"


class LLMMalformed(LLMError):
    """The answer could not be parsed (unexpected JSON, or text a caller could not interpret)."""

    kind = "malformed"


class LLMRefusal(LLMError):
    """The model or the provider refused to answer."""

    kind = "refusal"


class LLMUnsupported(LLMError):
    """The backend cannot do what the request asks (e.g. log-probabilities on the Anthropic API)."""

    kind = "unsupported"


class LLMConfigError(LLMError):
    """A client spec or backend option is invalid."""

    kind = "config"


class LLMFailure(BaseModel):
    """A failed call, as a typed result to store beside the successful ones."""

    kind: FailureKind = Field(description="Failure class (see auditlens.llm.errors).")
    message: str = Field(description="What went wrong.")
    hint: str | None = Field(default=None, description="What to do about it.")
    retryable: bool = Field(description="Whether the failure class is retried by the client.")
    attempts: int = Field(ge=1, description="Tries made before giving up.")

    @classmethod
    def from_error(cls, err: LLMError) -> LLMFailure:
        """The failure record of an :class:`LLMError`."""
        return cls(
            kind=err.kind,
            message=err.message,
            hint=err.hint,
            retryable=err.retryable,
            attempts=max(1, getattr(err, "attempts", 1)),
        )
