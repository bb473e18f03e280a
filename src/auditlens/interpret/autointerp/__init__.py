"""Auto-interpretation of features (the seed's explain -> simulate -> correlate protocol, §5.5) plus delphi's
detection and fuzzing scorers and an offline embedding scorer.

>>> from auditlens.interpret.autointerp import run_autointerp, AutoInterpConfig   # doctest: +SKIP
>>> summary = run_autointerp(source, store, "interp/autointerp", explainer=make_client("local"))  # doctest: +SKIP
"""

from auditlens.interpret.autointerp.config import AutoInterpConfig
from auditlens.interpret.autointerp.draw import choose_features, draw_features
from auditlens.interpret.autointerp.folder import load_results
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
from auditlens.interpret.autointerp.results import SCORE_NAMES, FeatureResult, ScoredFragment, StepFailure
from auditlens.interpret.autointerp.run import run_autointerp
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
from auditlens.interpret.autointerp.summary import AutoInterpSummary, client_name, summarise, weak_note

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
    "ScoredFragment",
    "SimulationScores",
    "StepFailure",
    "auroc",
    "choose_features",
    "classifier_scores",
    "client_name",
    "collect_fragments",
    "correlation",
    "discretise",
    "draw_features",
    "embedding_score",
    "load_results",
    "parse_binary_list",
    "parse_explanation",
    "parse_simulation",
    "run_autointerp",
    "select_fragments",
    "simulation_scores",
    "summarise",
    "weak_note",
]
