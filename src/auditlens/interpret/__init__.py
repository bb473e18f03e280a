"""Reading dictionary features: statistics, examples, dashboards (and, built on them, auto-interp and baselines).

Public API::

    from auditlens.interpret import DictionaryFeatures, interpret_features, ExampleTable, DictionaryStats

    source = DictionaryFeatures.load("run/topk_9216_0")          # any FeatureSource works (baselines too)
    summary = interpret_features(source, ActivationStore.open("store"), "interp/topk", model=load_model(spec))
    stats = DictionaryStats.load("interp/topk")                    # typed per-feature statistics
    ex = ExampleTable.load("interp/topk").feature(123, TokenText.load("interp/topk/token_text.json"))
    rebuild_dashboard("interp/topk")                               # after writing explanations.jsonl

Building blocks: :func:`scan_store` (one streaming pass, running top-k / random / stratified reservoirs),
:func:`build_examples`, :func:`build_stats`, :func:`write_dashboard`.
"""

from auditlens.interpret.dashboard import DashboardConfig, write_dashboard
from auditlens.interpret.errors import InterpretError
from auditlens.interpret.examples import Example, ExampleTable, FeatureExamples, QuantileBin, build_examples
from auditlens.interpret.explanations import FeatureExplanation, load_explanations, save_explanations
from auditlens.interpret.features import DictionaryFeatures, FeatureSource, check_source
from auditlens.interpret.pipeline import InterpretSummary, interpret_features, rebuild_dashboard
from auditlens.interpret.scan import ScanConfig, ScanResult, scan_store
from auditlens.interpret.stats import (
    ActivationHistogram,
    DensityHistogram,
    DictionaryStats,
    FeatureStats,
    TokenCount,
    TokenValue,
    build_stats,
    final_norm_weight,
    logit_effects,
)
from auditlens.interpret.tokens import TokenText

__all__ = [
    "ActivationHistogram",
    "DashboardConfig",
    "DensityHistogram",
    "DictionaryFeatures",
    "DictionaryStats",
    "Example",
    "ExampleTable",
    "FeatureExamples",
    "FeatureExplanation",
    "FeatureSource",
    "FeatureStats",
    "InterpretError",
    "InterpretSummary",
    "QuantileBin",
    "ScanConfig",
    "ScanResult",
    "TokenCount",
    "TokenText",
    "TokenValue",
    "build_examples",
    "build_stats",
    "check_source",
    "final_norm_weight",
    "interpret_features",
    "load_explanations",
    "logit_effects",
    "rebuild_dashboard",
    "save_explanations",
    "scan_store",
    "write_dashboard",
]
