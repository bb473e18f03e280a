"""Statistics agree with their definitions; promoted tokens with a brute-force unembedding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from auditlens.activations import ActivationStore
from auditlens.interpret import (
    DictionaryStats,
    ExampleTable,
    ScanConfig,
    final_norm_weight,
    interpret_features,
    logit_effects,
)
from auditlens.interpret.scan import HIST_LEVELS
from auditlens.interpret.stats import density_histogram, relative_histogram
from auditlens.models.tiny import tiny_model

from .conftest import LinearReLU, dense_codes


def test_relative_histogram_rebins_to_the_max() -> None:
    rng = np.random.default_rng(0)
    values = rng.gamma(2.0, 0.7, size=5000)
    exp = int(np.frexp(values.max())[1])
    internal = np.bincount(
        np.minimum((values / 2.0**exp * HIST_LEVELS).astype(int), HIST_LEVELS - 1), minlength=HIST_LEVELS
    )
    got = np.array(relative_histogram(torch.from_numpy(internal), exp, float(values.max()), 32))
    exact, _ = np.histogram(values, bins=32, range=(0, values.max()))
    assert got.sum() == 5000 and (got >= 0).all()
    assert np.abs(got - exact).sum() <= 0.05 * 5000  # only counts inside straddling internal bins move
    assert relative_histogram(torch.zeros(HIST_LEVELS, dtype=torch.long), 0, 0.0, 8) == [0] * 8


def test_logit_effects_and_norm_weight() -> None:
    g = torch.Generator().manual_seed(0)
    d, W, w = (
        torch.randn(5, 8, generator=g),
        torch.randn(50, 8, generator=g),
        torch.rand(8, generator=g) + 0.5,
    )
    ti, tv, bi, bv = logit_effects(d, W, w, k=3, chunk=2)
    full = (d / d.norm(dim=1, keepdim=True) * w) @ W.t()
    assert torch.equal(ti, full.topk(3).indices) and torch.allclose(tv, full.topk(3).values)
    assert torch.equal(bi, (-full).topk(3).indices) and torch.allclose(bv, -(-full).topk(3).values)
    llama, gemma = tiny_model("llama", n_layers=1), tiny_model("gemma", n_layers=1)
    assert torch.equal(final_norm_weight(llama), llama.final_norm().weight.detach())
    assert torch.allclose(final_norm_weight(gemma), gemma.final_norm().weight.detach() + 1)  # Gemma: x·(1+w)
    with pytest.raises(Exception, match="width"):
        logit_effects(torch.randn(2, 4), W)


def test_density_histogram_counts_dead_apart() -> None:
    h = density_histogram(torch.tensor([0.0, 1e-3, 1e-3, 0.5, 1.0, 0.0]))
    assert h.dead == 2 and sum(h.counts) == 4 and h.log10_edges[0] == -7.0 and h.log10_edges[-1] == 0.0


def test_stats_from_the_pipeline(
    tmp_path: Path, interp_store: ActivationStore, linear_source: LinearReLU, tiny_hm
) -> None:  # type: ignore[no-untyped-def]
    summary = interpret_features(
        linear_source, interp_store, tmp_path, model=tiny_hm, scan=ScanConfig(top_k=8)
    )
    stats = DictionaryStats.load(tmp_path)
    assert summary.n_features == stats.n_features == 24 and Path(summary.dashboard).exists()
    toks, codes = dense_codes(interp_store, linear_source)
    flat = codes.reshape(-1, 24)
    n_tok = stats.tokens
    assert n_tok == int((toks != 256).sum())  # BOS (256) excluded
    cmax = codes.amax(1)
    unembed = tiny_hm.unembed().detach()
    gamma = tiny_hm.final_norm().weight.detach()
    for f, s in enumerate(stats.features):
        col = flat[:, f]
        assert s.fires == int((col > 0).sum())
        assert s.firing_rate == pytest.approx(s.fires / n_tok)
        assert s.firing_contexts == int((cmax[:, f] > 0).sum())
        assert s.mean_activation == pytest.approx(float(col.sum()) / n_tok, rel=1e-5)
        if s.fires:
            assert s.mean_firing_activation == pytest.approx(float(col[col > 0].mean()), rel=1e-5)
        assert s.max_activation == pytest.approx(float(col.max()))
        assert sum(s.histogram.counts) == s.fires and len(s.histogram.counts) == 32
        # Top tokens: the tokens at the max of the 8 best contexts.
        best = cmax[:, f].topk(8).indices
        at_max = [int(toks[c, int(codes[c, :, f].argmax())]) for c in best if cmax[c, f] > 0]
        assert sum(t.count for t in s.top_tokens) == len(at_max)
        assert {t.token_id for t in s.top_tokens} == set(at_max)
        # Promoted tokens: W_U (γ ⊙ d̂), decoded with the tokenizer.
        d = linear_source.weight[f] / linear_source.weight[f].norm()
        logits = unembed @ (d * gamma)
        assert [t.token_id for t in s.promoted or []] == logits.topk(10).indices.tolist()
        assert [t.token_id for t in s.suppressed or []] == (-logits).topk(10).indices.tolist()
        assert s.promoted[0].token == tiny_hm.tokenizer.decode([s.promoted[0].token_id])  # type: ignore[index]
    assert stats.dead_features == sum(s.fires == 0 for s in stats.features)
    assert sum(stats.density.counts) + stats.density.dead == 24


def test_a_feature_that_never_fires(
    tmp_path: Path, interp_store: ActivationStore, linear_source: LinearReLU
) -> None:
    bias = linear_source.bias.clone()  # type: ignore[union-attr]
    bias[2] = -1e9
    src = LinearReLU(linear_source.weight, bias, name="with-dead")
    interpret_features(src, interp_store, tmp_path, scan=ScanConfig(max_contexts=8))
    s = DictionaryStats.load(tmp_path).feature(2)
    assert s.fires == 0 and s.firing_rate == 0 and s.max_activation == 0 and s.mean_firing_activation == 0
    assert s.histogram.counts == [0] * 32 and s.top_tokens == [] and s.promoted is None  # no model given
    ex = ExampleTable.load(tmp_path).feature(2)
    assert ex.top == [] and ex.random == [] and all(q.examples == [] for q in ex.quantiles)
