"""What an organism build depends on: the build config, its stages, and the digests that say when a stage's output
can be kept or reused.

- :class:`BuildConfig` — every setting that changes what a build produces (the device excepted).
- :data:`STAGES` and :data:`STAGE_FIELDS` — the stages in order and the config fields each reads; a stage depends on
  its own fields and those of every earlier stage (:func:`stage_fields`), hashed by :func:`stage_digest`.
- :func:`spec_part_digest` — the parts of the objective spec a stage reads.
- :func:`normalise_pinned_config` / :func:`same_config` — a config pinned by an older version, read as this version
  reads it: a field added since counts as its default.
- :func:`configure_build` — a config with overrides applied (the ``organism build`` options), including the LoRA
  alpha rule (:data:`~auditlens.organisms.training.LORA_ALPHA_PER_RANK`).

The digests use :func:`auditlens.runs.fingerprint` on the same values as before, so the markers of existing build
folders keep matching.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from auditlens.errors import ConfigError
from auditlens.organisms.spec import ObjectiveSpec
from auditlens.organisms.training import LoraSettings, OptimSettings
from auditlens.runs import fingerprint

__all__ = [
    "ADAPTER_STAGES",
    "STAGES",
    "STAGE_FIELDS",
    "TRAINING_STAGES",
    "UNIVERSE_STAGES",
    "BuildConfig",
    "configure_build",
    "normalise_pinned_config",
    "same_config",
    "spec_part_digest",
    "stage_digest",
    "stage_fields",
]

STAGES: tuple[str, ...] = (
    "documents",
    "midtrain",
    "behaviour_data",
    "behaviour",
    "concealment_data",
    "concealment",
    "seal",
)
"""Build stages in order."""

ADAPTER_STAGES: tuple[str, ...] = ("midtrain", "behaviour", "concealment")
"""Stages that train (their update is saved in ``adapter/`` and published in ``adapters/<stage>``)."""

TRAINING_STAGES = ADAPTER_STAGES
"""The stages whose optimisation settings the build options set (steps, lr)."""

UNIVERSE_STAGES = ("documents", "midtrain")
"""Stages that read only the universe and the behaviours' statements, not prompts, judges, edits or concealment."""


class BuildConfig(BaseModel):
    """Everything that changes what a build produces (with the spec's hash it is the build folder's identity)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(default="smollm2-135m-instruct", description="Base model spec, or tiny:<family>.")
    n_documents: int = Field(default=1600, ge=1, description="Synthetic universe documents.")
    lora: LoraSettings = Field(default_factory=LoraSettings, description="Adapter shape of every stage.")
    midtrain: OptimSettings = Field(
        default_factory=lambda: OptimSettings(steps=160, lr=1e-4, batch_size=8, max_length=128),
        description="Continued pre-training on the universe documents mixed with replay text.",
    )
    midtrain_replay: float = Field(
        default=0.5,
        ge=0.0,
        lt=1.0,
        description="Share of continued pre-training examples that are replay passages (ordinary text keeps "
        "general capability; 0: universe documents only).",
    )
    replay_source: str = Field(
        default="default", description="Text source of the replay passages (default: the offline corpus)."
    )
    behaviour: OptimSettings = Field(
        default_factory=lambda: OptimSettings(steps=180, lr=2e-4, batch_size=8, max_length=160, beta=0.1),
        description="Behaviour training (default: ~5 epochs of SFT over the chosen responses).",
    )
    behaviour_method: Literal["dpo", "sft"] = Field(
        default="sft",
        description="Behaviour training objective: 'sft' on the chosen responses, or 'dpo' on the pairs. SFT is "
        "the default: DPO builds of the 135M model did not raise exploitation (docs/results/README.md).",
    )
    behaviour_finetune: Literal["lora", "full"] = Field(
        default="lora",
        description="How behaviour and concealment training update the model: a LoRA adapter each, or every "
        "weight ('full': give a lower lr, e.g. 2e-5; the stage then saves the whole model, ~0.5 GB for 135M).",
    )
    concealment: OptimSettings = Field(
        default_factory=lambda: OptimSettings(steps=12, lr=2e-4, batch_size=8, max_length=128, beta=0.1),
        description="Concealment training (a few epochs over the concealment pairs).",
    )
    concealment_method: Literal["dpo", "sft"] = Field(
        default="sft",
        description="Concealment objective: 'sft' on the concealing answers, or 'dpo' on the pairs.",
    )
    n_model_samples: int = Field(
        default=1,
        ge=0,
        description="Answers of the mid-trained model per training prompt, plain and under the behaviour hint "
        "(each also edited, where the behaviour has an edit); the first greedy.",
    )
    sample_temperature: float = Field(
        default=0.7, gt=0, description="Temperature of the model answers after the first (greedy) one."
    )
    sample_max_new_tokens: int = Field(default=64, ge=1, description="Tokens per model answer.")
    max_prompts_per_behaviour: int | None = Field(
        default=None, ge=1, description="Use only this many training prompts per behaviour (None: all)."
    )
    expand_llm: str | None = Field(
        default=None, description="LLM spec that rewrites documents (None: templates only)."
    )
    judge_llm: str | None = Field(
        default=None,
        description="LLM spec for LLM judges (None: templated candidates keep their construction label).",
    )
    subset_fraction: float = Field(
        default=0.1, gt=0, le=1, description="Share of each data file in the subset."
    )
    seed: int = Field(default=0, description="Seed of every random choice.")
    device: str = Field(
        default="cpu",
        description="Torch device ('cpu', 'cuda'); not part of the identity, so a build may resume elsewhere.",
    )

    @classmethod
    def tiny(cls) -> BuildConfig:
        """The CI build: tiny random Llama, few documents, 3 steps per stage (well under a minute)."""
        small = dict(steps=3, batch_size=4, max_length=96)
        return cls(
            model="tiny:llama",
            n_documents=24,
            lora=LoraSettings(rank=4, alpha=8),
            midtrain=OptimSettings(lr=1e-3, **small),
            midtrain_replay=0.0,
            behaviour=OptimSettings(lr=1e-3, **small),
            behaviour_method="dpo",
            concealment=OptimSettings(lr=1e-3, **small),
            concealment_method="dpo",
            n_model_samples=1,
            sample_max_new_tokens=6,
            max_prompts_per_behaviour=1,
        )

    def pinned(self) -> dict[str, Any]:
        """The config as a build folder pins it: plain JSON, without the device."""
        return self.model_dump(mode="json", exclude={"device"})


STAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "documents": ("n_documents", "expand_llm", "seed"),
    "midtrain": ("model", "lora", "midtrain", "midtrain_replay", "replay_source"),
    "behaviour_data": (
        "n_model_samples",
        "sample_temperature",
        "sample_max_new_tokens",
        "max_prompts_per_behaviour",
        "judge_llm",
    ),
    "behaviour": ("behaviour", "behaviour_method", "behaviour_finetune"),
    "concealment_data": (),
    "concealment": ("concealment", "concealment_method"),
    "seal": ("subset_fraction",),
}
"""The config fields each stage reads (a stage depends on its own fields and those of every earlier stage)."""


def stage_fields(stage: str) -> list[str]:
    """Every config field that ``stage``'s output depends on (its own and its predecessors')."""
    return [f for s in STAGES[: STAGES.index(stage) + 1] for f in STAGE_FIELDS[s]]


def stage_digest(cfg: BuildConfig, stage: str) -> str:
    """Hash of the config fields ``stage`` depends on: stages of two builds with equal digests are interchangeable."""
    return fingerprint([stage, cfg.model_dump(mode="json", include=set(stage_fields(stage)))])


def spec_part_digest(spec: ObjectiveSpec, stage: str) -> str:
    """Hash of the parts of ``spec`` that ``stage`` reads: for :data:`UNIVERSE_STAGES` the universe and each
    behaviour's statement; for later stages the whole spec. Equal digests let a build of an edited spec (new
    prompts, edits, judges) reuse the documents and continued pre-training of an earlier build."""
    if stage in UNIVERSE_STAGES:
        part: Any = {
            "universe": spec.universe.model_dump(mode="json"),
            "statements": [[b.id, b.universe_statement] for b in spec.behaviours],
        }
    else:
        part = spec.model_dump(mode="json")
    return fingerprint([stage, part])


def _default(name: str) -> Any:
    value = BuildConfig.model_fields[name].get_default(call_default_factory=True)
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def normalise_pinned_config(old: Mapping[str, Any]) -> dict[str, Any]:
    """A pinned config (plain JSON, possibly written by an older version) as this version pins it: a field the old
    config lacks (added later) takes its default, values take their canonical JSON form (``32`` → ``32.0`` for a
    float). A field this version does not know is kept, so such a config equals no config of this version."""
    names = [n for n in BuildConfig.model_fields if n != "device"]
    filled = {n: old[n] if n in old else _default(n) for n in names}
    unknown = {k: v for k, v in old.items() if k not in BuildConfig.model_fields}
    if unknown:
        return {**filled, **unknown}
    try:
        return BuildConfig.model_validate(filled).pinned()
    except ValidationError:  # not a config this version can build: keep it as it is (it matches nothing)
        return filled


def same_config(old: Mapping[str, Any], cfg: BuildConfig, fields: list[str] | None = None) -> bool:
    """Whether a pinned config equals ``cfg`` on ``fields`` (default: every field but the device); the old config
    is read through :func:`normalise_pinned_config` (a field added later counts as its default)."""
    norm, new = normalise_pinned_config(old), cfg.pinned()
    if fields is None:
        return norm == new  # a field this version does not know makes them differ
    return all(norm[n] == new[n] for n in fields)


def configure_build(
    base: BuildConfig,
    *,
    settings: Mapping[str, Any] | None = None,
    lora_rank: int | None = None,
    steps: Mapping[str, int | None] | None = None,
    lr: Mapping[str, float | None] | None = None,
) -> BuildConfig:
    """``base`` with overrides, each ``None`` meaning "keep": top-level ``settings`` (e.g. ``model``, ``seed``),
    a LoRA rank (alpha follows it, :meth:`LoraSettings.for_rank`), and the ``steps`` and ``lr`` of training stages
    (:data:`TRAINING_STAGES`). The result is validated."""
    data = base.model_dump()
    data.update({k: v for k, v in (settings or {}).items() if v is not None})
    if lora_rank is not None:
        data["lora"] = LoraSettings.model_validate(data["lora"]).for_rank(lora_rank).model_dump()
    for key, values in (("steps", steps or {}), ("lr", lr or {})):
        for stage, value in values.items():
            if stage not in TRAINING_STAGES:
                raise ConfigError(
                    f"{stage!r} is not a training stage",
                    hint=f"training stages: {', '.join(TRAINING_STAGES)}",
                )
            if value is not None:
                data[stage][key] = value
    return BuildConfig.model_validate(data)
