"""The classifier-calibration report: every classifier scored on the tuning set (``dev``) and, once frozen, on the
held-out ``calibration`` set; JSON first, then a figure and an HTML page drawn from it.

:func:`run_classifier_calibration` is the whole job: thresholds are chosen on ``dev`` (kappa-maximising) and
applied frozen to the held-out set; the trivial baselines (tier, keyword) are reported beside every label.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from auditlens.faking.calibration import ClassifierCalibration, KeywordBaseline, TierBaseline, calibrate
from auditlens.faking.classifiers.base import FIRST_TURN_TASKS, TASKS, ClassifierScore, Task
from auditlens.faking.classifiers.llm import LLMClassifier, LLMClassifierConfig
from auditlens.faking.classifiers.rules import rule_classifier
from auditlens.faking.transcripts import FirstTurn, Interrogation, LabelledSet, load_labelled
from auditlens.runs.figures import new_figure, save_figure
from auditlens.runs.io import read_json, write_json
from auditlens.runs.report import Page

__all__ = ["CalibrationReport", "render_calibration", "run_classifier_calibration"]

JSON_NAME = "calibration.json"


class CalibrationReport(BaseModel):
    """Every classifier's numbers on the tuning set and (when run) on the held-out set."""

    tuning_set: str = Field("dev", description="Where thresholds were chosen (numbers there are optimistic).")
    heldout_set: str | None = Field("calibration", description="The held-out set, None when not evaluated.")
    thresholds: dict[str, float] = Field(
        description="Frozen thresholds per classifier (chosen on the tuning set)."
    )
    results: list[ClassifierCalibration]

    def get(self, classifier: str, dataset: str) -> ClassifierCalibration | None:
        return next((r for r in self.results if r.classifier == classifier and r.dataset == dataset), None)


def _items(ds: LabelledSet, task: Task) -> list[FirstTurn] | list[Interrogation]:
    return ds.interrogations if task == "lying" else ds.first_turns


def _classifiers(task: Task, llm: LLMClassifier | None) -> list:  # type: ignore[type-arg]
    out: list = [rule_classifier(task)]  # type: ignore[type-arg]
    if task in FIRST_TURN_TASKS:
        out.append(TierBaseline(task))
    out.append(KeywordBaseline(task))
    if llm is not None:
        out.append(llm)
    return out


def run_classifier_calibration(
    out_dir: str | Path,
    *,
    heldout: bool = True,
    tuning: str | Path = "dev",
    heldout_set: str | Path = "calibration",
    llm_client: object | None = None,
    n_boot: int = 2000,
) -> CalibrationReport:
    """Score every classifier on the tuning set (thresholds chosen there) and, with ``heldout``, on the held-out set
    at the frozen thresholds; write ``calibration.json``, ``auroc.png`` and ``report.html`` to ``out_dir``.
    ``llm_client`` (an :class:`auditlens.llm.LLMClient`) adds the LLM classifier of every task."""
    dev = load_labelled(tuning)
    held = load_labelled(heldout_set) if heldout else None
    results: list[ClassifierCalibration] = []
    thresholds: dict[str, float] = {}
    for task in TASKS:
        llm = LLMClassifier(llm_client, LLMClassifierConfig(task=task)) if llm_client is not None else None  # type: ignore[arg-type]
        for clf in _classifiers(task, llm):
            baseline = clf.name.startswith("baseline-")
            dev_items = _items(dev, task)
            scores: list[ClassifierScore] = clf.score_many(dev_items)
            r = calibrate(
                clf.name,
                task,
                scores,
                dev_items,
                dataset=dev.name,
                threshold=0.5 if baseline else None,
                n_boot=n_boot,
            )
            thresholds[clf.name] = r.threshold
            results.append(r)
            if held is not None:
                h_items = _items(held, task)
                results.append(
                    calibrate(
                        clf.name,
                        task,
                        clf.score_many(h_items),
                        h_items,
                        dataset=held.name,
                        threshold=r.threshold,
                        n_boot=n_boot,
                    )
                )
    report = CalibrationReport(
        tuning_set=dev.name, heldout_set=held.name if held else None, thresholds=thresholds, results=results
    )
    out = Path(out_dir)
    write_json(out / JSON_NAME, report)
    render_calibration(out)
    return report


def _plot(report: CalibrationReport, path: Path) -> Path:
    names = list(dict.fromkeys(r.classifier for r in report.results))
    fig, axes = new_figure(1, 1, size=(8.0, 0.42 * len(names) + 1.4))
    ax = axes[0, 0]
    sets: list[tuple[str, str, float]] = [(report.tuning_set, "tab:gray", 0.18)]
    if report.heldout_set:
        sets.append((report.heldout_set, "tab:blue", -0.18))
    for ds, colour, off in sets:
        ys, xs, lo, hi = [], [], [], []
        for k, name in enumerate(names):
            r = report.get(name, ds)
            if r is None or not r.auroc.defined:
                continue
            ys.append(k + off)
            xs.append(r.auroc.value)
            lo.append(r.auroc.value - r.auroc.ci_low)
            hi.append(r.auroc.ci_high - r.auroc.value)
        label = f"{ds} (tuning set)" if ds == report.tuning_set else f"{ds} (held out)"
        ax.errorbar(xs, ys, xerr=[lo, hi], fmt="o", color=colour, capsize=3, label=label)
    ax.axvline(0.5, color="k", lw=0.6, ls=":")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0.3, 1.02)
    ax.set_xlabel("AUROC (95% bootstrap interval)")
    ax.legend(loc="upper left", fontsize=8)
    return save_figure(fig, path)


def _row(r: ClassifierCalibration | None) -> list[object]:
    if r is None:
        return ["", "", "", ""]
    k = (
        "n/a"
        if math.isnan(r.kappa.value)
        else f"{r.kappa.value:.2f} [{r.kappa.ci_low:.2f}, {r.kappa.ci_high:.2f}]"
    )
    return [r.auroc.text(3), r.accuracy.text(2), k, f"{r.n_positive}/{r.n}"]


def render_calibration(out_dir: str | Path, *, embed: bool = False) -> Path:
    """Draw ``auroc.png`` and ``report.html`` from ``calibration.json`` in ``out_dir``; returns the page path."""
    out = Path(out_dir)
    report = read_json(out / JSON_NAME, CalibrationReport, what="faking calibration report")
    fig = _plot(report, out / "auroc.png")
    held = report.heldout_set
    page = Page(
        "Faking classifiers: calibration",
        subtitle=f"thresholds chosen on '{report.tuning_set}' (tuning set) and frozen"
        + (f"; headline numbers on the held-out '{held}' set" if held else "; held-out set not evaluated"),
    )
    headers = ["classifier", "task", "threshold"]
    sets: list[tuple[str, Literal["held out", "tuning set"]]] = []
    if held:
        sets.append((held, "held out"))
    sets.append((report.tuning_set, "tuning set"))
    for ds, what in sets:
        headers += [f"AUROC {ds} ({what})", f"accuracy {ds}", f"kappa {ds}", f"positives/n {ds}"]
    rows = []
    for name in dict.fromkeys(r.classifier for r in report.results):
        first = next(r for r in report.results if r.classifier == name)
        row: list[object] = [name, first.task, f"{report.thresholds[name]:.3f}"]
        for ds, _ in sets:
            row += _row(report.get(name, ds))
        rows.append(row)
    page.h2("AUROC and agreement")
    page.table(headers, rows)
    page.figure(fig, "AUROC with 95% bootstrap intervals", embed=embed)
    page.p(
        "Baselines: 'baseline-tier' scores 1 for a free-tier item, 'baseline-keyword' 1 when the scratchpad says "
        "rlhf / modif / train; a classifier should beat them, not 0.5. Numbers on the tuning set are optimistic."
    )
    return page.write(out / "report.html")
