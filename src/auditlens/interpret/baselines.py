"""The baseline zoo of the seed (§5.6, §6.2): bases a sparse dictionary is compared against under auto-interp.

Every baseline is a :class:`~auditlens.interpret.features.FeatureSource`, so statistics, examples, dashboards
and auto-interp read it exactly like a dictionary.

=================  ==========================================================================================
name               features
=================  ==========================================================================================
``neurons``        the activation basis itself, signed (``x_j``)
``neurons_relu``   ``relu(x_j)`` (the seed's residual "neuron basis" with negatives set to 0)
``neurons_split``  ``relu(x_j)`` and ``relu(-x_j)`` (2·d features)
``random``         ``x · r_i`` for random unit directions ``r_i`` (as many as the dictionary has latents)
``random_relu``    ``relu(x · r_i)``
``random_bias``    ``relu(x · r_i + β_i)`` with ``β_i`` the dictionary's encoder bias of latent ``i`` in the
                   units of a unit direction (``act_scale · b_eff_i / ‖w_enc_i‖``, ``b_eff`` including the
                   decoder-bias centring)
``dict_no_bias``   ``x · w_enc_i`` — the dictionary's encoder directions without bias or ReLU (the seed's
                   ``feature_no_bias``)
``pca``            ``(x − μ) · p_i``, principal components from a batched covariance over the store (signed)
``pca_split``      ``relu(±(x − μ) · p_i)``
``ica``            FastICA sources (sklearn) on standardised data from a subsample (signed)
``ica_split``      ``relu(±s_i)``
``nmf``            NMF (sklearn) of the non-negative split data ``[relu(x), relu(−x)]`` from a subsample
``topk_pca``       ``pca_split`` keeping the K largest per token (appendix G: ± components, K = the
                   dictionary's mean L0)
``topk_ica``       ``ica_split`` keeping the K largest per token
=================  ==========================================================================================

Fitting never loads the store whole: PCA accumulates ``Σx`` and ``Σxxᵀ`` in float64 over
:meth:`ActivationStore.batches` (up to ``max_rows`` rows, store order); ICA and NMF are fitted on a
*subsample* — the first ``n_rows`` rows of a seeded shuffled pass (``ActivationStore.batches(shuffle=True,
seed=seed)``, special-token and massive-activation rows left out as in training). The seed fitted ICA on ~4M
residual rows because FastICA converges slowly; the default here is 20,000 rows (CPU-sized).
A fitted linear baseline saves as safetensors (:meth:`LinearFeatures.save`), so a comparison fits it once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor

from auditlens.activations import ActivationStore
from auditlens.interpret.errors import InterpretError

BASELINES = (
    "neurons",
    "neurons_relu",
    "neurons_split",
    "random",
    "random_relu",
    "random_bias",
    "dict_no_bias",
    "pca",
    "pca_split",
    "ica",
    "ica_split",
    "nmf",
    "topk_pca",
    "topk_ica",
)
"""Names :func:`build_baseline` knows."""


def _unit_rows(w: Tensor) -> Tensor:
    return w / w.norm(dim=1, keepdim=True).clamp_min(1e-12)


class LinearFeatures:
    """Affine features ``y = (x − center) · Wᵀ + b``, then optionally ReLU, or a ± split into ``relu(y)``,
    ``relu(−y)`` (features ``0..F−1`` are the + side, ``F..2F−1`` the − side).

    Args:
        weight: ``(F, d_in)`` read-out rows.
        name: display name.
        bias: ``(F,)`` added before the nonlinearity.
        center: ``(d_in,)`` subtracted from the input first.
        relu: apply ReLU.
        split: ± split (implies ReLU on both sides).
        directions: ``(F, d_in)`` direction of each feature in activation space (default: unit weight rows).
    """

    def __init__(
        self,
        weight: Tensor,
        *,
        name: str,
        bias: Tensor | None = None,
        center: Tensor | None = None,
        relu: bool = False,
        split: bool = False,
        directions: Tensor | None = None,
    ) -> None:
        self.weight = weight.float()
        self.bias = None if bias is None else bias.float()
        self.center = None if center is None else center.float()
        self.relu, self.split = relu, split
        self._dirs = _unit_rows(self.weight if directions is None else directions.float())
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def d_in(self) -> int:
        return int(self.weight.shape[1])

    @property
    def n_features(self) -> int:
        return int(self.weight.shape[0]) * (2 if self.split else 1)

    @property
    def feature_ids(self) -> Tensor:
        return torch.arange(self.n_features)

    @torch.no_grad()
    def pre(self, x: Tensor) -> Tensor:
        x = x.float()
        if self.center is not None:
            x = x - self.center.to(x.device)
        y = x @ self.weight.to(x.device).t()
        return y if self.bias is None else y + self.bias.to(x.device)

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        y = self.pre(x)
        if self.split:
            return torch.cat([y.relu(), (-y).relu()], 1)
        return y.relu() if self.relu else y

    def directions(self) -> Tensor:
        return torch.cat([self._dirs, -self._dirs]) if self.split else self._dirs

    def variant(self, name: str, *, relu: bool | None = None, split: bool | None = None) -> LinearFeatures:
        """The same read-out with another nonlinearity."""
        return LinearFeatures(
            self.weight,
            name=name,
            bias=self.bias,
            center=self.center,
            relu=self.relu if relu is None else relu,
            split=self.split if split is None else split,
            directions=self._dirs,
        )

    def save(self, path: str | Path) -> Path:
        """Write the read-out as safetensors (``weight``, ``directions``, optional ``bias``/``center``)."""
        path = Path(path)
        t = {"weight": self.weight.contiguous(), "directions": self._dirs.contiguous()}
        if self.bias is not None:
            t["bias"] = self.bias.contiguous()
        if self.center is not None:
            t["center"] = self.center.contiguous()
        meta = {"name": self._name, "relu": json.dumps(self.relu), "split": json.dumps(self.split)}
        tmp = path.with_name(f".{path.name}.tmp")
        save_file(t, str(tmp), metadata=meta)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> LinearFeatures:
        with safe_open(str(path), "pt") as f:
            meta = dict(f.metadata() or {})
            t = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        return cls(
            t["weight"],
            name=meta["name"],
            bias=t.get("bias"),
            center=t.get("center"),
            relu=json.loads(meta["relu"]),
            split=json.loads(meta["split"]),
            directions=t["directions"],
        )


class TopKFeatures:
    """Another source keeping, per token, only its ``k`` largest features (the rest set to 0)."""

    def __init__(self, inner: Any, k: int, *, name: str) -> None:
        if k < 1:
            raise InterpretError(f"top-K needs k >= 1, got {k}", hint="pass the dictionary's mean L0 (>= 1)")
        self.inner, self.k, self._name = inner, int(k), name

    @property
    def name(self) -> str:
        return self._name

    @property
    def d_in(self) -> int:
        return int(self.inner.d_in)

    @property
    def n_features(self) -> int:
        return int(self.inner.n_features)

    @property
    def feature_ids(self) -> Tensor:
        return torch.arange(self.n_features)

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        y = self.inner.encode(x)
        k = min(self.k, y.shape[1])
        top = y.topk(k, dim=1)
        return torch.zeros_like(y).scatter_(1, top.indices, top.values.clamp_min(0))

    def directions(self) -> Tensor:
        return self.inner.directions()


class NMFFeatures:
    """NMF codes of the split data ``[relu(x), relu(−x)]`` for fixed components ``H`` (F, 2·d_in), solved with
    sklearn's ``non_negative_factorization(update_H=False)`` (coordinate descent)."""

    def __init__(self, components: Tensor, *, name: str = "nmf", max_iter: int = 200) -> None:
        self.H = components.double()
        self._name, self.max_iter = name, max_iter

    @property
    def name(self) -> str:
        return self._name

    @property
    def d_in(self) -> int:
        return int(self.H.shape[1]) // 2

    @property
    def n_features(self) -> int:
        return int(self.H.shape[0])

    @property
    def feature_ids(self) -> Tensor:
        return torch.arange(self.n_features)

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        from sklearn.decomposition import non_negative_factorization

        xs = split_nonnegative(x.double().cpu()).numpy()
        w, _, _ = non_negative_factorization(
            xs, H=self.H.numpy(), n_components=self.n_features, update_H=False, max_iter=self.max_iter
        )
        return torch.from_numpy(np.asarray(w)).float().to(x.device)

    def directions(self) -> Tensor:
        d = self.d_in
        return _unit_rows((self.H[:, :d] - self.H[:, d:]).float())

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        save_file({"components": self.H.float().contiguous()}, str(tmp), metadata={"name": self._name})
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> NMFFeatures:
        with safe_open(str(path), "pt") as f:
            return cls(f.get_tensor("components"), name=dict(f.metadata() or {}).get("name", "nmf"))


def split_nonnegative(x: Tensor) -> Tensor:
    """``[relu(x), relu(−x)]`` along the last axis."""
    return torch.cat([x.clamp_min(0), (-x).clamp_min(0)], -1)


# ----------------------------------------------------------------------------------------------- fitting
def neuron_features(
    d_in: int, *, relu: bool = False, split: bool = False, name: str | None = None
) -> LinearFeatures:
    """The activation basis (identity read-out)."""
    default = "neurons_split" if split else "neurons_relu" if relu else "neurons"
    return LinearFeatures(torch.eye(d_in), name=name or default, relu=relu, split=split)


def random_features(
    d_in: int,
    n: int,
    *,
    seed: int = 0,
    relu: bool = False,
    bias: Tensor | None = None,
    name: str | None = None,
) -> LinearFeatures:
    """``n`` random unit directions (Gaussian, normalised), optionally with a bias and ReLU."""
    g = torch.Generator().manual_seed(seed)
    w = _unit_rows(torch.randn(n, d_in, generator=g))
    default = "random_bias" if bias is not None else "random_relu" if relu else "random"
    return LinearFeatures(w, name=name or default, bias=bias, relu=relu or bias is not None)


def dictionary_readout(dictionary: Any, member: int = 0) -> tuple[Tensor, Tensor]:
    """``(W, b)`` with ``W`` (d_sae, d_in) the encoder rows in raw input units and ``b`` (d_sae,) the effective
    encoder bias (decoder-bias centring folded in): the dictionary's pre-activation is ``x · Wᵀ + b``."""
    cfg, w = dictionary.saelens_state(member)
    scale = float(dictionary.act_scale)
    W = w["W_enc"].t().float() / scale
    b = w["b_enc"].float().clone()
    if cfg.get("apply_b_dec_to_input", False) and "b_dec" in w:
        b = b - w["W_enc"].t().float() @ w["b_dec"].float()
    return W, b


def dict_no_bias_features(dictionary: Any, member: int = 0) -> LinearFeatures:
    """The dictionary's encoder directions without bias or ReLU (the seed's ``feature_no_bias``)."""
    W, _ = dictionary_readout(dictionary, member)
    return LinearFeatures(W, name="dict_no_bias")


def random_bias_features(dictionary: Any, *, member: int = 0, seed: int = 0) -> LinearFeatures:
    """Random unit directions + the dictionary's encoder bias (per latent, in unit-direction units), ReLU."""
    W, b = dictionary_readout(dictionary, member)
    beta = b / W.norm(dim=1).clamp_min(1e-12)
    return random_features(W.shape[1], W.shape[0], seed=seed, bias=beta, name="random_bias")


def store_rows(
    store: ActivationStore,
    n_rows: int,
    *,
    hook_point: str | None = None,
    seed: int = 0,
    batch_size: int = 4096,
) -> Tensor:
    """The subsample ICA and NMF are fitted on: the first ``n_rows`` rows of a seeded shuffled pass."""
    parts, got = [], 0
    for batch in store.batches(batch_size, hook_point=hook_point, seed=seed, shuffle=True):
        parts.append(batch[: n_rows - got])
        got += len(parts[-1])
        if got >= n_rows:
            break
    if not parts:
        raise InterpretError(f"the store at {store.path} yielded no rows", hint="harvest a store first")
    return torch.cat(parts)


def fit_pca(
    store: ActivationStore,
    *,
    hook_point: str | None = None,
    max_rows: int | None = None,
    batch_size: int = 8192,
) -> LinearFeatures:
    """PCA from a batched covariance (float64 ``Σx``, ``Σxxᵀ``) over the store in order; components by variance."""
    d = store.d_in(store.resolve_hook_point(hook_point))
    s1 = torch.zeros(d, dtype=torch.float64)
    s2 = torch.zeros(d, d, dtype=torch.float64)
    n = 0
    for batch in store.batches(batch_size, hook_point=hook_point, shuffle=False):
        if max_rows is not None:
            batch = batch[: max_rows - n]
        x = batch.double()
        s1 += x.sum(0)
        s2 += x.t() @ x
        n += len(x)
        if max_rows is not None and n >= max_rows:
            break
    if n < 2:
        raise InterpretError(f"PCA needs at least 2 rows, the store gave {n}", hint="harvest more tokens")
    mean = s1 / n
    cov = (s2 - n * torch.outer(mean, mean)) / (n - 1)
    evals, evecs = torch.linalg.eigh(cov)
    order = torch.argsort(evals, descending=True)
    comps = evecs[:, order].t().float()
    return LinearFeatures(comps, name="pca", center=mean.float())


def fit_ica(
    store: ActivationStore,
    *,
    hook_point: str | None = None,
    n_rows: int = 20_000,
    n_components: int | None = None,
    seed: int = 0,
    max_iter: int = 400,
) -> LinearFeatures:
    """sklearn FastICA after StandardScaler on a subsample (:func:`store_rows`), as one affine read-out."""
    from sklearn.decomposition import FastICA
    from sklearn.preprocessing import StandardScaler

    x = store_rows(store, n_rows, hook_point=hook_point, seed=seed).double().numpy()
    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    ica = FastICA(n_components=n_components, whiten="unit-variance", random_state=seed, max_iter=max_iter)
    ica.fit(z)
    mu = torch.from_numpy(scaler.mean_)
    sigma = torch.from_numpy(scaler.scale_)
    C = torch.from_numpy(ica.components_)  # (F, d) on standardised data
    m = torch.from_numpy(ica.mean_)
    weight = C / sigma[None, :]
    center = mu + m * sigma
    dirs = (torch.from_numpy(ica.mixing_) * sigma[:, None]).t()  # each source's direction in activation space
    return LinearFeatures(weight.float(), name="ica", center=center.float(), directions=dirs.float())


def fit_nmf(
    store: ActivationStore,
    *,
    hook_point: str | None = None,
    n_rows: int = 20_000,
    n_components: int | None = None,
    seed: int = 0,
    max_iter: int = 300,
) -> NMFFeatures:
    """sklearn NMF of the split data ``[relu(x), relu(−x)]`` from a subsample (default: d_in components)."""
    from sklearn.decomposition import NMF

    x = store_rows(store, n_rows, hook_point=hook_point, seed=seed)
    xs = split_nonnegative(x.double()).numpy()
    k = n_components or x.shape[1]
    nmf = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=max_iter).fit(xs)
    return NMFFeatures(torch.from_numpy(nmf.components_).float(), name="nmf")


def mean_l0(
    source: Any, store: ActivationStore, *, hook_point: str | None = None, n_rows: int = 8192
) -> float:
    """Mean number of features > 0 per token of ``source`` on a subsample (the K of the top-K baselines)."""
    x = store_rows(store, n_rows, hook_point=hook_point, seed=1)
    return float((source.encode(x) > 0).sum(1).float().mean())


def build_baseline(
    name: str,
    store: ActivationStore,
    *,
    dictionary: Any | None = None,
    member: int = 0,
    hook_point: str | None = None,
    k: int | None = None,
    n_random: int | None = None,
    seed: int = 0,
    n_rows: int = 20_000,
    cache_dir: str | Path | None = None,
) -> Any:
    """One baseline by name (see the module table), fitted on ``store``.

    Args:
        name: one of :data:`BASELINES`.
        store: the activation store (fits and widths).
        dictionary: the dictionary compared against (needed for ``random_bias``, ``dict_no_bias``; sets the
            number of random directions).
        member: dictionary member.
        hook_point: hook point in the store.
        k: K of the top-K baselines (the dictionary's mean L0, rounded; required for ``topk_*``).
        n_random: number of random directions (default: the dictionary's latents, else d_in).
        seed: seed of random directions and subsamples.
        n_rows: subsample rows for ICA and NMF (PCA reads the whole store).
        cache_dir: save fitted PCA/ICA/NMF here and reuse them (``<name>.safetensors``).
    """
    hp = store.resolve_hook_point(hook_point)
    d = store.d_in(hp)
    if name not in BASELINES:
        raise InterpretError(f"unknown baseline {name!r}", hint=f"choose from {', '.join(BASELINES)}")
    if name in ("random_bias", "dict_no_bias") and dictionary is None:
        raise InterpretError(f"baseline {name!r} needs the dictionary", hint="pass dictionary=...")
    if name.startswith("topk_") and not k:
        raise InterpretError(f"baseline {name!r} needs k", hint="pass k = the dictionary's mean L0 (rounded)")
    if name.startswith("neurons"):
        return neuron_features(d, relu=name == "neurons_relu", split=name == "neurons_split")
    if name in ("random", "random_relu"):
        n = n_random or (int(dictionary.d_sae) if dictionary is not None else d)
        return random_features(d, n, seed=seed, relu=name == "random_relu")
    if name == "random_bias":
        return random_bias_features(dictionary, member=member, seed=seed)
    if name == "dict_no_bias":
        return dict_no_bias_features(dictionary, member)

    def cached(kind: str, fit: Any, loader: Any) -> Any:
        if cache_dir is None:
            return fit()
        path = Path(cache_dir) / f"{kind}.safetensors"
        if path.exists():
            return loader(path)
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        obj = fit()
        obj.save(path)
        return obj

    if name == "nmf":
        return cached(
            "nmf", lambda: fit_nmf(store, hook_point=hp, n_rows=n_rows, seed=seed), NMFFeatures.load
        )
    base = (
        cached("pca", lambda: fit_pca(store, hook_point=hp), LinearFeatures.load)
        if "pca" in name
        else cached(
            "ica", lambda: fit_ica(store, hook_point=hp, n_rows=n_rows, seed=seed), LinearFeatures.load
        )
    )
    kind = "pca" if "pca" in name else "ica"
    if name == kind:
        return base.variant(kind)
    if name == f"{kind}_split":
        return base.variant(name, split=True)
    assert k is not None
    return TopKFeatures(base.variant(f"{kind}_split", split=True), k, name=name)
