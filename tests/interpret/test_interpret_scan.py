"""The streaming pass agrees with brute force over the whole store, and is deterministic."""

from __future__ import annotations

import pytest
import torch

from auditlens.activations import ActivationStore
from auditlens.interpret import DictionaryFeatures, InterpretError, ScanConfig, build_examples, scan_store
from auditlens.interpret.examples import ExampleTable
from auditlens.interpret.scan import HIST_LEVELS, Reservoir
from auditlens.sae import TopK, TopKConfig

from .conftest import LinearReLU, dense_codes


def test_scan_matches_brute_force(interp_store: ActivationStore, linear_source: LinearReLU) -> None:
    cfg = ScanConfig(
        top_k=5, random_k=6, per_quantile=3, window=4, batch_elements=24 * 32 * 16, feature_chunk=10
    )
    r = scan_store(linear_source, interp_store, cfg)
    toks, codes = dense_codes(interp_store, linear_source)
    flat = codes.reshape(-1, codes.shape[-1])
    special = torch.isin(toks, torch.tensor(interp_store.manifest.special_token_ids, dtype=torch.int32))
    assert special.any()  # the byte tokenizer's BOS starts every context
    assert r.tokens == toks.numel() - int(special.sum()) and r.contexts == toks.shape[0]
    assert torch.equal(r.fires, (flat > 0).sum(0))
    assert torch.allclose(r.act_max, flat.amax(0).clamp_min(0))
    assert torch.allclose(r.act_sum, flat.clamp_min(0).sum(0).double(), rtol=1e-4)
    cmax = codes.amax(1)  # (contexts, F)
    assert ((flat > 0).float().mean(0) > 0.01).sum() >= 20  # most features fire, on some tokens only
    assert ((cmax > 0).float().mean(0) < 0.95).sum() >= 10  # ... and not in every context
    W = r.window_tokens
    assert W == 9
    for f in range(linear_source.n_features):
        values = flat[:, f][flat[:, f] > 0]
        if not len(values):  # a dead feature: nothing kept
            assert r.fires[f] == 0 and r.hist[f].sum() == 0 and not r.top.valid[f].any()
            continue
        # Histogram over [0, 2^exp): exactly the brute-force counts, though the range grew during the pass.
        assert values.max() < 2.0 ** int(r.exp[f]) <= 2 * values.max()
        bins = (values / 2.0 ** int(r.exp[f]) * HIST_LEVELS).long().clamp(max=HIST_LEVELS - 1)
        assert torch.equal(torch.bincount(bins, minlength=HIST_LEVELS), r.hist[f])
        # Top contexts: the largest per-context maxima, one example per context, with exact windows.
        n_fire = int((cmax[:, f] > 0).sum())
        valid = r.top.valid[f, 0]
        assert int(valid.sum()) == min(5, n_fire)
        assert torch.allclose(r.top.value[f, 0][valid], cmax[:, f].topk(int(valid.sum())).values)
        for j in torch.nonzero(valid).flatten().tolist():
            c, p = int(r.top.ctx[f, 0, j]), int(r.top.pos[f, 0, j])
            assert codes[c, p, f] == r.top.value[f, 0, j]
            start = max(0, min(p - 4, 32 - W))
            assert torch.equal(r.top.acts[f, 0, j], codes[c, start : start + W, f])
        # Random and stratified samples are firing contexts, never repeated.
        for res in (r.random, r.strata):
            ctx = res.ctx[f][res.valid[f]]
            assert len(set(ctx.tolist())) == len(ctx)
            assert (cmax[ctx, f] > 0).all()
        assert int(r.random.valid[f].sum()) == min(6, n_fire)


def test_scan_is_deterministic_and_chunking_free(
    interp_store: ActivationStore, linear_source: LinearReLU
) -> None:
    a = scan_store(
        linear_source, interp_store, ScanConfig(seed=3, feature_chunk=7, batch_elements=24 * 32 * 5)
    )
    b = scan_store(linear_source, interp_store, ScanConfig(seed=3, feature_chunk=24, batch_elements=1 << 20))
    c = scan_store(linear_source, interp_store, ScanConfig(seed=4))
    for res_a, res_b in ((a.random, b.random), (a.strata, b.strata)):
        assert torch.equal(res_a.valid, res_b.valid) and res_a.valid.any()
        assert torch.equal(res_a.ctx[res_a.valid], res_b.ctx[res_b.valid])
    assert torch.equal(a.top.value[a.top.valid], b.top.value[b.top.valid])  # ctx may differ between ties
    assert torch.equal(a.hist, b.hist)
    assert not torch.equal(a.random.ctx[a.random.valid], c.random.ctx[c.random.valid])


def test_examples_read_the_stored_tokens(
    tmp_path, interp_store: ActivationStore, linear_source: LinearReLU
) -> None:  # type: ignore[no-untyped-def]
    cfg = ScanConfig(top_k=4, random_k=3, quantile_bins=4, per_quantile=2, window=3)
    r = scan_store(linear_source, interp_store, cfg)
    table = build_examples(r, interp_store)
    table.save(tmp_path)
    loaded = ExampleTable.load(tmp_path)
    toks, codes = dense_codes(interp_store, linear_source)
    for f in range(linear_source.n_features):
        ex = loaded.feature(f)
        assert ex.max_activation == pytest.approx(float(codes[..., f].max()))
        assert [e.max_activation for e in ex.top] == sorted((e.max_activation for e in ex.top), reverse=True)
        for e in ex.top + ex.random + [e for q in ex.quantiles for e in q.examples]:
            assert e.token_ids == toks[e.context, e.start : e.start + 7].tolist()
            assert e.activations == pytest.approx(codes[e.context, e.start : e.start + 7, f].tolist())
            assert e.activations[e.max_position - e.start] == pytest.approx(e.max_activation)
            assert e.tokens == [f"<{t}>" for t in e.token_ids]
        assert len(ex.quantiles) == 4
        for q in ex.quantiles:
            assert len(q.examples) <= 2
            assert all(q.low - 1e-6 <= e.max_activation <= q.high + 1e-6 for e in q.examples)
    with pytest.raises(InterpretError, match="not in this example table"):
        loaded.feature(999)


def test_dictionary_source_and_bad_input(interp_store: ActivationStore) -> None:
    d = TopK([TopKConfig(d_in=32, d_sae=40, k=3, name="tk")])
    src = DictionaryFeatures(d, features=[5, 1, 7])
    assert src.name == "tk" and src.n_features == 3 and src.feature_ids.tolist() == [5, 1, 7]
    x = torch.randn(10, 32)
    assert torch.allclose(src.encode(x), d.encode(x)[0][:, [5, 1, 7]])
    assert src.directions().shape == (3, 32)
    r = scan_store(src, interp_store, ScanConfig(max_contexts=16))
    assert r.contexts == 16 and r.feature_ids.tolist() == [5, 1, 7]
    assert (r.fires <= r.tokens).all()
    with pytest.raises(InterpretError, match="width 16"):
        scan_store(DictionaryFeatures(TopK([TopKConfig(d_in=16, d_sae=8, k=2)])), interp_store)
    with pytest.raises(InterpretError, match="out of range"):
        DictionaryFeatures(d, member=2)
    with pytest.raises(InterpretError, match="feature ids"):
        DictionaryFeatures(d, features=[40])


def test_reservoir_collapse_keeps_highest_keys() -> None:
    res = Reservoir.empty(1, 4, 2, 1)
    res.key[0] = torch.tensor([[0.1, 0.9], [0.5, 0.4], [0.3, -float("inf")], [0.8, 0.2]], dtype=torch.float64)
    res.ctx[0] = torch.arange(8).reshape(4, 2)
    res.collapse(torch.tensor([0]), 1)
    assert res.key[0, 0].tolist() == [0.9, 0.5] and res.ctx[0, 0].tolist() == [1, 2]
    assert res.key[0, 1].tolist() == [0.8, 0.3] and res.ctx[0, 1].tolist() == [6, 4]
    assert not res.valid[0, 2:].any()
