"""``auditlens llm …``: the LLM layer on its own — serve any backend over the OpenAI and Anthropic APIs."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import typer

from auditlens.cli import app
from auditlens.cli.config_file import CONFIG

llm_app = typer.Typer(
    help="LLM backends: serve one over HTTP (OpenAI- and Anthropic-compatible).", no_args_is_help=True
)
app.add_typer(llm_app, name="llm")


@llm_app.command("serve")
def serve_(
    backend: str = typer.Option(
        "local", "--backend", "-b", help="What answers: an LLM spec ('local', 'local:<model>', 'stub', ...)."
    ),
    host: str = typer.Option("127.0.0.1", help="Address to bind (127.0.0.1: this machine only)."),
    port: int = typer.Option(8000, help="Port to bind (0: any free port)."),
    api_key: str = typer.Option(
        None,
        "--api-key",
        envvar="AUDITLENS_SERVE_API_KEY",
        help="Require this key (Bearer or x-api-key); default: none. Also read from $AUDITLENS_SERVE_API_KEY.",
    ),
    model_name: str = typer.Option(None, help="Model name listed by /v1/models (default: the backend's)."),
    device: str = typer.Option(None, help="Device of a local model ('cuda', 'cpu'; default: the loader's)."),
    config: Path | None = CONFIG,
) -> None:
    """Serve BACKEND at http://HOST:PORT/v1 (chat/completions with logprobs, models) and /v1/messages."""
    from auditlens.llm import make_backend
    from auditlens.llm.serve import LLMServer

    opts: dict[str, Any] = {}
    if device is not None:
        opts["device"] = device
    server = LLMServer(
        make_backend(backend, **opts), host=host, port=port, api_key=api_key, model_name=model_name
    )
    server.start()
    model = server.model_name
    typer.echo(f"serving {server.backend.identity} as model {model!r}")
    typer.echo(f"  OpenAI-compatible: {server.url}   (spec openai:{model}@{server.url})")
    typer.echo(f"  Anthropic:         {server.root_url}   (spec anthropic:{model}@{server.root_url})")
    typer.echo("Ctrl-C stops it.")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.serve_forever(stop)
