"""Which activation rows dictionaries are trained and evaluated on.

Two kinds of rows are left out by default, and the same rule keeps them clean when a reconstruction is spliced
back into the model (:mod:`auditlens.evals.downstream`):

* rows whose token is a context start or document separator (the store's ``special_token_ids``);
* "massive activations": rows whose L2 norm exceeds ``max_norm_factor`` × the median row norm. Some models put
  norms 100× the median on a handful of tokens — in SmolLM2-135M at layer 15, the first token after a document
  separator reaches ~2·10⁴ against a median of ~170. Those 0.1% of rows would carry most of the variance, so a
  dictionary could score a low FVU by fitting them while reconstructing ordinary tokens poorly.
"""

from __future__ import annotations

import torch

DEFAULT_MAX_NORM_FACTOR = 10.0
"""Rows with a norm above this multiple of the median are treated as outliers (``None`` disables it)."""


def keep_rows(
    acts: torch.Tensor,
    tokens: torch.Tensor | None = None,
    exclude_token_ids: torch.Tensor | None = None,
    max_norm: float | None = None,
) -> torch.Tensor:
    """Boolean mask over ``acts`` rows ``(..., d)``: True for rows to keep (see the module docstring)."""
    keep = torch.ones(acts.shape[:-1], dtype=torch.bool)
    if tokens is not None and exclude_token_ids is not None and len(exclude_token_ids):
        keep &= ~torch.isin(tokens.reshape(acts.shape[:-1]), exclude_token_ids.to(tokens.dtype))
    if max_norm is not None:
        keep &= acts.float().norm(dim=-1) <= max_norm
    return keep
