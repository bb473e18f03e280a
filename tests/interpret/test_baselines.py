"""Baseline zoo: each basis against a brute-force or sklearn reference, behind the FeatureSource interface."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from auditlens.activations import ActivationStore
from auditlens.interpret import FeatureSource, InterpretError, ScanConfig, scan_store
from auditlens.interpret.baselines import (
    BASELINES,
    LinearFeatures,
    NMFFeatures,
    TopKFeatures,
    build_baseline,
    dictionary_readout,
    fit_ica,
    fit_pca,
    mean_l0,
    store_rows,
)
from auditlens.sae import ReluL1Untied, ReluL1UntiedConfig


@pytest.fixture(scope="module")
def dictionary() -> ReluL1Untied:
    cfg = ReluL1UntiedConfig(d_in=32, d_sae=48, decoder_bias=True, act_scale=2.5, seed=0)
    d = ReluL1Untied([cfg])
    with torch.no_grad():
        d.b_enc_NF.normal_(0, 0.1)
        d.b_dec_ND.normal_(0, 0.3)
    return d


def _all_rows(store: ActivationStore) -> torch.Tensor:
    return torch.cat(list(store.batches(100_000, shuffle=False)))


def test_pca_matches_full_covariance(interp_store: ActivationStore) -> None:
    pca = fit_pca(interp_store, batch_size=300)  # many small batches
    x = _all_rows(interp_store).double()
    assert torch.allclose(pca.center.double(), x.mean(0), atol=1e-4)
    evals, evecs = torch.linalg.eigh(torch.cov(x.t()))
    ref = evecs[:, torch.argsort(evals, descending=True)].t()
    cos = (pca.weight.double() * ref).sum(1).abs()
    assert (cos[:8] > 0.999).all()  # leading components agree up to sign
    y = pca.encode(x.float())
    var = y.var(0)
    assert (var[:-1] >= var[1:] - 1e-4).all()  # sorted by variance
    assert torch.allclose(y.mean(0), torch.zeros(32), atol=1e-3)
    split = pca.variant("pca_split", split=True)
    ys = split.encode(x.float())
    assert ys.shape == (len(x), 64) and (ys >= 0).all()
    assert torch.allclose(ys[:, :32] - ys[:, 32:], y, atol=1e-5)
    assert split.directions().shape == (64, 32)


def test_ica_fold_matches_sklearn(interp_store: ActivationStore) -> None:
    from sklearn.decomposition import FastICA
    from sklearn.preprocessing import StandardScaler

    ica = fit_ica(interp_store, n_rows=800, n_components=8, seed=3, max_iter=200)
    x = store_rows(interp_store, 800, seed=3).double().numpy()
    sc = StandardScaler().fit(x)
    ref = FastICA(n_components=8, whiten="unit-variance", random_state=3, max_iter=200).fit(sc.transform(x))
    want = ref.transform(sc.transform(x[:200]))
    got = ica.encode(torch.from_numpy(x[:200]).float()).double().numpy()
    assert np.allclose(got, want, atol=1e-3 * np.abs(want).max())
    assert ica.directions().shape == (8, 32)


def test_nmf_topk_random_neurons(interp_store: ActivationStore, dictionary: ReluL1Untied, tmp_path) -> None:  # type: ignore[no-untyped-def]
    x = store_rows(interp_store, 256)
    nmf = build_baseline("nmf", interp_store, n_rows=600, cache_dir=tmp_path)
    assert isinstance(nmf, NMFFeatures) and (tmp_path / "nmf.safetensors").exists()
    codes = nmf.encode(x)
    assert codes.shape == (256, 32) and (codes >= 0).all() and (codes > 0).any()
    xs = torch.cat([x.clamp_min(0), (-x).clamp_min(0)], 1).double()
    recon = codes.double() @ nmf.H
    assert (recon - xs).norm() < 0.9 * xs.norm()  # codes explain much of the split data
    again = build_baseline("nmf", interp_store, cache_dir=tmp_path)  # loaded from the cache, same codes
    assert torch.allclose(again.encode(x[:8]), codes[:8], atol=1e-4)
    # Top-K keeps the K largest of the ± split PCA per token.
    topk = build_baseline("topk_pca", interp_store, k=3)
    full = build_baseline("pca_split", interp_store).encode(x)
    got = topk.encode(x)
    assert isinstance(topk, TopKFeatures) and ((got > 0).sum(1) <= 3).all()
    assert torch.allclose(got.sort(1, descending=True).values[:, :3], full.topk(3, 1).values, atol=1e-5)
    # Neurons and random directions.
    assert torch.equal(build_baseline("neurons", interp_store).encode(x), x)
    assert torch.equal(build_baseline("neurons_relu", interp_store).encode(x), x.relu())
    r = build_baseline("random_relu", interp_store, dictionary=dictionary)
    assert r.n_features == 48 and torch.allclose(r.directions().norm(dim=1), torch.ones(48))
    # The dictionary read-out reproduces its own encoder; random_bias carries its bias in unit-direction units.
    W, b = dictionary_readout(dictionary)
    assert torch.allclose((x @ W.t() + b).relu(), dictionary.encode(x)[0], atol=1e-5)
    rb = build_baseline("random_bias", interp_store, dictionary=dictionary)
    assert torch.allclose(rb.bias, b / W.norm(dim=1))
    with pytest.raises(InterpretError, match="needs k"):
        build_baseline("topk_ica", interp_store)
    with pytest.raises(InterpretError, match="unknown baseline"):
        build_baseline("svd", interp_store)
    assert mean_l0(TopKFeatures(r, 2, name="t"), interp_store, n_rows=64) <= 2


def test_every_baseline_is_a_feature_source(
    interp_store: ActivationStore, dictionary: ReluL1Untied, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    cfg = ScanConfig(top_k=2, random_k=2, per_quantile=1, window=2, max_contexts=8)
    for name in BASELINES:
        src = build_baseline(name, interp_store, dictionary=dictionary, k=4, n_rows=300, cache_dir=tmp_path)
        assert isinstance(src, FeatureSource) and src.name == name and src.d_in == 32
        assert src.directions().shape == (src.n_features, 32)
        r = scan_store(src, interp_store, cfg)
        assert r.n_features == src.n_features and r.fires.sum() > 0
    pca = LinearFeatures.load(tmp_path / "pca.safetensors")
    assert pca.n_features == 32 and pca.center is not None
