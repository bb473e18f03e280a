"""Dictionary checkpoints the field can read.

Layout written (one folder per dictionary, SAELens v6 disk layout): ``cfg.json`` + ``sae_weights.safetensors``
with ``W_enc`` (d_in, d_sae), ``W_dec`` (d_sae, d_in), ``b_enc`` (d_sae), ``b_dec`` (d_in) and, for
JumpReLU-style inference (JumpReLU, BatchTopK, Matryoshka), ``threshold`` (d_sae). The activation scale is folded
into the weights, so ``normalize_activations`` is ``"none"`` and the weights act on raw activations. Our own
provenance (exact auditlens config, training config, activation-store id, metrics at save time) rides along under
the extra cfg key ``"auditlens"``, which SAELens ignores.

Readers: :func:`load_dictionary` opens our folders, SAELens folders (``standard``, ``topk``, ``jumprelu``) and
sparsify folders (``cfg.json`` + ``sae.safetensors`` with ``encoder.weight``, ``encoder.bias``, ``W_dec``,
``b_dec``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor

from auditlens.runs.io import write_dir_atomically
from auditlens.sae.base import Dictionary, DictionaryConfig
from auditlens.sae.errors import CheckpointError, ConfigError, DataError
from auditlens.sae.registry import config_from_dict, get_architecture

CFG_FILENAME = "cfg.json"
WEIGHTS_FILENAME = "sae_weights.safetensors"
SPARSIFY_WEIGHTS_FILENAME = "sae.safetensors"
FORMAT_VERSION = 1
#: sae_lens version whose disk format we write (v6 layout: hook/model fields under ``metadata``).
SAELENS_FORMAT_VERSION = "6.0.0"
SAELENS_ARCHITECTURES = ("standard", "topk", "jumprelu")


def fold_scale(weights: dict[str, Tensor], scale: float) -> dict[str, Tensor]:
    """Weights acting on x / s -> weights acting on raw x (and reconstructing raw x)."""
    out = dict(weights)
    out["W_enc"] = weights["W_enc"] / scale
    out["W_dec"] = weights["W_dec"] * scale
    out["b_dec"] = weights["b_dec"] * scale
    return out


def unfold_scale(weights: dict[str, Tensor], scale: float) -> dict[str, Tensor]:
    """Inverse of :func:`fold_scale`."""
    out = dict(weights)
    out["W_enc"] = weights["W_enc"] * scale
    out["W_dec"] = weights["W_dec"] / scale
    out["b_dec"] = weights["b_dec"] / scale
    return out


def save_dictionary(
    dictionary: Dictionary,
    path: str | Path,
    member: int = 0,
    *,
    model_name: str | None = None,
    hook_name: str | None = None,
    hook_layer: int | None = None,
    context_size: int | None = None,
    dataset_path: str | None = None,
    activation_store_id: str | None = None,
    training: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
) -> Path:
    """Write one member as a SAELens-loadable folder (scale folded in) with auditlens provenance. Atomic."""
    if not 0 <= member < dictionary.n:
        raise ConfigError(
            f"member {member} out of range (dictionary has {dictionary.n})", hint="pick a valid index"
        )
    cfg = dictionary.member_config(member)
    if hook_layer is None and hook_name is not None:
        match = re.match(r"blocks\.(\d+)\.", hook_name)
        hook_layer = int(match.group(1)) if match else None
    fields, weights = dictionary.saelens_state(member)
    scale = float(dictionary.act_scale)
    weights = {k: v.detach().float().cpu().contiguous() for k, v in fold_scale(weights, scale).items()}
    meta = {
        "sae_lens_version": SAELENS_FORMAT_VERSION,
        "sae_lens_training_version": SAELENS_FORMAT_VERSION,
        "model_name": model_name,
        "hook_name": hook_name,
        "hook_layer": hook_layer,
        "hook_head_index": None,
        "context_size": context_size,
        "dataset_path": dataset_path,
        "prepend_bos": True,
    }
    cfg_json: dict[str, Any] = {
        **fields,
        "d_in": dictionary.d_in,
        "d_sae": dictionary.d_sae,
        "dtype": "float32",
        "device": "cpu",
        "normalize_activations": "none",
        "reshape_activations": "none",
        "model_name": model_name,
        "hook_name": hook_name,
        "hook_layer": hook_layer,
        "metadata": meta,
        "auditlens": {
            "format_version": FORMAT_VERSION,
            "config": cfg.model_dump(mode="json"),
            "training": training,
            "activation_store_id": activation_store_id,
            "metrics": metrics,
        },
    }

    def write(tmp: Path) -> None:
        save_file(weights, str(tmp / WEIGHTS_FILENAME), metadata={"format": "pt"})
        (tmp / CFG_FILENAME).write_text(json.dumps(cfg_json, indent=2))

    write_dir_atomically(Path(path), write)
    return Path(path)


def _read_cfg(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder {folder} does not exist", hint="check the path")
    f = folder / CFG_FILENAME
    if not f.is_file():
        raise CheckpointError(
            f"{f} is missing", hint="a dictionary folder holds cfg.json and the weights file"
        )
    try:
        data = json.loads(f.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(
            f"{f} is not valid JSON ({e})", hint="the file may be truncated; re-save it"
        ) from e
    if not isinstance(data, dict):
        raise CheckpointError(f"{f} does not hold a JSON object", hint="re-save the checkpoint")
    return data


def _read_weights(f: Path) -> dict[str, Tensor]:
    if not f.is_file():
        raise CheckpointError(f"{f} is missing", hint="the weights file must sit beside cfg.json")
    try:
        return load_file(str(f))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(
            f"cannot read {f}: {e}", hint="the file is truncated or corrupt; re-save it"
        ) from e


def _check_shapes(weights: dict[str, Tensor], d_in: int, d_sae: int, names: tuple[str, ...], f: Path) -> None:
    expected = {
        "W_enc": (d_in, d_sae),
        "W_dec": (d_sae, d_in),
        "b_enc": (d_sae,),
        "b_dec": (d_in,),
        "threshold": (d_sae,),
    }
    for k in names:
        if k not in weights:
            raise CheckpointError(
                f"{f} has no tensor {k!r} (has {sorted(weights)})", hint="is this the right file?"
            )
        if tuple(weights[k].shape) != expected[k]:
            raise CheckpointError(
                f"{f}: {k} has shape {tuple(weights[k].shape)}, cfg.json implies {expected[k]}",
                hint="cfg.json and the weights file do not belong together",
            )


def _build(cfg: DictionaryConfig, weights: dict[str, Tensor]) -> Dictionary:
    cls, _ = get_architecture(cfg.architecture)
    module = cls([cfg])
    module.load_saelens_state(0, {k: v.float() for k, v in weights.items()})
    return module.eval()


def _check_d_in(d_in: int, expected: int | None, folder: Path) -> None:
    if expected is not None and d_in != expected:
        raise DataError(
            f"dictionary in {folder} has d_in = {d_in}, but the activations have d_in = {expected}",
            hint="load the dictionary trained for this hook point",
        )


def load_dictionary(path: str | Path, *, expected_d_in: int | None = None) -> Dictionary:
    """Load an auditlens, SAELens or sparsify dictionary folder into an auditlens :class:`Dictionary` (n = 1)."""
    folder = Path(path)
    data = _read_cfg(folder)
    if (folder / WEIGHTS_FILENAME).exists() or "auditlens" in data:
        return _load_saelens_layout(folder, data, expected_d_in)
    if (folder / SPARSIFY_WEIGHTS_FILENAME).exists():
        return _load_sparsify(folder, data, expected_d_in)
    raise CheckpointError(
        f"{folder} holds neither {WEIGHTS_FILENAME} (auditlens/SAELens) nor {SPARSIFY_WEIGHTS_FILENAME} (sparsify)",
        hint="the weights file is missing; re-save the checkpoint",
    )


def _load_saelens_layout(folder: Path, data: dict[str, Any], expected_d_in: int | None) -> Dictionary:
    f = folder / WEIGHTS_FILENAME
    prov = data.get("auditlens")
    if isinstance(prov, dict) and "config" in prov:
        cfg = config_from_dict(dict(prov["config"]))
        _check_d_in(cfg.d_in, expected_d_in, folder)
        weights = _read_weights(f)
        names = tuple(k for k in ("W_enc", "W_dec", "b_enc", "b_dec", "threshold") if k in weights)
        _check_shapes(weights, cfg.d_in, cfg.d_sae, names, f)
        return _build(cfg, unfold_scale(weights, cfg.act_scale))
    arch = data.get("architecture", "standard")
    if arch not in SAELENS_ARCHITECTURES:
        raise ConfigError(
            f"{folder}: SAELens architecture {arch!r} is not supported",
            hint=f"supported SAELens architectures: {', '.join(SAELENS_ARCHITECTURES)}",
        )
    norm = data.get("normalize_activations", "none") or "none"
    if norm != "none":
        raise CheckpointError(
            f"{folder}: normalize_activations = {norm!r} is not supported",
            hint="fold the normalisation first",
        )
    try:
        d_in, d_sae = int(data["d_in"]), int(data["d_sae"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(
            f"{folder}/cfg.json lacks integer d_in/d_sae", hint="is this a SAELens cfg.json?"
        ) from e
    _check_d_in(d_in, expected_d_in, folder)
    weights = _read_weights(f)
    apply_b_dec = bool(data.get("apply_b_dec_to_input", True))
    if arch == "standard":
        _check_shapes(weights, d_in, d_sae, ("W_enc", "W_dec", "b_enc", "b_dec"), f)
        cfg: DictionaryConfig = config_from_dict(
            {
                "architecture": "relu_l1_untied",
                "d_in": d_in,
                "d_sae": d_sae,
                "decoder_bias": True,
                "apply_b_dec_to_input": apply_b_dec,
                "normalize_decoder_in_forward": False,
            }
        )
    elif arch == "topk":
        _check_shapes(weights, d_in, d_sae, ("W_enc", "W_dec", "b_enc", "b_dec"), f)
        if data.get("rescale_acts_by_decoder_norm"):
            raise CheckpointError(
                f"{folder}: rescale_acts_by_decoder_norm is not supported", hint="fold W_dec norms"
            )
        cfg = config_from_dict(
            {
                "architecture": "topk",
                "d_in": d_in,
                "d_sae": d_sae,
                "k": int(data.get("k", 100)),
                "apply_b_dec_to_input": apply_b_dec,
            }
        )
    else:
        _check_shapes(weights, d_in, d_sae, ("W_enc", "W_dec", "b_enc", "b_dec", "threshold"), f)
        cfg = config_from_dict(
            {"architecture": "jumprelu", "d_in": d_in, "d_sae": d_sae, "apply_b_dec_to_input": apply_b_dec}
        )
    return _build(cfg, weights)


def _load_sparsify(folder: Path, data: dict[str, Any], expected_d_in: int | None) -> Dictionary:
    f = folder / SPARSIFY_WEIGHTS_FILENAME
    weights = _read_weights(f)
    missing = [k for k in ("encoder.weight", "encoder.bias", "W_dec", "b_dec") if k not in weights]
    if missing:
        raise CheckpointError(
            f"{f} lacks {missing} (has {sorted(weights)})", hint="is this a sparsify SAE folder?"
        )
    if "W_skip" in weights or data.get("transcode"):
        raise CheckpointError(
            f"{folder} is a sparsify transcoder", hint="only sparse autoencoders are supported"
        )
    W = weights["encoder.weight"]
    d_sae, d_in = W.shape
    if "d_in" in data and int(data["d_in"]) != d_in:
        raise CheckpointError(f"{folder}: cfg d_in {data['d_in']} != weights {d_in}", hint="mismatched files")
    _check_d_in(d_in, expected_d_in, folder)
    k = data.get("k")
    if not isinstance(k, int):
        raise CheckpointError(f"{folder}/cfg.json has no integer k", hint="is this a sparsify SAE folder?")
    try:
        cfg = config_from_dict({"architecture": "topk", "d_in": d_in, "d_sae": d_sae, "k": k})
    except ValidationError as e:  # pragma: no cover - config_from_dict converts
        raise ConfigError(str(e)) from e
    sl = {
        "W_enc": W.t(),
        "b_enc": weights["encoder.bias"],
        "W_dec": weights["W_dec"],
        "b_dec": weights["b_dec"],
    }
    _check_shapes(sl, d_in, d_sae, ("W_enc", "W_dec", "b_enc", "b_dec"), f)
    return _build(cfg, sl)
