"""The ground-truth lab: toy superposition data with known features and the nonlinearity probes."""

from auditlens.toy.data import ToyBatch, ToyDataConfig, ToyDataset

__all__ = ["ToyBatch", "ToyDataConfig", "ToyDataset"]
