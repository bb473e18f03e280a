"""Static HTML dashboards: an index that sorts and searches features, and a panel per feature.

The output folder opens from ``file://`` with no network::

    index.html            the page (CSS and JS inlined; no external libraries)
    data/index.js         one row per feature: id, firing rate, max, mean, top tokens, explanation, score
    data/chunk_NNNN.js    per-feature details for ``chunk_size`` features: statistics, histogram,
                          promoted/suppressed tokens, coloured-token examples, explanation and scores

Data travel as JSON assigned to ``window.AUDITLENS`` inside ``.js`` files loaded with ``<script>`` tags (Chromium
refuses ``fetch()`` of ``file://``); a chunk is loaded only when one of its features is opened, so 16k-feature
dictionaries stay responsive. JSON is written with ``ensure_ascii`` (every non-ASCII character, U+2028/9 included,
is escaped, and so are ``<``, ``>``, ``&``) and the page inserts all token text with ``textContent``, so no token
can inject markup. Example activations are stored as integers in [-1000, 1000] relative to the feature's max
(0.1 % resolution). Every file is written atomically (:mod:`auditlens.runs.io`).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from auditlens.interpret.examples import ExampleSlots, ExampleTable
from auditlens.interpret.explanations import FeatureExplanation
from auditlens.interpret.stats import DictionaryStats
from auditlens.interpret.tokens import TokenText
from auditlens.runs.io import atomic_write_text


class DashboardConfig(BaseModel):
    """What each feature panel shows and how the data are split."""

    model_config = ConfigDict(extra="forbid")

    chunk_size: int = Field(default=256, ge=1, description="Features per lazily loaded data file.")
    top: int = Field(default=10, ge=0, description="Top-activating examples shown per feature.")
    per_quantile: int = Field(default=2, ge=0, description="Examples shown per activation bin.")
    random: int = Field(default=5, ge=0, description="Random firing examples shown per feature.")
    title: str | None = Field(default=None, description="Page title (default: the source name).")


def _asset(name: str) -> str:
    return resources.files("auditlens.interpret").joinpath("assets", name).read_text(encoding="utf-8")


def _js(obj: object) -> str:
    """JSON that is also safe inside an HTML <script> element: ASCII only, with <, > and & escaped."""
    text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


class _Packed:
    """One kind of examples as numpy arrays, activations quantised to [-1000, 1000] of each feature's max."""

    def __init__(self, slots: ExampleSlots, max_act: np.ndarray, limit: int) -> None:
        self.ctx = slots.ctx[:, :, :limit].numpy()
        self.start = slots.start[:, :, :limit].numpy()
        self.pos = slots.pos[:, :, :limit].numpy()
        self.value = slots.value[:, :, :limit].numpy()
        self.tokens = slots.tokens[:, :, :limit].numpy()
        scale = np.where(max_act > 0, 1000.0 / np.maximum(max_act, 1e-30), 0.0)[:, None, None, None]
        acts = slots.acts[:, :, :limit].numpy()
        self.q = np.clip(np.rint(acts * scale), -1000, 1000).astype(np.int32)

    def used_tokens(self, rows: np.ndarray) -> np.ndarray:
        valid = self.ctx[rows] >= 0
        return np.unique(self.tokens[rows][valid])

    def examples(self, row: int, stratum: int) -> list[list]:
        """``[context, start, max_position, max_activation, token_ids, quantised_acts]`` per kept example."""
        keep = np.nonzero(self.ctx[row, stratum] >= 0)[0]
        return [
            [
                int(self.ctx[row, stratum, j]),
                int(self.start[row, stratum, j]),
                int(self.pos[row, stratum, j]),
                float(self.value[row, stratum, j]),
                self.tokens[row, stratum, j].tolist(),
                self.q[row, stratum, j].tolist(),
            ]
            for j in keep
        ]


def write_dashboard(
    folder: str | Path,
    stats: DictionaryStats,
    examples: ExampleTable,
    text: TokenText | None = None,
    explanations: Mapping[int, FeatureExplanation] | None = None,
    config: DashboardConfig | None = None,
    special_token_ids: list[int] | None = None,
) -> Path:
    """Write the dashboard for ``stats`` + ``examples`` into ``folder``; returns the path of ``index.html``."""
    cfg = config or DashboardConfig()
    text = text or TokenText()
    explanations = explanations or {}
    folder = Path(folder)
    data_dir = folder / "data"
    feats = stats.features
    n = len(feats)
    ids = [f.feature for f in feats]
    rows = [examples.row_of(i) for i in ids] if examples.feature_ids.tolist() != ids else list(range(n))
    index = {
        "id": ids,
        "rate": [f.firing_rate for f in feats],
        "max": [f.max_activation for f in feats],
        "mean": [f.mean_firing_activation for f in feats],
        "tok": [[t.token for t in f.top_tokens[:5]] for f in feats],
        "expl": [explanations[i].explanation if i in explanations else None for i in ids],
        "score": [
            _finite(explanations[i].score)
            if i in explanations and explanations[i].score is not None
            else None
            for i in ids
        ],
        "meta": {
            "source": stats.source,
            "store": stats.store,
            "hook_point": stats.hook_point,
            "model": stats.model,
            "tokens": stats.tokens,
            "contexts": stats.contexts,
            "n_features": stats.n_features,
            "dead": stats.dead_features,
            "density": stats.density.model_dump(),
            "chunk_size": cfg.chunk_size,
            "n_chunks": (n + cfg.chunk_size - 1) // cfg.chunk_size,
            "special": list(special_token_ids or []),
        },
    }
    atomic_write_text(data_dir / "index.js", f"window.AUDITLENS={{chunks:{{}},data:{_js(index)}}};\n")
    max_act = examples.max_activation.numpy()
    top = _Packed(examples.top, max_act, cfg.top)
    quant = _Packed(examples.quantile, max_act, cfg.per_quantile)
    rand = _Packed(examples.random, max_act, cfg.random)
    n_bins = examples.quantile.ctx.shape[1]
    for c, a in enumerate(range(0, n, cfg.chunk_size)):
        chunk: dict[str, object] = {}
        chunk_rows = np.asarray(rows[a : a + cfg.chunk_size])
        used = np.unique(np.concatenate([p.used_tokens(chunk_rows) for p in (top, quant, rand)]))
        for f, row in zip(feats[a : a + cfg.chunk_size], chunk_rows.tolist(), strict=True):
            mx = f.max_activation
            e = explanations.get(f.feature)
            chunk[str(f.feature)] = {
                "fires": f.fires,
                "fctx": f.firing_contexts,
                "rate": f.firing_rate,
                "mean": f.mean_activation,
                "meanf": f.mean_firing_activation,
                "max": mx,
                "hist": f.histogram.counts,
                "top_tokens": [[t.token, t.count] for t in f.top_tokens],
                "promoted": None if f.promoted is None else [[t.token, t.value] for t in f.promoted],
                "suppressed": None if f.suppressed is None else [[t.token, t.value] for t in f.suppressed],
                "top": top.examples(row, 0),
                "quantiles": [
                    {"low": mx * b / n_bins, "high": mx * (b + 1) / n_bins, "ex": quant.examples(row, b)}
                    for b in range(n_bins)
                ],
                "random": rand.examples(row, 0),
                "interp": None
                if e is None
                else {
                    "explanation": e.explanation,
                    "score": None if e.score is None else _finite(e.score),
                    "scores": {k: _finite(v) for k, v in e.scores.items() if v is not None},
                    "explainer": e.explainer,
                },
            }
        chunk["vocab"] = {str(t): text(t) for t in used.tolist()}
        atomic_write_text(data_dir / f"chunk_{c:04d}.js", f"window.AUDITLENS.chunks[{c}]={_js(chunk)};\n")
    title = html.escape(cfg.title or f"auditlens · {stats.source}")
    page = (
        _asset("dashboard.html")
        .replace("__CSS__", _asset("dashboard.css"))
        .replace("__JS__", _asset("dashboard.js"))
        .replace("__TITLE__", title)
    )
    out = folder / "index.html"
    atomic_write_text(out, page)
    return out
