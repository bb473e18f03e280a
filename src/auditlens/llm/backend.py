"""The backend protocol every LLM implementation follows, and small helpers they share."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from auditlens.llm.types import ChatRequest, ChatResponse


@runtime_checkable
class Backend(Protocol):
    """Something that answers chat requests.

    ``identity`` names the backend kind and endpoint (never a key); with the model it separates cache
    entries of different backends. ``complete`` raises :class:`auditlens.llm.errors.LLMError` subclasses.
    """

    @property
    def identity(self) -> str:
        """Backend kind and endpoint, e.g. ``openai-compatible:https://api.openai.com/v1``."""
        ...

    @property
    def default_model(self) -> str:
        """Model used when a request leaves ``model`` unset."""
        ...

    @property
    def default_timeout_s(self) -> float | None:
        """Per-call timeout the client applies unless told otherwise (None: no limit)."""
        ...

    @property
    def free(self) -> bool:
        """True when calls cost nothing (stub, local); the price table is then not consulted."""
        ...

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Answer one request."""
        ...


def resolve_model(backend: Backend, request: ChatRequest) -> str:
    """The model a request will be answered by."""
    return request.model or backend.default_model


def apply_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """Cut ``text`` before the earliest stop sequence; returns the text and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def whitespace_tokens(text: str) -> int:
    """A crude token count: whitespace-separated pieces."""
    return len(text.split())
