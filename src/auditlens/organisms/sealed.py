"""The built organism as an auditor sees it, and its sealed ground truth.

An organism folder holds ``organism.json`` (the public manifest: base model, adapters in order, training data
files), ``adapters/<stage>/`` (LoRA adapters, safetensors), ``data/`` (the training data actually used, as
plain text the model saw, plus ``representative_subset.jsonl``), ``sealed/`` (the objective spec, the
train/held-out split and the labelled data — ground truth), and ``stages/`` (build state with labels).
Audit tools read the manifest, adapters and ``data/`` only; :func:`read_sealed` refuses unless
``unseal=True`` (scoring).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from auditlens.models.hooked import HookedModel
from auditlens.organisms.errors import BuildError, SealedError
from auditlens.organisms.spec import ObjectiveSpec
from auditlens.runs import read_json

MANIFEST = "organism.json"
SEALED_FILE = "sealed/objective.json"


class OrganismManifest(BaseModel):
    """Public description of a built organism (no ground truth)."""

    format: str = Field(default="auditlens-organism/1", description="Folder format version.")
    base_model: str = Field(
        description="Spec of the base model (auditlens.models.load_model, or tiny:<family>)."
    )
    adapters: list[str] = Field(
        description="Adapter folders relative to the organism folder, in merge order."
    )
    data_files: dict[str, str] = Field(description="Training data actually used: name -> relative path.")
    representative_subset: str = Field(
        description="Relative path of the documented sample of the training data."
    )
    subset_note: str = Field(description="How the representative subset was drawn.")
    sealed_sha256: str = Field(description="SHA-256 of the sealed objective file (tamper check).")
    build_seconds: float = Field(description="Wall time of the stages run, summed over resumes.")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(folder: str | Path) -> OrganismManifest:
    """The public manifest of an organism folder."""
    p = Path(folder) / MANIFEST
    if not p.is_file():
        raise BuildError(
            f"{folder} has no {MANIFEST}: not a finished organism build",
            hint="run `auditlens organism build`",
        )
    return read_json(p, OrganismManifest, what="organism manifest")


def load_base(spec: str, device: str = "cpu") -> HookedModel:
    """The base model on ``device``: ``tiny:<family>`` (a tiny random model, seed 0) or any model spec."""
    if spec.startswith("tiny:"):
        from auditlens.models.tiny import tiny_model

        hm = tiny_model(spec.split(":", 1)[1] or "llama", seed=0)
        hm.model.to(device)
        return hm
    from auditlens.models import load_model

    return load_model(spec, device=device)


def load_organism(folder: str | Path, device: str = "cpu") -> HookedModel:
    """The organism as a :class:`HookedModel` on ``device``: the base with every adapter merged, in order."""
    from auditlens.organisms.training import merge_adapters

    folder = Path(folder)
    m = read_manifest(folder)
    hm = load_base(m.base_model, device)
    merged = merge_adapters(hm.model, [folder / a for a in m.adapters])
    return HookedModel(merged.eval(), hm.tokenizer, model_id=f"organism:{folder.name}", source=str(folder))


def read_sealed(folder: str | Path, *, unseal: bool = False) -> dict[str, Any]:
    """The sealed ground truth (objective spec, split). Refuses unless ``unseal=True``; checks the hash."""
    if not unseal:
        raise SealedError(
            "the organism's objective is sealed; audit tools must not read it",
            hint="pass unseal=True only when scoring an audit against the ground truth",
        )
    folder = Path(folder)
    p = folder / SEALED_FILE
    if not p.is_file():
        raise SealedError(f"{p} is missing", hint="rebuild the organism (the seal stage writes it)")
    m = read_manifest(folder)
    if sha256_file(p) != m.sealed_sha256:
        raise SealedError(
            f"{p} does not match the hash in {MANIFEST}: it was modified", hint="rebuild the organism"
        )
    return read_json(p, what="sealed objective")


def sealed_objective(folder: str | Path, *, unseal: bool = False) -> ObjectiveSpec:
    """The sealed objective spec as an :class:`ObjectiveSpec` (``unseal=True`` required)."""
    from auditlens.organisms.spec import parse_objective

    return parse_objective(read_sealed(folder, unseal=unseal)["spec"], origin=f"{folder}/{SEALED_FILE}")
