"""A tiny random chat model and tokenizer for the LLM tests (never the real SmolLM2)."""

from __future__ import annotations

from typing import Any

import pytest

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }} {{ m['content'] }}<|im_end|> {% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant {% endif %}"
)
WORDS = [
    "system",
    "user",
    "assistant",
    "(",
    ")",
    "A",
    "B",
    "C",
    "yes",
    "no",
    "is",
    "this",
    "code",
    "safe",
    "?",
    "hello",
    "world",
    "the",
    "cat",
    "sat",
    "on",
    "a",
    "mat",
    "answer",
    "with",
    "one",
    "letter",
    "backdoor",
    "could",
    "exist",
]


def make_chat_tokenizer() -> Any:
    """WordLevel tokenizer with ChatML-style specials and a chat template, wrapped for transformers."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"]
    vocab = {t: i for i, t in enumerate(specials + WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="<unk>",
        pad_token="<pad>",
        eos_token="<|im_end|>",
        additional_special_tokens=["<|im_start|>"],
    )
    tok.chat_template = CHAT_TEMPLATE
    return tok


def make_tiny_llama(vocab_size: int, seed: int = 0) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # sharpen the random logits so greedy/sampling differ visibly
        model.lm_head.weight.mul_(20.0)
    return model.eval()


@pytest.fixture(scope="module")
def tiny_chat() -> tuple[Any, Any]:
    """(model, tokenizer) of a tiny random Llama with a chat template."""
    tok = make_chat_tokenizer()
    return make_tiny_llama(len(tok)), tok


@pytest.fixture(scope="module")
def make_llama() -> Any:
    """Builds another tiny random Llama: ``make_llama(vocab_size, seed)``."""
    return make_tiny_llama
