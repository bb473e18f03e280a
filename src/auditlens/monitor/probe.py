"""A white-box monitor: a logistic-regression probe on mean-pooled activations of a model reading the
transcript.

The model (any :class:`auditlens.models.HookedModel`; the embedded SmolLM2 by default in the CLI) reads
the monitor view of each sample (:func:`auditlens.monitor.views.transcript_text`); the residual stream at
one hook point is averaged over the (unpadded) tokens; a standardised scikit-learn logistic regression is
trained on a labelled split and scores held-out samples with P(backdoor). Split by problem id
(:func:`split_by_problem`) so that no problem appears on both sides. ``shuffle_labels=True`` trains the
random-label baseline that probe results should always be reported beside (anchors-audit §5).

Probes are saved as ``probe.safetensors`` (scaler and weights) + ``probe.json`` (config), never pickled.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from auditlens.monitor.monitors import MonitorError, MonitorResult
from auditlens.monitor.records import CodeSample
from auditlens.monitor.views import MonitorView, transcript_text
from auditlens.runs import read_json, write_file_atomically, write_json

if TYPE_CHECKING:
    from auditlens.models import HookedModel

__all__ = [
    "POOLINGS",
    "ProbeConfig",
    "ProbeMonitor",
    "pooled_activations",
    "pooled_features",
    "split_by_problem",
]


class ProbeConfig(BaseModel):
    """How the probe reads and learns."""

    hook_point: str | None = Field(None, description="Hook point; None: blocks.{n_layers // 2}.resid_post.")
    view: MonitorView = Field(MonitorView.REASONING, description="What the model reads (see views).")
    max_tokens: int = Field(512, gt=0, description="Read at most this many tokens per transcript.")
    batch_size: int = Field(8, gt=0, description="Transcripts per forward pass.")
    C: float = Field(1.0, gt=0, description="Inverse L2 strength of the logistic regression.")
    seed: int = Field(0, description="Seed of the solver and of the label shuffle.")
    shuffle_labels: bool = Field(False, description="Train on shuffled labels (the random-label baseline).")
    name: str | None = Field(None, description="Monitor name; None: 'probe' or 'probe-shuffled'.")


def split_by_problem(
    samples: Sequence[CodeSample], test_fraction: float = 0.5, seed: int = 0
) -> tuple[list[CodeSample], list[CodeSample]]:
    """(train, test) with disjoint problem ids: a seeded ``test_fraction`` of the problems goes to test."""
    if not 0.0 < test_fraction < 1.0:
        raise MonitorError(f"test_fraction must be in (0, 1), got {test_fraction}", hint="e.g. 0.5")
    problems = sorted({s.problem_id for s in samples})
    if len(problems) < 2:
        raise MonitorError(
            f"cannot split {len(problems)} problem(s) into train and test",
            hint="use samples from at least two problems",
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(problems))
    n_test = min(max(1, round(test_fraction * len(problems))), len(problems) - 1)
    test_ids = {problems[i] for i in order[:n_test]}
    return [s for s in samples if s.problem_id not in test_ids], [
        s for s in samples if s.problem_id in test_ids
    ]


POOLINGS = ("mean", "last", "max")
"""How token activations become one vector: their mean, the last real token's, the per-dimension max."""


def pooled_features(
    model: HookedModel,
    texts: Sequence[str],
    hook_points: Sequence[str],
    poolings: Sequence[str] = ("mean",),
    max_tokens: int = 512,
    batch_size: int = 8,
    progress: bool = False,
) -> dict[str, NDArray[np.float32]]:
    """Pooled activations at several hook points from one pass per batch: ``"{hook}:{pooling}"`` → array
    (len(texts), d). Padding is never pooled; texts are batched by length so little padding is computed;
    the pass stops after the deepest hook's layer."""
    import torch

    bad = [p for p in poolings if p not in POOLINGS]
    if bad:
        raise MonitorError(f"unknown pooling {bad[0]!r}", hint=f"use one of {', '.join(POOLINGS)}")
    tok = model.tokenizer
    if tok is None:
        raise MonitorError("the model has no tokenizer", hint="load it with auditlens.models.load_model")
    for hp in hook_points:
        model.parse(hp)
    ids = [tok(t, add_special_tokens=True)["input_ids"][:max_tokens] or [0] for t in texts]
    pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
    out = {
        f"{hp}:{p}": np.zeros((len(texts), model.hook_dim(hp)), dtype=np.float32)
        for hp in hook_points
        for p in poolings
    }
    device = next(model.model.parameters()).device
    order = np.argsort([len(x) for x in ids])
    from auditlens.runs import bar

    for start in bar(range(0, len(order), batch_size), desc="probe features", unit="batch", enabled=progress):
        idx = order[start : start + batch_size]
        lengths = torch.tensor([len(ids[i]) for i in idx])
        width = int(lengths.max())
        batch = torch.full((len(idx), width), pad, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            batch[row, : len(ids[i])] = torch.tensor(ids[i])
            mask[row, : len(ids[i])] = 1
        acts = model.capture(batch.to(device), list(hook_points), attention_mask=mask.to(device))
        for hp in hook_points:
            a = acts[hp].float()
            m = mask.to(a.device, a.dtype).unsqueeze(-1)
            for p in poolings:
                if p == "mean":
                    v = (a * m).sum(1) / m.sum(1)
                elif p == "last":
                    v = a[torch.arange(len(idx)), (lengths - 1).to(a.device)]
                else:
                    v = a.masked_fill(m == 0, float("-inf")).amax(1)
                out[f"{hp}:{p}"][idx] = v.cpu().numpy()
    return out


def pooled_activations(
    model: HookedModel, texts: Sequence[str], hook_point: str, max_tokens: int = 512, batch_size: int = 8
) -> NDArray[np.float32]:
    """Mean over real tokens (not padding) of the activations at ``hook_point``: shape (len(texts), d)."""
    return pooled_features(model, texts, [hook_point], ["mean"], max_tokens, batch_size)[f"{hook_point}:mean"]


class ProbeMonitor:
    """Logistic-regression probe on pooled activations (see the module docstring).

    >>> probe = ProbeMonitor(model).fit(train)        # doctest: +SKIP
    >>> results = probe.score_many(test)              # doctest: +SKIP
    """

    def __init__(self, model: HookedModel, config: ProbeConfig | None = None) -> None:
        self.model = model
        self.config = config or ProbeConfig()
        self.hook_point = self.config.hook_point or f"blocks.{model.n_layers // 2}.resid_post"
        model.parse(self.hook_point)
        self.name = self.config.name or ("probe-shuffled" if self.config.shuffle_labels else "probe")
        self.mean_: NDArray[np.float64] | None = None
        self.scale_: NDArray[np.float64] | None = None
        self.coef_: NDArray[np.float64] | None = None
        self.intercept_: float = 0.0
        self.train_problems: list[str] = []

    def features(self, samples: Sequence[CodeSample]) -> NDArray[np.float32]:
        texts = [transcript_text(s, self.config.view) for s in samples]
        cfg = self.config
        return pooled_activations(self.model, texts, self.hook_point, cfg.max_tokens, cfg.batch_size)

    def fit(self, samples: Sequence[CodeSample], features: NDArray[np.float32] | None = None) -> ProbeMonitor:
        """Train on ``samples`` (labels: backdoored or not). ``features`` may be passed when already
        computed (rows in the order of ``samples``)."""
        from sklearn.linear_model import LogisticRegression

        y = np.array([s.is_backdoored for s in samples], dtype=np.int64)
        if len(set(y.tolist())) < 2:
            raise MonitorError(
                "the probe's training split needs both honest and backdoored samples",
                hint="train on a split that holds both labels (split_by_problem keeps whole problems)",
            )
        if self.config.shuffle_labels:
            y = np.random.default_rng(self.config.seed).permutation(y)
        x = (self.features(samples) if features is None else features).astype(np.float64)
        self.mean_ = x.mean(0)
        self.scale_ = x.std(0) + 1e-6
        clf = LogisticRegression(C=self.config.C, max_iter=2000, random_state=self.config.seed)
        clf.fit((x - self.mean_) / self.scale_, y)
        self.coef_ = clf.coef_[0].astype(np.float64)
        self.intercept_ = float(clf.intercept_[0])
        self.train_problems = sorted({s.problem_id for s in samples})
        return self

    def predict(self, features: NDArray[np.float32]) -> NDArray[np.float64]:
        """P(backdoor) for rows of pooled activations."""
        if self.coef_ is None or self.mean_ is None or self.scale_ is None:
            raise MonitorError("the probe is not trained", hint="call fit(train_samples) or load(path)")
        z = ((features.astype(np.float64) - self.mean_) / self.scale_) @ self.coef_ + self.intercept_
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))

    def score_many(self, samples: Sequence[CodeSample]) -> list[MonitorResult]:
        if not samples:
            return []
        p = self.predict(self.features(samples))
        seen = set(self.train_problems)
        out = []
        for s, v in zip(samples, p.tolist(), strict=True):
            note = " (problem seen in training)" if s.problem_id in seen else ""
            out.append(
                MonitorResult(
                    sample_id=s.id,
                    monitor=self.name,
                    suspicion=float(v),
                    rationale=f"probe P(backdoor)={v:.4f} on mean-pooled {self.hook_point}{note}",
                )
            )
        return out

    def save(self, folder: str | Path) -> Path:
        """Write ``probe.safetensors`` + ``probe.json`` into ``folder``."""
        import torch
        from safetensors.torch import save_file

        if self.coef_ is None or self.mean_ is None or self.scale_ is None:
            raise MonitorError("the probe is not trained", hint="call fit(train_samples) first")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {
            "mean": torch.from_numpy(self.mean_),
            "scale": torch.from_numpy(self.scale_),
            "coef": torch.from_numpy(self.coef_),
            "intercept": torch.tensor([self.intercept_], dtype=torch.float64),
        }
        write_file_atomically(folder / "probe.safetensors", lambda tmp: save_file(tensors, str(tmp)))
        meta = {
            "config": self.config.model_dump(mode="json"),
            "hook_point": self.hook_point,
            "model_id": self.model.model_id,
            "train_problems": self.train_problems,
        }
        write_json(folder / "probe.json", meta, indent=2)
        return folder

    @classmethod
    def load(cls, folder: str | Path, model: HookedModel) -> ProbeMonitor:
        """A probe saved by :meth:`save`, reading with ``model``."""
        from safetensors.torch import load_file

        folder = Path(folder)
        if not (folder / "probe.json").exists() or not (folder / "probe.safetensors").exists():
            raise MonitorError(
                f"{folder} does not hold a saved probe", hint="expected probe.json and probe.safetensors"
            )
        meta = read_json(folder / "probe.json", what="probe description")
        config = ProbeConfig.model_validate({**meta["config"], "hook_point": meta["hook_point"]})
        probe = cls(model, config)
        t = load_file(str(folder / "probe.safetensors"))
        probe.mean_, probe.scale_ = t["mean"].numpy(), t["scale"].numpy()
        probe.coef_, probe.intercept_ = t["coef"].numpy(), float(t["intercept"][0])
        probe.train_problems = list(meta.get("train_problems", []))
        return probe
