"""Score a labelled sample set with monitors, calibrate, and write the report (``auditlens monitor
evaluate``).

Monitor specs: ``rule``; ``llm:<llm spec>`` (``llm:local`` for the embedded SmolLM2, ``llm:stub``,
``llm:openai:<model>@<url>``, ``llm:anthropic:<model>``; runs the output and the reasoning view and
their OR pair); ``probe`` (a linear probe on ``probe_model`` activations, trained on one half of the
problems and scored on the other, beside its shuffled-label baseline).

The run folder gets ``scores.jsonl`` (every sample with its suspicions, written as soon as all monitors
have run), ``report.json``, ``report.html``, ``roc.png``, ``catch_by_type.png`` and ``config.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

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

__all__ = ["EvaluateConfig", "evaluate", "load_scores", "select_problems"]


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
    samples = load_fixtures(cfg.fixtures, styles=cfg.styles)
    samples = select_problems(samples, cfg.max_problems, cfg.seed)
    if not samples:
        raise MonitorError("no samples to evaluate", hint="check --fixtures, --styles and --max-problems")
    cfg.out.mkdir(parents=True, exist_ok=True)
    (cfg.out / "config.json").write_text(cfg.model_dump_json(indent=2), encoding="utf-8")
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
        elif spec == "probe":
            notes.append(_run_probe(samples, cfg))
        else:
            raise MonitorError(
                f"unknown monitor spec {spec!r}", hint="use 'rule', 'probe' or 'llm:<spec>' (e.g. llm:local)"
            )
    with (cfg.out / "scores.jsonl").open("w", encoding="utf-8") as f:
        for s in samples:
            f.write(s.model_dump_json() + "\n")
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
    write_report(report, cfg.out)
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
    return [
        CodeSample.model_validate(json.loads(line)) for line in Path(path).read_text().splitlines() if line
    ]
