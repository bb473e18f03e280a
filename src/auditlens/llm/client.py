"""``LLMClient``: cache, concurrency limit, retries with backoff, per-call timeout and usage accounting
around any :class:`~auditlens.llm.backend.Backend`."""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, TypeVar, overload

from pydantic import BaseModel, Field

from auditlens.llm.backend import Backend, resolve_model
from auditlens.llm.cache import ResponseCache, cache_key
from auditlens.llm.errors import LLMError, LLMFailure, LLMRateLimited, LLMTimeout
from auditlens.llm.pricing import PriceTable
from auditlens.llm.types import ChatRequest, ChatResponse

log = logging.getLogger(__name__)

T = TypeVar("T")
OnError = Literal["raise", "return"]


class RetryConfig(BaseModel):
    """Exponential backoff with jitter for retryable failures (timeouts, 429, 5xx, dropped connections)."""

    max_retries: int = Field(default=4, ge=0, description="Retries after the first try (0: never retry).")
    base_delay_s: float = Field(default=1.0, ge=0.0, description="Delay before the first retry.")
    max_delay_s: float = Field(default=60.0, ge=0.0, description="Upper bound on one delay.")
    jitter: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Each delay is scaled by a uniform factor in [1-jitter, 1]."
    )

    def delay(self, attempt: int, err: LLMError, rng: random.Random) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        d = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)) * rng.uniform(1 - self.jitter, 1)
        if isinstance(err, LLMRateLimited) and err.retry_after_s is not None:
            d = max(d, min(err.retry_after_s, self.max_delay_s))
        return d


class ModelUsage(BaseModel):
    """Usage of one model during this client's run."""

    calls: int = Field(default=0, description="Requests answered by the backend (billed).")
    cached_calls: int = Field(default=0, description="Requests answered from the cache (not billed).")
    failed_calls: int = Field(default=0, description="Requests that failed after all retries.")
    input_tokens: int = Field(default=0, description="Input tokens of backend calls.")
    output_tokens: int = Field(default=0, description="Output tokens of backend calls.")
    cost_usd: float = Field(default=0.0, description="Cost of backend calls from the price table.")


class UsageSummary(ModelUsage):
    """Usage of this client since it was created (or :meth:`LLMClient.reset_usage`)."""

    retries: int = Field(default=0, description="Retries made after retryable failures.")
    unpriced_models: list[str] = Field(
        default_factory=list, description="Models billed but missing from the price table (cost counted 0)."
    )
    by_model: dict[str, ModelUsage] = Field(default_factory=dict, description="The same, per model.")


class LLMClient:
    """Answers :class:`ChatRequest` s through a backend, with an on-disk cache and accounting.

    Args:
        backend: what answers uncached requests.
        cache_dir: folder of the response cache; None: ``<auditlens cache>/llm``.
        use_cache: read and write the cache. A re-run with a warm cache makes no backend call.
        concurrency: most backend calls in flight; None: the backend's ``default_concurrency`` (else 8).
        timeout_s: per-try timeout in seconds; None: the backend's ``default_timeout_s`` (remote 120 s, local
            and stub unlimited); ``math.inf``: none.
        retry: backoff policy for retryable failures.
        prices: price table for cost accounting (free backends cost 0 whatever it says).

    Failed calls raise :class:`LLMError` subclasses (``acomplete``/``complete``) or, with
    ``on_error="return"``, come back as :class:`LLMFailure` items so a batch goes on past them. Successful
    answers are cached as they arrive, so nothing already answered is lost or billed twice.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        cache_dir: str | Path | None = None,
        use_cache: bool = True,
        concurrency: int | None = None,
        timeout_s: float | None = None,
        retry: RetryConfig | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.backend = backend
        self.cache: ResponseCache | None = None
        if use_cache:
            if cache_dir is None:
                from auditlens.paths import cache_dir as _root

                cache_dir = _root() / "llm"
            self.cache = ResponseCache(cache_dir)
        self.concurrency = concurrency or int(getattr(backend, "default_concurrency", 8))
        if self.concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        t = backend.default_timeout_s if timeout_s is None else timeout_s
        self.timeout_s: float | None = None if t is None or math.isinf(t) else float(t)
        self.retry = retry or RetryConfig()
        self.prices = prices or PriceTable()
        self._usage = UsageSummary()
        self._rng = random.Random()
        self._sem: asyncio.Semaphore | None = None
        self._sem_loop: asyncio.AbstractEventLoop | None = None
        self._inflight: dict[str, asyncio.Future[ChatResponse]] = {}

    def __repr__(self) -> str:
        return f"LLMClient(backend={self.backend!r}, cache={self.cache!r}, concurrency={self.concurrency})"

    # ----------------------------------------------------------------------------------------- accounting
    @property
    def usage(self) -> UsageSummary:
        """A snapshot of calls, cached calls, failures, retries, tokens and cost so far."""
        return self._usage.model_copy(deep=True)

    def reset_usage(self) -> None:
        """Start counting afresh."""
        self._usage = UsageSummary()

    def _model_usage(self, model: str) -> ModelUsage:
        return self._usage.by_model.setdefault(model, ModelUsage())

    def _record(self, model: str, response: ChatResponse | None, *, cached: bool = False) -> None:
        per = self._model_usage(model)
        for u in (self._usage, per):
            if response is None:
                u.failed_calls += 1
            elif cached:
                u.cached_calls += 1
            else:
                u.calls += 1
                u.input_tokens += response.usage.input_tokens
                u.output_tokens += response.usage.output_tokens
                u.cost_usd += response.cost_usd

    def _cost(self, model: str, response: ChatResponse) -> float:
        if self.backend.free:
            return 0.0
        cost = self.prices.cost(model, response.usage)
        if cost is None:
            if model not in self._usage.unpriced_models:
                self._usage.unpriced_models.append(model)
                log.warning("no price for model %r: its cost is counted as 0", model)
            return 0.0
        return cost

    # ----------------------------------------------------------------------------------------- core
    def cache_key(self, request: ChatRequest) -> str:
        """The cache key of ``request`` on this client's backend."""
        return cache_key(request, self.backend.identity, resolve_model(self.backend, request))

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._sem is None or self._sem_loop is not loop:
            self._sem, self._sem_loop = asyncio.Semaphore(self.concurrency), loop
            self._inflight = {}
        return self._sem

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        """Answer one request (from the cache when possible); raises :class:`LLMError` on failure."""
        sem = self._semaphore()
        model = resolve_model(self.backend, request)
        key = cache_key(request, self.backend.identity, model)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self._record(model, hit, cached=True)
                return hit.model_copy(update={"cached": True})
        pending = self._inflight.get(key)
        if pending is not None:  # the same request is already being answered: share its answer
            response = await asyncio.shield(pending)
            self._record(model, response, cached=True)
            return response.model_copy(update={"cached": True})
        fut: asyncio.Future[ChatResponse] = asyncio.get_running_loop().create_future()
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._inflight[key] = fut
        try:
            response = await self._call_with_retries(sem, request)
            response = response.model_copy(update={"cost_usd": self._cost(model, response), "cached": False})
            if self.cache is not None:
                try:
                    self.cache.put(key, request, response)
                except OSError as exc:  # the answer is paid for: hand it back even if it cannot be stored
                    log.warning("could not write LLM cache entry %s: %s", key, exc)
            self._record(model, response)
            fut.set_result(response)
            return response
        except BaseException as exc:
            if isinstance(exc, LLMError):
                self._record(model, None)
            if not fut.done():
                fut.set_exception(exc)
            raise
        finally:
            self._inflight.pop(key, None)

    async def _call_with_retries(self, sem: asyncio.Semaphore, request: ChatRequest) -> ChatResponse:
        attempt = 0
        while True:
            attempt += 1
            try:
                async with sem:
                    if self.timeout_s is None:
                        return await self.backend.complete(request)
                    return await asyncio.wait_for(self.backend.complete(request), self.timeout_s)
            except TimeoutError:
                err: LLMError = LLMTimeout(
                    f"no answer within {self.timeout_s}s from {self.backend.identity}",
                    hint="raise timeout_s, or lower concurrency",
                )
            except LLMError as exc:
                err = exc
            except Exception as exc:  # a backend bug or an unexpected library error: report, don't retry
                err = LLMError(f"{self.backend.identity} raised {type(exc).__name__}: {exc}")
            err.attempts = attempt
            if not err.retryable or attempt > self.retry.max_retries:
                raise err
            self._usage.retries += 1
            delay = self.retry.delay(attempt, err, self._rng)
            log.info("retrying after %s (try %d) in %.2fs", err.kind, attempt, delay)
            await asyncio.sleep(delay)

    @overload
    async def acomplete_many(
        self, requests: Sequence[ChatRequest], *, on_error: Literal["raise"] = "raise"
    ) -> list[ChatResponse]: ...
    @overload
    async def acomplete_many(
        self, requests: Sequence[ChatRequest], *, on_error: Literal["return"]
    ) -> list[ChatResponse | LLMFailure]: ...
    async def acomplete_many(
        self, requests: Sequence[ChatRequest], *, on_error: OnError = "raise"
    ) -> list[ChatResponse] | list[ChatResponse | LLMFailure]:
        """Answer many requests concurrently, in order.

        Every request is attempted and every success cached before anything is raised. With
        ``on_error="raise"`` the first failure is then raised; with ``"return"`` failures come back in
        place as :class:`LLMFailure` records.
        """
        from auditlens.runs.progress import bar

        with bar(total=len(requests), desc="llm requests", unit="req", enabled=len(requests) > 1) as b:

            async def one(r: ChatRequest) -> ChatResponse:
                try:
                    return await self.acomplete(r)
                finally:
                    b.update(1)

            results = await asyncio.gather(*(one(r) for r in requests), return_exceptions=True)
        out: list[ChatResponse | LLMFailure] = []
        first_err: LLMError | None = None
        for res in results:
            if isinstance(res, ChatResponse):
                out.append(res)
            elif isinstance(res, LLMError):
                first_err = first_err or res
                out.append(LLMFailure.from_error(res))
            else:
                raise res
        if on_error == "raise" and first_err is not None:
            raise first_err
        return out

    async def aclose(self) -> None:
        """Release the backend's connections (HTTP clients) on the running loop."""
        close: Callable[[], Awaitable[None]] | None = getattr(self.backend, "aclose", None)
        if close is not None:
            await close()

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ----------------------------------------------------------------------------------------- sync API
    def complete(self, request: ChatRequest) -> ChatResponse:
        """Synchronous :meth:`acomplete`."""
        return self._run(lambda: self.acomplete(request))

    @overload
    def complete_many(
        self, requests: Sequence[ChatRequest], *, on_error: Literal["raise"] = "raise"
    ) -> list[ChatResponse]: ...
    @overload
    def complete_many(
        self, requests: Sequence[ChatRequest], *, on_error: Literal["return"]
    ) -> list[ChatResponse | LLMFailure]: ...
    def complete_many(
        self, requests: Sequence[ChatRequest], *, on_error: OnError = "raise"
    ) -> list[ChatResponse] | list[ChatResponse | LLMFailure]:
        """Synchronous :meth:`acomplete_many` (works inside a running event loop too, e.g. Jupyter)."""
        return self._run(lambda: self.acomplete_many(requests, on_error=on_error))  # type: ignore[call-overload]

    def _run(self, make: Callable[[], Awaitable[T]]) -> T:
        async def main() -> T:
            try:
                return await make()
            finally:
                await self.aclose()

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(main())
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, main()).result()
