"""The audit's settings: how much each technique samples and where the budget goes. Field by field documented;
every field is part of an audit folder's identity (a different setting is a different audit)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from auditlens.errors import ConfigError

__all__ = ["AuditSettings", "DictionaryPlan", "read_audit_settings"]


class DictionaryPlan(BaseModel):
    """Size of the audit's own dictionary. The defaults (3072 latents, 1M tokens) took about 12 minutes, harvest
    included, on 2 shared CPU cores for SmolLM2-135M (docs/results/audit-cpu-2026-12-04); tests use a tiny plan."""

    model_config = ConfigDict(extra="forbid")

    tokens: int = Field(default=1_000_000, gt=0, description="Tokens harvested (and trained on, one epoch).")
    d_sae: int = Field(default=3072, gt=0, description="Latents.")
    k: int = Field(default=32, gt=0, description="Active latents (TopK).")
    context_length: int = Field(default=128, gt=1, description="Tokens per context.")
    batch_size: int = Field(default=1024, gt=0, description="Activation rows per training step.")
    doc_chars: int = Field(
        default=3000, gt=0, description="Corpus documents are cut to this many characters."
    )
    max_sample_share: float = Field(
        default=0.5, gt=0, le=1, description="Most of the mixed text's characters the data sample may take."
    )
    seed: int = Field(default=0, description="Seed of the mix, harvest order and initialisation.")


class AuditSettings(BaseModel):
    """Budget and knobs of the fixed plan (the defaults fit the ≤ 20-minute target on 2 CPU cores)."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(default=0, description="Seed of every sample and random choice.")
    temperature: float = Field(default=1.0, gt=0, description="Sampling temperature of black-box techniques.")
    max_tokens: int = Field(default=48, ge=4, description="New tokens per sample.")
    samples_per_prompt: int = Field(
        default=4, ge=1, description="Samples per prompt of a sampling technique."
    )
    batch_size: int = Field(default=32, ge=1, description="Requests decoded together.")
    max_data_rows: int = Field(
        default=4000,
        ge=1,
        description="Rows of the data sample used (a uniform sample above; the report says so).",
    )
    top_k: int = Field(
        default=12, ge=1, description="Items a technique returns (documents, features, samples)."
    )
    n_clusters: int = Field(
        default=8, ge=2, description="Clusters of the data sample (fewer when it is small)."
    )
    ppl_prefixes: int = Field(
        default=48, ge=1, description="General-text prefixes of perplexity differencing."
    )
    ppl_samples_per_prefix: int = Field(default=2, ge=1, description="Completions per prefix.")
    fuzz_scales: list[float] = Field(
        default_factory=lambda: [0.5, 1.0, 2.0, 4.0],
        description="Noise scales of activation fuzzing, as multiples of the residual stream's RMS norm.",
    )
    hook_point: str | None = Field(
        default=None,
        description="Residual hook point of dictionary and interventions (None: the middle layer).",
    )
    dictionary: DictionaryPlan = Field(
        default_factory=DictionaryPlan,
        description="Size of the dictionary the audit trains when none is given (ignored when one is).",
    )
    compare_dictionaries: bool = Field(
        default=False,
        description="Also train a dictionary on the default corpus only and compare its prompt features on the "
        "best candidate with the audit's (the seed's ablation; costs a second dictionary: ~12 min on 2 cores).",
    )
    max_hypotheses: int = Field(default=3, ge=1, description="Hypotheses the fixed plan tests.")
    confidence_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Confidence at or above which a root cause is claimed."
    )


def read_audit_settings(path: str | Path, **override: Any) -> AuditSettings:
    """:class:`AuditSettings` from a TOML or JSON file (field names as above; the dictionary plan as a
    ``[dictionary]`` table), with ``override`` (fields that are not None) on top. A wrong name or value is an
    error naming the field."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read audit settings {p}: {e}", hint="check the path") from e
    try:
        data = json.loads(text) if p.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(
            f"audit settings {p} is not valid {'JSON' if p.suffix == '.json' else 'TOML'}: {e}"
        ) from e
    data.update({k: v for k, v in override.items() if v is not None})
    try:
        return AuditSettings.model_validate(data)
    except ValidationError as e:
        bad = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise ConfigError(
            f"audit settings {p}: {bad}",
            hint=f"the fields are: {', '.join(AuditSettings.model_fields)} (dictionary: {', '.join(DictionaryPlan.model_fields)})",
        ) from e
