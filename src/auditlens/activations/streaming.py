"""Activations straight from the model, no disk: the same ``batches`` API as :class:`ActivationStore`.

Rows go into a mixing buffer; once it is full it is permuted and its first half served as batches, the
second half kept and topped up by the next forward passes — so consecutive batches mix many contexts
and documents, as an on-disk shuffle would.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from auditlens.activations.filters import DEFAULT_MAX_NORM_FACTOR, keep_rows
from auditlens.data import BosPolicy, open_source, pack_documents
from auditlens.errors import ConfigError, DataError
from auditlens.models import HookedModel


class StreamingActivations:
    """Harvest-on-the-fly activations at one hook point, served through a mixing buffer."""

    def __init__(
        self,
        model: HookedModel,
        hook_point: str,
        *,
        source: str = "default",
        text_field: str = "text",
        context_length: int = 128,
        tokens: int | None = None,
        batch_contexts: int = 32,
        buffer_rows: int = 65_536,
        seed: int = 0,
        bos_policy: BosPolicy = BosPolicy.AUTO,
    ) -> None:
        self.model = model
        self.hook_point = hook_point
        self._d_in = model.hook_dim(hook_point)  # validates the name
        if buffer_rows < 2:
            raise ConfigError(f"buffer_rows must be at least 2, got {buffer_rows}", hint="e.g. 65536")
        self.source, self.text_field = source, text_field
        self.context_length, self.tokens = context_length, tokens
        self.batch_contexts, self.buffer_rows = batch_contexts, buffer_rows
        self.seed, self.bos_policy = seed, bos_policy
        self.special_token_ids: list[int] = []

    def d_in(self, hook_point: str | None = None) -> int:
        return self._d_in

    def _rows(
        self, seed: int, exclude_special: bool, max_norm_factor: float | None
    ) -> Iterator[torch.Tensor]:
        max_contexts = None if self.tokens is None else -(-self.tokens // self.context_length)
        packed = pack_documents(
            open_source(self.source, text_field=self.text_field),
            self.model.tokenizer,
            self.context_length,
            seed=seed,
            batch_size=self.batch_contexts,
            bos_policy=self.bos_policy,
            max_context_length=self.model.max_context or None,
            max_contexts=max_contexts,
        )
        stats = packed.stats
        special = [i for i in (stats.start_token_id, stats.separator_token_id) if i is not None]
        self.special_token_ids = sorted(set(special))
        exclude = torch.tensor(self.special_token_ids, dtype=torch.long) if exclude_special else None
        max_norm: float | None = None
        for batch in packed:
            ids = torch.from_numpy(batch.astype(np.int64)).reshape(-1)
            acts = self.model.capture(ids.reshape(batch.shape), [self.hook_point])[self.hook_point]
            acts = acts.reshape(-1, self._d_in)
            if max_norm_factor is not None and max_norm is None:  # scale from the first batch, then fixed
                ordinary = keep_rows(acts, ids, torch.tensor(self.special_token_ids))
                max_norm = max_norm_factor * float(acts[ordinary].norm(dim=-1).median())
            yield acts[keep_rows(acts, ids, exclude, max_norm)]

    def batches(
        self,
        batch_size: int,
        *,
        hook_point: str | None = None,
        seed: int = 0,
        epochs: int | None = 1,
        shuffle: bool = True,
        exclude_special: bool = True,
        max_norm_factor: float | None = DEFAULT_MAX_NORM_FACTOR,
        dtype: torch.dtype = torch.float32,
        drop_last: bool = False,
        **_ignored: object,
    ) -> Iterator[torch.Tensor]:
        """Batches ``(batch_size, d_in)``; an epoch is one pass over the source (or the token budget).

        Rows are filtered as :meth:`ActivationStore.batches` does (the norm scale comes from the first batch).
        """
        if hook_point not in (None, self.hook_point):
            raise ConfigError(f"this stream serves {self.hook_point}, not {hook_point}", hint="make another")
        if batch_size > self.buffer_rows // 2:
            raise ConfigError(
                f"batch_size {batch_size} exceeds half the mixing buffer ({self.buffer_rows} rows)",
                hint="raise buffer_rows or lower batch_size",
            )
        epoch = 0
        while epochs is None or epoch < epochs:
            rng = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
            buffer = torch.empty(0, self._d_in, dtype=dtype)
            produced = False
            for rows in self._rows(self.seed + epoch, exclude_special, max_norm_factor):
                produced = True
                buffer = torch.cat([buffer, rows.to(dtype)])
                if buffer.shape[0] < self.buffer_rows:
                    continue
                if shuffle:
                    buffer = buffer[torch.randperm(buffer.shape[0], generator=rng)]
                half = (buffer.shape[0] // 2) // batch_size * batch_size
                for b in range(0, half, batch_size):
                    yield buffer[b : b + batch_size]
                buffer = buffer[half:]
            if not produced:
                raise DataError(f"the source {self.source!r} produced no contexts", hint="check the corpus")
            if shuffle and buffer.shape[0]:
                buffer = buffer[torch.randperm(buffer.shape[0], generator=rng)]
            n_full = buffer.shape[0] // batch_size
            for b in range(n_full):
                yield buffer[b * batch_size : (b + 1) * batch_size]
            if not drop_last and buffer.shape[0] % batch_size:
                yield buffer[n_full * batch_size :]
            epoch += 1
