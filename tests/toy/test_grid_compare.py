"""Two toy grids compared cell by cell (auditlens replicate compare-toy)."""

from __future__ import annotations

from pathlib import Path

import pytest

import auditlens.cli.replicate  # noqa: F401  (registers the verbs)
from auditlens.errors import ConfigError
from auditlens.toy.data import ToyDataConfig
from auditlens.toy.grid_compare import compare_toy_grids
from auditlens.toy.replicate_toy import ToyGridConfig, ToyGridResult, cell_key, run_toy_grid


def _grid(out: Path, **kw: object) -> ToyGridResult:
    base: dict[str, object] = dict(
        data=ToyDataConfig(d_model=16, n_features=16, mean_active=2),
        coefficients=[0.3, 3.0, 300.0],
        ratios=[1.0, 2.0],
        conventions=["divided"],
        steps=80,
        batch_size=64,
        eval_samples=256,
    )
    base.update(kw)
    return run_toy_grid(ToyGridConfig(**base), out, estimate=False)  # type: ignore[arg-type]


def test_a_grid_against_itself_and_against_another_precision(tmp_path: Path) -> None:
    fp32 = _grid(tmp_path / "fp32")
    same = compare_toy_grids(fp32, fp32)
    assert same.shared_cells == 6 and not same.only_in_a and not same.only_in_b
    assert same.mmcs_with_truth.max == 0 and same.n_dead.max == 0 and same.l0.max == 0 and same.fvu.max == 0
    assert same.recovered_agree == 6 and all(same.best_coefficient_agree.values())
    assert set(same.best_coefficient_agree) == {"divided-r1", "divided-r2"}

    # bfloat16 products on a grid with fewer ratios: another fingerprint, the same recipe, comparable
    bf16 = _grid(tmp_path / "bf16", ratios=[1.0], bf16=True)
    cmp = compare_toy_grids(fp32, bf16, labels=("fp32", "bf16"))
    assert cmp.shared_cells == 3 and cmp.a_bf16 is False and cmp.b_bf16 is True
    assert cmp.only_in_a == [cell_key("divided", 2.0, a) for a in (0.3, 3.0, 300.0)] and not cmp.only_in_b
    assert set(cmp.best_coefficient_agree) == {"divided-r1"}  # ratio 2 is only in a: no row verdict
    assert 0 <= cmp.mmcs_with_truth.median <= cmp.mmcs_with_truth.p90 <= cmp.mmcs_with_truth.max < 0.2
    assert cmp.mmcs_with_truth.worst in {c.key for c in cmp.cells}
    pair = next(c for c in cmp.cells if c.key == cell_key("divided", 1.0, 3.0))
    by_key = {c.key: c for c in bf16.cells}
    assert pair.mmcs_with_truth[1] == by_key[pair.key].mmcs_with_truth
    assert cmp.a_trained_on == {next(iter(fp32.trained_on)): 6}


def test_other_recipes_or_no_shared_cell_are_refused(tmp_path: Path) -> None:
    a = _grid(tmp_path / "a", ratios=[1.0])
    longer = _grid(tmp_path / "b", ratios=[1.0], steps=60)
    with pytest.raises(ConfigError, match="steps differ"):
        compare_toy_grids(a, longer)
    other_axes = _grid(tmp_path / "c", ratios=[0.5])
    with pytest.raises(ConfigError, match="share no cell"):
        compare_toy_grids(a, other_axes)
