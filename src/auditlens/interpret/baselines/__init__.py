"""The baseline zoo of the seed (§5.6, §6.2): bases a sparse dictionary is compared against under auto-interp.

Every baseline is a :class:`~auditlens.interpret.features.FeatureSource`, so statistics, examples, dashboards
and auto-interp read it exactly like a dictionary.

=================  ==========================================================================================
name               features
=================  ==========================================================================================
``neurons``        the activation basis itself, signed (``x_j``)
``neurons_relu``   ``relu(x_j)`` (the seed's residual "neuron basis" with negatives set to 0)
``neurons_split``  ``relu(x_j)`` and ``relu(-x_j)`` (2·d features)
``random``         ``x · r_i`` for random unit directions ``r_i`` (as many as the dictionary has latents)
``random_relu``    ``relu(x · r_i)``
``random_bias``    ``relu(x · r_i + β_i)`` with ``β_i`` the dictionary's encoder bias of latent ``i`` in the
                   units of a unit direction (``act_scale · b_eff_i / ‖w_enc_i‖``, ``b_eff`` including the
                   decoder-bias centring)
``dict_no_bias``   ``x · w_enc_i`` — the dictionary's encoder directions without bias or ReLU (the seed's
                   ``feature_no_bias``)
``pca``            ``(x − μ) · p_i``, principal components from a batched covariance over the store (signed)
``pca_split``      ``relu(±(x − μ) · p_i)``
``ica``            FastICA sources (sklearn) on standardised data from a subsample (signed)
``ica_split``      ``relu(±s_i)``
``nmf``            NMF (sklearn) of the non-negative split data ``[relu(x), relu(−x)]`` from a subsample
``topk_pca``       ``pca_split`` keeping the K largest per token (appendix G: ± components, K = the
                   dictionary's mean L0)
``topk_ica``       ``ica_split`` keeping the K largest per token
=================  ==========================================================================================

The feature families (the read-outs) are in :mod:`~auditlens.interpret.baselines.families`, fitting them to a
store and building one by name in :mod:`~auditlens.interpret.baselines.fitting`.
"""

from auditlens.interpret.baselines.families import (
    LinearFeatures,
    NMFFeatures,
    TopKFeatures,
    split_nonnegative,
)
from auditlens.interpret.baselines.fitting import (
    BASELINES,
    build_baseline,
    dict_no_bias_features,
    dictionary_readout,
    fit_ica,
    fit_nmf,
    fit_pca,
    mean_l0,
    neuron_features,
    random_bias_features,
    random_features,
    store_rows,
)

__all__ = [
    "BASELINES",
    "LinearFeatures",
    "NMFFeatures",
    "TopKFeatures",
    "build_baseline",
    "dict_no_bias_features",
    "dictionary_readout",
    "fit_ica",
    "fit_nmf",
    "fit_pca",
    "mean_l0",
    "neuron_features",
    "random_bias_features",
    "random_features",
    "split_nonnegative",
    "store_rows",
]
