"""From paths and specs to results: what ``auditlens interpret dashboard`` does, callable without the CLI.

:func:`store_model_spec` is the rule every interpret verb uses for the model behind a store (the one given, else
the store's own; ``"none"``: no model), :func:`store_token_text` decodes tokens with that model's tokenizer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditlens.activations import ActivationStore
from auditlens.interpret.features import DictionaryFeatures
from auditlens.interpret.pipeline import InterpretSummary, interpret_features
from auditlens.interpret.scan import ScanConfig
from auditlens.interpret.tokens import TokenText

__all__ = ["dictionary_dashboard", "load_store_model", "store_model_spec", "store_token_text"]


def store_model_spec(store: ActivationStore, model: str | None = None) -> str | None:
    """The model spec for ``store``: ``model`` when given, else the spec (or id) the store was harvested with;
    ``"none"`` gives None (no model: tokens show as ``<id>``)."""
    spec = store.model_spec(model)
    return None if spec == "none" else spec


def load_store_model(store: ActivationStore, model: str | None = None) -> Any | None:
    """The :class:`~auditlens.models.HookedModel` of :func:`store_model_spec`, or None."""
    spec = store_model_spec(store, model)
    if spec is None:
        return None
    from auditlens.models import load_model

    return load_model(spec)


def store_token_text(store: ActivationStore, model: str | None = None) -> TokenText:
    """A :class:`TokenText` with the tokenizer of :func:`store_model_spec` (none: ``<id>`` tokens)."""
    hooked = load_store_model(store, model)
    return TokenText(None if hooked is None else hooked.tokenizer)


def dictionary_dashboard(
    checkpoint: str | Path,
    store: str | Path,
    out: str | Path,
    *,
    n_features: int | None = None,
    model: str | None = None,
    scan: ScanConfig | None = None,
    device: str = "cpu",
) -> InterpretSummary:
    """Statistics, examples and the dashboard of the dictionary at ``checkpoint`` (only its first ``n_features``
    when given) over the store at ``store``, into ``out`` (:func:`interpret_features`)."""
    st = ActivationStore.open(store)
    ids = None if n_features is None else list(range(n_features))
    source = DictionaryFeatures.load(checkpoint, features=ids, device=device)
    return interpret_features(source, st, out, model=load_store_model(st, model), scan=scan)
