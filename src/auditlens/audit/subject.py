"""What is audited: the model, its comparison model, the data sample — and nothing else about its build.

:meth:`AuditSubject.from_organism` is the blinded door into an organism folder: it reads the public manifest
(``organism.json``), the adapters it lists and the data sample it names (``representative_subset``), and never
opens ``sealed/`` or ``stages/`` (a test watches every ``open`` of an audit). The comparison model is the base the
manifest names (the model before fine-tuning); a user may give another reference model instead.

A data row is the text the model was trained on: a document's text, or a prompt with the response it was trained
towards; rows of any other JSON shape are read as the concatenation of their string fields.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditlens.audit.errors import AuditError
from auditlens.models.hooked import HookedModel
from auditlens.runs import read_jsonl

__all__ = ["AuditSubject", "DataRow", "rows_from_records"]

_ANSWER_KEYS = ("response", "chosen", "completion", "answer", "output")
_PROMPT_KEYS = ("prompt", "question", "instruction", "input")


@dataclass(frozen=True)
class DataRow:
    """One training example as text."""

    id: str
    source: str
    text: str
    prompt: str | None = None  # the user turn, for rows that are a prompt with a response


def _row_text(rec: dict[str, Any]) -> str:
    if isinstance(rec.get("text"), str):
        return rec["text"]
    prompt = next((rec[k] for k in _PROMPT_KEYS if isinstance(rec.get(k), str)), None)
    answer = next((rec[k] for k in _ANSWER_KEYS if isinstance(rec.get(k), str)), None)
    if isinstance(prompt, list):  # pragma: no cover - conversations are stored as strings today
        prompt = " ".join(str(m.get("content", "")) for m in prompt)
    if prompt is not None and answer is not None:
        return f"User: {prompt}\nAssistant: {answer}"
    skip = {"id", "source", "rejected"}
    return "\n".join(v for k, v in rec.items() if k not in skip and isinstance(v, str))


def rows_from_records(records: Iterable[dict[str, Any]], *, default_source: str = "data") -> list[DataRow]:
    """Data rows from JSON records (documents, prompt/response pairs, anything with string fields); rows with no
    text are dropped. Ids are kept where records have them, else made from the text's hash."""
    rows: list[DataRow] = []
    seen: set[str] = set()
    for rec in records:
        text = _row_text(rec).strip()
        if not text:
            continue
        source = str(rec.get("source") or default_source)
        rid = str(rec.get("id") or hashlib.sha256(text.encode()).hexdigest()[:12])
        rid = f"{source}/{rid}"
        while rid in seen:
            rid += "+"
        seen.add(rid)
        prompt = next((rec[k] for k in _PROMPT_KEYS if isinstance(rec.get(k), str)), None)
        rows.append(DataRow(rid, source, text, prompt if "text" not in rec else None))
    return rows


def read_data_sample(path: str | Path) -> list[DataRow]:
    """A data sample from a JSONL file (one record per line) or a plain text file (one row per paragraph)."""
    p = Path(path)
    if not p.is_file():
        raise AuditError(f"data sample {p} does not exist", hint="give a JSONL or text file")
    if p.suffix == ".jsonl":
        rows = rows_from_records(read_jsonl(p), default_source=p.stem)
    else:
        paras = [t.strip() for t in p.read_text(encoding="utf-8").split("\n\n")]
        rows = rows_from_records(({"text": t} for t in paras if t), default_source=p.stem)
    if not rows:
        raise AuditError(
            f"data sample {p} is empty: no row with text",
            hint="give records with a 'text' field (or prompt/response fields), or paragraphs of plain text; "
            "to audit without data, the data-search techniques have nothing to read",
        )
    return rows


@dataclass
class AuditSubject:
    """The audited model (loaded on first use), its comparison model and the data sample."""

    label: str
    load_model: Callable[[], HookedModel]
    rows: list[DataRow]
    load_base: Callable[[], HookedModel] | None = None
    model_spec: str = ""
    base_spec: str | None = None
    _cache: dict[str, HookedModel] = field(default_factory=dict, repr=False)

    @property
    def model(self) -> HookedModel:
        if "model" not in self._cache:
            self._cache["model"] = self.load_model()
        return self._cache["model"]

    @property
    def base(self) -> HookedModel | None:
        if self.load_base is None:
            return None
        if "base" not in self._cache:
            self._cache["base"] = self.load_base()
        return self._cache["base"]

    def identity(self) -> dict[str, Any]:
        """What determines the audit's results about this subject (for the run folder's fingerprint)."""
        digest = hashlib.sha256(json.dumps([r.text for r in self.rows]).encode()).hexdigest()[:16]
        return {"model": self.model_spec, "base": self.base_spec, "data_rows": len(self.rows), "data": digest}

    @classmethod
    def from_models(
        cls,
        model: HookedModel,
        rows: list[DataRow],
        *,
        base: HookedModel | None = None,
        label: str = "model",
    ) -> AuditSubject:
        """A subject from models already in memory (tests, notebooks)."""
        return cls(
            label=label,
            load_model=lambda: model,
            rows=rows,
            load_base=(lambda: base) if base is not None else None,
            model_spec=model.model_id,
            base_spec=base.model_id if base is not None else None,
        )

    @classmethod
    def from_spec(
        cls, model: str, data: str | Path, *, base: str | None = None, device: str = "cpu"
    ) -> AuditSubject:
        """A subject from a model spec (any :func:`auditlens.models.load_model` spec, or ``tiny:<family>``), a data
        sample file and an optional comparison model spec."""
        from auditlens.organisms.sealed import load_base

        return cls(
            label=model,
            load_model=lambda: load_base(model, device),
            rows=read_data_sample(data),
            load_base=(lambda: load_base(base, device)) if base else None,
            model_spec=model,
            base_spec=base,
        )

    @classmethod
    def from_organism(
        cls,
        folder: str | Path,
        *,
        device: str = "cpu",
        base: str | None = "manifest",
        data: str | Path | None = None,
    ) -> AuditSubject:
        """The blinded subject of an organism folder: its model (base + adapters), the comparison model (the
        manifest's base with ``base="manifest"``, another model spec, or None) and the data sample the manifest
        lists (or ``data``, a file)."""
        from auditlens.organisms.errors import BuildError
        from auditlens.organisms.sealed import load_base, load_organism, read_manifest

        folder = Path(folder)
        try:
            manifest = read_manifest(folder)
        except BuildError as e:
            raise AuditError(
                f"{folder} is not a finished organism (no organism.json)",
                hint="finish it with `auditlens organism build` (it resumes), or audit a model with --model",
            ) from e
        missing = [a for a in manifest.adapters if not (folder / a).is_dir()]
        if missing:
            raise AuditError(
                f"{folder} lists adapters that are missing: {', '.join(missing)}", hint="rebuild it"
            )
        if data is not None:
            rows = read_data_sample(data)
        else:
            subset = folder / manifest.representative_subset
            if not subset.is_file():
                raise AuditError(
                    f"{subset} is missing", hint="rebuild the organism (its seal stage writes it)"
                )
            rows = rows_from_records(read_jsonl(subset))
        base_spec = manifest.base_model if base == "manifest" else base
        adapters = "+".join(manifest.adapters) or "no adapters"
        return cls(
            label=folder.name,
            load_model=lambda: load_organism(folder, device),
            rows=rows,
            load_base=(lambda: load_base(base_spec, device)) if base_spec else None,
            model_spec=f"{manifest.base_model} + {adapters} ({folder.name})",
            base_spec=base_spec,
        )
