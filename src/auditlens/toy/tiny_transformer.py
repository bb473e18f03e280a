"""The small-transformer replication (seeds-digest §7.2/7.3) on CPU.

1. Train a nanoGPT-style model — a ``transformers.GPT2LMHeadModel`` with 6 layers, d_model 32, 8 heads, MLP 128,
   context 256, exact GELU, dropout 0.2 — on the default offline corpus with the **byte-level tokenizer**
   (:func:`auditlens.models.tiny.byte_tokenizer`, 257 ids: SmolLM2's 49,152-token vocabulary would make the
   embedding 50× larger than the rest of a d_model-32 model). Checkpoints are safetensors (model, AdamW state) plus
   JSON (step, loss curve, RNG), written atomically every ``checkpoint_every`` steps; a re-run resumes
   (:mod:`auditlens.toy.tiny_lm`).
2. Harvest its layer-2 post-GELU MLP activations (hook point ``blocks.2.mlp.post``, 128 wide) through
   :func:`auditlens.activations.harvest` into an activation store (resumable by the harvester itself).
3. Train seed-style untied ReLU+L1 dictionaries (undivided convention, one coefficient for every size) at ratios
   2…64 of the 128 neurons, all in one :class:`~auditlens.sae.Trainer` (one read of the store feeds every size),
   compare each with the next larger one (max cosine and Hungarian matching), and report the max-cosine histogram,
   its bimodality coefficient, the MMCS-vs-size curve and how neuron-sparse the learned features are
   (:mod:`auditlens.toy.size_sweep`).

The output folder holds the three parts, each keyed on its own settings: ``lm/`` (the model's checkpoint, resumed
under the same model settings, retrained under others), ``store/`` (the harvester's run folder, of these weights) and
``sweep/`` (the size sweep's run folder; a sweep of other settings is parked beside it). So a new dictionary seed
reuses the model and the store, and re-running finished settings trains nothing. The settings are
:mod:`auditlens.toy.tiny_config`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from pydantic import BaseModel, Field

from auditlens.runs import write_json
from auditlens.toy.size_sweep import SizePair, SizeSweepResult, claim_sweep_folder, run_size_sweep
from auditlens.toy.size_sweep import _sweep_fingerprints as _sweep_fingerprints  # re-exported for tests
from auditlens.toy.tiny_config import TinyTransformerConfig, TrainLMResult
from auditlens.toy.tiny_lm import (
    MODEL_FILE,
    OPTIM_FILE,
    STATE_FILE,
    build_model,
    corpus_tokens,
    harvest_mlp_activations,
    train_language_model,
)

__all__ = [
    "MODEL_FILE",
    "OPTIM_FILE",
    "STATE_FILE",
    "SizePair",
    "SizeSweepResult",
    "TinyTransformerConfig",
    "TinyTransformerResult",
    "TrainLMResult",
    "build_model",
    "claim_sweep_folder",
    "corpus_tokens",
    "harvest_mlp_activations",
    "run_size_sweep",
    "run_tiny_transformer",
    "train_language_model",
]
log = logging.getLogger(__name__)

RESULT_JSON = "tiny_transformer.json"


class TinyTransformerResult(BaseModel):
    """Everything the command produced."""

    config: TinyTransformerConfig = Field(description="What was run.")
    lm: TrainLMResult = Field(description="Language-model training.")
    store: str = Field(description="Activation store folder.")
    hook_point: str = Field(description="Hook point harvested.")
    sweep: SizeSweepResult = Field(description="Dictionary-size sweep.")
    seconds: dict[str, float] = Field(description="Wall seconds per stage.")

    def summary(self) -> str:
        """The bimodality coefficient and each size pair's MMCS (what ``replicate tiny-transformer`` prints)."""
        s = self.sweep
        return "\n".join(
            [f"bimodality coefficient {s.bimodality_coefficient:.3f}"]
            + [
                f"{p.d_sae:5d} vs {p.d_sae_larger:5d}: MMCS {p.mmcs:.3f}  Hungarian {p.hungarian_mmcs:.3f}"
                for p in s.pairs
            ]
        )


def run_tiny_transformer(
    cfg: TinyTransformerConfig, out_dir: str | Path, *, source: str = "default"
) -> TinyTransformerResult:
    """Train (resuming), harvest, sweep; writes ``tiny_transformer.json`` in ``out_dir`` and returns it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    old = torch.get_num_threads()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    try:
        seconds: dict[str, float] = {}
        t = time.perf_counter()
        log.info("language model: %d steps of %d×%d tokens", cfg.steps, cfg.batch_size, cfg.context_length)
        model, lm = train_language_model(cfg, out, source=source)
        seconds["train_lm"] = time.perf_counter() - t
        t = time.perf_counter()
        log.info("harvest: %s rows of blocks.%d.mlp.post", f"{cfg.harvest_tokens:,}", cfg.layer)
        store, hook = harvest_mlp_activations(cfg, model, out, source=source)
        seconds["harvest"] = time.perf_counter() - t
        t = time.perf_counter()
        log.info("size sweep: ratios %s × %d steps", cfg.ratios, cfg.sae_steps)
        sweep = run_size_sweep(cfg, store, hook, work_dir=out / "sweep")
        seconds["size_sweep"] = time.perf_counter() - t
    finally:
        torch.set_num_threads(old)
    result = TinyTransformerResult(
        config=cfg, lm=lm, store=str(store), hook_point=hook, sweep=sweep, seconds=seconds
    )
    write_json(out / RESULT_JSON, result)
    return result
