"""Data-parallel plumbing of the trainer (``torch.distributed`` under ``torchrun``; a no-op in one process)."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

__all__ = [
    "all_max_bool",
    "all_min_finite",
    "average_grads",
    "broadcast_from_rank0",
    "global_variance",
    "world",
]


def world() -> tuple[int, int]:
    """(rank, world size) of the initialised torch.distributed group, else (0, 1)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


@torch.no_grad()
def global_variance(x: Tensor) -> Tensor:
    """Per-element variance (raw units) of the global batch = the union of every process's shard."""
    stats = torch.cat([x.sum(0), x.pow(2).sum().reshape(1), x.new_tensor([x.shape[0]])]).double()
    torch.distributed.all_reduce(stats)
    n = stats[-1]
    mean = stats[:-2] / n
    return ((stats[-2] / n - mean.pow(2).sum()) / x.shape[1]).to(x.dtype)


@torch.no_grad()
def average_grads(params: Iterable[torch.nn.Parameter], world_size: int) -> None:
    """Average gradients over the processes (one flat all-reduce)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([t.reshape(-1) for t in grads])
    torch.distributed.all_reduce(flat)
    flat /= world_size
    offset = 0
    for t in grads:
        t.copy_(flat[offset : offset + t.numel()].view_as(t))
        offset += t.numel()


def all_min_finite(finite: Tensor) -> Tensor:
    """All processes agree: finite only if finite everywhere (so they all stop together)."""
    torch.distributed.all_reduce(finite, op=torch.distributed.ReduceOp.MIN)
    return finite


def all_max_bool(mask: Tensor) -> Tensor:
    """Element-wise OR of a boolean mask over the processes."""
    f = mask.to(torch.uint8)
    torch.distributed.all_reduce(f, op=torch.distributed.ReduceOp.MAX)
    return f.bool()


@torch.no_grad()
def broadcast_from_rank0(params: Iterable[torch.nn.Parameter]) -> None:
    for p in params:
        torch.distributed.broadcast(p.data, src=0)
