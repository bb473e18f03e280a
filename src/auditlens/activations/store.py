"""Read an activation store: verified shards, deterministic shuffled batches with background prefetch.

Batches come from a window of a few shards at a time (never the whole store): per epoch the shard order is
permuted, each window's rows are pooled and permuted, and rows left over at a window's end are carried into
the next one, so every row is served exactly once per epoch and mixing crosses shard boundaries. The next
window is read, checksummed and decoded in a background thread while the current one is consumed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load as st_load

from auditlens.activations.filters import DEFAULT_MAX_NORM_FACTOR, keep_rows
from auditlens.activations.manifest import MANIFEST, Shard, StoreManifest, read_manifest, sha256_bytes
from auditlens.errors import DataError, HookPointError


class ActivationStore:
    """A harvested store on disk (see :mod:`auditlens.activations.manifest` for the layout)."""

    def __init__(self, path: Path, manifest: StoreManifest) -> None:
        self.path = path
        self.manifest = manifest
        self._norm_medians: dict[str, float] = {}

    @classmethod
    def open(cls, path: str | Path, *, allow_partial: bool = False) -> ActivationStore:
        """Open a store; an unfinished harvest is refused unless ``allow_partial``."""
        path = Path(path)
        if not (path / MANIFEST).exists():
            raise DataError(
                f"{path} is not an activation store (no {MANIFEST})", hint="run `auditlens harvest` first"
            )
        try:
            manifest = read_manifest(path)
        except (DataError, ValueError, OSError) as err:
            raise DataError(
                f"{path / MANIFEST} is unreadable: {err}", hint="harvest the store again"
            ) from err
        if manifest.status != "complete" and not allow_partial:
            raise DataError(
                f"the store at {path} is unfinished ({manifest.contexts} of {manifest.contexts_target} contexts)",
                hint="re-run the same `auditlens harvest` command to finish it, or open with allow_partial=True",
            )
        return cls(path, manifest)

    # ---------------------------------------------------------------- facts
    @property
    def hook_points(self) -> list[str]:
        return list(self.manifest.hook_points)

    def d_in(self, hook_point: str | None = None) -> int:
        return self.manifest.hook_points[self.resolve_hook_point(hook_point)]

    @property
    def n_rows(self) -> int:
        return self.manifest.rows

    @property
    def n_shards(self) -> int:
        return len(self.manifest.shards)

    @property
    def store_id(self) -> str:
        """Identifies the data: run id plus row count (a resumed, longer store has a different id)."""
        return f"{self.manifest.run_id}-{self.manifest.rows}"

    def model_spec(self, override: str | None = None) -> str:
        """The model spec to load for this store's activations: ``override`` when given, else the spec the store
        was harvested from (its model id for stores that did not record one)."""
        return override or self.manifest.model.source or self.manifest.model.id

    def resolve_hook_point(self, hook_point: str | None = None) -> str:
        """The hook point to read: ``hook_point`` checked, or the store's only one."""
        if hook_point is None:
            if len(self.manifest.hook_points) != 1:
                raise HookPointError(
                    f"the store holds several hook points; name one of {self.hook_points}",
                    hint="pass hook_point=...",
                )
            return next(iter(self.manifest.hook_points))
        if hook_point not in self.manifest.hook_points:
            raise HookPointError(
                f"hook point {hook_point!r} is not in the store at {self.path}",
                hint=f"the store holds {self.hook_points}",
            )
        return hook_point

    # ---------------------------------------------------------------- reads
    def _read(self, rel: str, sha256: str, key: str, verify: bool) -> torch.Tensor:
        path = self.path / rel
        try:
            data = path.read_bytes()
        except OSError as err:
            raise DataError(
                f"shard file {path} is missing or unreadable: {err}", hint="harvest again"
            ) from err
        if verify and sha256_bytes(data) != sha256:
            raise DataError(
                f"shard file {path} is corrupted (checksum mismatch)",
                hint="delete the store and harvest again, or restore the file",
            )
        try:
            return st_load(data)[key]
        except Exception as err:
            raise DataError(f"shard file {path} cannot be decoded: {err}", hint="harvest again") from err

    def read_shard(self, index: int, hook_point: str | None = None, *, verify: bool = True) -> torch.Tensor:
        """Activations of one shard, ``(rows, d_in)`` in the store's dtype, checksum verified."""
        hp = self.resolve_hook_point(hook_point)
        f = self.manifest.shards[index].activations[hp]
        return self._read(f.path, f.sha256, "activations", verify)

    def read_tokens(self, index: int, *, verify: bool = True) -> torch.Tensor:
        """Token ids of one shard, ``(contexts, context_length)`` int32."""
        f = self.manifest.shards[index].tokens
        return self._read(f.path, f.sha256, "tokens", verify)

    def verify(self) -> None:
        """Check every file's checksum; raises :class:`DataError` naming the first bad shard file."""
        for shard in self.manifest.shards:
            self.read_tokens(shard.index)
            for hp in shard.activations:
                self.read_shard(shard.index, hp)

    def contexts(
        self, hook_point: str | None = None, *, dtype: torch.dtype = torch.float32
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """In order, per shard: ``(tokens (n, ctx), activations (n, ctx, d_in))`` — for examples and stats."""
        hp = self.resolve_hook_point(hook_point)
        ctx = self.manifest.context_length
        for shard in self.manifest.shards:
            tokens = self.read_tokens(shard.index)
            acts = self.read_shard(shard.index, hp).to(dtype).reshape(tokens.shape[0], ctx, -1)
            yield tokens, acts

    # -------------------------------------------------------------- batches
    def norm_median(self, hook_point: str | None = None) -> float:
        """Median L2 norm of the first shard's non-special rows (the scale for outlier filtering)."""
        hp = self.resolve_hook_point(hook_point)
        if hp not in self._norm_medians:
            acts = self.read_shard(self.manifest.shards[0].index, hp).float()
            tokens = self.read_tokens(self.manifest.shards[0].index).reshape(-1)
            keep = ~torch.isin(tokens, torch.tensor(self.manifest.special_token_ids, dtype=tokens.dtype))
            self._norm_medians[hp] = float(acts[keep].norm(dim=-1).median())
        return self._norm_medians[hp]

    def _load_window(
        self,
        shards: list[Shard],
        hp: str,
        exclude: torch.Tensor | None,
        max_norm: float | None,
        dtype: torch.dtype,
    ) -> torch.Tensor:
        parts = []
        for shard in shards:
            acts = self.read_shard(shard.index, hp)
            tokens = self.read_tokens(shard.index).reshape(-1) if exclude is not None else None
            parts.append(acts[keep_rows(acts, tokens, exclude, max_norm)].to(dtype))
        return torch.cat(parts)

    def batches(
        self,
        batch_size: int,
        *,
        hook_point: str | None = None,
        seed: int = 0,
        epochs: int | None = 1,
        shuffle: bool = True,
        window_shards: int = 4,
        exclude_special: bool = True,
        max_norm_factor: float | None = DEFAULT_MAX_NORM_FACTOR,
        dtype: torch.dtype = torch.float32,
        drop_last: bool = False,
        prefetch: bool = True,
        start_epoch: int = 0,
    ) -> Iterator[torch.Tensor]:
        """Batches of activation rows ``(batch_size, d_in)``, deterministic for ``seed``.

        Args:
            batch_size: rows per batch (the epoch's last batch may be smaller unless ``drop_last``).
            hook_point: which hook point (optional when the store holds one).
            seed: shuffling seed; epoch ``e`` uses ``seed + e``, so each epoch has a new order.
            epochs: passes over the data; ``None`` for endless.
            shuffle: permute shards and rows (off: store order).
            window_shards: shards pooled and permuted together (memory ≈ window × shard size).
            exclude_special: skip rows whose token is a context start / document separator.
            max_norm_factor: skip rows whose norm exceeds this multiple of :meth:`norm_median` — the
                "massive activations" some models put on a few tokens (in SmolLM2, the first token after a
                document separator), which would otherwise dominate every squared-error statistic; ``None`` keeps
                them. See :mod:`auditlens.activations.filters`.
            dtype: dtype of the yielded batches.
            drop_last: drop each epoch's short final batch.
            prefetch: read the next window in a background thread.
            start_epoch: first epoch number (to resume a training run mid-way through the data).
        """
        if batch_size < 1:
            raise DataError(f"batch_size must be positive, got {batch_size}", hint="pass batch_size >= 1")
        hp = self.resolve_hook_point(hook_point)
        exclude = (
            torch.tensor(self.manifest.special_token_ids, dtype=torch.int32)
            if exclude_special and self.manifest.special_token_ids
            else None
        )
        max_norm = None if max_norm_factor is None else max_norm_factor * self.norm_median(hp)
        epoch = start_epoch
        while epochs is None or epoch < start_epoch + epochs:
            rng = np.random.default_rng([seed, epoch])
            order = rng.permutation(self.n_shards) if shuffle else np.arange(self.n_shards)
            windows = [
                [self.manifest.shards[int(i)] for i in order[k : k + window_shards]]
                for k in range(0, len(order), window_shards)
            ]
            carry: torch.Tensor | None = None
            load = partial(self._load_window, hp=hp, exclude=exclude, max_norm=max_norm, dtype=dtype)
            for rows in _prefetched(windows, load, prefetch):
                if carry is not None and len(carry):
                    rows = torch.cat([carry, rows])
                if shuffle:
                    perm = torch.from_numpy(rng.permutation(rows.shape[0]))
                    rows = rows[perm]
                n_full = rows.shape[0] // batch_size
                for b in range(n_full):
                    yield rows[b * batch_size : (b + 1) * batch_size]
                carry = rows[n_full * batch_size :]
            if carry is not None and len(carry) and not drop_last:
                yield carry
            epoch += 1


def _prefetched(windows: list, load, prefetch: bool) -> Iterator[torch.Tensor]:  # type: ignore[no-untyped-def]
    """Yield ``load(w)`` for each window, loading the next one in a background thread."""
    if not prefetch or len(windows) <= 1:
        for w in windows:
            yield load(w)
        return
    q: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def worker() -> None:
        for w in windows:
            if stop.is_set():
                return
            try:
                item = ("ok", load(w))
            except BaseException as err:
                item = ("err", err)
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item[0] == "err":
                return

    thread = threading.Thread(target=worker, daemon=True, name="auditlens-store-prefetch")
    thread.start()
    try:
        for _ in windows:
            kind, value = q.get()
            if kind == "err":
                raise value
            yield value
    finally:
        stop.set()
