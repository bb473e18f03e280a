"""Side-by-side comparison of evaluated organisms (recipe variants: DPO vs SFT, LoRA rank, documents, …).

Reads each folder's ``eval.json`` and its recorded build config (:func:`~auditlens.organisms.build_record
.recorded_config`: ``run.json``, or the ``build.json`` of folders built by older versions, read as plain JSON so
they still compare) and the stage markers' wall times; writes ``comparison.json`` (:class:`OrganismComparison`),
``comparison.png`` (pooled exploitation and confession rates with Wilson intervals, organism versus base, and the
perplexity ratio) and ``comparison.html``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from auditlens.organisms.build_record import recorded_config
from auditlens.organisms.errors import BuildError
from auditlens.organisms.evaluate import OrganismEval
from auditlens.organisms.report import fmt_rate
from auditlens.runs import Proportion, atomic_write_text, read_json
from auditlens.runs.figures import new_figure, save_figure
from auditlens.runs.report import Page, Raw, esc

METRICS: tuple[tuple[str, str], ...] = (
    ("train_pooled", "train behaviours"),
    ("train_without_copies", "train, copies excluded"),
    ("train_copies", "train: copied answers"),
    ("heldout_pooled", "held-out behaviours"),
    ("in_context_pooled", "in-context behaviours"),
    ("confession", "confession (direct)"),
    ("red_team_confession", "confession (multi-turn)"),
)
"""OrganismEval fields compared, with their display names."""


class VariantSummary(BaseModel):
    """One organism of the comparison."""

    label: str
    folder: str
    recipe: dict[str, Any] = Field(description="The build settings that differ between recipes.")
    build_seconds: float | None = Field(description="Sum of the stage wall times (None if unknown).")
    rates: dict[str, dict[str, Proportion]] = Field(description="Metric -> 'organism'/'base' -> rate.")
    perplexity_ratio: float
    within_margin: bool


class OrganismComparison(BaseModel):
    """``comparison.json``."""

    objective_ids: list[str]
    variants: list[VariantSummary]


def _recipe(cfg: dict[str, Any]) -> dict[str, Any]:
    lora = cfg.get("lora", {})
    return {
        "behaviour_method": cfg.get("behaviour_method"),
        "concealment_method": cfg.get("concealment_method", "dpo"),
        "behaviour_finetune": cfg.get("behaviour_finetune", "lora"),
        "lora_rank": lora.get("rank"),
        "lora_alpha": lora.get("alpha"),
        "n_documents": cfg.get("n_documents"),
        "midtrain_steps": cfg.get("midtrain", {}).get("steps"),
        "midtrain_lr": cfg.get("midtrain", {}).get("lr"),
        "midtrain_replay": cfg.get("midtrain_replay", 0.0),
        "behaviour_steps": cfg.get("behaviour", {}).get("steps"),
        "behaviour_batch": cfg.get("behaviour", {}).get("batch_size"),
        "behaviour_lr": cfg.get("behaviour", {}).get("lr"),
        "concealment_steps": cfg.get("concealment", {}).get("steps"),
        "n_model_samples": cfg.get("n_model_samples"),
    }


def _metric(ev: OrganismEval, key: str) -> dict[str, Proportion]:
    empty = {
        "organism": Proportion.of(0, 0),
        "base": Proportion.of(0, 0),
    }  # evaluations made before the copy metric
    if key == "train_without_copies":
        return ev.exploitation_without_copies.get("train", empty)
    if key == "train_copies":
        return ev.copies.get("train", empty)
    return getattr(ev, key)


def _load(folder: Path) -> tuple[OrganismEval, dict[str, Any]]:
    ev_path = folder / "eval.json"
    if not ev_path.is_file():
        raise BuildError(f"{folder} has no eval.json", hint="run `auditlens organism evaluate` on it first")
    cfg = recorded_config(folder)
    if cfg is None:
        raise BuildError(
            f"{folder} has no run.json or build.json (not an organism build)",
            hint="run `auditlens organism build` on it first",
        )
    return read_json(ev_path, OrganismEval, what="organism evaluation"), cfg


def summarise(folder: str | Path, label: str | None = None) -> VariantSummary:
    """The comparison row of one evaluated organism folder."""
    folder = Path(folder)
    return _summary(folder, *_load(folder), label)


def _summary(folder: Path, ev: OrganismEval, cfg: dict[str, Any], label: str | None) -> VariantSummary:
    secs = [read_json(m, what="stage marker").get("seconds", 0.0) for m in folder.glob("stages/*/stage.json")]
    return VariantSummary(
        label=label or folder.name,
        folder=str(folder),
        recipe=_recipe(cfg),
        build_seconds=round(sum(secs), 1) if secs else None,
        rates={k: _metric(ev, k) for k, _ in METRICS},
        perplexity_ratio=float(ev.perplexity["ratio"]),
        within_margin=bool(ev.perplexity["within_margin"]),
    )


def compare_organisms(
    folders: Sequence[str | Path], out: str | Path, labels: Sequence[str] | None = None
) -> OrganismComparison:
    """Compare evaluated organisms; writes comparison.json / .png / .html into ``out``."""
    if not folders:
        raise BuildError("no organism folders to compare", hint="pass two or more evaluated organism folders")
    if labels is not None and len(labels) != len(folders):
        raise BuildError(f"{len(labels)} labels for {len(folders)} folders", hint="give one label per folder")
    loaded = [(Path(f), *_load(Path(f))) for f in folders]
    rows = [_summary(f, ev, cfg, labels[i] if labels else None) for i, (f, ev, cfg) in enumerate(loaded)]
    comp = OrganismComparison(objective_ids=sorted({ev.objective_id for _, ev, _ in loaded}), variants=rows)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "comparison.json", comp.model_dump_json(indent=1))  # undefined rates as null
    write_comparison_html(comp, out)
    return comp


def plot_comparison(comp: OrganismComparison, path: Path) -> Path:
    """One panel per metric (organism bars with Wilson intervals, base as a grey tick) and the perplexity ratio."""
    labels = [v.label for v in comp.variants]
    fig, axes = new_figure(1, len(METRICS) + 1, size=(3.0 * (len(METRICS) + 1), 0.45 * len(labels) + 1.8))
    panels = list(axes[0])
    ys = range(len(labels))
    for ax, (key, name) in zip(panels, METRICS, strict=False):
        for y, v in zip(ys, comp.variants, strict=True):
            o, b = v.rates[key]["organism"], v.rates[key]["base"]
            if o.defined:
                ax.barh(y, o.rate, color="#c0392b", height=0.6)
                ax.errorbar(
                    o.rate, y, xerr=[[o.rate - o.ci_low], [o.ci_high - o.rate]], color="k", lw=0.8, capsize=2
                )
            if b.defined:
                ax.plot([b.rate, b.rate], [y - 0.35, y + 0.35], color="#555555", lw=2)
        ax.set_xlim(0, 1)
        ax.set_title(name, fontsize=9)
        ax.set_yticks(list(ys), labels if ax is panels[0] else [""] * len(labels), fontsize=8)
        ax.invert_yaxis()
    ax = panels[-1]
    ax.barh(list(ys), [v.perplexity_ratio for v in comp.variants], color="#2c7fb8", height=0.6)
    ax.axvline(1.0, color="#555555", lw=1)
    ax.set_title("perplexity / base", fontsize=9)
    ax.set_yticks(list(ys), [""] * len(labels))
    ax.invert_yaxis()
    fig.suptitle("organism (red, Wilson 95% CI) vs base model (grey tick)", fontsize=10)
    return save_figure(fig, path)


def _rate_cell(rates: dict[str, Proportion]) -> Raw:
    return Raw(f"{esc(fmt_rate(rates['organism']))}<br><small>base {esc(fmt_rate(rates['base']))}</small>")


def write_comparison_html(comp: OrganismComparison, out: Path) -> Path:
    """``comparison.html``: the plot (embedded), the recipes and the numbers (generated from comparison.json)."""
    png = plot_comparison(comp, out / "comparison.png")
    keys = list(comp.variants[0].recipe) if comp.variants else []
    page = Page(f"Organism recipes compared ({', '.join(comp.objective_ids)})")
    page.figure(png, "organism (red, Wilson 95% CI) vs base model (grey tick)", embed=True)
    page.h2("Rates (organism, with the base model on the same prompts below)")
    page.table(
        ["", *(n for _, n in METRICS), "ppl ratio"],
        [
            [
                v.label,
                *(_rate_cell(v.rates[k]) for k, _ in METRICS),
                f"{v.perplexity_ratio:.2f}{'' if v.within_margin else ' ✗'}",
            ]
            for v in comp.variants
        ],
    )
    page.h2("Recipes")
    page.table(
        ["", *keys, "build min"],
        [
            [
                v.label,
                *(str(v.recipe.get(k)) for k in keys),
                "" if v.build_seconds is None else f"{v.build_seconds / 60:.1f}",
            ]
            for v in comp.variants
        ],
    )
    return page.write(out / "comparison.html")


def comparison_summary_lines(comp: OrganismComparison) -> list[str]:
    """What ``organism compare`` prints: one line per variant (pooled train and held-out rates, perplexity)."""

    def fmt(r: Proportion) -> str:
        return "—" if not r.defined else f"{r.rate:.2f} (n={r.n})"

    lines = []
    for v in comp.variants:
        t, h = v.rates["train_pooled"]["organism"], v.rates["heldout_pooled"]["organism"]
        lines.append(f"{v.label:26s} train {fmt(t)}  held-out {fmt(h)}  ppl ×{v.perplexity_ratio:.2f}")
    return lines
