"""Causal tools on a live model: ablate, clamp, steer, project out, add noise to and counterfactually patch features of a basis (a sparse
dictionary, a PCA rotation, any directions), keeping the reconstruction error, through
:meth:`auditlens.models.HookedModel.splice`.

- :mod:`~auditlens.intervene.basis` — the bases behind one protocol.
- :mod:`~auditlens.intervene.edits` — the edits (splice functions that record their magnitude).
- :mod:`~auditlens.intervene.patching` — counterfactual patching scored by KL at the answer position.
- :mod:`~auditlens.intervene.pruning` — greedy pruning of a patch to the fewest features under a KL threshold.
- :mod:`~auditlens.intervene.rank_one` — less-than-rank-one ablation (until a feature stops firing) and its logit effects.
- :mod:`~auditlens.intervene.upstream` — the upstream causal tree of a feature.
"""

from auditlens.intervene.basis import DictionaryBasis, DirectionsBasis, FeatureBasis, PCABasis
from auditlens.intervene.edits import Edit, ablate, add_noise, clamp, patch_codes, project_out, steer
from auditlens.intervene.patching import PatchResult, counterfactual_patch, kl_divergence
from auditlens.intervene.pruning import PruneCurve, PrunePoint, greedy_prune, plot_prune_curves
from auditlens.intervene.rank_one import LogitEffects, logit_effects, stop_firing
from auditlens.intervene.upstream import UpstreamNode, upstream_tree

__all__ = [
    "DictionaryBasis",
    "DirectionsBasis",
    "Edit",
    "FeatureBasis",
    "LogitEffects",
    "PCABasis",
    "PatchResult",
    "PruneCurve",
    "PrunePoint",
    "UpstreamNode",
    "ablate",
    "add_noise",
    "clamp",
    "counterfactual_patch",
    "greedy_prune",
    "kl_divergence",
    "logit_effects",
    "patch_codes",
    "plot_prune_curves",
    "project_out",
    "steer",
    "stop_firing",
    "upstream_tree",
]
