"""Hook points mean the same tensor in every family, capture is exact, early stop works, splice edits."""

from __future__ import annotations

import pytest
import torch

from auditlens.errors import HookPointError, ModelSpecError
from auditlens.models import HookedModel
from auditlens.models.hooked import _get
from auditlens.models.tiny import TINY_FAMILIES, tiny_model


@pytest.fixture(scope="module", params=TINY_FAMILIES)
def model(request) -> HookedModel:
    return tiny_model(request.param, n_layers=3)


def _ids(batch: int = 2, seq: int = 11) -> torch.Tensor:
    return torch.randint(0, 256, (batch, seq), generator=torch.Generator().manual_seed(1))


def test_lists_hook_points(model: HookedModel) -> None:
    names = model.hook_points
    assert names[0] == "embed"
    assert len(names) == 1 + 5 * model.n_layers
    for i in range(model.n_layers):
        for site in ("resid_pre", "attn_out", "mlp.post", "mlp_out", "resid_post"):
            assert f"blocks.{i}.{site}" in names


def test_residual_matches_output_hidden_states(model: HookedModel) -> None:
    ids = _ids()
    with torch.no_grad():
        hs = model.model(input_ids=ids, output_hidden_states=True).hidden_states
    names = ["embed"] + [f"blocks.{i}.resid_pre" for i in range(model.n_layers)]
    names += [f"blocks.{i}.resid_post" for i in range(model.n_layers - 1)]
    got = model.capture(ids, names, stop_early=False)
    torch.testing.assert_close(got["embed"], hs[0], rtol=0, atol=0)
    for i in range(model.n_layers):
        torch.testing.assert_close(got[f"blocks.{i}.resid_pre"], hs[i], rtol=0, atol=0)
    for i in range(model.n_layers - 1):
        torch.testing.assert_close(got[f"blocks.{i}.resid_post"], hs[i + 1], rtol=0, atol=0)
    # The last hidden state HF returns has the final norm applied; ours is the raw residual stream.
    last = model.capture(ids, [f"blocks.{model.n_layers - 1}.resid_post"])
    normed = model.final_norm()(last[f"blocks.{model.n_layers - 1}.resid_post"])
    torch.testing.assert_close(normed, hs[-1], rtol=1e-5, atol=1e-5)


def test_sublayer_outputs_decompose_the_residual_stream(model: HookedModel) -> None:
    ids = _ids()
    sites = ("resid_pre", "attn_out", "mlp.post", "mlp_out", "resid_post")
    got = model.capture(ids, [f"blocks.{i}.{s}" for i in range(model.n_layers) for s in sites])
    for i in range(model.n_layers):
        g = {s: got[f"blocks.{i}.{s}"] for s in sites}
        # Every family (sequential or GPT-NeoX's parallel residual) adds attn_out and mlp_out to the stream.
        torch.testing.assert_close(g["resid_pre"] + g["attn_out"] + g["mlp_out"], g["resid_post"])
        assert g["mlp.post"].shape[-1] == model.d_mlp
        assert g["resid_post"].shape[-1] == model.d_model
        # mlp_out is the down projection of mlp.post (then Gemma-2's post-feedforward norm).
        block = model.blocks[i]
        down = _get(block, model.layout.mlp_down)(g["mlp.post"])
        if model.family == "gemma2":
            down = block.post_feedforward_layernorm(down)
        torch.testing.assert_close(down, g["mlp_out"])


def test_capture_matches_module_outputs(model: HookedModel) -> None:
    """Independent check: hook the modules directly and compare."""
    ids = _ids()
    seen: dict[str, torch.Tensor] = {}
    layer = model.n_layers - 1
    block = model.blocks[layer]
    attn = _get(block, model.layout.attn)
    mlp = _get(block, model.layout.mlp)
    h1 = attn.register_forward_hook(
        lambda m, a, o: seen.__setitem__("attn", o[0] if isinstance(o, tuple) else o)
    )
    h2 = mlp.register_forward_hook(lambda m, a, o: seen.__setitem__("mlp", o))
    with torch.no_grad():
        model.model(input_ids=ids)
    h1.remove()
    h2.remove()
    got = model.capture(ids, [f"blocks.{layer}.attn_out", f"blocks.{layer}.mlp_out"])
    torch.testing.assert_close(got[f"blocks.{layer}.attn_out"], seen["attn"], rtol=0, atol=0)
    torch.testing.assert_close(got[f"blocks.{layer}.mlp_out"], seen["mlp"], rtol=0, atol=0)


def test_forward_stops_after_deepest_requested_layer(model: HookedModel) -> None:
    calls: list[int] = []
    handles = [
        b.register_forward_pre_hook(lambda m, a, i=i: calls.append(i)) for i, b in enumerate(model.blocks)
    ]
    head_calls: list[int] = []
    handles.append(model.model.get_output_embeddings().register_forward_hook(lambda *a: head_calls.append(1)))
    try:
        model.capture(_ids(), ["blocks.0.resid_post", "embed"])
        assert calls == [0]
        calls.clear()
        model.capture(_ids(), ["blocks.1.mlp_out"])
        assert calls == [0, 1]
        assert head_calls == []
    finally:
        for h in handles:
            h.remove()


def test_splice_replaces_and_edits(model: HookedModel) -> None:
    ids = _ids()
    clean = model.logits(ids)
    with model.splice({"blocks.1.resid_post": lambda x: x.clone()}):
        same = model.logits(ids)
    torch.testing.assert_close(same, clean)
    with model.splice({"blocks.0.mlp_out": lambda x: torch.zeros_like(x)}):
        got = model.capture(ids, ["blocks.0.resid_pre", "blocks.0.attn_out", "blocks.0.resid_post"])
        edited = model.logits(ids)
    torch.testing.assert_close(
        got["blocks.0.resid_post"], got["blocks.0.resid_pre"] + got["blocks.0.attn_out"]
    )
    assert not torch.allclose(edited, clean)

    def scale(x: torch.Tensor) -> None:
        x.mul_(0.0)  # in-place edit, returns None

    with model.splice({"blocks.1.mlp.post": scale}):
        got = model.capture(ids, ["blocks.1.mlp_out"])
    if model.family != "gpt2" and model.family != "gpt_neox":  # those down projections carry a bias
        torch.testing.assert_close(got["blocks.1.mlp_out"], torch.zeros_like(got["blocks.1.mlp_out"]))
    # Hooks are gone after the block.
    torch.testing.assert_close(model.logits(ids), clean)


def test_bad_names_are_clear(model: HookedModel) -> None:
    with pytest.raises(HookPointError, match="valid names"):
        model.capture(_ids(), ["blocks.0.resid"])
    with pytest.raises(HookPointError, match="has 3 layers"):
        model.capture(_ids(), ["blocks.7.resid_post"])
    assert model.hook_dim("blocks.0.mlp.post") == model.d_mlp


def test_unknown_family_is_refused() -> None:
    m = tiny_model("llama").model
    m.config.model_type = "t5"
    with pytest.raises(ModelSpecError, match="supported families"):
        HookedModel(m)
