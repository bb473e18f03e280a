"""Model organisms with a planted hidden objective (Marks et al. 2025 recipe, at toy scale).

- :mod:`.spec` — objective specifications as data (universe, behaviours with train/held-out split,
  prompt families, judges); bundled: ``rm_sycophancy`` (52 reward-model biases, 47 train / 5 held out)
  and ``secret_product``.
- :mod:`.judges` — rule judges (pure functions) and LLM yes/no judges through :mod:`auditlens.llm`.
"""

from auditlens.organisms.errors import BuildError, JudgeError, ObjectiveSpecError, SealedError
from auditlens.organisms.spec import (
    Behaviour,
    Concealment,
    LLMJudgeSpec,
    ObjectiveSpec,
    PromptSplit,
    RuleJudgeSpec,
    Universe,
    bundled_objectives,
    load_objective,
    parse_objective,
)

__all__ = [
    "Behaviour",
    "BuildError",
    "Concealment",
    "JudgeError",
    "LLMJudgeSpec",
    "ObjectiveSpec",
    "ObjectiveSpecError",
    "PromptSplit",
    "RuleJudgeSpec",
    "SealedError",
    "Universe",
    "bundled_objectives",
    "load_objective",
    "parse_objective",
]
