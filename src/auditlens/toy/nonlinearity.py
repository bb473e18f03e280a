"""Elementwise nonlinearities the probes push features through, and the held-out R² both probe experiments score with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["Nonlinearity", "apply_nonlinearity", "heldout_r2"]

Nonlinearity = Literal["gelu", "relu", "tanh"]

_NONLINEARITIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": F.gelu,  # exact (erf) GELU, as torch.nn.GELU() in the seed
    "relu": F.relu,
    "tanh": torch.tanh,
}


def apply_nonlinearity(x: torch.Tensor, nonlinearity: Nonlinearity) -> torch.Tensor:
    """Elementwise ``gelu`` (exact), ``relu`` or ``tanh``."""
    return _NONLINEARITIES[nonlinearity](x)


def heldout_r2(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """R² on the test split of a least-squares fit with intercept (sklearn ``LinearRegression().score``)."""
    a_train = np.column_stack([np.ones(len(x_train)), x_train])
    coef, *_ = np.linalg.lstsq(a_train, y_train, rcond=None)
    pred = np.column_stack([np.ones(len(x_test)), x_test]) @ coef
    ss_res = float(np.sum((y_test - pred) ** 2))
    ss_tot = float(np.sum((y_test - y_test.mean()) ** 2))
    if ss_tot == 0.0:  # sklearn's force_finite convention for a constant target
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot
