"""End to end: a plain ReLU+L1 autoencoder recovers the toy ground truth, and the metrics see it."""

from __future__ import annotations

import itertools

import torch
from torch import nn

from auditlens.evals.mmcs import ground_truth_scores, mmcs
from auditlens.toy import ToyDataConfig, ToyDataset


def _train_sae(ds: ToyDataset, alpha: float, steps: int) -> tuple[nn.Linear, nn.Linear]:
    """The seed's autoencoder (§7.0): ReLU encoder with bias, unit-norm bias-free decoder, MSE + α·L1."""
    torch.manual_seed(0)
    d, n = ds.cfg.d_model, ds.cfg.n_features
    enc, dec = nn.Linear(d, n), nn.Linear(n, d, bias=False)
    nn.init.orthogonal_(dec.weight)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=3e-3)
    for x in itertools.islice(ds.batches(256), steps):
        dec.weight.data = nn.functional.normalize(dec.weight.data, dim=0)
        c = torch.relu(enc(x))
        loss = nn.functional.mse_loss(dec(c), x) + alpha * c.abs().sum(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return enc, dec


def test_sae_recovers_toy_features() -> None:
    ds = ToyDataset(ToyDataConfig(d_model=32, n_features=64, mean_active=3))
    enc, dec = _train_sae(ds, alpha=3e-3, steps=2000)
    batch = next(iter(ds.batches_with_codes(2048)))
    with torch.no_grad():
        codes = torch.relu(enc(batch.x))
    scores = ground_truth_scores(dec.weight.T, ds.features, learned_codes=codes, true_codes=batch.codes)
    assert scores.mmcs_with_truth > 0.9
    assert scores.recovery.recall > 0.7
    assert scores.mcc is not None and scores.mcc.mcc > 0.5
    # a random dictionary of the same size is far from the truth
    random = torch.randn(64, 32, generator=torch.Generator().manual_seed(5))
    assert mmcs(ds.features, random) < 0.6
