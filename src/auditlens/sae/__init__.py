"""Sparse dictionaries: the architecture family, the trainer and checkpoint I/O.

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

from auditlens.sae.architectures import (
    BatchTopK,
    BatchTopKConfig,
    JumpReLU,
    JumpReLUConfig,
    Matryoshka,
    MatryoshkaConfig,
    ReluL1Tied,
    ReluL1TiedConfig,
    ReluL1Untied,
    ReluL1UntiedConfig,
    TopK,
    TopKConfig,
)
from auditlens.sae.base import Dictionary, DictionaryConfig, DictionaryOutput
from auditlens.sae.checkpoint import load_dictionary, save_dictionary
from auditlens.sae.data import DataStats, estimate_data_stats, geometric_median
from auditlens.sae.errors import CheckpointError, NonFiniteError, SaeError
from auditlens.sae.kernels import dense_decode, dense_encode_values, sparse_decode, sparse_encode_values
from auditlens.sae.metrics import dead_fraction, firing_rate, fvu, l0, mse
from auditlens.sae.registry import config_from_dict, get_architecture, list_architectures, register
from auditlens.sae.trainer import (
    CoefficientSearchResult,
    MemberMetrics,
    Trainer,
    TrainerConfig,
    TrainResult,
    find_coefficient_for_l0,
)

__all__ = [
    "BatchTopK",
    "BatchTopKConfig",
    "CheckpointError",
    "CoefficientSearchResult",
    "DataStats",
    "Dictionary",
    "DictionaryConfig",
    "DictionaryOutput",
    "JumpReLU",
    "JumpReLUConfig",
    "Matryoshka",
    "MatryoshkaConfig",
    "MemberMetrics",
    "NonFiniteError",
    "ReluL1Tied",
    "ReluL1TiedConfig",
    "ReluL1Untied",
    "ReluL1UntiedConfig",
    "SaeError",
    "TopK",
    "TopKConfig",
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
