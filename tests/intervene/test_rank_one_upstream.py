"""Less-than-rank-one ablation, its logit effects and the upstream causal tree (seed §5.8) on a tiny model."""

from __future__ import annotations

import pytest
import torch

from auditlens.errors import ConfigError
from auditlens.intervene import DictionaryBasis, PCABasis, ablate, logit_effects, stop_firing, upstream_tree
from auditlens.models.tiny import tiny_model
from auditlens.sae import TopKConfig
from auditlens.sae.registry import get_architecture

H0, H1 = "blocks.0.resid_post", "blocks.1.resid_post"


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    return tiny_model("llama", n_layers=2)


def _ids(seed: int, b: int = 6, s: int = 10) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(5, 200, (b, s), generator=g)


def _topk(model, hp: str, seed: int) -> DictionaryBasis:  # type: ignore[no-untyped-def]
    torch.manual_seed(seed)
    cfg = TopKConfig(d_in=model.d_model, d_sae=4 * model.d_model, k=8)
    cls, _ = get_architecture(cfg.architecture)
    return DictionaryBasis(cls([cfg]), hook_point=hp)


def _firing_feature(model, basis, ids) -> int:  # type: ignore[no-untyped-def]
    codes = basis.encode(model.capture(ids, [basis.hook_point])[basis.hook_point].float())
    return int((codes > 0).sum(dim=(0, 1)).argmax())


def test_stop_firing_moves_less_than_zero_ablation_and_the_feature_stops(model) -> None:  # type: ignore[no-untyped-def]
    basis, ids = _topk(model, H0, 1), _ids(1)
    f = _firing_feature(model, basis, ids)
    x = model.capture(ids, [H0])[H0].float()
    fired = basis.encode(x)[..., f] > 0
    edit = stop_firing(basis, f)
    y = edit(x)
    assert bool((basis.encode(y)[..., f][fired] == 0).all())  # it stopped everywhere it fired
    assert torch.equal(y[~fired], x[~fired])  # nothing else moved
    zero = ablate(basis, [f])
    zero(x)
    assert 0 < edit.magnitude <= zero.magnitude * 2  # type: ignore[attr-defined]
    # just far enough: a slightly shorter move along the same direction leaves it firing
    u = basis.directions()[f].float()
    u = u / u.norm()
    t = (x - y)[fired].norm(dim=-1)
    back = x[fired] - 0.98 * t[:, None] * u
    assert bool((basis.encode(back)[:, f] > 0).all())


def test_stop_firing_on_a_linear_code_is_removing_its_coordinate(model) -> None:  # type: ignore[no-untyped-def]
    acts = model.capture(_ids(9, 16, 12), [H0])[H0]
    basis = PCABasis(acts, n_components=8, signed=True, hook_point=H0)
    x = model.capture(_ids(2), [H0])[H0].float()
    edit = stop_firing(basis, 0)
    edit(x)
    zero = ablate(basis, [0])
    zero(x)
    assert edit.moved_fraction == pytest.approx(1.0, abs=1e-6)  # type: ignore[attr-defined]
    assert edit.magnitude == pytest.approx(zero.magnitude, rel=1e-5)  # type: ignore[attr-defined]


def test_logit_effects_average_the_change_where_the_edit_moved(model) -> None:  # type: ignore[no-untyped-def]
    basis, ids = _topk(model, H0, 1), _ids(3)
    f = _firing_feature(model, basis, ids)
    eff = logit_effects(model, H0, stop_firing(basis, f), ids, top=5)
    assert eff.n_positions > 0 and len(eff.decreased) == 5 and len(eff.increased) == 5
    assert eff.decreased[0][1] <= eff.decreased[-1][1] <= 0 <= eff.increased[-1][1] <= eff.increased[0][1]
    # by hand: the mean change of the most lowered token over the moved positions
    x = model.capture(ids, [H0])[H0].float()
    moved = (stop_firing(basis, f)(x) - x).norm(dim=-1) > 0
    with model.splice({H0: stop_firing(basis, f)}):
        edited = model.logits(ids)
    tok = int(eff.decreased[0][0])
    assert float((edited - model.logits(ids))[moved][:, tok].mean()) == pytest.approx(
        eff.decreased[0][1], abs=1e-4
    )
    codes = basis.encode(x)
    silent = int(torch.nonzero((codes > 0).sum(dim=(0, 1)) == 0)[0])  # a feature that never fires on ids
    none = logit_effects(model, H0, stop_firing(basis, silent), ids)
    assert none.n_positions == 0 and none.decreased == [] and none.mean_abs_change == 0.0


def test_upstream_tree_ranks_earlier_features_by_the_drop_they_cause(model) -> None:  # type: ignore[no-untyped-def]
    b0, b1, ids = _topk(model, H0, 1), _topk(model, H1, 2), _ids(4, b=12)
    target = _firing_feature(model, b1, ids)
    tree = upstream_tree(model, [(H0, b0), (H1, b1)], target, ids, depth=1, top_k=3, n_contexts=8)
    assert tree.hook_point == H1 and tree.feature == target and tree.drop is None
    a = b1.encode(model.capture(ids, [H1])[H1].float())[..., target]
    assert tree.max_activation == pytest.approx(float(a.max()))
    assert 0 < tree.n_contexts <= 8 and tree.n_candidates > 0
    assert 0 < len(tree.children) <= 3
    drops = [c.drop.value for c in tree.children if c.drop]
    assert drops == sorted(drops, reverse=True) and drops[0] > 0
    # the top child's drop, recomputed with the ablate edit on the same contexts
    m = float(a.max())
    pairs = [(int(r), int(p)) for r, p in torch.nonzero(a >= m / 2)]
    child = tree.children[0]
    with model.splice({H0: ablate(b0, [child.feature])}):
        ablated = b1.encode(model.capture(ids, [H1])[H1].float())[..., target]
    per_pair = [float(a[r, p] - ablated[r, p]) for r, p in pairs]
    assert child.drop is not None
    assert min(per_pair) - 1e-5 <= child.drop.value <= max(per_pair) + 1e-5
    assert all(c.hook_point == H0 and not c.children for c in tree.children)  # the first basis has no parents


def test_upstream_tree_refuses_bad_input(model) -> None:  # type: ignore[no-untyped-def]
    b0, b1, ids = _topk(model, H0, 1), _topk(model, H1, 2), _ids(4)
    with pytest.raises(ConfigError, match="at least two"):
        upstream_tree(model, [(H1, b1)], 0, ids)
    with pytest.raises(ConfigError, match="forward order"):
        upstream_tree(model, [(H1, b1), (H0, b0)], 0, ids)
    with pytest.raises(ConfigError, match="out of range"):
        upstream_tree(model, [(H0, b0), (H1, b1)], 10_000, ids)
    with pytest.raises(ConfigError, match="made for"):
        upstream_tree(model, [(H0, b1), (H1, b1)], 0, ids)
    with pytest.raises(ConfigError, match="out of range"):
        stop_firing(b0, -1)
