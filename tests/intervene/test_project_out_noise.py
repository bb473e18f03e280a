"""Directional ablation (project_out) and Gaussian noise edits."""

from __future__ import annotations

import pytest
import torch

from auditlens.errors import ConfigError
from auditlens.intervene import add_noise, project_out


def test_project_out_removes_the_span_and_keeps_the_rest():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 8)
    u = torch.randn(8)
    y = project_out(u)(x)
    assert torch.allclose(y @ (u / u.norm()), torch.zeros(2, 5), atol=1e-5)
    w = torch.randn(8)
    w = w - (w @ u) / (u @ u) * u  # orthogonal to u: untouched
    assert torch.allclose(y @ w, x @ w, atol=1e-4)
    two = project_out(torch.stack([u, 2 * u, torch.randn(8)]))  # rank 2 span
    assert two.q.shape == (8, 2)
    with pytest.raises(ConfigError, match="width"):
        project_out(torch.randn(4))(x)


def test_project_out_only_at_positions():
    x = torch.randn(1, 4, 6)
    u = torch.randn(6)
    y = project_out(u, positions=[-1])(x)
    assert torch.equal(y[:, :3], x[:, :3]) and not torch.allclose(y[:, 3], x[:, 3])


def test_noise_is_seeded_and_sized():
    x = torch.zeros(4, 16, 64)
    a, b = add_noise(0.5, seed=3)(x), add_noise(0.5, seed=3)(x)
    assert torch.equal(a, b)
    assert abs(float(a.std()) - 0.5) < 0.05
    e = add_noise(0.5, seed=3)
    assert not torch.equal(e(x), e(x))  # fresh noise each pass
    with pytest.raises(ConfigError):
        add_noise(-1.0)
