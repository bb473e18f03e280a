"""make_client specs, option routing, and the rule that no vendor SDK is imported anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import auditlens
from auditlens.llm import (
    DEFAULT_LOCAL_MODEL,
    AnthropicBackend,
    LLMConfigError,
    LocalHFBackend,
    OpenAICompatibleBackend,
    StubBackend,
    make_client,
)


def test_specs(tmp_path: Path) -> None:
    stub = make_client("stub", cache_dir=tmp_path, concurrency=3, name="s1")
    assert isinstance(stub.backend, StubBackend) and stub.backend.name == "s1" and stub.concurrency == 3
    local = make_client("local", cache_dir=tmp_path)
    assert isinstance(local.backend, LocalHFBackend) and local.backend.spec == DEFAULT_LOCAL_MODEL
    assert local.backend._model is None  # nothing loaded until the first uncached call
    assert local.concurrency == local.backend.max_batch_size and local.timeout_s is None
    other = make_client("local:/models/my-folder", cache_dir=tmp_path, max_batch_size=4)
    assert other.backend.spec == "/models/my-folder" and other.concurrency == 4  # type: ignore[attr-defined]
    oa = make_client("openai:gpt-4o-mini", cache_dir=tmp_path)
    assert isinstance(oa.backend, OpenAICompatibleBackend)
    assert (oa.backend.base_url, oa.backend.model, oa.timeout_s) == (
        "https://api.openai.com/v1",
        "gpt-4o-mini",
        120.0,
    )
    vllm = make_client("openai:Qwen/Qwen2.5-7B@http://127.0.0.1:8000/v1/", cache_dir=tmp_path, timeout_s=5)
    assert (vllm.backend.base_url, vllm.backend.model) == ("http://127.0.0.1:8000/v1", "Qwen/Qwen2.5-7B")  # type: ignore[attr-defined]
    assert vllm.timeout_s == 5 and vllm.backend.require_key is False  # type: ignore[attr-defined]
    an = make_client("anthropic:claude-3-5-haiku-latest", cache_dir=tmp_path, api_key_env="MY_KEY")
    assert isinstance(an.backend, AnthropicBackend) and an.backend.api_key_env == "MY_KEY"
    assert make_client("stub", use_cache=False).cache is None


@pytest.mark.parametrize("spec", ["", "gpt", "openai", "openai:", "anthropic", "stub:x", "vllm:m"])
def test_bad_specs(spec: str) -> None:
    with pytest.raises(LLMConfigError, match="unknown LLM spec") as info:
        make_client(spec, use_cache=False)
    assert "openai:<model>@<base_url>" in (info.value.hint or "")


def test_bad_backend_option() -> None:
    with pytest.raises(LLMConfigError, match="bad option"):
        make_client("stub", use_cache=False, no_such_option=1)


def test_no_vendor_sdk_is_imported_anywhere() -> None:
    root = Path(auditlens.__file__).parent
    pattern = re.compile(r"^\s*(import|from)\s+(openai|anthropic)\b", re.MULTILINE)
    offenders = [str(p) for p in root.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
