"""Faking classifiers behind one interface (:class:`Classifier`): rule baselines and LLM classifiers."""

from auditlens.faking.classifiers.base import (
    FIRST_TURN_TASKS,
    TASKS,
    Classifier,
    ClassifierError,
    ClassifierScore,
    Task,
    label_of,
)
from auditlens.faking.classifiers.llm import LLMClassifier, LLMClassifierConfig
from auditlens.faking.classifiers.rules import (
    RuleAF,
    RuleCompliance,
    RuleLying,
    RulePartialAF,
    rule_classifier,
)

__all__ = [
    "FIRST_TURN_TASKS",
    "TASKS",
    "Classifier",
    "ClassifierError",
    "ClassifierScore",
    "LLMClassifier",
    "LLMClassifierConfig",
    "RuleAF",
    "RuleCompliance",
    "RuleLying",
    "RulePartialAF",
    "Task",
    "label_of",
    "rule_classifier",
]
