"""Figures on matplotlib's object API: no pyplot, so no global backend, no figure registry to leak or close.

fig, axes = new_figure(1, 2, size=(11, 4.5))
axes[0, 0].plot(...)
save_figure(fig, out / "roc.png")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from auditlens.runs.io import write_file_atomically

__all__ = ["new_figure", "save_figure"]


def new_figure(
    rows: int = 1,
    cols: int = 1,
    *,
    size: tuple[float, float] = (6.0, 4.2),
    layout: str | None = "constrained",
) -> tuple[Figure, Any]:
    """A figure on an Agg canvas and its axes as a ``rows × cols`` array (always 2-d)."""
    fig = Figure(figsize=size, layout=layout)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(rows, cols, squeeze=False)


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG to ``path`` (atomically; parent folders created); returns the path."""
    path = Path(path)
    write_file_atomically(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    return path
