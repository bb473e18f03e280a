"""Models: loading from a spec, portable hook points, capture with early stop, splicing."""

from auditlens.models.hooked import HookedModel, HookPoint
from auditlens.models.layouts import LAYOUTS, SITES_IN_ORDER
from auditlens.models.loading import DEFAULT_MODEL, embedded_gguf_path, load_model, model_folder, weights_hash

__all__ = [
    "DEFAULT_MODEL",
    "LAYOUTS",
    "SITES_IN_ORDER",
    "HookPoint",
    "HookedModel",
    "embedded_gguf_path",
    "load_model",
    "model_folder",
    "weights_hash",
]
