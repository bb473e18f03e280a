"""Installed, ready-built organisms: data packages that register an ``auditlens.organisms`` entry point.

A bundled organism is a finished organism folder inside an installed package (built by
``scripts/bundle_organism.py``: the manifest, the adapters, the representative data subset and the sealed
objective). ``auditlens run`` audits the one shipped in this repository (``packages/``; ``setup.sh`` installs it),
so the main job needs no 50-minute build. Every command that takes an organism folder also takes the name of a
bundled organism.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

from auditlens.organisms.errors import BuildError

__all__ = ["DEFAULT_BUNDLED", "ENTRY_POINT_GROUP", "bundled_organism", "bundled_organisms", "organism_folder"]

ENTRY_POINT_GROUP = "auditlens.organisms"
"""Entry-point group: name -> a callable returning the organism folder."""
DEFAULT_BUNDLED = "rm_sycophancy"
"""The organism the main job audits."""


def bundled_organisms() -> dict[str, Path]:
    """Installed bundled organisms: name -> folder."""
    return {e.name: Path(e.load()()) for e in entry_points(group=ENTRY_POINT_GROUP)}


def bundled_organism(name: str = DEFAULT_BUNDLED) -> Path:
    """The folder of the installed bundled organism ``name``; a clear error when it is not installed."""
    found = bundled_organisms()
    if name not in found:
        have = ", ".join(sorted(found)) or "none"
        raise BuildError(
            f"no bundled organism named {name!r} is installed (installed: {have})",
            hint="install its data package (this repository ships packages/auditlens-organism-rm-sycophancy; "
            "setup.sh installs it), or build the organism: `auditlens organism build SPEC --out DIR`",
        )
    folder = found[name]
    if not (folder / "organism.json").is_file():
        raise BuildError(
            f"the bundled organism {name!r} at {folder} has no organism.json", hint="reinstall it"
        )
    return folder


def organism_folder(arg: str | Path) -> Path:
    """An organism folder given as a path, or as the name of a bundled organism (a path that exists wins)."""
    p = Path(arg)
    if p.exists() or "/" in str(arg) or str(arg) not in bundled_organisms():
        return p
    return bundled_organism(str(arg))
