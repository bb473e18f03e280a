"""Score a labelled sample set with monitors, calibrate, and write the report (``auditlens monitor
evaluate``).

Monitor specs: ``rule``; ``llm:<llm spec>`` (``llm:local`` for the embedded SmolLM2, ``llm:stub``,
``llm:openai:<model>@<url>``, ``llm:anthropic:<model>``; runs the output and the reasoning view and
their OR pair); ``probe`` (a linear probe on ``probe_model`` activations, trained on one half of the
problems and scored on the other, beside its shuffled-label baseline).

The run folder is claimed with :meth:`auditlens.runs.RunFolder.claim` (``run.json``: kind ``monitor-evaluate``,
the fingerprint of every setting but the folder and the LLM cache); a folder holding an evaluation with other
settings is refused, naming them. Folders written before ``run.json`` recorded their config in ``config.json``;
they are read through it, and one with the same settings is run again in place. A run always scores every monitor
from the start (LLM monitors answer from the response cache when it holds their prompts).

The run folder gets ``scores.jsonl`` (every sample with its suspicions, written as soon as all monitors
have run), ``report.json``, ``report.html``, ``roc.png``, ``catch_by_type.png``, ``probe/`` (with the probe) and
``run.json``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from auditlens.monitor.fixtures import load_fixtures
from auditlens.monitor.monitors import (
    LLMMonitor,
    LLMMonitorConfig,
    Monitor,
    MonitorError,
    apply_monitor,
)
from auditlens.monitor.records import CodeSample, ReasoningStyle
from auditlens.monitor.report import MonitorReport, build_report, write_report
from auditlens.monitor.views import MonitorView
from auditlens.runs import RunFolder, RunRecord, fingerprint, read_json, read_jsonl, write_jsonl

__all__ = [
    "KIND",
    "LEGACY_CONFIG",
    "EvaluateConfig",
    "evaluate",
    "identity",
    "load_scores",
    "select_problems",
]

log = logging.getLogger(__name__)

KIND = "monitor-evaluate"
LEGACY_CONFIG = "config.json"
"""Where folders made before ``run.json`` recorded their config."""
MACHINE_FIELDS = frozenset({"out", "llm_cache_dir"})
"""Settings that do not change the results (left out of the fingerprint)."""


class EvaluateConfig(BaseModel):
    """What ``auditlens monitor evaluate`` runs."""

    monitors: list[str] = Field(default_factory=lambda: ["rule"], description="Monitor specs (see module).")
    fixtures: Path | None = Field(
        None, description="Sample file (jsonl of CodeSample); None: bundled fixtures."
    )
    out: Path = Field(description="Run folder for scores and report.")
    styles: list[ReasoningStyle] | None = Field(None, description="Keep only these reasoning styles.")
    max_problems: int | None = Field(None, gt=0, description="Keep the first N problems (seeded order).")
    fpr: float = Field(0.01, gt=0, lt=1, description="Target FPR of the thresholds.")
    audit_budget_pct: float = Field(1.0, gt=0, le=100, description="Audit budget for safety, percent.")
    n_boot: int = Field(1000, gt=0, description="Bootstrap resamples per CI.")
    seed: int = Field(0, description="Seed of problem selection, probe split and bootstrap.")
    probe_model: str = Field("smollm2-135m-instruct", description="Model the probe reads activations of.")
    probe_hook_point: str | None = Field(None, description="Probe hook point; None: middle layer resid_post.")
    probe_test_fraction: float = Field(
        0.5, gt=0, lt=1, description="Share of problems held out for the probe."
    )
    probe_view: MonitorView = Field(MonitorView.REASONING, description="What the probe model reads.")
    probe_max_tokens: int = Field(256, gt=0, description="Tokens of each transcript the probe model reads.")
    llm_cache_dir: Path | None = Field(None, description="LLM response cache; None: the auditlens cache.")


def identity(cfg: EvaluateConfig) -> dict[str, Any]:
    """What an evaluation's results depend on: every setting but :data:`MACHINE_FIELDS`."""
    return cfg.model_dump(mode="json", exclude=set(MACHINE_FIELDS))


def _legacy_record(folder: Path) -> RunRecord | None:
    """The record of a folder written before ``run.json``, rebuilt from its ``config.json``."""
    f = folder / LEGACY_CONFIG
    if not f.is_file():
        return None
    cfg = read_json(f, EvaluateConfig, what="monitor evaluation config")
    done = (folder / "report.json").is_file()
    return RunRecord(
        kind=KIND,
        fingerprint=fingerprint(identity(cfg)),
        config=cfg.model_dump(mode="json"),
        status="complete" if done else "in_progress",
        legacy_source=LEGACY_CONFIG,
    )


def check_monitor_specs(specs: list[str]) -> None:
    """Raise :class:`MonitorError` for a spec that is not ``rule``, ``probe`` or ``llm:<spec>``."""
    for spec in specs:
        if spec not in ("rule", "probe") and not spec.startswith("llm:"):
            raise MonitorError(
                f"unknown monitor spec {spec!r}", hint="use 'rule', 'probe' or 'llm:<spec>' (e.g. llm:local)"
            )


def select_problems(samples: list[CodeSample], max_problems: int | None, seed: int) -> list[CodeSample]:
    """Samples of the first ``max_problems`` problems in a seeded shuffle (all when None)."""
    if max_problems is None:
        return samples
    import numpy as np

    ids = sorted({s.problem_id for s in samples})
    keep = {ids[i] for i in np.random.default_rng(seed).permutation(len(ids))[:max_problems]}
    return [s for s in samples if s.problem_id in keep]


def _llm_monitors(spec: str, cfg: EvaluateConfig) -> tuple[list[Monitor], tuple[str, str]]:
    from auditlens.llm import make_client

    client = make_client(spec, cache_dir=cfg.llm_cache_dir)
    short = spec.split(":")[0]
    out = LLMMonitor(client, LLMMonitorConfig(view=MonitorView.OUTPUT, name=f"llm-{short}-output"))
    rsn = LLMMonitor(client, LLMMonitorConfig(view=MonitorView.REASONING, name=f"llm-{short}-reasoning"))
    return [out, rsn], (out.name, rsn.name)


def evaluate(cfg: EvaluateConfig) -> MonitorReport:
    """Run ``cfg.monitors`` over the samples, then build and write the report (see the module)."""
    check_monitor_specs(cfg.monitors)
    samples = load_fixtures(cfg.fixtures, styles=cfg.styles)
    samples = select_problems(samples, cfg.max_problems, cfg.seed)
    if not samples:
        raise MonitorError("no samples to evaluate", hint="check --fixtures, --styles and --max-problems")
    folder = RunFolder.claim(
        cfg.out,
        KIND,
        cfg,
        identity=identity(cfg),
        legacy=_legacy_record,
        label="monitor evaluation",
        hint="choose another --out folder, or delete this one to evaluate again",
    )
    if folder.resumed:
        log.info("%s holds this evaluation already: running it again in place", cfg.out)
        folder.mark("in_progress")
    pairs: list[tuple[str, str]] = []
    notes: list[str] = []
    for spec in cfg.monitors:
        if spec == "rule":
            from auditlens.monitor.rules import RuleMonitor

            apply_monitor(RuleMonitor(), samples)
        elif spec.startswith("llm:"):
            monitors, pair = _llm_monitors(spec.removeprefix("llm:"), cfg)
            for m in monitors:
                apply_monitor(m, samples)
            pairs.append(pair)
        else:  # "probe" (check_monitor_specs allows nothing else)
            notes.append(_run_probe(samples, cfg))
        log.info("monitor %s: scored %d samples", spec, len(samples))
    write_jsonl(folder.path / "scores.jsonl", samples)
    failures = sum(1 for s in samples if s.metadata.get("monitor_errors"))
    if failures:
        notes.append(f"{failures} samples had at least one monitor failure (see scores.jsonl)")
    report = build_report(
        samples,
        or_pairs=pairs,
        fpr=cfg.fpr,
        audit_budget_pct=cfg.audit_budget_pct,
        n_boot=cfg.n_boot,
        seed=cfg.seed,
        notes=notes,
    )
    write_report(report, folder.path)
    folder.mark("complete")
    return report


def _run_probe(samples: list[CodeSample], cfg: EvaluateConfig) -> str:
    from auditlens.models import load_model
    from auditlens.monitor.probe import ProbeConfig, ProbeMonitor, split_by_problem

    model = load_model(cfg.probe_model)
    train, test = split_by_problem(samples, cfg.probe_test_fraction, cfg.seed)
    base = ProbeConfig(
        hook_point=cfg.probe_hook_point, view=cfg.probe_view, max_tokens=cfg.probe_max_tokens, seed=cfg.seed
    )
    probe = ProbeMonitor(model, base)
    x_train = probe.features(train)
    x_test = probe.features(test)
    probe.fit(train, x_train)
    shuffled = ProbeMonitor(model, base.model_copy(update={"shuffle_labels": True})).fit(train, x_train)
    for p in (probe, shuffled):
        for s, v in zip(test, p.predict(x_test).tolist(), strict=True):
            s.suspicion[p.name] = float(v)
    probe.save(cfg.out / "probe")
    return (
        f"probe: {model.model_id} {probe.hook_point} reading the {cfg.probe_view.value} view, trained on {len(train)} samples of "
        f"{len({s.problem_id for s in train})} problems, scored on {len(test)} held-out samples of "
        f"{len({s.problem_id for s in test})} other problems; probe-shuffled is its random-label baseline"
    )


def load_scores(path: str | Path) -> list[CodeSample]:
    """The samples (with suspicions) of a ``scores.jsonl``."""
    return read_jsonl(path, CodeSample, what="scores file")
