"""A Hugging Face causal LM with portable hook points: capture, early stop, and splicing.

``HookedModel.capture`` runs the model on token ids and returns the tensors at the requested hook points,
stopping the forward pass as soon as the last of them has been computed (so harvesting layer 9 of a
30-layer model costs about a third of a full forward and never touches the unembedding).
``HookedModel.splice`` replaces or edits the tensor at hook points during any forward pass run inside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from auditlens.errors import HookPointError, ModelSpecError
from auditlens.models.layouts import LAYOUTS, SITES_IN_ORDER, FamilyLayout

SpliceFn = Callable[[torch.Tensor], torch.Tensor | None]
"""Receives the tensor at a hook point; returns its replacement, or ``None`` after editing it in place."""

_NAME_RE = re.compile(r"^blocks\.(\d+)\.(resid_pre|resid_post|attn_out|mlp_out|mlp\.post)$")


class _StopForward(Exception):
    """Raised inside a hook once every requested tensor is captured; caught by ``capture``."""


@dataclass(frozen=True)
class HookPoint:
    """A parsed hook point name."""

    name: str
    layer: int
    """Block index (``embed`` is block 0's ``resid_pre``)."""
    site: str
    """One of :data:`SITES_IN_ORDER`."""


def _get(root: nn.Module, path: str) -> nn.Module:
    mod: Any = root
    for part in path.split("."):
        mod = mod[int(part)] if part.isdigit() else getattr(mod, part)
    return mod


def _first(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, tuple | list) else out


def _replace_first(out: Any, new: torch.Tensor) -> Any:
    if isinstance(out, tuple):
        return (new, *out[1:])
    if isinstance(out, list):
        return [new, *out[1:]]
    return new


class HookedModel:
    """A causal LM plus tokenizer with named, portable hook points.

    Build one with :func:`auditlens.models.load_model` (any spec) or :meth:`from_hf` (an in-memory model,
    e.g. a tiny random one in tests).
    """

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Any = None,
        *,
        model_id: str = "unknown",
        weights_hash: str | None = None,
        source: str | None = None,
    ) -> None:
        config = model.config
        model_type = getattr(config, "model_type", None)
        if model_type not in LAYOUTS:
            raise ModelSpecError(
                f"architecture family {model_type!r} has no hook-point layout",
                hint=f"supported families: {', '.join(sorted(LAYOUTS))}",
            )
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.weights_hash = weights_hash
        self.source = source
        self.layout: FamilyLayout = LAYOUTS[model_type]
        self.blocks: nn.ModuleList = _get(model, self.layout.blocks)  # type: ignore[assignment]
        self.n_layers = len(self.blocks)
        self.d_model = int(getattr(config, "hidden_size", None) or config.n_embd)
        d_mlp = getattr(config, self.layout.d_mlp_attr, None)
        self.d_mlp = int(d_mlp) if d_mlp else 4 * self.d_model
        self.max_context = int(
            getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", 0) or 0
        )

    @classmethod
    def from_hf(cls, model: nn.Module, tokenizer: Any = None, **kwargs: Any) -> HookedModel:
        """Wrap an already-built Transformers causal LM."""
        return cls(model, tokenizer, **kwargs)

    # ------------------------------------------------------------------ names
    @property
    def family(self) -> str:
        return self.layout.family

    @property
    def hook_points(self) -> list[str]:
        """Every hook point this model has, in forward order."""
        names = ["embed"]
        for i in range(self.n_layers):
            names.extend(f"blocks.{i}.{site}" for site in SITES_IN_ORDER)
        return names

    def parse(self, name: str) -> HookPoint:
        """Validate a hook point name; unknown names and missing layers raise :class:`HookPointError`."""
        if name == "embed":
            return HookPoint(name, 0, "resid_pre")
        m = _NAME_RE.match(name)
        if m is None:
            raise HookPointError(
                f"unknown hook point {name!r}",
                hint="valid names: embed, "
                + ", ".join(f"blocks.{{i}}.{s}" for s in SITES_IN_ORDER)
                + f" with 0 <= i < {self.n_layers}; e.g. blocks.{self.n_layers // 3}.resid_post",
            )
        layer = int(m.group(1))
        if layer >= self.n_layers:
            raise HookPointError(
                f"hook point {name!r} asks for layer {layer}, but {self.model_id} has {self.n_layers} "
                f"layers (0..{self.n_layers - 1})",
                hint=f"use a layer between 0 and {self.n_layers - 1}",
            )
        return HookPoint(name, layer, m.group(2))

    def hook_dim(self, name: str) -> int:
        """Width of the tensor at a hook point (``d_mlp`` for ``mlp.post``, else ``d_model``)."""
        return self.d_mlp if self.parse(name).site == "mlp.post" else self.d_model

    # ------------------------------------------------------------------ hooks
    def _register(
        self, hp: HookPoint, fn: Callable[[torch.Tensor], torch.Tensor | None]
    ) -> torch.utils.hooks.RemovableHandle:
        """Attach ``fn`` at a hook point. ``fn`` returns a replacement tensor or ``None`` (observe only)."""
        block = self.blocks[hp.layer]
        if hp.site == "resid_pre" or hp.site == "mlp.post":
            module = block if hp.site == "resid_pre" else _get(block, self.layout.mlp_down)

            def pre_hook(_m: nn.Module, args: tuple, kwargs: dict) -> Any:
                if args:
                    new = fn(args[0])
                    return None if new is None else ((new, *args[1:]), kwargs)
                new = fn(kwargs["hidden_states"])
                return None if new is None else (args, {**kwargs, "hidden_states": new})

            return module.register_forward_pre_hook(pre_hook, with_kwargs=True)

        module = {"resid_post": block, "attn_out": None, "mlp_out": None}[hp.site] or _get(
            block, self.layout.attn if hp.site == "attn_out" else self.layout.mlp
        )

        def fwd_hook(_m: nn.Module, _args: tuple, out: Any) -> Any:
            new = fn(_first(out))
            return None if new is None else _replace_first(out, new)

        return module.register_forward_hook(fwd_hook)

    # ---------------------------------------------------------------- capture
    def capture(
        self,
        input_ids: torch.Tensor,
        hook_points: Sequence[str],
        *,
        attention_mask: torch.Tensor | None = None,
        stop_early: bool = True,
        grad: bool = False,
    ) -> dict[str, torch.Tensor]:
        """Run the model and return ``{hook_point: tensor (batch, seq, d)}`` exactly as computed.

        With ``stop_early`` the forward pass is abandoned as soon as the last requested tensor exists, so
        nothing after the deepest requested layer runs. Tensors are detached unless ``grad`` is set.
        """
        hps = [self.parse(n) for n in dict.fromkeys(hook_points)]
        if not hps:
            raise HookPointError("no hook points requested", hint=f"e.g. {self.hook_points[-1]}")
        captured: dict[str, torch.Tensor] = {}
        handles = []

        def make(name: str) -> Callable[[torch.Tensor], None]:
            def record(t: torch.Tensor) -> None:
                captured[name] = t if grad else t.detach()
                if stop_early and len(captured) == len(hps):
                    raise _StopForward

            return record

        for hp in hps:
            handles.append(self._register(hp, make(hp.name)))
        ctx = torch.enable_grad() if grad else torch.no_grad()
        try:
            with ctx:
                self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        except _StopForward:
            pass
        finally:
            for h in handles:
                h.remove()
        return captured

    # ----------------------------------------------------------------- splice
    @contextmanager
    def splice(self, edits: Mapping[str, SpliceFn]) -> Iterator[None]:
        """Replace or edit tensors at hook points for every forward pass run inside the ``with`` block.

        ``edits`` maps a hook point to a function that receives the tensor computed there and returns its
        replacement (same shape), or edits it in place and returns ``None``. Example — splice an SAE
        reconstruction into layer 5::

            with model.splice({"blocks.5.resid_post": lambda x: sae.decode(sae.encode(x))}):
                logits = model.model(input_ids).logits
        """
        hps = [(self.parse(n), fn) for n, fn in edits.items()]
        handles = [self._register(hp, fn) for hp, fn in hps]
        try:
            yield
        finally:
            for h in handles:
                h.remove()

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Full forward pass (honouring any active splice), returning logits ``(batch, seq, vocab)``."""
        with torch.no_grad():
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        return out.logits

    def unembed(self) -> torch.Tensor:
        """The unembedding matrix ``(vocab, d_model)`` (for promoted/suppressed tokens of a direction)."""
        return self.model.get_output_embeddings().weight

    def final_norm(self) -> nn.Module:
        """The normalisation applied to the last residual stream before the unembedding."""
        return _get(self.model, self.layout.final_norm)

    def __repr__(self) -> str:
        return (
            f"HookedModel({self.model_id!r}, family={self.family}, layers={self.n_layers}, "
            f"d_model={self.d_model}, d_mlp={self.d_mlp})"
        )
