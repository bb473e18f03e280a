"""The ground-truth lab: toy superposition data with known features and the nonlinearity probes.

* :mod:`auditlens.toy.data` — the seeded, streaming Sharkey et al. generator (:class:`ToyDataset`).
* :mod:`auditlens.toy.probes` — response curves, non-homogeneity, interference, the trade-off grid.
* :mod:`auditlens.toy.compute_mlp` — the toy MLP that computes new features, with probes.
* :mod:`auditlens.toy.plots` — PNGs from the probes' result JSON.
"""

from auditlens.toy.compute_mlp import (
    ToyMLPConfig,
    ToyMLPGridConfig,
    ToyMLPGridResult,
    ToyMLPResult,
    run_toy_mlp,
    run_toy_mlp_grid,
)
from auditlens.toy.data import ToyBatch, ToyDataConfig, ToyDataset
from auditlens.toy.probes import (
    ResponseCurvesConfig,
    ResponseCurvesResult,
    TradeoffConfig,
    TradeoffResult,
    interference_score,
    nonhomogeneity_score,
    run_response_curves,
    run_tradeoff,
)

__all__ = [
    "ResponseCurvesConfig",
    "ResponseCurvesResult",
    "ToyBatch",
    "ToyDataConfig",
    "ToyDataset",
    "ToyMLPConfig",
    "ToyMLPGridConfig",
    "ToyMLPGridResult",
    "ToyMLPResult",
    "TradeoffConfig",
    "TradeoffResult",
    "interference_score",
    "nonhomogeneity_score",
    "run_response_curves",
    "run_toy_mlp",
    "run_toy_mlp_grid",
    "run_tradeoff",
]
