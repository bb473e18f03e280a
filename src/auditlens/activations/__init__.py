"""Activation stores: harvest to sharded safetensors + manifest, read back shuffled, or stream live.

- :func:`harvest` / :class:`HarvestConfig` — corpus → model → store, resumable after any interruption;
- :class:`ActivationStore` — verified reads and deterministic shuffled batches with prefetch;
- :class:`StreamingActivations` — the same ``batches`` API with no disk, through a mixing buffer.
"""

from auditlens.activations.harvester import HarvestConfig, harvest
from auditlens.activations.manifest import Shard, ShardFile, StoreManifest
from auditlens.activations.store import ActivationStore
from auditlens.activations.streaming import StreamingActivations

__all__ = [
    "ActivationStore",
    "HarvestConfig",
    "Shard",
    "ShardFile",
    "StoreManifest",
    "StreamingActivations",
    "harvest",
]
