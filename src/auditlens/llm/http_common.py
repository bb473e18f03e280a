"""Shared plumbing of the HTTP backends: one httpx client per event loop, API keys read from the
environment at call time (never stored, logged or put in a message), and HTTP status -> typed error."""

from __future__ import annotations

import asyncio
import os
from typing import Any
from urllib.parse import urlparse

import httpx

from auditlens.llm.errors import (
    LLMAuthError,
    LLMBadRequest,
    LLMConnectionError,
    LLMError,
    LLMMalformed,
    LLMRateLimited,
    LLMServerError,
    LLMTimeout,
)

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_local_url(url: str) -> bool:
    """True when ``url`` points at this machine (a local vLLM or llama.cpp server needs no key)."""
    return (urlparse(url).hostname or "") in _LOCAL_HOSTS


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to the client's own backoff


class HTTPBackendBase:
    """Base of the HTTP backends.

    Args:
        base_url: endpoint root (``https://api.openai.com/v1``, ``http://127.0.0.1:8000/v1``, ...).
        model: default model name.
        api_key_env: name of the environment variable holding the key (read at each call; the value is
            never stored on the object). None: send no key.
        require_key: fail when the variable is unset. Default: required unless ``base_url`` is local.
        timeout_s: HTTP timeout and the client's default per-call timeout.
        transport: an httpx transport to use instead of the network (tests pass ``httpx.MockTransport``).
    """

    kind = "http"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str | None,
        require_key: bool | None = None,
        timeout_s: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.require_key = (not is_local_url(base_url)) if require_key is None else require_key
        self.timeout_s = timeout_s
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key_env={self.api_key_env!r})"
        )

    @property
    def identity(self) -> str:
        return f"{self.kind}:{self.base_url}"

    @property
    def default_model(self) -> str:
        return self.model

    @property
    def default_timeout_s(self) -> float | None:
        return self.timeout_s

    @property
    def free(self) -> bool:
        return False

    def _api_key(self) -> str | None:
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if not key and self.require_key:
            raise LLMAuthError(
                f"no API key: environment variable {self.api_key_env} is not set",
                hint=f"export {self.api_key_env}=... (the key is read from the environment only)",
            )
        return key or None

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout_s), transport=self._transport)
            self._http_loop = loop
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP client of the running event loop (the sync client API does this for you)."""
        if self._http is not None and self._http_loop is asyncio.get_running_loop():
            await self._http.aclose()
        self._http, self._http_loop = None, None

    async def _post_json(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        """POST ``body`` and return the decoded JSON answer, or raise a typed :class:`LLMError`."""
        key = self._api_key()
        url = f"{self.base_url}{path}"
        try:
            resp = await self._client().post(url, json=body, headers=self._auth_headers(key) | headers)
        except httpx.TimeoutException as exc:
            raise LLMTimeout(
                f"HTTP timeout after {self.timeout_s}s calling {url} ({type(exc).__name__})"
            ) from None
        except httpx.TransportError as exc:
            raise LLMConnectionError(
                f"could not reach {url}: {type(exc).__name__}: {_scrub(str(exc), key)}",
                hint="check base_url and that the server is running",
            ) from None
        status = resp.status_code
        if status >= 400:
            detail = _scrub(resp.text[:500], key)
            raise self._status_error(status, url, detail, resp.headers)
        try:
            data = resp.json()
        except ValueError:
            raise LLMMalformed(f"{url} answered non-JSON: {_scrub(resp.text[:200], key)!r}") from None
        if not isinstance(data, dict):
            raise LLMMalformed(f"{url} answered JSON that is not an object: {str(data)[:200]!r}")
        return data

    def _auth_headers(self, key: str | None) -> dict[str, str]:
        raise NotImplementedError

    def _status_error(self, status: int, url: str, detail: str, headers: httpx.Headers) -> LLMError:
        msg = f"HTTP {status} from {url}: {detail}"
        if status == 429:
            return LLMRateLimited(msg, hint="lower concurrency", retry_after_s=_retry_after(headers))
        if status in (401, 403):
            return LLMAuthError(msg, hint=f"check the key in ${self.api_key_env} and its permissions")
        if status == 408:
            return LLMTimeout(msg)
        if status >= 500:
            return LLMServerError(msg)
        return LLMBadRequest(msg, hint="check the model name and request options for this endpoint")


def _scrub(text: str, key: str | None) -> str:
    return text.replace(key, "***") if key else text
