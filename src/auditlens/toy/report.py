"""Figures (PNG, :mod:`auditlens.runs.figures`) and the one-page HTML report of the replications
(:class:`auditlens.runs.report.Page`).

Nothing here computes results: each ``plot_*`` reads a result model and writes PNGs; :func:`write_html_report`
lays out claims, tables and every PNG of a folder on one page (the kit's stylesheet inlined, images linked relative
to the page, so the folder can be moved or opened from anywhere).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from auditlens.runs.figures import new_figure, save_figure
from auditlens.runs.report import Page, Raw
from auditlens.toy.probe_suite import ProbeClaim
from auditlens.toy.result_files import load_result

__all__ = [
    "DEAD_CAP",
    "plot_architectures",
    "plot_loss_curve",
    "plot_size_sweep",
    "plot_toy_grid",
    "write_html_report",
]

DEAD_CAP = 100
"""Dead counts are capped at 100 in the dead-latent figure, as the seed's Figure 4."""


def _figure(cols: int, width: float = 5.5, height: float = 4.2) -> tuple[Figure, Any]:
    fig, axes = new_figure(1, cols, size=(width * cols, height))
    return fig, axes[0]


def _save(fig: Figure, path: Path) -> Path:
    return save_figure(fig, path, dpi=100)


def _heatmaps(
    grids: dict[str, list[list[Any]]],
    ratios: Sequence[float],
    coefs: Sequence[float],
    title: str,
    path: Path,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Path:
    fig, axes = _figure(len(grids))
    for ax, (conv, grid) in zip(axes, grids.items(), strict=True):
        arr = np.array([[np.nan if v is None else float(v) for v in row] for row in grid], dtype=float)
        im = ax.imshow(arr, origin="lower", aspect="auto", cmap="viridis", vmin=vmin, vmax=vmax)
        ax.set_xticks(range(len(coefs)), [f"{a:.2g}" for a in coefs], rotation=90, fontsize=7)
        ax.set_yticks(range(len(ratios)), [f"{r:g}" for r in ratios], fontsize=8)
        ax.set_xlabel("L1 coefficient α (divided-convention axis)")
        ax.set_ylabel("dictionary size / n_features")
        ax.set_title(f"{title} — {conv}", fontsize=9)
        if arr.size <= 200:
            for (i, j), v in np.ndenumerate(arr):
                if not math.isnan(v):
                    ax.text(
                        j,
                        i,
                        f"{v:.2f}" if v < 10 else f"{v:.0f}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="w",
                    )
        fig.colorbar(im, ax=ax)
    return _save(fig, path)


def plot_toy_grid(result: Any, out_dir: str | Path) -> list[Path]:
    """The seed's three figures as heatmaps (one panel per convention): MMCS with truth (Fig. 3), dead latents
    capped at :data:`DEAD_CAP` (Fig. 4), MMCS with larger dictionaries (Fig. 10, top row void)."""
    out = Path(out_dir)
    dead = {c: [[min(v, DEAD_CAP) for v in row] for row in g] for c, g in result.n_dead.items()}
    return [
        _heatmaps(
            result.mmcs_with_truth,
            result.ratios,
            result.coefficients,
            "MMCS with truth",
            out / "toy_mmcs_truth.png",
            0,
            1,
        ),
        _heatmaps(
            dead,
            result.ratios,
            result.coefficients,
            f"dead latents (capped at {DEAD_CAP})",
            out / "toy_dead.png",
            0,
            DEAD_CAP,
        ),
        _heatmaps(
            result.mmcs_with_larger,
            result.ratios,
            result.coefficients,
            "MMCS with larger dicts",
            out / "toy_mmcs_larger.png",
            0,
            1,
        ),
    ]


def plot_architectures(result: Any, out_dir: str | Path) -> list[Path]:
    """Bars of MMCS, F1 at the cosine threshold and MCC per architecture (matched L0)."""
    fig, axes = _figure(1, width=7)
    ax = axes[0]
    names = [r.name for r in result.runs]
    x = np.arange(len(names))
    series = {
        "MMCS": [r.scores.mmcs_with_truth for r in result.runs],
        f"F1@{result.config.threshold:g}": [r.scores.recovery.f1 for r in result.runs],
        "MCC": [r.scores.mcc.mcc if r.scores.mcc else 0.0 for r in result.runs],
    }
    for k, (label, vals) in enumerate(series.items()):
        ax.bar(x + (k - 1) * 0.27, vals, 0.27, label=label)
    ax.set_xticks(x, [f"{n}\nL0={r.l0:.1f}" for n, r in zip(names, result.runs, strict=True)], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title(f"ground-truth scores at matched L0 (target {result.config.l0():g})", fontsize=9)
    return [_save(fig, Path(out_dir) / "architectures.png")]


def plot_loss_curve(steps: Sequence[int], losses: Sequence[float], out_dir: str | Path) -> list[Path]:
    """Training loss (nats/token) of the tiny transformer."""
    fig, axes = _figure(1)
    axes[0].plot(list(steps), list(losses))
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("cross-entropy (nats/token)")
    axes[0].set_title("tiny transformer training loss", fontsize=9)
    return [_save(fig, Path(out_dir) / "tiny_loss.png")]


def plot_size_sweep(sweep: Any, out_dir: str | Path) -> list[Path]:
    """Histogram of max cosines between consecutive sizes and the MMCS-vs-size curve (max and Hungarian)."""
    out = Path(out_dir)
    fig, axes = _figure(3)
    for ax, attr, what, bc in (
        (axes[0], "histogram_alive", "live latents", sweep.bimodality_coefficient_alive),
        (axes[1], "histogram", "all latents", sweep.bimodality_coefficient),
    ):
        for p in sweep.pairs:
            h = getattr(p, attr)
            ax.stairs(np.array(h.counts), np.array(h.bin_edges), label=f"{p.d_sae}→{p.d_sae_larger}")
        ax.set_xlabel("max cosine similarity to the next larger dictionary")
        ax.set_ylabel("features")
        ax.set_title(f"MCS histogram, {what} (bimodality coefficient {bc:.2f})", fontsize=9)
        ax.legend(fontsize=7)
    sizes = [p.d_sae for p in sweep.pairs]
    ax = axes[2]
    ax.plot(sizes, [p.mmcs_alive for p in sweep.pairs], "o-", label="MMCS, live latents")
    ax.plot(sizes, [p.mmcs for p in sweep.pairs], "o:", label="MMCS, all latents")
    ax.plot(sizes, [p.hungarian_mmcs_alive for p in sweep.pairs], "s--", label="Hungarian, live latents")
    ax.plot(sizes, [p.share_matched_above for p in sweep.pairs], "^:", label="share matched > 0.9 (all)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("dictionary size")
    ax.set_ylim(0, 1.02)
    ax.set_title("similarity with the next larger dictionary", fontsize=9)
    ax.legend(fontsize=7)
    return [_save(fig, out / "tiny_size_sweep.png")]


_VERDICTS = {True: ("reproduced", "good"), False: ("NOT reproduced", "bad"), None: ("not decidable", "muted")}


def _verdict(holds: bool | None) -> Raw:
    text, cls = _VERDICTS[holds]
    return Raw(f"<b class='{cls}'>{text}</b>")


def write_html_report(
    out_dir: str | Path,
    title: str,
    claims: Sequence[ProbeClaim],
    sections: Sequence[tuple[str, str]] = (),
    images: Sequence[str | Path] | None = None,
) -> Path:
    """Write ``index.html`` in ``out_dir``: the claims table, free-text sections (escaped) and every PNG (all PNGs
    under ``out_dir`` when ``images`` is None), linked relative to the page (any path to ``out_dir`` works)."""
    out = Path(out_dir)
    imgs = [Path(p) for p in images] if images is not None else sorted(out.rglob("*.png"))
    page = Page(title)
    page.h2("Claims")
    page.table(
        ["claim", "statement", "verdict", "evidence (computed)"],
        [[c.name, c.statement, _verdict(c.holds), c.evidence] for c in claims],
    )
    for heading, text in sections:
        page.h2(heading).pre(text)
    page.h2("Figures")
    for p in imgs:
        page.figure(p, Path(os.path.relpath(p.resolve(), out.resolve())).as_posix())
    return page.write(out / "index.html")


def _toy_summary(toy: Any) -> str:
    """The toy grid's section text: data, axes and recipe; what the last call trained; the whole grid's training time
    (over all calls, when the cells recorded it) and where its cells were trained."""
    cfg = toy.config
    parts = [
        f"{len(toy.cells)} dictionaries: data d={cfg.data.d_model}, {cfg.data.n_features} features, "
        f"{cfg.data.mean_active:g} active; ratios {toy.ratios}; {len(toy.coefficients)} coefficients "
        f"{toy.coefficients[0]:.3g}…{toy.coefficients[-1]:.3g}; {cfg.steps} steps, batch {cfg.batch_size}, "
        f"Adam {cfg.lr:g}; conventions {cfg.conventions} (undivided α = divided α / n_features)",
        f"{toy.cells_trained} trained in the last call, {toy.seconds_training:.0f} s",
    ]
    if toy.train_seconds_total is not None:
        partial = any(c.chunk_train_seconds is None for c in toy.cells)
        parts.append(
            f"training time of the whole grid, all calls: {toy.train_seconds_total:.0f} s"
            + (" (at least: some cells did not record it)" if partial else "")
        )
    where = "; ".join(f"{k} ({v} cells)" for k, v in toy.trained_on.items()) or "not recorded"
    return "; ".join(parts) + f". Trained on: {where}."


def build_report(root: str | Path, title: str = "auditlens ground-truth lab: replications") -> Path:
    """One page for a replication folder: finds ``toy_grid.json``, ``architectures.json``, ``tiny_transformer.json``
    and ``probe_suite.json`` anywhere under ``root``, recomputes every claim from them, redraws the figures and writes
    ``<root>/index.html`` showing all claims, summaries and every PNG under ``root``."""
    from auditlens.toy.architectures import ArchitecturesResult
    from auditlens.toy.claims import toy_claims, transformer_claims
    from auditlens.toy.probe_suite import ProbeSuiteResult
    from auditlens.toy.replicate_toy import ToyGridResult
    from auditlens.toy.tiny_transformer import TinyTransformerResult

    out = Path(root)
    claims: list[ProbeClaim] = []
    sections: list[tuple[str, str]] = []

    def tagged(found: list, folder: Path) -> list[ProbeClaim]:
        """Prefix claim names with their run's folder when the page covers several runs."""
        rel = folder.relative_to(out)
        return (
            found if str(rel) == "." else [c.model_copy(update={"name": f"{rel}: {c.name}"}) for c in found]
        )

    for f in sorted(out.rglob("toy_grid.json")):
        toy = load_result(f, ToyGridResult)
        plot_toy_grid(toy, f.parent)
        claims += tagged(toy_claims(toy), f.parent)
        sections.append(
            (f"Toy grid ({f.parent.relative_to(out) if f.parent != out else '.'})", _toy_summary(toy))
        )
    for f in sorted(out.rglob("architectures.json")):
        arch = load_result(f, ArchitecturesResult)
        plot_architectures(arch, f.parent)
        lines = [
            f"{r.name:11s} {r.setting:22s} L0 {r.l0:6.2f}  FVU {r.fvu:.3f}  MMCS {r.scores.mmcs_with_truth:.3f}  "
            f"P {r.scores.recovery.precision:.3f} R {r.scores.recovery.recall:.3f} F1 {r.scores.recovery.f1:.3f}  "
            f"MCC {r.scores.mcc.mcc if r.scores.mcc else float('nan'):.3f}"
            for r in arch.runs
        ]
        sections.append((f"Architectures at matched L0 (target {arch.config.l0():g})", "\n".join(lines)))
    for f in sorted(out.rglob("tiny_transformer.json")):
        tiny = load_result(f, TinyTransformerResult)
        plot_loss_curve(tiny.lm.loss_steps, tiny.lm.losses, f.parent)
        plot_size_sweep(tiny.sweep, f.parent)
        claims += tagged(transformer_claims(tiny.sweep), f.parent)
        s = tiny.sweep
        sections.append(
            (
                f"Tiny transformer ({f.parent.relative_to(out) if f.parent != out else '.'})",
                f"{tiny.lm.n_parameters:,} parameters, {tiny.lm.steps} steps, final loss "
                f"{tiny.lm.losses[-1] if tiny.lm.losses else float('nan'):.3f} nats/byte; hook {tiny.hook_point}; "
                f"α={s.coefficient:.3g}\n"
                + "\n".join(
                    f"size {z:5d}: L0 {l0:6.2f}  FVU {fv:.3f}  dead {dd}"
                    for z, l0, fv, dd in zip(s.sizes, s.l0, s.fvu, s.n_dead, strict=True)
                ),
            )
        )
    for f in sorted(out.rglob("probe_suite.json")):
        claims += tagged(load_result(f, ProbeSuiteResult).claims, f.parent)
    return write_html_report(out, title, claims, sections)
