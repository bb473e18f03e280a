"""One client protocol for chat generation and log-probabilities.

Every LLM-dependent step of auditlens (auto-interp explainer and simulator, LLM monitors reading P("A")
after a "(" prefill, judges, organism data generation) goes through here; no vendor SDK is imported.

>>> from auditlens.llm import make_client, ChatRequest, next_token_distribution
>>> client = make_client("stub", cache_dir="/tmp/llm-cache")       # or "local", "openai:gpt-4o-mini", ...
>>> client.complete(ChatRequest.from_prompt("Say hi", max_tokens=8)).text   # doctest: +SKIP

Backends: :class:`StubBackend` (deterministic, offline), :class:`LocalHFBackend` (Transformers, default
SmolLM2-135M-Instruct), :class:`OpenAICompatibleBackend` and :class:`AnthropicBackend` (httpx).
:class:`LLMClient` adds the on-disk cache, concurrency limit, retries with backoff, per-call timeout and
usage/cost accounting.
"""

from auditlens.llm.anthropic_api import AnthropicBackend
from auditlens.llm.backend import Backend
from auditlens.llm.cache import ResponseCache, cache_key
from auditlens.llm.client import LLMClient, ModelUsage, RetryConfig, UsageSummary
from auditlens.llm.distribution import (
    candidate_distribution,
    distribution_request,
    next_token_distribution,
    next_token_distributions,
)
from auditlens.llm.errors import (
    LLMAuthError,
    LLMBadRequest,
    LLMConfigError,
    LLMConnectionError,
    LLMError,
    LLMFailure,
    LLMMalformed,
    LLMRateLimited,
    LLMRefusal,
    LLMServerError,
    LLMTimeout,
    LLMUnsupported,
)
from auditlens.llm.factory import SPEC_HELP, make_backend, make_client
from auditlens.llm.local_hf import DEFAULT_LOCAL_MODEL, LocalHFBackend
from auditlens.llm.openai_compat import OpenAICompatibleBackend
from auditlens.llm.pricing import DEFAULT_PRICES, Price, PriceTable
from auditlens.llm.stub import StubBackend
from auditlens.llm.types import ChatRequest, ChatResponse, Message, Usage

__all__ = [
    "DEFAULT_LOCAL_MODEL",
    "DEFAULT_PRICES",
    "SPEC_HELP",
    "AnthropicBackend",
    "Backend",
    "ChatRequest",
    "ChatResponse",
    "LLMAuthError",
    "LLMBadRequest",
    "LLMClient",
    "LLMConfigError",
    "LLMConnectionError",
    "LLMError",
    "LLMFailure",
    "LLMMalformed",
    "LLMRateLimited",
    "LLMRefusal",
    "LLMServerError",
    "LLMTimeout",
    "LLMUnsupported",
    "LocalHFBackend",
    "Message",
    "ModelUsage",
    "OpenAICompatibleBackend",
    "Price",
    "PriceTable",
    "ResponseCache",
    "RetryConfig",
    "StubBackend",
    "Usage",
    "UsageSummary",
    "cache_key",
    "candidate_distribution",
    "distribution_request",
    "make_backend",
    "make_client",
    "next_token_distribution",
    "next_token_distributions",
]
