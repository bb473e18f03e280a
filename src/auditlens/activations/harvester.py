"""Harvest: corpus → model → activations at one or more hook points → a sharded, resumable store.

One forward pass per batch serves every requested hook point, and it stops after the deepest one. Shards
are written in a background thread (checksum + fsync + rename) while the next batch runs, then committed
by rewriting the manifest. Kill the process at any moment and run the same command again: it reads the
manifest, skips the committed contexts of the (deterministic) packed stream, and goes on — nothing lost,
nothing duplicated.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from safetensors.torch import save as st_save

from auditlens import __version__
from auditlens.activations.manifest import (
    MANIFEST,
    ModelInfo,
    Shard,
    ShardFile,
    StoreManifest,
    read_manifest,
    sha256_bytes,
    write_manifest,
)
from auditlens.data import BosPolicy, open_source, pack_documents
from auditlens.errors import ConfigError, DataError, RunFolderError
from auditlens.models import DEFAULT_MODEL, HookedModel, load_model
from auditlens.runs import RunFolder, RunRecord, bar, fingerprint, now
from auditlens.runs.io import atomic_write_bytes

KIND = "harvest"
LABEL = "activation store"

_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}


class HarvestConfig(BaseModel):
    """What to harvest and where. Every field is recorded in the store's manifest."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(default=DEFAULT_MODEL, description="Model spec (see auditlens.models.load_model).")
    hook_points: list[str] = Field(
        default_factory=lambda: ["blocks.9.resid_post"], description="Hook points captured in one pass."
    )
    source: str = Field(default="default", description="Text source spec (see auditlens.data.open_source).")
    text_field: str = Field(default="text", description="Field/column holding the text in jsonl/parquet.")
    tokens: int = Field(default=1_000_000, gt=0, description="Token budget, rounded up to whole contexts.")
    context_length: int = Field(default=128, gt=1, description="Tokens per context (start token included).")
    batch_size: int = Field(default=32, gt=0, description="Contexts per forward pass.")
    dtype: Literal["float16", "bfloat16"] = Field(default="float16", description="Storage dtype.")
    shard_tokens: int = Field(default=65_536, gt=0, description="Approximate rows per shard.")
    seed: int = Field(default=0, description="Seed of the document order.")
    bos_policy: BosPolicy = Field(default=BosPolicy.AUTO, description="How contexts start (see BosPolicy).")
    out: Path = Field(description="Output folder of the store.")


def _identity(
    cfg: HarvestConfig, model: HookedModel, corpus: dict, contexts_per_shard: int
) -> dict[str, Any]:
    """What the stored data depends on (its fingerprint is the manifest's ``run_id``)."""
    return {
        "model": model.weights_hash or model.model_id,
        "hook_points": sorted(cfg.hook_points),
        "corpus": corpus,
        "text_field": cfg.text_field,
        "context_length": cfg.context_length,
        "dtype": cfg.dtype,
        "seed": cfg.seed,
        "bos_policy": cfg.bos_policy.value,
        "contexts_per_shard": contexts_per_shard,
    }


def _legacy_store(folder: Path) -> RunRecord | None:
    """The record of a store written before ``run.json``: its manifest's run id and config."""
    if not (folder / MANIFEST).is_file():
        return None
    try:
        m = read_manifest(folder)
    except (ValueError, OSError) as err:
        raise RunFolderError(
            f"{folder / MANIFEST} is unreadable ({err})", hint="pass --overwrite to start the store again"
        ) from err
    return RunRecord(kind=KIND, fingerprint=m.run_id, config=m.config, legacy_source=MANIFEST)


def _claim_store(
    out: Path, cfg: HarvestConfig, identity: dict[str, Any], *, overwrite: bool
) -> StoreManifest | None:
    """Claim the store folder; return the manifest to resume from, ``None`` for a fresh store."""
    if overwrite:
        RunFolder.replace(out, KIND, legacy=_legacy_store, label=LABEL)
    RunFolder.claim(
        out,
        KIND,
        json.loads(cfg.model_dump_json()),
        identity=identity,
        legacy=_legacy_store,
        label=LABEL,
        hint="choose another output folder, or pass --overwrite to replace it",
    )
    return read_manifest(out) if (out / MANIFEST).exists() else None


def _encode_shard(tensors: dict[str, torch.Tensor]) -> tuple[bytes, str]:
    data = st_save({k: v.contiguous() for k, v in tensors.items()})
    return data, sha256_bytes(data)


def _write_shard(
    out: Path, index: int, first_context: int, tokens: np.ndarray, acts: dict[str, torch.Tensor]
) -> Shard:
    """Encode, checksum and atomically write one shard's files (runs in the writer thread)."""
    name = f"shard_{index:05d}.safetensors"
    files: dict[str, ShardFile] = {}
    for key, tensors in [("tokens", {"tokens": torch.from_numpy(tokens)})] + [
        (hp, {"activations": a}) for hp, a in acts.items()
    ]:
        rel = f"{key}/{name}"
        data, digest = _encode_shard(tensors)
        try:
            atomic_write_bytes(out / rel, data)
        except OSError as err:
            raise DataError(
                f"could not write {out / rel}: {err}",
                hint="free disk space or fix permissions, then re-run the same command to resume",
            ) from err
        files[key] = ShardFile(path=rel, sha256=digest, bytes=len(data))
    tok = files.pop("tokens")
    return Shard(
        index=index,
        first_context=first_context,
        contexts=int(tokens.shape[0]),
        rows=int(tokens.size),
        tokens=tok,
        activations=files,
    )


def harvest(
    cfg: HarvestConfig, *, model: HookedModel | None = None, overwrite: bool = False, progress: bool = True
) -> StoreManifest:
    """Harvest activations into ``cfg.out`` (resuming the same run if it is there) and return the manifest.

    Pass an already-loaded ``model`` to skip loading ``cfg.model`` (its id is still recorded).
    """
    t_start = time.perf_counter()
    if not cfg.hook_points:
        raise ConfigError("no hook points given", hint="e.g. --hook-point blocks.9.resid_post")
    model = model or load_model(cfg.model)
    hook_points = list(dict.fromkeys(cfg.hook_points))
    dims = {hp: model.hook_dim(hp) for hp in hook_points}  # validates names and layers
    if model.tokenizer is None:
        raise ConfigError(f"model {model.model_id} has no tokenizer", hint="load it with one")
    if model.max_context and cfg.context_length > model.max_context:
        raise ConfigError(
            f"context length {cfg.context_length} is longer than {model.model_id} allows ({model.max_context})",
            hint=f"use --context-length {model.max_context} or less",
        )
    source = open_source(cfg.source, text_field=cfg.text_field)
    corpus = source.describe()
    contexts_target = math.ceil(cfg.tokens / cfg.context_length)
    contexts_per_shard = max(1, cfg.shard_tokens // cfg.context_length)
    identity = _identity(cfg, model, corpus, contexts_per_shard)
    run_id = fingerprint(identity)
    out = Path(cfg.out)
    existing = _claim_store(out, cfg, identity, overwrite=overwrite)
    for sub in ["tokens", *hook_points]:
        (out / sub).mkdir(parents=True, exist_ok=True)

    packed = pack_documents(
        source,
        model.tokenizer,
        cfg.context_length,
        seed=cfg.seed,
        batch_size=cfg.batch_size,
        bos_policy=cfg.bos_policy,
        max_context_length=model.max_context or None,
        max_contexts=max(1, contexts_target - (existing.contexts if existing else 0)),  # after the skip
        skip_contexts=existing.contexts if existing else 0,
    )
    stats = packed.stats
    special = sorted({i for i in (stats.start_token_id, stats.separator_token_id) if i is not None})
    if existing is None:
        manifest = StoreManifest(
            status="in_progress",
            run_id=run_id,
            created_at=now(),
            updated_at=now(),
            auditlens_version=__version__,
            model=ModelInfo(
                id=model.model_id,
                weights_sha256=model.weights_hash,
                family=model.family,
                source=model.source,
                n_layers=model.n_layers,
                d_model=model.d_model,
            ),
            hook_points=dims,
            context_length=cfg.context_length,
            dtype=cfg.dtype,
            seed=cfg.seed,
            tokens_target=contexts_target * cfg.context_length,
            contexts_target=contexts_target,
            contexts_per_shard=contexts_per_shard,
            special_token_ids=special,
            corpus=corpus,
            packing=stats.model_dump(),
            config=json.loads(cfg.model_dump_json()),
        )
        write_manifest(out, manifest)
    else:
        manifest = existing
        manifest.contexts_target = max(manifest.contexts_target, contexts_target)
        manifest.tokens_target = manifest.contexts_target * cfg.context_length
        manifest.status = "in_progress" if manifest.contexts < manifest.contexts_target else "complete"
    done = manifest.contexts
    if done >= contexts_target:
        manifest.status = "complete"
        write_manifest(out, manifest)
        return manifest

    store_dtype = _DTYPES[cfg.dtype]
    progress_bar = bar(
        total=contexts_target * cfg.context_length,
        initial=done * cfg.context_length,
        unit="tok",
        unit_scale=True,
        desc=f"harvest {','.join(hook_points)}",
        enabled=progress,
    )
    pending: Future[Shard] | None = None
    buf_tokens: list[np.ndarray] = []
    buf_acts: dict[str, list[torch.Tensor]] = {hp: [] for hp in hook_points}
    buffered = 0
    next_index = len(manifest.shards)
    next_first = done
    forward_s = 0.0

    def commit(shard_future: Future[Shard]) -> None:
        manifest.shards.append(shard_future.result())
        manifest.packing = stats.model_dump()
        manifest.updated_at = now()
        write_manifest(out, manifest)

    def flush(writer: ThreadPoolExecutor, n: int) -> Future[Shard]:
        nonlocal buffered, next_index, next_first, pending
        tokens = np.concatenate(buf_tokens)
        acts = {hp: torch.cat(v) for hp, v in buf_acts.items()}
        keep_tok, rest_tok = tokens[:n], tokens[n:]
        rows = n * cfg.context_length
        shard_acts = {hp: a[:rows] for hp, a in acts.items()}
        buf_tokens[:] = [rest_tok] if len(rest_tok) else []
        for hp, a in acts.items():
            buf_acts[hp] = [a[rows:]] if a.shape[0] > rows else []
        buffered -= n
        if pending is not None:
            commit(pending)
            pending = None  # committed: an error below must not make the `finally` commit it twice
        fut = writer.submit(_write_shard, out, next_index, next_first, keep_tok, shard_acts)
        next_index += 1
        next_first += n
        return fut

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="auditlens-shard-writer") as writer:
        try:
            for batch in packed:
                ids = torch.from_numpy(batch.astype(np.int64))
                t0 = time.perf_counter()
                got = model.capture(ids, hook_points)
                forward_s += time.perf_counter() - t0
                buf_tokens.append(batch)
                for hp in hook_points:
                    a = got[hp].reshape(-1, dims[hp]).to(store_dtype)
                    if not torch.isfinite(a).all():
                        raise DataError(
                            f"activations at {hp} overflow {cfg.dtype} (non-finite values after conversion)",
                            hint="harvest with --dtype bfloat16",
                        )
                    buf_acts[hp].append(a)
                buffered += batch.shape[0]
                progress_bar.update(batch.size)
                while buffered >= contexts_per_shard:
                    pending = flush(writer, contexts_per_shard)
            if buffered:
                pending = flush(writer, buffered)
            if pending is not None:
                commit(pending)
                pending = None
        finally:
            progress_bar.close()
            if pending is not None:
                # Keep the shard being written when interrupted; a failed write stays uncommitted.
                with contextlib.suppress(Exception):
                    commit(pending)
            manifest.forward_seconds += forward_s
            manifest.wall_seconds += time.perf_counter() - t_start
            manifest.packing = stats.model_dump()
            write_manifest(out, manifest)
    if manifest.contexts < contexts_target:
        raise DataError(
            f"the corpus ran out after {manifest.contexts * cfg.context_length} tokens, "
            f"short of the {contexts_target * cfg.context_length} asked for",
            hint="ask for fewer tokens (--tokens) or use a larger source; the store keeps what was harvested",
        )
    manifest.status = "complete"
    manifest.updated_at = now()
    write_manifest(out, manifest)
    return manifest
