"""A white-box probe ensemble over layers and poolings, trained on whatever sources it is given.

One standardised logistic regression per (hook point, pooling) — by default five residual-stream layers
(at 20, 40, 50, 60 and 80% depth) × mean and last-token pooling — and the ensemble's score is the
sigmoid of the mean of their logits (multi-layer ensembles are what lifted published deception probes
most; anchors-audit §1.8). Features are computed once per distinct transcript text into a
:class:`FeatureTable` (saved as safetensors and reused), so training across sources and the many fits a
transfer matrix needs cost one pass of the model over the samples.

:func:`ensemble_trainer` returns a trainer for :class:`~auditlens.monitor.transfer.Learned`; a single key
(``blocks.15.resid_post:mean``) gives the one-layer probe of :mod:`auditlens.monitor.probe`, and
``shuffle_labels`` the random-label baseline every probe result is reported beside.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from auditlens.monitor.monitors import MonitorError
from auditlens.monitor.probe import pooled_features
from auditlens.monitor.records import CodeSample
from auditlens.monitor.views import MonitorView, transcript_text
from auditlens.runs import write_file_atomically, write_json

if TYPE_CHECKING:
    from auditlens.models import HookedModel

__all__ = ["DEPTHS", "FeatureTable", "compute_features", "default_hook_points", "ensemble_trainer"]

DEPTHS = (0.2, 0.4, 0.5, 0.6, 0.8)
"""Relative depths of the default ensemble's layers."""


def default_hook_points(n_layers: int, depths: Sequence[float] = DEPTHS) -> list[str]:
    """``blocks.{round(d * n_layers)}.resid_post`` for each depth (distinct, within range)."""
    layers = sorted({min(n_layers - 1, max(0, round(d * n_layers))) for d in depths})
    return [f"blocks.{i}.resid_post" for i in layers]


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class FeatureTable:
    """Pooled features of transcript texts: ``key`` (``hook:pooling``) → array (n_texts, d), rows by text."""

    def __init__(self, keys: list[str], texts: list[str], data: dict[str, NDArray[np.float32]]) -> None:
        self.keys, self.texts, self.data = keys, texts, data
        self.row = {t: i for i, t in enumerate(texts)}

    def rows(self, text_keys: Sequence[str]) -> NDArray[np.intp]:
        missing = [k for k in text_keys if k not in self.row]
        if missing:
            raise MonitorError(
                f"{len(missing)} transcripts have no features", hint="compute features for every sample first"
            )
        return np.array([self.row[k] for k in text_keys], dtype=np.intp)

    def save(self, path: str | Path) -> Path:
        """``path`` (.safetensors) with one tensor per key, and ``path``.json with the keys and text order."""
        import torch
        from safetensors.torch import save_file

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.data.items()}
        write_file_atomically(path, lambda tmp: save_file(tensors, str(tmp)))
        write_json(path.with_suffix(".json"), {"keys": self.keys, "texts": self.texts})
        return path

    @classmethod
    def load(cls, path: str | Path) -> FeatureTable:
        from safetensors.torch import load_file

        path = Path(path)
        meta = json.loads(path.with_suffix(".json").read_text())
        t = load_file(str(path))
        return cls(list(meta["keys"]), list(meta["texts"]), {k: t[k].numpy() for k in meta["keys"]})


def compute_features(
    model: HookedModel,
    samples: Sequence[CodeSample],
    view: MonitorView,
    hook_points: Sequence[str],
    poolings: Sequence[str] = ("mean", "last"),
    max_tokens: int = 256,
    batch_size: int = 8,
    cache: str | Path | None = None,
) -> tuple[FeatureTable, dict[str, str]]:
    """Features of every sample's ``view`` transcript (each distinct text once) and sample id → text key.
    With ``cache``, features already there (same keys) are reused and new ones added."""
    texts = {s.id: transcript_text(s, view) for s in samples}
    by_key = {_text_key(t): t for t in texts.values()}
    keys = [f"{hp}:{p}" for hp in hook_points for p in poolings]
    table: FeatureTable | None = None
    if cache is not None and Path(cache).is_file():
        old = FeatureTable.load(cache)
        if old.keys == keys:
            table = old
    have = set(table.row) if table is not None else set()
    todo = [k for k in by_key if k not in have]
    if todo:
        new = pooled_features(
            model, [by_key[k] for k in todo], list(hook_points), list(poolings), max_tokens, batch_size, True
        )
        if table is None:
            table = FeatureTable(keys, todo, new)
        else:
            table = FeatureTable(
                keys, table.texts + todo, {k: np.concatenate([table.data[k], new[k]]) for k in keys}
            )
        if cache is not None:
            table.save(cache)
    assert table is not None
    return table, {sid: _text_key(t) for sid, t in texts.items()}


Scorer = Callable[[Sequence[CodeSample]], NDArray[np.float64]]


def ensemble_trainer(
    table: FeatureTable,
    text_of: dict[str, str],
    keys: Sequence[str] | None = None,
    C: float = 0.05,
    seed: int = 0,
    shuffle_labels: bool = False,
) -> Callable[[Sequence[CodeSample]], Scorer]:
    """A trainer: samples → scorer (sigmoid of the mean logit of one logistic regression per key). Fits are
    memoised by the set of training samples (a transfer matrix asks for the same one more than once)."""
    from sklearn.linear_model import LogisticRegression

    use = list(keys) if keys is not None else table.keys
    unknown = [k for k in use if k not in table.data]
    if unknown:
        raise MonitorError(f"no features for {unknown[0]!r}", hint=f"computed: {', '.join(table.keys)}")
    memo: dict[frozenset[str], Scorer] = {}

    def train(samples: Sequence[CodeSample]) -> Scorer:
        ident = frozenset(s.id for s in samples)
        if ident in memo:
            return memo[ident]
        y = np.array([s.is_backdoored for s in samples], dtype=np.int64)
        if len(set(y.tolist())) < 2:
            raise MonitorError(
                "a probe needs honest and backdoored training samples", hint="tune on both labels"
            )
        if shuffle_labels:
            y = np.random.default_rng(seed).permutation(y)
        rows = table.rows([text_of[s.id] for s in samples])
        parts: list[tuple[str, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float]] = []
        for k in use:
            x = table.data[k][rows].astype(np.float64)
            mu, sd = x.mean(0), x.std(0) + 1e-6
            clf = LogisticRegression(C=C, max_iter=2000, random_state=seed)
            clf.fit((x - mu) / sd, y)
            parts.append((k, mu, sd, clf.coef_[0].astype(np.float64), float(clf.intercept_[0])))

        def score(xs: Sequence[CodeSample]) -> NDArray[np.float64]:
            r = table.rows([text_of[s.id] for s in xs])
            z = np.mean([((table.data[k][r] - mu) / sd) @ w + b for k, mu, sd, w, b in parts], axis=0)
            return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))

        memo[ident] = score
        return score

    return train
