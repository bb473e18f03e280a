"""MMCS, Hungarian matching, recovery scores, dead count and MCC on hand-built cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from auditlens.evals.ground_truth import (
    dead_features,
    ground_truth_scores,
    mean_correlation_coefficient,
    recovery_scores,
)
from auditlens.evals.mmcs import (
    MetricInputError,
    compare_dictionaries,
    cosine_histogram,
    hungarian_match,
    hungarian_mmcs,
    max_cosine,
    mmcs,
    mmcs_with_larger,
    share_above,
)


def _rand_unit(n: int, d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(n, d, generator=g)
    return w / w.norm(dim=1, keepdim=True)


def test_mmcs_identity_scaled_and_permuted() -> None:
    a = _rand_unit(20, 8, 0)
    perm = torch.randperm(20, generator=torch.Generator().manual_seed(1))
    b = a[perm] * torch.linspace(0.5, 3.0, 20)[:, None]  # scaling must not matter
    assert mmcs(a, b) == pytest.approx(1.0, abs=1e-6)
    assert hungarian_mmcs(a, b) == pytest.approx(1.0, abs=1e-6)
    match = hungarian_match(a, b)
    assert torch.equal(perm[torch.as_tensor(match.cols)], torch.as_tensor(match.rows))


def test_max_cosine_matches_dense_reference_and_chunks() -> None:
    a, b = _rand_unit(37, 6, 2), _rand_unit(53, 6, 3) * 2.0
    dense = (a @ (b / b.norm(dim=1, keepdim=True)).T).max(dim=1)
    for chunk in (1, 60, 10_000):
        mc = max_cosine(a, b, chunk_elements=chunk)
        torch.testing.assert_close(mc.values, dense.values)
        assert torch.equal(mc.indices, dense.indices)


def test_max_cosine_exclude_self_and_signed() -> None:
    w = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    mc = max_cosine(w, w, exclude_self=True)
    # row 0's best other is row 1 (cos 0), not row 2 (cos -1): signed, not absolute
    torch.testing.assert_close(mc.values, torch.tensor([0.0, 0.0, 0.0]))
    with pytest.raises(MetricInputError):
        max_cosine(w, w[:2], exclude_self=True)


def test_hungarian_beats_max_when_features_collapse() -> None:
    truth = torch.eye(4)
    # learned dictionary has four copies of feature 0 and a rotated feature 1
    learned = torch.stack([truth[0]] * 3 + [torch.tensor([0.6, 0.8, 0.0, 0.0])])
    assert mmcs(learned, truth) == pytest.approx((3 + 0.8) / 4)
    # one-to-one: feature 0 once (1.0), then 0, 0 and the rotated one matched to e1 (0.8)
    assert hungarian_mmcs(learned, truth) == pytest.approx((1.0 + 0.8 + 0 + 0) / 4)


def test_rectangular_hungarian_matches_min_size() -> None:
    small, big = _rand_unit(5, 10, 4), _rand_unit(12, 10, 5)
    big[[2, 7, 0, 9, 11]] = small  # exact copies inside the bigger dictionary
    match = hungarian_match(small, big)
    assert len(match.rows) == 5
    np.testing.assert_allclose(match.cosines, 1.0, atol=1e-6)
    assert match.cols.tolist() == [2, 7, 0, 9, 11]
    assert len(hungarian_match(big, small).rows) == 5


def test_share_above_is_strict() -> None:
    assert share_above(torch.tensor([0.9, 0.91, 0.5, 1.0]), 0.9) == 0.5


def test_histogram_counts() -> None:
    h = cosine_histogram(torch.tensor([-1.0, 0.0, 0.05, 0.99, 1.0]), n_bins=4)
    assert h.bin_edges == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert h.counts == [1, 0, 2, 2]
    assert h.n_values == 5


def test_dead_features_streamed() -> None:
    codes = torch.zeros(10, 5)
    codes[3, 1] = 0.2
    codes[7, 4] = -0.1  # negative counts as firing: "exactly 0" is the rule
    dead = dead_features(codes)
    assert dead.n_dead == 3 and dead.dead_indices == [0, 2, 3]
    streamed = dead_features([codes[:5], codes[5:]])
    assert streamed == dead
    assert streamed.n_samples == 10 and streamed.dead_fraction == pytest.approx(0.6)
    with pytest.raises(MetricInputError):
        dead_features([codes, torch.zeros(3, 4)])


def test_recovery_scores_max_and_hungarian() -> None:
    truth = torch.eye(4)
    learned = torch.stack([truth[0], truth[0], truth[1], torch.tensor([1.0, 1.0, 0.0, 0.0])])
    r = recovery_scores(learned, truth, 0.9)
    assert r.precision == pytest.approx(3 / 4) and r.recall == pytest.approx(2 / 4)
    assert r.f1 == pytest.approx(2 * 0.75 * 0.5 / 1.25)
    h = recovery_scores(learned, truth, 0.9, matching="hungarian")
    assert h.precision == pytest.approx(2 / 4) and h.recall == pytest.approx(2 / 4)
    alive = torch.tensor([True, False, True, False])
    a = recovery_scores(learned, truth, 0.9, alive=alive)
    assert a.n_learned == 2 and a.precision == 1.0 and a.recall == 0.5
    none = recovery_scores(learned, truth, 0.9, alive=torch.zeros(4, dtype=torch.bool))
    assert none.f1 == 0.0


def test_mcc_recovers_permuted_scaled_latents() -> None:
    g = torch.Generator().manual_seed(0)
    true = torch.rand(500, 6, generator=g)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    learned = torch.cat([true[:, perm] * 2.5 + 1.0, torch.zeros(500, 2)], dim=1)  # plus two dead latents
    res = mean_correlation_coefficient(true, learned)
    assert res.mcc == pytest.approx(1.0, abs=1e-5)
    assert res.n_pairs == 6
    assert [int(perm[j]) for j in res.matched_learned] == list(range(6))
    noise = mean_correlation_coefficient(true, torch.rand(500, 6, generator=g))
    assert noise.mcc < 0.3
    with pytest.raises(MetricInputError):
        mean_correlation_coefficient(true, learned[:10])


def test_mmcs_with_larger_takes_first_two() -> None:
    a = _rand_unit(6, 5, 7)
    same, other = a.clone(), _rand_unit(6, 5, 8)
    assert mmcs_with_larger(a, [same, same, other]) == pytest.approx(1.0, abs=1e-6)
    assert mmcs_with_larger(a, [same, other]) == pytest.approx((1.0 + mmcs(a, other)) / 2, abs=1e-6)
    assert math.isnan(mmcs_with_larger(a, []))


def test_compare_and_ground_truth_reports() -> None:
    truth = _rand_unit(16, 8, 9)
    learned = torch.cat([truth[:12], _rand_unit(8, 8, 10)])
    comp = compare_dictionaries(truth, learned, n_bins=10)
    assert comp.n_a == 16 and comp.n_b == 20
    assert comp.share_max_above >= 12 / 16 and comp.share_matched_above is not None
    assert sum(comp.max_cosine_histogram.counts) == 16
    assert compare_dictionaries(truth, learned, hungarian=False).hungarian_mmcs is None
    codes = torch.rand(50, 20)
    codes[:, 15:] = 0  # five dead learned features
    report = ground_truth_scores(learned, truth, learned_codes=codes, true_codes=torch.rand(50, 16))
    assert report.dead is not None and report.dead.n_dead == 5
    assert report.recovery.n_learned == 15
    assert report.recovery.recall == pytest.approx(12 / 16)
    assert report.mcc is not None and report.mcc.n_pairs == 16
    assert report.mmcs_with_truth == pytest.approx(mmcs(truth, learned))
    # round-trips as typed JSON
    assert type(report).model_validate_json(report.model_dump_json()) == report


@pytest.mark.parametrize(
    "call",
    [
        lambda: mmcs(torch.zeros(3), torch.zeros(3, 2)),
        lambda: mmcs(torch.zeros(3, 4), torch.zeros(3, 2)),
        lambda: mmcs(torch.zeros(0, 4), torch.zeros(3, 4)),
        lambda: cosine_histogram(torch.zeros(3), n_bins=0),
        lambda: recovery_scores(torch.eye(3), torch.eye(3), alive=torch.ones(2, dtype=torch.bool)),
        lambda: mmcs_with_larger(torch.eye(3), [torch.eye(3)], max_larger=0),
    ],
)
def test_bad_inputs_raise(call: object) -> None:
    with pytest.raises(MetricInputError) as info:
        call()  # type: ignore[operator]
    assert info.value.hint
