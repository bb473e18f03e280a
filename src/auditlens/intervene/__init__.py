"""Causal tools on a live model: ablate, clamp, steer, project out, add noise to and counterfactually patch features of a basis (a sparse
dictionary, a PCA rotation, any directions), keeping the reconstruction error, through
:meth:`auditlens.models.HookedModel.splice`.

- :mod:`~auditlens.intervene.basis` — the bases behind one protocol.
- :mod:`~auditlens.intervene.edits` — the edits (splice functions that record their magnitude).
- :mod:`~auditlens.intervene.patching` — counterfactual patching scored by KL at the answer position.
"""

from auditlens.intervene.basis import DictionaryBasis, DirectionsBasis, FeatureBasis, PCABasis
from auditlens.intervene.edits import Edit, ablate, add_noise, clamp, patch_codes, project_out, steer
from auditlens.intervene.patching import PatchResult, counterfactual_patch, kl_divergence

__all__ = [
    "DictionaryBasis",
    "DirectionsBasis",
    "Edit",
    "FeatureBasis",
    "PCABasis",
    "PatchResult",
    "ablate",
    "add_noise",
    "clamp",
    "counterfactual_patch",
    "kl_divergence",
    "patch_codes",
    "project_out",
    "steer",
]
