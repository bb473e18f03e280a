"""Built-in architectures; importing this package registers them. One file per architecture."""

from auditlens.sae.architectures.batchtopk import BatchTopK, BatchTopKConfig
from auditlens.sae.architectures.jumprelu import JumpReLU, JumpReLUConfig
from auditlens.sae.architectures.matryoshka import Matryoshka, MatryoshkaConfig
from auditlens.sae.architectures.relu_l1_tied import ReluL1Tied, ReluL1TiedConfig
from auditlens.sae.architectures.relu_l1_untied import ReluL1Untied, ReluL1UntiedConfig
from auditlens.sae.architectures.topk import TopK, TopKConfig

__all__ = [
    "BatchTopK",
    "BatchTopKConfig",
    "JumpReLU",
    "JumpReLUConfig",
    "Matryoshka",
    "MatryoshkaConfig",
    "ReluL1Tied",
    "ReluL1TiedConfig",
    "ReluL1Untied",
    "ReluL1UntiedConfig",
    "TopK",
    "TopKConfig",
]
