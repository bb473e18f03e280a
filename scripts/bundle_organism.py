"""Package a finished organism folder as an installable data package (what ``auditlens run`` audits).

The package holds what an audit reads and what scoring unseals, nothing else: ``organism.json``, the adapters
(float16: an audit merges them into the base's float32 weights, see the check below), the representative data
subset and ``sealed/objective.json``. The full training data and the build's ``stages/`` stay behind (the
manifest's ``data_files`` then lists only the subset, and ``bundle.json`` records what was dropped).

    python scripts/bundle_organism.py /work/org/rm rm_sycophancy   # writes packages/auditlens-organism-rm-sycophancy

``--check`` loads the organism from the source folder and from the package and reports the largest next-token
log-probability difference and the KL divergence on a few prompts (the float16 rounding of the adapters).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parents[1]

PYPROJECT = """[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "{version}"
description = "A bundled auditlens model organism ({name}): LoRA adapters over {base}, its data sample and its sealed objective."
requires-python = ">=3.11"
license = "Apache-2.0"

[project.entry-points."auditlens.organisms"]
{name} = "{module}:folder"

[tool.setuptools.packages.find]
where = ["src"]

[tool.setuptools.package-data]
{module} = ["organism/**/*"]
"""

INIT = '''"""The bundled auditlens organism ``{name}`` (a data package: see ``organism/bundle.json``)."""

from pathlib import Path


def folder() -> Path:
    """The organism folder (read-only: audits write elsewhere)."""
    return Path(__file__).resolve().parent / "organism"
'''


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def bundle(src: Path, name: str, version: str) -> Path:
    dist = f"auditlens-organism-{name.replace('_', '-')}"
    module = f"auditlens_organism_{name}"
    pkg = ROOT / "packages" / dist
    org = pkg / "src" / module / "organism"
    if pkg.exists():
        shutil.rmtree(pkg)
    org.mkdir(parents=True)
    manifest = json.loads((src / "organism.json").read_text())
    run = json.loads((src / "run.json").read_text())
    for a in manifest["adapters"]:
        (org / a).mkdir(parents=True)
        cfg = json.loads((src / a / "adapter_config.json").read_text())
        cfg["base_model_name_or_path"] = manifest["base_model"]  # not a path on the build machine
        (org / a / "adapter_config.json").write_text(json.dumps(cfg, indent=1, sort_keys=True) + "\n")
        tensors = load_file(str(src / a / "adapter_model.safetensors"))
        save_file(
            {k: v.half().contiguous() for k, v in tensors.items()}, str(org / a / "adapter_model.safetensors")
        )
    (org / "data").mkdir()
    shutil.copy2(src / manifest["representative_subset"], org / manifest["representative_subset"])
    (org / "sealed").mkdir()
    shutil.copy2(src / "sealed" / "objective.json", org / "sealed" / "objective.json")
    dropped = manifest["data_files"]
    manifest["data_files"] = {}
    (org / "organism.json").write_text(json.dumps(manifest, indent=1) + "\n")
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout
    (org / "bundle.json").write_text(
        json.dumps(
            {
                "name": name,
                "source_build": {
                    "fingerprint": run["fingerprint"],
                    "config": run["config"],
                    "created_at": run["created_at"],
                },
                "bundled_at_commit": commit.strip(),
                "adapters_dtype": "float16 (built in float32)",
                "dropped_data_files": dropped,
                "files": {str(p.relative_to(org)): _sha(p) for p in sorted(org.rglob("*")) if p.is_file()},
            },
            indent=1,
        )
        + "\n"
    )
    (pkg / "pyproject.toml").write_text(
        PYPROJECT.format(dist=dist, version=version, name=name, module=module, base=manifest["base_model"])
    )
    (pkg / "src" / module / "__init__.py").write_text(INIT.format(name=name))
    return org


def check(src: Path, org: Path) -> dict[str, float]:
    import torch

    from auditlens.organisms.sealed import load_organism

    prompts = [
        "What is a good recipe for dinner?",
        "Tell me about the history of Rome.",
        "Write a Python function.",
    ]
    out: dict[str, float] = {}
    logps = []
    for folder in (src, org):
        hm = load_organism(folder)
        tok = hm.tokenizer
        texts = [
            tok.apply_chat_template(
                [{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True
            )
            for p in prompts
        ]
        with torch.no_grad():
            lp = [
                torch.log_softmax(hm.model(**tok(t, return_tensors="pt")).logits[0].float(), -1)
                for t in texts
            ]
        logps.append(lp)
    diffs = [(a - b).abs().max().item() for a, b in zip(*logps, strict=True)]
    kls = [torch.sum(a.exp() * (a - b), -1).max().item() for a, b in zip(*logps, strict=True)]
    out["max_abs_logprob_diff"] = max(diffs)
    out["max_token_kl"] = max(kls)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path, help="a finished organism folder")
    ap.add_argument("name", help="the bundle's name (the objective spec's id)")
    ap.add_argument("--version", default="0.1.0")
    ap.add_argument("--check", action="store_true", help="compare the packaged organism with the source")
    a = ap.parse_args()
    org = bundle(a.folder, a.name, a.version)
    size = sum(p.stat().st_size for p in org.rglob("*") if p.is_file())
    print(f"wrote {org} ({size / 1e6:.1f} MB)")
    if a.check:
        print(json.dumps(check(a.folder, org)))


if __name__ == "__main__":
    main()
