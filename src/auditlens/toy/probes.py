"""Nonlinearity probes: how a feature's direction relative to the neuron basis meets an elementwise nonlinearity.

Re-implements the experiments of ``HoagyC/transformers_toy_compute_model`` (``streamlit_page.py``,
``write_all_lw_graphs``, Oct 2023; seeds-digest §4.1 items 1–2), the companion code of "Some additional SAE
thoughts" (Hoagy, Jan 2024), whose text we could not read. Two experiments, one module each:

1. **Response curves** — :mod:`auditlens.toy.response_curves` (:func:`run_response_curves`).
2. **Non-homogeneity vs interference trade-off** — :mod:`auditlens.toy.tradeoff` (:func:`nonhomogeneity_score`,
   :func:`interference_score`, :func:`run_tradeoff`).

The nonlinearities and the held-out R² they share are in :mod:`auditlens.toy.nonlinearity`. The toy MLP that
computes new features (§4.1 item 4) is in :mod:`auditlens.toy.compute_mlp`; plots are in :mod:`auditlens.toy.plots`.
This module gathers the names of both experiments.
"""

from __future__ import annotations

from auditlens.toy.nonlinearity import Nonlinearity, apply_nonlinearity
from auditlens.toy.response_curves import (
    Curve,
    InteractionMap,
    ResponseCurvesConfig,
    ResponseCurvesResult,
    interaction_map,
    response_curve,
    run_response_curves,
)
from auditlens.toy.tradeoff import (
    TradeoffConfig,
    TradeoffResult,
    feature_vectors,
    interference_score,
    nonhomogeneity_score,
    probe_dataset,
    run_tradeoff,
    seed_grid,
)

__all__ = [
    "Curve",
    "InteractionMap",
    "Nonlinearity",
    "ResponseCurvesConfig",
    "ResponseCurvesResult",
    "TradeoffConfig",
    "TradeoffResult",
    "apply_nonlinearity",
    "feature_vectors",
    "interaction_map",
    "interference_score",
    "nonhomogeneity_score",
    "probe_dataset",
    "response_curve",
    "run_response_curves",
    "run_tradeoff",
    "seed_grid",
]
