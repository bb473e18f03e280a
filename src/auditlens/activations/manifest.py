"""The activation store's ``manifest.json``: what was harvested, from what, and every shard's checksum.

The manifest is the store's commit record. A shard exists for readers only once the manifest lists it, and
the manifest is replaced atomically (write to a temporary file, fsync, rename), so a harvest killed at any
moment leaves either the old or the new manifest — never a half-written one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from auditlens.runs.io import atomic_write_bytes

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


class ShardFile(BaseModel):
    """One file of one shard."""

    path: str = Field(description="Path relative to the store folder.")
    sha256: str = Field(description="sha256 of the file's bytes; verified on read.")
    bytes: int = Field(description="File size in bytes.")


class Shard(BaseModel):
    """A run of consecutive contexts: their token ids and the activations at every hook point."""

    index: int = Field(description="Shard number, from 0, in harvest order.")
    first_context: int = Field(description="Index of the shard's first context in the packed stream.")
    contexts: int = Field(description="Contexts in the shard.")
    rows: int = Field(description="Activation rows per hook point: contexts × context_length.")
    tokens: ShardFile = Field(
        description="int32 token ids, tensor `tokens` of shape (contexts, context_length)."
    )
    activations: dict[str, ShardFile] = Field(
        description="Per hook point: tensor `activations` of shape (rows, d_in); row r is token r of the shard."
    )


class ModelInfo(BaseModel):
    id: str = Field(description="Model id (the default's name, a folder name or a hub id).")
    weights_sha256: str | None = Field(description="sha256 over the model's weight files.")
    family: str = Field(description="Hook-point layout family (llama, gpt2, gpt_neox, gemma2).")
    source: str | None = Field(default=None, description="The spec the model was loaded from.")
    n_layers: int
    d_model: int


class StoreManifest(BaseModel):
    """Everything needed to read, verify, resume and attribute an activation store."""

    format_version: int = FORMAT_VERSION
    status: Literal["in_progress", "complete"] = Field(
        description="`complete` once the token budget was reached; readers refuse `in_progress` by default."
    )
    run_id: str = Field(
        description="Hash of the settings that define the data; a different run has another id."
    )
    created_at: str
    updated_at: str
    auditlens_version: str
    model: ModelInfo
    hook_points: dict[str, int] = Field(description="Hook point → d_in (width of its activations).")
    context_length: int
    dtype: Literal["float16", "bfloat16"] = Field(description="Storage dtype of the activation shards.")
    seed: int = Field(description="Seed of the document order.")
    tokens_target: int = Field(description="Token budget asked for (rounded up to whole contexts).")
    contexts_target: int
    contexts_per_shard: int
    special_token_ids: list[int] = Field(
        description="Context start / document separator ids; readers can skip their rows (exclude_special)."
    )
    corpus: dict[str, Any] = Field(description="The text source's description (kind, paths, hashes).")
    packing: dict[str, Any] = Field(description="Packing policy and statistics (truncation is counted here).")
    config: dict[str, Any] = Field(description="The harvest configuration as run.")
    shards: list[Shard] = Field(default_factory=list)
    forward_seconds: float = Field(default=0.0, description="Seconds spent in the model's forward pass.")
    wall_seconds: float = Field(default=0.0, description="Seconds of harvesting in total (all sessions).")

    @property
    def contexts(self) -> int:
        return sum(s.contexts for s in self.shards)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.shards)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_manifest(folder: Path, manifest: StoreManifest) -> None:
    atomic_write_bytes(folder / MANIFEST, manifest.model_dump_json(indent=1).encode())


def read_manifest(folder: Path) -> StoreManifest:
    return StoreManifest.model_validate(json.loads((folder / MANIFEST).read_text()))
