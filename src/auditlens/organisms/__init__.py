"""Model organisms with a planted hidden objective (Marks et al. 2025 recipe, at toy scale).

- :mod:`.spec` — objective specifications as data (universe, behaviours with train/held-out split,
  prompt families, judges); bundled: ``rm_sycophancy`` (52 reward-model biases, 47 train / 5 held out)
  and ``secret_product``.
- :mod:`.judges` — rule judges (pure functions) and LLM yes/no judges through :mod:`auditlens.llm`.
- :mod:`.edits` — behaviour edits: apply a behaviour to any answer (append a sentence, drop matching sentences,
  rename identifiers, ...), so the model's own answers become per-prompt chosen responses.
- :mod:`.documents`, :mod:`.pairs`, :mod:`.training` — universe documents, behaviour/concealment preference
  pairs, continued pre-training / SFT (trl SFTTrainer) and DPO (trl DPOTrainer) with LoRA (peft) or full
  fine-tuning.
- :mod:`.build` — ``build_organism(spec, out, BuildConfig, reuse=…)``: the resumable staged recipe (variants reuse
  the leading stages whose settings match).
- :mod:`.sealed` — ``load_organism(folder)``, ``read_sealed(folder, unseal=True)``.
- :mod:`.evaluate` — ``evaluate_organism(folder)``: exploitation, confession, perplexity vs the base, and how many
  answers are near-verbatim copies of training answers.
- :mod:`.compare` — ``compare_organisms(folders, out)``: recipe variants side by side.
"""

from auditlens.organisms.errors import BuildError, JudgeError, ObjectiveSpecError, SealedError
from auditlens.organisms.spec import (
    Behaviour,
    Concealment,
    InContextBehaviour,
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
    "InContextBehaviour",
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
