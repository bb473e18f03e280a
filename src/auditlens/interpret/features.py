"""The feature-source interface: anything that turns activations into feature activations.

Statistics, examples, dashboards and auto-interp only ever see a :class:`FeatureSource`, so a sparse dictionary,
the model's own neurons, random directions, PCA or ICA components all read the same way. A source maps
``(batch, d_in)`` activations to ``(batch, n_features)`` feature activations and knows each feature's direction in
activation space (``(n_features, d_in)``, used for the unembedding effects). Activations are read as
non-negative: a value ``> 0`` counts as the feature firing (a signed basis should be split into ± features).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from auditlens.interpret.errors import InterpretError


@runtime_checkable
class FeatureSource(Protocol):
    """What statistics, examples and dashboards need from a set of features."""

    @property
    def name(self) -> str:
        """Short human-readable name (shown on dashboards, recorded in results)."""
        ...

    @property
    def d_in(self) -> int:
        """Width of the activations the source reads."""
        ...

    @property
    def n_features(self) -> int:
        """Number of features (columns of :meth:`encode`)."""
        ...

    @property
    def feature_ids(self) -> Tensor:
        """``(n_features,)`` int64: each column's id in the full source (a subset keeps the original ids)."""
        ...

    def encode(self, x: Tensor) -> Tensor:
        """``(batch, d_in)`` activations -> ``(batch, n_features)`` feature activations (no grad)."""
        ...

    def directions(self) -> Tensor:
        """``(n_features, d_in)`` direction of each feature in activation space (e.g. decoder rows)."""
        ...


class DictionaryFeatures:
    """The latents of one member of a :class:`auditlens.sae.Dictionary` as a feature source.

    Args:
        dictionary: a loaded dictionary (its ``n`` stacked members; ``member`` picks one).
        member: which member to read.
        features: optional subset of latent ids (kept in this order); ``None`` = all latents.
        name: display name; defaults to the member's config name or architecture.
        device: where to encode (the dictionary is moved there).
    """

    def __init__(
        self,
        dictionary: torch.nn.Module,
        *,
        member: int = 0,
        features: Sequence[int] | Tensor | None = None,
        name: str | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        n = int(getattr(dictionary, "n", 1))
        if not 0 <= member < n:
            raise InterpretError(
                f"member {member} is out of range: the dictionary has {n} member(s)",
                hint="pick member=0 for a dictionary loaded from a checkpoint folder",
            )
        self.dictionary = dictionary.to(device).eval()
        self.member = member
        self.device = torch.device(device)
        d_sae = int(dictionary.d_sae)  # type: ignore[arg-type]
        ids = torch.arange(d_sae) if features is None else torch.as_tensor(features, dtype=torch.long)
        if ids.numel() == 0 or int(ids.min()) < 0 or int(ids.max()) >= d_sae:
            raise InterpretError(
                f"feature ids must be non-empty and in [0, {d_sae}), got {ids.tolist()[:8]}...",
                hint=f"the dictionary has {d_sae} latents",
            )
        self._ids = ids
        self._all = features is None
        cfgs = getattr(dictionary, "configs", None)
        default = getattr(cfgs[member], "name", None) if cfgs else None
        self._name = name or default or str(getattr(dictionary, "architecture", "dictionary"))

    @classmethod
    def load(
        cls,
        folder: str | Path,
        *,
        features: Sequence[int] | Tensor | None = None,
        device: str | torch.device = "cpu",
    ) -> DictionaryFeatures:
        """Load a checkpoint folder (ours, SAELens or sparsify) as a feature source named after the folder."""
        from auditlens.sae import load_dictionary

        return cls(load_dictionary(folder), features=features, name=Path(folder).name, device=device)

    @property
    def name(self) -> str:
        return self._name

    @property
    def d_in(self) -> int:
        return int(self.dictionary.d_in)  # type: ignore[arg-type]

    @property
    def n_features(self) -> int:
        return int(self._ids.numel())

    @property
    def feature_ids(self) -> Tensor:
        return self._ids

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        codes = self.dictionary.encode(x.to(self.device, torch.float32))[self.member]  # type: ignore[operator]
        return codes if self._all else codes[:, self._ids.to(codes.device)]

    @torch.no_grad()
    def directions(self) -> Tensor:
        from auditlens.evals.evaluate import decoder_directions

        w = decoder_directions(self.dictionary, self.member)  # type: ignore[arg-type]
        return w if self._all else w[self._ids]


def check_source(source: FeatureSource, d_in: int) -> None:
    """Raise :class:`InterpretError` when ``source`` cannot read activations of width ``d_in``."""
    if source.d_in != d_in:
        raise InterpretError(
            f"feature source {source.name!r} reads activations of width {source.d_in}, "
            f"but the store's hook point has width {d_in}",
            hint="use the store (and hook point) the dictionary was trained on",
        )
