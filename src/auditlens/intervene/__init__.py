"""Causal tools on a live model: ablate, clamp, steer, project out, add noise to and counterfactually patch features of a basis (a sparse
dictionary, a PCA rotation, any directions), keeping the reconstruction error, through
:meth:`auditlens.models.HookedModel.splice`.

- :mod:`~auditlens.intervene.basis` — the bases behind one protocol.
- :mod:`~auditlens.intervene.edits` — the edits (splice functions that record their magnitude).
- :mod:`~auditlens.intervene.patching` — counterfactual patching scored by KL at the answer position.
- :mod:`~auditlens.intervene.pruning` — greedy pruning of a patch to the fewest features under a KL threshold.
"""

from auditlens.intervene.basis import DictionaryBasis, DirectionsBasis, FeatureBasis, PCABasis
from auditlens.intervene.edits import Edit, ablate, add_noise, clamp, patch_codes, project_out, steer
from auditlens.intervene.patching import PatchResult, counterfactual_patch, kl_divergence
from auditlens.intervene.pruning import PruneCurve, PrunePoint, greedy_prune, plot_prune_curves

__all__ = [
    "DictionaryBasis",
    "DirectionsBasis",
    "Edit",
    "FeatureBasis",
    "PCABasis",
    "PatchResult",
    "PruneCurve",
    "PrunePoint",
    "ablate",
    "add_noise",
    "clamp",
    "counterfactual_patch",
    "greedy_prune",
    "kl_divergence",
    "patch_codes",
    "plot_prune_curves",
    "project_out",
    "steer",
]
