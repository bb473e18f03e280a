"""The auto-interp protocol's settings (defaults: the seed's, §5.5) and what in them identifies a run."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from auditlens.interpret.autointerp.fragments import FragmentConfig

__all__ = ["AutoInterpConfig", "Scorer"]

Scorer = Literal["simulation", "detection", "fuzzing", "embedding"]


class AutoInterpConfig(BaseModel):
    """The auto-interp protocol's settings (defaults: the seed's)."""

    model_config = ConfigDict(extra="forbid")

    fragments: FragmentConfig = Field(default_factory=FragmentConfig, description="Fragments and draws.")
    n_explain: int = Field(default=5, ge=1, description="Top fragments shown to the explainer.")
    n_sim_top: int = Field(default=5, ge=1, description="Other top fragments the simulator scores.")
    n_sim_random: int = Field(default=5, ge=0, description="Random varying fragments the simulator scores.")
    min_varying: int = Field(
        default=20, ge=1, description="Skip features with fewer varying (max > 0) fragments than this."
    )
    scorers: list[Scorer] = Field(
        default_factory=lambda: ["simulation", "detection", "fuzzing", "embedding"],
        description="Scorers to run; simulation (the seed's correlation) is always run.",
    )
    explainer_max_tokens: int = Field(default=60, ge=4, description="Tokens the explainer may write.")
    explainer_prefill: bool = Field(
        default=True,
        description='Prefill the explainer\'s answer with "the main thing this neuron does is find".',
    )
    simulator_top_logprobs: int = Field(
        default=20,
        ge=0,
        description="Ask the simulator for this many top log-probabilities per token (expected values over "
        "'0'..'10' where the backend gives them); 0: use the sampled numbers.",
    )
    simulator_prefill: bool = Field(
        default=True,
        description="Start the simulator's answer with '<start>\\n<first token>\\t' (format help).",
    )
    unparsable_simulation: Literal["zero", "fail"] = Field(
        default="zero",
        description="A simulator answer with no parsable activation (malformed, refusal): 'zero' scores it as "
        "predicting 0 on every token (recorded in failures and parsed_fraction; a weak simulator then scores "
        "low instead of dropping out of the mean, which would flatter it); 'fail' fails the feature.",
    )
    batch_examples: int = Field(
        default=5, ge=1, description="Examples per detection/fuzzing prompt (delphi: 5)."
    )
    feature_batch: int = Field(
        default=8, ge=1, description="Features whose LLM requests are sent together (batching, concurrency)."
    )
    seed: int = Field(default=0, description="Seed of example shuffles and fuzzing's wrong highlights.")
    retry_temperature: float = Field(
        default=0.7,
        ge=0.0,
        description="When a re-run retries a step that gave a malformed answer or a refusal (cached, so asking "
        "again greedily would repeat it), that step's requests are sampled at this temperature, seeded by the "
        "attempt number.",
    )

    def protocol(self) -> dict[str, Any]:
        """Every setting that changes a run's results (JSON): all but how requests and fragments are batched and
        the hook point as given (a run records the hook point it resolved)."""
        return self.model_dump(
            mode="json", exclude={"feature_batch": True, "fragments": {"batch_fragments", "hook_point"}}
        )
