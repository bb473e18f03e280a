"""``make_client``: an :class:`LLMClient` from a short spec string."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from auditlens.llm.anthropic_api import AnthropicBackend
from auditlens.llm.backend import Backend
from auditlens.llm.client import LLMClient
from auditlens.llm.errors import LLMConfigError
from auditlens.llm.local_hf import DEFAULT_LOCAL_MODEL, LocalHFBackend
from auditlens.llm.openai_compat import OPENAI_BASE_URL, OpenAICompatibleBackend
from auditlens.llm.stub import StubBackend

SPEC_HELP = (
    "valid specs: 'stub', 'local' (the embedded SmolLM2-135M-Instruct), 'local:<model spec>', "
    "'openai:<model>' or 'openai:<model>@<base_url>' (any OpenAI-compatible endpoint), 'anthropic:<model>' or "
    "'anthropic:<model>@<base_url>' (e.g. a local `auditlens llm serve`)"
)

_CLIENT_OPTS = set(inspect.signature(LLMClient.__init__).parameters) - {"self", "backend", "cache_dir"}


def make_backend(spec: str, **opts: Any) -> Backend:
    """The backend named by ``spec`` (see :data:`SPEC_HELP`); ``opts`` go to its constructor."""
    kind, _, rest = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "stub" and not rest:
        return StubBackend(**opts)
    if kind == "local":
        return LocalHFBackend(rest or DEFAULT_LOCAL_MODEL, **opts)
    if kind == "openai" and rest:
        model, _, base_url = rest.partition("@")
        if model:
            return OpenAICompatibleBackend(model, base_url or OPENAI_BASE_URL, **opts)
    if kind == "anthropic" and rest:
        model, _, base_url = rest.partition("@")
        if model:
            return AnthropicBackend(model, base_url, **opts) if base_url else AnthropicBackend(model, **opts)
    raise LLMConfigError(f"unknown LLM spec {spec!r}", hint=SPEC_HELP)


def make_client(spec: str, cache_dir: str | Path | None = None, **opts: Any) -> LLMClient:
    """A client for ``spec``. Options named like :class:`LLMClient` arguments (``use_cache``,
    ``concurrency``, ``timeout_s``, ``retry``, ``prices``) configure the client; the rest go to the backend
    (e.g. ``api_key_env``, ``prefill_mode``, ``max_batch_size``, ``transport``).

    Only ``openai:`` and ``anthropic:`` specs ever reach the network.
    """
    client_opts = {k: opts.pop(k) for k in list(opts) if k in _CLIENT_OPTS}
    try:
        backend = make_backend(spec, **opts)
    except TypeError as exc:
        raise LLMConfigError(f"bad option for LLM spec {spec!r}: {exc}", hint=SPEC_HELP) from None
    return LLMClient(backend, cache_dir=cache_dir, **client_opts)
