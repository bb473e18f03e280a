"""The interpret package's files, written through :mod:`auditlens.runs.io`.

- :func:`write_model`: a pydantic result as JSON, atomically, with pydantic's own encoder — so an undefined value
  (NaN, e.g. the mean of a score no feature has) is written as ``null`` and the bytes are those the package always
  wrote. (``runs.io.write_json`` dumps ``model_dump(mode="json")`` with :func:`json.dumps`, which writes NaN as the
  non-JSON token ``NaN``; until the kit serialises models itself, results that can hold NaN go through here.)
- :func:`save_tensors` / :func:`load_tensors`: a safetensors file with string metadata (fragment tables, example
  tables, fitted baselines), written atomically.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor

from auditlens.runs.io import atomic_write_text, write_file_atomically

__all__ = ["load_tensors", "save_tensors", "write_model"]


def write_model(path: str | Path, model: BaseModel, *, indent: int | None = 1) -> Path:
    """Write ``model`` as JSON to ``path`` atomically (undefined floats as ``null``)."""
    path = Path(path)
    atomic_write_text(path, model.model_dump_json(indent=indent))
    return path


def save_tensors(
    path: str | Path, tensors: dict[str, Tensor], metadata: dict[str, str] | None = None
) -> Path:
    """Write ``tensors`` (made contiguous) and ``metadata`` as one safetensors file, atomically, mode 0644."""
    path = Path(path)

    def write(tmp: Path) -> None:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp), metadata=metadata)
        tmp.chmod(0o644)

    write_file_atomically(path, write)
    return path


def load_tensors(path: str | Path) -> tuple[dict[str, Tensor], dict[str, str]]:
    """Every tensor of a safetensors file and its metadata."""
    with safe_open(str(path), "pt") as f:
        meta = dict(f.metadata() or {})
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a mapping)
    return tensors, meta
