"""Serve any :class:`~auditlens.llm.backend.Backend` over HTTP in the OpenAI and Anthropic wire formats.

``POST /v1/chat/completions`` (OpenAI chat completions, log-probabilities included), ``GET /v1/models`` and
``POST /v1/messages`` (Anthropic Messages) are translated to and from :class:`ChatRequest` /
:class:`ChatResponse` exactly as :class:`~auditlens.llm.openai_compat.OpenAICompatibleBackend` and
:class:`~auditlens.llm.anthropic_api.AnthropicBackend` write and read them, so a request sent through one of
those clients to a served backend comes back with the text, log-probabilities and usage of calling the backend
directly. The same client code then talks to OpenAI or Anthropic with a real key.

>>> from auditlens.llm import StubBackend, make_client
>>> with LLMServer(StubBackend()) as server:                       # doctest: +SKIP
...     make_client(f"openai:stub@{server.url}").complete(ChatRequest.from_prompt("hi")).text

Translation rules (the inverse of the clients'): a trailing assistant message is the prefill, continued as
llama.cpp and vLLM's ``continue_final_message`` do; a request naming the served model (or the backend's default
model) is passed on with ``model`` unset; Anthropic system blocks become one system turn. Stdlib only: a
:class:`~http.server.ThreadingHTTPServer` whose handler threads submit each request to one event loop owned by
the server (a background thread), so a local model batches concurrent requests as it does in-process.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import socket
import threading
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from auditlens.llm.backend import Backend
from auditlens.llm.errors import LLMError, LLMRateLimited, LLMRefusal
from auditlens.llm.serve_wire import (
    MAX_BODY_BYTES,
    STATUS_OF_KIND,
    Dialect,
    RequestError,
    anthropic_request,
    anthropic_response,
    error_body,
    openai_refusal,
    openai_request,
    openai_response,
)
from auditlens.llm.types import ChatRequest, ChatResponse

__all__ = [
    "LLMServer",
    "RequestError",
    "anthropic_request",
    "anthropic_response",
    "error_body",
    "openai_request",
    "openai_response",
]

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------- the server
class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: LLMServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    _body_read = False
    protocol_version = "HTTP/1.1"
    timeout = 120  # an idle or stalled connection is dropped, never held for ever
    server_version = "auditlens-serve"

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, allow_nan=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, dialect: Dialect, status: int, message: str, param: str | None = None) -> None:
        self._send(status, error_body(dialect, status, message, param))

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def _dialect(self) -> Dialect:
        return "anthropic" if self._path() == "/v1/messages" else "openai"

    def _authorized(self) -> bool:
        key = self.server.owner.api_key
        if key is None:
            return True
        auth = self.headers.get("Authorization", "")
        given = auth[7:] if auth.lower().startswith("bearer ") else self.headers.get("x-api-key", "")
        return hmac.compare_digest(given.encode(), key.encode())

    def _read_json(self) -> dict[str, Any]:
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            raise RequestError(411, "a Content-Length header is required")
        try:
            n = int(length)
        except ValueError:
            self.close_connection = True
            raise RequestError(400, "bad Content-Length header") from None
        if n < 0 or n > MAX_BODY_BYTES:
            self.close_connection = True
            raise RequestError(413, f"the request body is over {MAX_BODY_BYTES} bytes")
        raw = self.rfile.read(n)
        self._body_read = True
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RequestError(400, f"the request body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise RequestError(400, "the request body must be a JSON object")
        return body

    def do_GET(self) -> None:
        path = self._path()
        if path == "/health":
            self._send(200, {"status": "ok"})
        elif path in ("/v1/models", "/models"):
            if not self._authorized():
                self._error("openai", 401, "invalid or missing API key")
                return
            owner = self.server.owner
            self._send(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": owner.model_name, "object": "model", "created": 0, "owned_by": "auditlens"}
                    ],
                },
            )
        elif path in ("/v1/chat/completions", "/v1/messages"):
            self._error(self._dialect(), 405, f"use POST for {path}")
        else:
            self._error("openai", 404, f"unknown path {path}")

    def do_POST(self) -> None:
        path = self._path()
        dialect = self._dialect()
        routes: dict[str, Callable[[dict[str, Any]], tuple[int, dict[str, Any], dict[str, str]]]] = {
            "/v1/chat/completions": self.server.owner.handle_openai,
            "/v1/messages": self.server.owner.handle_anthropic,
        }
        handler = routes.get(path)
        self._body_read = False
        try:
            if handler is None:
                if path == "/v1/models":
                    raise RequestError(405, f"use GET for {path}")
                raise RequestError(404, f"unknown path {path}")
            if not self._authorized():
                raise RequestError(401, "invalid or missing API key")
            body = self._read_json()
            status, answer, headers = handler(body)
        except RequestError as exc:
            if not self._body_read:  # the unread body would be taken for the next request
                self.close_connection = True
            self._error(dialect, exc.status, exc.message, exc.param)
            return
        self._send(status, answer, headers)

    def _no_method(self) -> None:
        self.close_connection = True
        self._error(self._dialect(), 405 if self._path() in _ROUTES else 404, f"{self.command} not supported")

    do_PUT = do_DELETE = do_PATCH = _no_method


_ROUTES = {"/v1/chat/completions", "/v1/messages", "/v1/models", "/health"}


class LLMServer:
    """An HTTP server answering OpenAI and Anthropic requests with ``backend``.

    Args:
        backend: what answers (a :class:`StubBackend`, :class:`LocalHFBackend`, even an HTTP backend).
        host: address to bind (``127.0.0.1``: this machine only).
        port: port to bind; 0 picks a free one (read :attr:`port` / :attr:`url` after :meth:`start`).
        api_key: when set, requests must carry it (``Authorization: Bearer`` or ``x-api-key``), else 401.
        model_name: the model name ``/v1/models`` lists; requests naming it (or the backend's default model)
            reach the backend with ``model`` unset. Default: the backend's default model.
        request_timeout_s: a request the backend has not answered by then gets a 504 (None: wait).

    Use as a context manager, or :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        model_name: str | None = None,
        request_timeout_s: float | None = 600.0,
    ) -> None:
        self.backend = backend
        self.host = host
        self.requested_port = port
        self.api_key = api_key or None
        self.model_name = model_name or backend.default_model
        self.request_timeout_s = request_timeout_s
        self._served = {self.model_name, backend.default_model}
        self._http: _HTTPServer | None = None
        self._http_thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = self.url if self._http is not None else "stopped"
        return f"LLMServer(backend={self.backend!r}, {state})"

    # ----------------------------------------------------------------------------------------- lifecycle
    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._http is None:
            raise RuntimeError("the server is not started")
        return int(self._http.server_address[1])

    @property
    def root_url(self) -> str:
        """``http://host:port`` (the Anthropic client's ``base_url``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """``http://host:port/v1`` (the OpenAI-compatible client's ``base_url``)."""
        return f"{self.root_url}/v1"

    def start(self) -> LLMServer:
        """Bind, start the event loop and the HTTP threads; returns self."""
        if self._http is not None:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._loop_thread = threading.Thread(
            target=self._run_loop, args=(loop,), name="auditlens-serve-loop", daemon=True
        )
        self._loop_thread.start()
        server_cls = _HTTPServer
        if ":" in self.host:
            server_cls = type("_HTTPServer6", (_HTTPServer,), {"address_family": socket.AF_INET6})
        try:
            http = server_cls((self.host, self.requested_port), _Handler)
        except OSError:
            self._stop_loop()
            raise
        http.owner = self
        self._http = http
        self._http_thread = threading.Thread(
            target=http.serve_forever, kwargs={"poll_interval": 0.1}, name="auditlens-serve-http", daemon=True
        )
        self._http_thread.start()
        log.info("serving %s at %s", self.backend.identity, self.url)
        return self

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        loop.run_forever()

    def stop(self) -> None:
        """Stop accepting requests, close the backend's connections and the event loop."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            if self._http_thread is not None:
                self._http_thread.join(timeout=10)
            self._http, self._http_thread = None, None
        self._stop_loop()

    def _stop_loop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def wind_down() -> None:
            close = getattr(self.backend, "aclose", None)
            if close is not None:
                try:
                    await close()
                except Exception as exc:  # closing is best effort
                    log.warning("closing the backend failed: %s", exc)
            me = asyncio.current_task()
            for task in asyncio.all_tasks():
                if task is not me:
                    task.cancel()

        try:
            asyncio.run_coroutine_threadsafe(wind_down(), loop).result(timeout=10)
        except Exception as exc:
            log.warning("winding the server loop down failed: %s", exc)
        loop.call_soon_threadsafe(loop.stop)
        if self._loop_thread is not None:
            self._loop_thread.join(timeout=10)
        loop.close()
        self._loop, self._loop_thread = None, None

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def serve_forever(self, stop: threading.Event | None = None) -> None:
        """Start (if needed) and block until ``stop`` is set or Ctrl-C; then stop."""
        self.start()
        stop = stop or threading.Event()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # ----------------------------------------------------------------------------------------- answering
    def _answer(self, request: ChatRequest) -> ChatResponse:
        """Run ``backend.complete`` on the server's loop; raises :class:`LLMError` or :class:`RequestError`."""
        loop = self._loop
        if loop is None:
            raise RequestError(503, "the server is stopping")
        fut = asyncio.run_coroutine_threadsafe(self.backend.complete(request), loop)
        try:
            return fut.result(timeout=self.request_timeout_s)
        except FutureTimeout:
            fut.cancel()
            raise RequestError(504, f"the backend gave no answer within {self.request_timeout_s}s") from None

    def _call(
        self, request: ChatRequest, dialect: Dialect
    ) -> tuple[ChatResponse | None, tuple[int, dict[str, Any], dict[str, str]] | None]:
        """The backend's answer, or the error reply it became (refusals are the caller's to shape)."""
        try:
            return self._answer(request), None
        except LLMRefusal:
            raise
        except LLMError as err:
            status = STATUS_OF_KIND.get(err.kind, 500)
            headers: dict[str, str] = {}
            if isinstance(err, LLMRateLimited) and err.retry_after_s is not None:
                headers["Retry-After"] = str(max(0, math.ceil(err.retry_after_s)))
            message = err.message + (f" (hint: {err.hint})" if err.hint else "")
            return None, (status, error_body(dialect, status, message), headers)
        except RequestError:
            raise
        except Exception as exc:  # a backend bug: a 500, never a dropped connection
            log.exception("backend %s failed", self.backend.identity)
            message = f"{self.backend.identity} raised {type(exc).__name__}: {exc}"
            return None, (500, error_body(dialect, 500, message), {})

    def handle_openai(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer a ``/v1/chat/completions`` body: (status, JSON body, extra headers)."""
        request = openai_request(body, self._served)
        try:
            response, failed = self._call(request, "openai")
        except LLMRefusal as err:
            return 200, openai_refusal(request.model or self.model_name, err.message), {}
        if failed is not None:
            return failed
        assert response is not None
        return 200, openai_response(request, response), {}

    def handle_anthropic(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer a ``/v1/messages`` body: (status, JSON body, extra headers)."""
        request = anthropic_request(body, self._served)
        try:
            response, failed = self._call(request, "anthropic")
        except LLMRefusal:
            empty = ChatResponse(
                text="", finish_reason="refusal", backend="", model=request.model or self.model_name
            )
            return 200, anthropic_response(empty, "refusal"), {}
        if failed is not None:
            return failed
        assert response is not None
        return 200, anthropic_response(response), {}
