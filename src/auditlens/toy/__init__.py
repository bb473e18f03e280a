"""The ground-truth lab: toy superposition data with known features and the nonlinearity probes.

* :mod:`auditlens.toy.data` — the seeded, streaming Sharkey et al. generator (:class:`ToyDataset`).
* :mod:`auditlens.toy.probes` — the nonlinearity probes: :mod:`~auditlens.toy.response_curves` and the
  non-homogeneity / interference :mod:`~auditlens.toy.tradeoff` (shared: :mod:`~auditlens.toy.nonlinearity`).
* :mod:`auditlens.toy.compute_mlp` — the toy MLP that computes new features, with probes.
* :mod:`auditlens.toy.plots` — PNGs from the probes' result JSON (read and written by
  :mod:`~auditlens.toy.result_files`); :mod:`auditlens.toy.probe_suite` runs them all.
* :mod:`auditlens.toy.replicate_toy` — the seed's toy grid (settings :mod:`~auditlens.toy.grid_config`, results
  :mod:`~auditlens.toy.grid_result`, chunked training :mod:`~auditlens.toy.grid_chunks`; two grids compared:
  :mod:`~auditlens.toy.grid_compare`).
* :mod:`auditlens.toy.tiny_transformer` — the tiny-transformer replication (settings
  :mod:`~auditlens.toy.tiny_config`, the model :mod:`~auditlens.toy.tiny_lm`, the size sweep
  :mod:`~auditlens.toy.size_sweep`); :mod:`auditlens.toy.architectures` — architectures at matched L0.
* :mod:`auditlens.toy.claims` and :mod:`auditlens.toy.report` — the seed claims' verdicts and the HTML page.

Every output folder is a run folder of :mod:`auditlens.runs` (``run.json``); folders of older versions resume.
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
