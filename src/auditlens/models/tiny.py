"""Tiny randomly initialised models of every supported family, for tests and quick experiments.

They use a byte-level tokenizer (256 byte tokens + ``<|endoftext|>``) built offline, so a test can run the
whole pipeline — packing, capture, harvest, training — in seconds without any downloaded weights.
"""

from __future__ import annotations

from typing import Any

import torch

from auditlens.models.hooked import HookedModel

TINY_FAMILIES: tuple[str, ...] = ("llama", "mistral", "qwen2", "gemma", "gemma2", "gpt2", "gpt_neox")
"""The families :func:`tiny_model` can build (one per supported hook-point layout and then some)."""


def byte_tokenizer(*, add_bos: bool = False) -> Any:
    """A fast byte-level tokenizer: ids 0..255 are bytes, 256 is ``<|endoftext|>`` (bos = eos = pad).

    With ``add_bos`` the tokenizer prepends ``<|endoftext|>`` to every encoding (GPT-NeoX/Llama style).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(vocab=_byte_level_vocab(), merges=[], unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|endoftext|>"])
    if add_bos:
        tok.post_processor = processors.TemplateProcessing(
            single="<|endoftext|> $A", special_tokens=[("<|endoftext|>", 256)]
        )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )
    fast.chat_template = (
        "{% for m in messages %}<|endoftext|>{{ m['role'] }}\n{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|endoftext|>assistant\n{% endif %}"
    )
    return fast


def _byte_level_vocab() -> dict[str, int]:
    """GPT-2's byte-level alphabet: byte ``b`` is spelled by one printable unicode character."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars: dict[int, str] = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return {chars[b]: b for b in range(256)}


def tiny_config(family: str, *, n_layers: int = 3, d_model: int = 32, vocab_size: int = 257) -> Any:
    """A small random-init config of ``family`` (see :data:`TINY_FAMILIES`)."""
    import transformers as tf

    common = dict(vocab_size=vocab_size, bos_token_id=256, eos_token_id=256, pad_token_id=256)
    llama_like = dict(
        hidden_size=d_model,
        intermediate_size=2 * d_model,
        num_hidden_layers=n_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        **common,
    )
    if family == "llama":
        return tf.LlamaConfig(**llama_like)
    if family == "mistral":
        return tf.MistralConfig(**llama_like)
    if family == "qwen2":
        return tf.Qwen2Config(**llama_like)
    if family == "gemma":
        return tf.GemmaConfig(head_dim=d_model // 4, **llama_like)
    if family == "gemma2":
        return tf.Gemma2Config(head_dim=d_model // 4, **llama_like)
    if family == "gpt2":
        return tf.GPT2Config(n_embd=d_model, n_layer=n_layers, n_head=4, n_positions=256, **common)
    if family == "gpt_neox":
        return tf.GPTNeoXConfig(
            hidden_size=d_model,
            intermediate_size=4 * d_model,
            num_hidden_layers=n_layers,
            num_attention_heads=4,
            max_position_embeddings=256,
            **common,
        )
    raise ValueError(f"unknown tiny family {family!r}; choose from {TINY_FAMILIES}")


def tiny_model(family: str = "llama", *, seed: int = 0, n_layers: int = 3, d_model: int = 32) -> HookedModel:
    """A tiny random model of ``family`` with the byte tokenizer, wrapped as a :class:`HookedModel`."""
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    config = tiny_config(family, n_layers=n_layers, d_model=d_model)
    model = AutoModelForCausalLM.from_config(config)
    add_bos = family in ("llama", "mistral", "gemma", "gemma2", "gpt_neox")
    return HookedModel(model, byte_tokenizer(add_bos=add_bos), model_id=f"tiny-{family}-s{seed}")
