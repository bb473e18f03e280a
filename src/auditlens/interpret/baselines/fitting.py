"""Fitting the baselines to a store, and building one by name (:func:`build_baseline`).

Fitting never loads the store whole: PCA accumulates ``Σx`` and ``Σxxᵀ`` in float64 over
:meth:`ActivationStore.batches` (up to ``max_rows`` rows, store order); ICA and NMF are fitted on a
*subsample* — the first ``n_rows`` rows of a seeded shuffled pass (``ActivationStore.batches(shuffle=True,
seed=seed)``, special-token and massive-activation rows left out as in training). The seed fitted ICA on ~4M
residual rows because FastICA converges slowly; the default here is 20,000 rows (CPU-sized).
A fitted linear baseline saves as safetensors (:meth:`LinearFeatures.save`), so a comparison fits it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from auditlens.activations import ActivationStore
from auditlens.interpret.baselines.families import (
    LinearFeatures,
    NMFFeatures,
    TopKFeatures,
    split_nonnegative,
    unit_rows,
)
from auditlens.interpret.errors import InterpretError

__all__ = [
    "BASELINES",
    "build_baseline",
    "dict_no_bias_features",
    "dictionary_readout",
    "fit_ica",
    "fit_nmf",
    "fit_pca",
    "mean_l0",
    "neuron_features",
    "random_bias_features",
    "random_features",
    "store_rows",
]

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
    w = unit_rows(torch.randn(n, d_in, generator=g))
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
