"""Auto-interpretation of features (the seed's explain -> simulate -> correlate protocol, §5.5) plus delphi's
detection and fuzzing scorers and an offline embedding scorer.

>>> from auditlens.interpret.autointerp import run_autointerp, AutoInterpConfig   # doctest: +SKIP
>>> summary = run_autointerp(source, store, "interp/autointerp", explainer=make_client("local"))  # doctest: +SKIP
"""

from auditlens.interpret.autointerp.fragments import (
    FragmentConfig,
    FragmentIndex,
    FragmentTable,
    collect_fragments,
    discretise,
    select_fragments,
)
from auditlens.interpret.autointerp.prompts import (
    Fragment,
    parse_binary_list,
    parse_explanation,
    parse_simulation,
)
from auditlens.interpret.autointerp.run import (
    SCORE_NAMES,
    AutoInterpConfig,
    AutoInterpSummary,
    FeatureResult,
    ScoreEstimate,
    StepFailure,
    load_results,
    run_autointerp,
    summarise,
)
from auditlens.interpret.autointerp.scorers import (
    ClassifierScores,
    EmbeddingScore,
    SimulationScores,
    auroc,
    classifier_scores,
    correlation,
    embedding_score,
    simulation_scores,
)

__all__ = [
    "SCORE_NAMES",
    "AutoInterpConfig",
    "AutoInterpSummary",
    "ClassifierScores",
    "EmbeddingScore",
    "FeatureResult",
    "Fragment",
    "FragmentConfig",
    "FragmentIndex",
    "FragmentTable",
    "ScoreEstimate",
    "SimulationScores",
    "StepFailure",
    "auroc",
    "classifier_scores",
    "collect_fragments",
    "correlation",
    "discretise",
    "embedding_score",
    "load_results",
    "parse_binary_list",
    "parse_explanation",
    "parse_simulation",
    "run_autointerp",
    "select_fragments",
    "simulation_scores",
    "summarise",
]
