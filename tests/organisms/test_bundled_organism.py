"""The bundled organism package (what ``auditlens run`` audits): installed, intact, portable, blinded by layout."""

from __future__ import annotations

import hashlib
import json

import pytest

from auditlens.organisms.bundled import DEFAULT_BUNDLED, bundled_organism, bundled_organisms, organism_folder
from auditlens.organisms.errors import BuildError
from auditlens.organisms.sealed import read_manifest, read_sealed


def test_the_default_bundle_is_installed_and_intact() -> None:
    folder = bundled_organism()
    assert DEFAULT_BUNDLED in bundled_organisms() and organism_folder(DEFAULT_BUNDLED) == folder
    m = read_manifest(folder)
    record = json.loads((folder / "bundle.json").read_text())
    for rel, sha in record["files"].items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == sha, rel
    assert read_sealed(folder, unseal=True)["spec"]["id"] == DEFAULT_BUNDLED  # hash matches the manifest
    assert (folder / m.representative_subset).is_file() and m.data_files == {}
    assert not (folder / "stages").exists()  # nothing of the build beyond what an audit may read
    for a in m.adapters:
        cfg = json.loads((folder / a / "adapter_config.json").read_text())
        assert cfg["base_model_name_or_path"] == m.base_model  # no path of the build machine
        header = (folder / a / "adapter_model.safetensors").read_bytes()[:100_000]
        assert b'"F16"' in header and b'"F32"' not in header


def test_unknown_bundle_and_paths() -> None:
    with pytest.raises(BuildError, match="no bundled organism named 'nope'"):
        bundled_organism("nope")
    assert str(organism_folder("some/folder")) == "some/folder"  # a path stays a path
