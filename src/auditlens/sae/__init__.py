"""Sparse dictionaries: the architecture family, the trainer and checkpoint I/O.

Every registered architecture's dictionary and config classes are importable from here by their class names
(``from auditlens.sae import TopKConfig``): they are looked up in the registry, so a new architecture is one new
file in :mod:`auditlens.sae.architectures` and needs no import list anywhere.

Public API::

    from auditlens.sae import (
        Trainer, TrainerConfig, TrainResult, find_coefficient_for_l0,
        TopKConfig, BatchTopKConfig, JumpReLUConfig, MatryoshkaConfig, ReluL1TiedConfig, ReluL1UntiedConfig,
        load_dictionary, save_dictionary, list_architectures, get_architecture, register,
    )

    cfgs = [TopKConfig(d_in=576, d_sae=9216, k=32), ReluL1TiedConfig(d_in=576, d_sae=1152, coefficient=8.6e-4)]
    trainer = Trainer(cfgs, TrainerConfig(total_steps=1000), out_dir="run")
    result = trainer.train(batches)          # any Iterable[Tensor] of (batch, d_in)
    trainer.export(hook_name="blocks.15.resid_post", model_name="smollm2-135m-instruct")
    sae = load_dictionary("run/topk_9216_0") # also reads SAELens and sparsify folders
"""

from auditlens.sae.base import Dictionary, DictionaryConfig, DictionaryOutput
from auditlens.sae.checkpoint import load_dictionary, save_dictionary
from auditlens.sae.coefficient_search import CoefficientSearchResult, find_coefficient_for_l0
from auditlens.sae.data import DataStats, estimate_data_stats, geometric_median
from auditlens.sae.errors import CheckpointError, NonFiniteError, SaeError
from auditlens.sae.kernels import dense_decode, dense_encode_values, sparse_decode, sparse_encode_values
from auditlens.sae.metrics import dead_fraction, firing_rate, fvu, l0, mse
from auditlens.sae.registry import config_from_dict, get_architecture, list_architectures, register
from auditlens.sae.trainer import Trainer
from auditlens.sae.trainer_config import MemberMetrics, TrainerConfig, TrainResult

__all__ = [
    "CheckpointError",
    "CoefficientSearchResult",
    "DataStats",
    "Dictionary",
    "DictionaryConfig",
    "DictionaryOutput",
    "MemberMetrics",
    "NonFiniteError",
    "SaeError",
    "TrainResult",
    "Trainer",
    "TrainerConfig",
    "config_from_dict",
    "dead_fraction",
    "dense_decode",
    "dense_encode_values",
    "estimate_data_stats",
    "find_coefficient_for_l0",
    "firing_rate",
    "fvu",
    "geometric_median",
    "get_architecture",
    "l0",
    "list_architectures",
    "load_dictionary",
    "mse",
    "register",
    "save_dictionary",
    "sparse_decode",
    "sparse_encode_values",
]


def _architecture_classes() -> dict[str, type]:
    from auditlens.sae.registry import registered_classes

    return registered_classes()


def __getattr__(name: str) -> type:
    classes = _architecture_classes()
    if name in classes:
        return classes[name]
    raise AttributeError(f"module 'auditlens.sae' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(_architecture_classes()))
