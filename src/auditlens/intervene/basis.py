"""Feature bases an intervention edits: a sparse dictionary, a PCA rotation, or any set of directions.

A basis maps activations ``x`` (…, d) to codes ``c`` (…, F) and codes back to a reconstruction ``x̂`` that is
affine in the codes: ``x̂ = Σ_j c_j f_j + b``. Every edit is written as a change of codes, applied as
``x' = x + x̂(c') − x̂(c)``, so the reconstruction error ``x − x̂(c)`` is kept and only the edited features move
(seed §5.7: ``x′ = x + Σ_{j∈F}(c̄_j − c_j) f_j``).

- :class:`DictionaryBasis` — one member of an auditlens :class:`~auditlens.sae.Dictionary` (any architecture:
  every decoder is affine in its codes).
- :class:`PCABasis` — the principal directions of a sample of activations (``signed=True``: each direction twice,
  as ``+v`` and ``−v`` with ReLU'd codes — the seed's "PCA ± directions"). With all ``d`` components it
  reconstructs exactly (no error).
- :class:`DirectionsBasis` — given directions; codes are least-squares coordinates in their span.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from auditlens.errors import ConfigError

__all__ = ["DictionaryBasis", "DirectionsBasis", "FeatureBasis", "PCABasis"]


@runtime_checkable
class FeatureBasis(Protocol):
    """What an intervention needs of a basis."""

    #: width of the activations it reads
    d_in: int
    #: number of features
    n_features: int
    #: the hook point it was made for (None: unknown, not checked)
    hook_point: str | None

    def encode(self, x: Tensor) -> Tensor:
        """(…, d_in) → (…, n_features)."""
        ...

    def decode(self, codes: Tensor) -> Tensor:
        """(…, n_features) → (…, d_in), affine in the codes."""
        ...

    def directions(self) -> Tensor:
        """(n_features, d_in): how much one unit of each code moves the reconstruction (f_j)."""
        ...


def _flat(x: Tensor, d: int, what: str) -> tuple[Tensor, tuple[int, ...]]:
    if x.shape[-1] != d:
        raise ConfigError(
            f"{what} has width {x.shape[-1]}, the basis reads width {d}",
            hint="use a basis made for this model's hook point",
        )
    return x.reshape(-1, d), tuple(x.shape[:-1])


class DictionaryBasis:
    """Member ``member`` of a sparse dictionary as a feature basis."""

    def __init__(self, dictionary: torch.nn.Module, *, member: int = 0, hook_point: str | None = None):
        self.dictionary = dictionary.eval()
        self.member = member
        self.d_in = int(dictionary.d_in)  # type: ignore[arg-type]
        self.n_features = int(dictionary.d_sae)  # type: ignore[arg-type]
        self.hook_point = hook_point
        self.model_name: str | None = None

    @classmethod
    def load(cls, path: str | Path) -> DictionaryBasis:
        """A saved dictionary folder; the hook point and model it was trained on come from its ``cfg.json``."""
        from auditlens.sae import load_dictionary

        basis = cls(load_dictionary(path))
        cfg_file = Path(path) / "cfg.json"
        if cfg_file.is_file():
            cfg = json.loads(cfg_file.read_text())
            basis.hook_point = cfg.get("hook_name")
            basis.model_name = cfg.get("model_name")
        return basis

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        flat, lead = _flat(x, self.d_in, "the activation")
        codes = self.dictionary.encode(flat.float())[self.member]  # type: ignore[operator]
        return codes.reshape(*lead, self.n_features)

    @torch.no_grad()
    def decode(self, codes: Tensor) -> Tensor:
        flat, lead = _flat(codes, self.n_features, "the code tensor")
        n = self.dictionary.n  # type: ignore[attr-defined]
        stacked = flat.float().unsqueeze(0).expand(n, -1, -1)
        return self.dictionary.decode(stacked)[self.member].reshape(*lead, self.d_in)  # type: ignore[operator]

    @torch.no_grad()
    def directions(self) -> Tensor:
        eye = torch.eye(self.n_features, device=self.dictionary.act_scale.device)  # type: ignore[union-attr]
        zero = torch.zeros(1, self.n_features, device=eye.device)
        return self.decode(eye) - self.decode(zero)


class DirectionsBasis:
    """Given directions ``(F, d)``; codes are the least-squares coordinates of ``x − offset`` in their span."""

    def __init__(self, directions: Tensor, *, offset: Tensor | None = None, hook_point: str | None = None):
        if directions.dim() != 2:
            raise ConfigError(
                "directions must be a (n_features, d) matrix", hint="stack one direction per row"
            )
        self.W = directions.float()
        self.offset = torch.zeros(self.W.shape[1]) if offset is None else offset.float()
        self.n_features, self.d_in = self.W.shape
        self.hook_point = hook_point
        self._pinv = torch.linalg.pinv(self.W)  # (d, F)

    def encode(self, x: Tensor) -> Tensor:
        flat, lead = _flat(x, self.d_in, "the activation")
        return ((flat.float() - self.offset.to(flat.device)) @ self._pinv.to(flat.device)).reshape(*lead, -1)

    def decode(self, codes: Tensor) -> Tensor:
        flat, lead = _flat(codes, self.n_features, "the code tensor")
        return (flat.float() @ self.W.to(flat.device) + self.offset.to(flat.device)).reshape(*lead, self.d_in)

    def directions(self) -> Tensor:
        return self.W


class PCABasis:
    """Principal directions of ``sample`` (rows: activations), most variance first.

    ``signed``: each direction as ``+v`` and ``−v`` with codes ``relu(±⟨x − μ, v⟩)`` (2k non-negative features).
    """

    def __init__(
        self,
        sample: Tensor,
        *,
        n_components: int | None = None,
        signed: bool = False,
        hook_point: str | None = None,
    ):
        x = sample.reshape(-1, sample.shape[-1]).double()
        self.mean = x.mean(0)
        _, _, vh = torch.linalg.svd(x - self.mean, full_matrices=False)
        k = n_components or vh.shape[0]
        self.V = vh[:k].float()  # (k, d), orthonormal rows
        self.mean = self.mean.float()
        self.signed = signed
        self.d_in = x.shape[1]
        self.n_features = 2 * k if signed else k
        self.hook_point = hook_point

    def encode(self, x: Tensor) -> Tensor:
        flat, lead = _flat(x, self.d_in, "the activation")
        proj = (flat.float() - self.mean.to(flat.device)) @ self.V.T.to(flat.device)
        codes = torch.cat([proj.clamp_min(0), (-proj).clamp_min(0)], dim=-1) if self.signed else proj
        return codes.reshape(*lead, self.n_features)

    def decode(self, codes: Tensor) -> Tensor:
        flat, lead = _flat(codes, self.n_features, "the code tensor")
        return (flat.float() @ self.directions().to(flat.device) + self.mean.to(flat.device)).reshape(
            *lead, self.d_in
        )

    def directions(self) -> Tensor:
        return torch.cat([self.V, -self.V]) if self.signed else self.V
