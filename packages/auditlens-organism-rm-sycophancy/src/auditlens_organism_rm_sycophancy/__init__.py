"""The bundled auditlens organism ``rm_sycophancy`` (a data package: see ``organism/bundle.json``)."""

from pathlib import Path


def folder() -> Path:
    """The organism folder (read-only: audits write elsewhere)."""
    return Path(__file__).resolve().parent / "organism"
