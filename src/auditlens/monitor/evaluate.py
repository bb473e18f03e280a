"""Score a labelled sample set with monitors, calibrate, and write the report (``auditlens monitor
evaluate``).

Monitor specs: ``rule`` (static analysis against the reference); ``rule-free`` (its reference-free mode);
``diff`` (differential testing against the reference, :mod:`~auditlens.monitor.differential`); ``llm:<llm spec>`` (``llm:local`` for the embedded SmolLM2, ``llm:stub``,
``llm:openai:<model>@<url>``, ``llm:anthropic:<model>``; runs the output and the reasoning view and
their OR pair); ``probe`` (a linear probe on ``probe_model`` activations, trained on one half of the
problems and scored on the other, beside its shuffled-label baseline).

**Transfer.** With samples from two or more sources (``sources``: bundled sets such as ``rewrites``, or files;
each sample keeps its ``source``), the run also writes the transfer matrix (:mod:`~auditlens.monitor.transfer`;
``transfer.json``, ``transfer.html``, ``transfer.png``): every scoring monitor tuned on one source and frozen
before it is evaluated on another, and with ``probe`` the probes trained per source — the one-layer probe
(``probe-l<k>``), the ensemble over layers and poolings (``probe-ensemble``, :mod:`~auditlens.monitor.probe_ensemble`)
and its shuffled-label baseline — and the OR of the ensemble with each static monitor. Probe features are cached
in ``probe/features-<view>.safetensors``, so a re-run trains without running the model again.

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
from typing import Any, Literal

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
MACHINE_FIELDS = frozenset({"out", "llm_cache_dir", "probe_features_dir"})
STATIC = ("rule", "rule-free", "diff")
"""Monitor specs that need no model: the rule monitor, its reference-free mode, the differential monitor."""
"""Settings that do not change the results (left out of the fingerprint)."""


class EvaluateConfig(BaseModel):
    """What ``auditlens monitor evaluate`` runs."""

    monitors: list[str] = Field(default_factory=lambda: ["rule"], description="Monitor specs (see module).")
    fixtures: Path | None = Field(
        None, description="Sample file (jsonl of CodeSample); None: bundled fixtures."
    )
    sources: list[str] = Field(
        default_factory=list,
        description="More sample sets, each a bundled name (see monitor.fixtures.bundled_sources) or a jsonl path; "
        "with two or more distinct CodeSample.source values, a transfer matrix is written.",
    )
    transfer_folds: int = Field(
        5, ge=2, description="Folds (by problem) of a probe's out-of-fold calibration."
    )
    out: Path = Field(description="Run folder for scores and report.")
    styles: list[ReasoningStyle] | None = Field(None, description="Keep only these reasoning styles.")
    max_problems: int | None = Field(None, gt=0, description="Keep the first N problems (seeded order).")
    fpr: float = Field(0.01, gt=0, lt=1, description="Target FPR of the thresholds.")
    audit_budget_pct: float = Field(1.0, gt=0, le=100, description="Audit budget for safety, percent.")
    n_boot: int = Field(1000, gt=0, description="Bootstrap resamples per CI.")
    seed: int = Field(0, description="Seed of problem selection, probe split and bootstrap.")
    llm_views: list[MonitorView] = Field(
        default_factory=lambda: [MonitorView.OUTPUT, MonitorView.REASONING],
        min_length=1,
        description="Views each LLM monitor reads (with both, their OR pair is reported too).",
    )
    llm_answer: Literal["auto", "logprobs", "score"] = Field(
        "auto",
        description="How LLM monitors read a verdict: 'logprobs' (P(\"A\")), 'score' (a 0-100 text score), "
        "'auto' (logprobs, the text score where the backend has no log-probabilities); see LLMMonitorConfig.",
    )
    probe_model: str = Field("smollm2-135m-instruct", description="Model the probe reads activations of.")
    probe_hook_point: str | None = Field(None, description="Probe hook point; None: middle layer resid_post.")
    probe_test_fraction: float = Field(
        0.5, gt=0, lt=1, description="Share of problems held out for the probe."
    )
    probe_view: MonitorView = Field(MonitorView.REASONING, description="What the probe model reads.")
    probe_max_tokens: int = Field(256, gt=0, description="Tokens of each transcript the probe model reads.")
    llm_cache_dir: Path | None = Field(None, description="LLM response cache; None: the auditlens cache.")
    probe_features_dir: Path | None = Field(
        None,
        description="Where the transfer probes' feature tables are kept (shared by runs: features are keyed by "
        "transcript text, so a run with one more source only reads the new texts); None: <out>/probe.",
    )


def identity(cfg: EvaluateConfig) -> dict[str, Any]:
    """What an evaluation's results depend on: every setting but :data:`MACHINE_FIELDS`. A setting added
    later is left out at its default (:data:`ADDED_DEFAULTS`), so a folder written before it still resumes."""
    out = cfg.model_dump(mode="json", exclude=set(MACHINE_FIELDS))
    for name, default in ADDED_DEFAULTS.items():
        if out.get(name) == default:
            out.pop(name)
    return out


ADDED_DEFAULTS: dict[str, Any] = {"llm_answer": "auto"}
"""Settings added after run folders existed, with the default that leaves results as before."""


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
    """Raise :class:`MonitorError` for a spec that is not one of :data:`STATIC` , ``probe`` or ``llm:<spec>``."""
    for spec in specs:
        if spec not in (*STATIC, "probe") and not spec.startswith("llm:"):
            raise MonitorError(
                f"unknown monitor spec {spec!r}",
                hint="use 'rule', 'rule-free', 'diff', 'probe' or 'llm:<spec>' (e.g. llm:local)",
            )


def select_problems(samples: list[CodeSample], max_problems: int | None, seed: int) -> list[CodeSample]:
    """Samples of the first ``max_problems`` problems in a seeded shuffle (all when None)."""
    if max_problems is None:
        return samples
    import numpy as np

    ids = sorted({s.problem_id for s in samples})
    keep = {ids[i] for i in np.random.default_rng(seed).permutation(len(ids))[:max_problems]}
    return [s for s in samples if s.problem_id in keep]


def _llm_monitors(spec: str, cfg: EvaluateConfig) -> tuple[list[Monitor], tuple[str, str] | None]:
    from auditlens.llm import make_client

    client = make_client(spec, cache_dir=cfg.llm_cache_dir)
    short = spec.split(":")[0]
    monitors: list[Monitor] = [
        LLMMonitor(client, LLMMonitorConfig(view=v, name=f"llm-{short}-{v.value}", answer=cfg.llm_answer))
        for v in cfg.llm_views
    ]
    names = [m.name for m in monitors]
    return monitors, ((names[0], names[1]) if len(names) == 2 else None)


def evaluate(cfg: EvaluateConfig) -> MonitorReport:
    """Run ``cfg.monitors`` over the samples, then build and write the report (see the module)."""
    check_monitor_specs(cfg.monitors)
    samples = load_samples(cfg)
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
        if spec in STATIC:
            apply_monitor(_static_monitor(spec), samples)
        elif spec.startswith("llm:"):
            monitors, pair = _llm_monitors(spec.removeprefix("llm:"), cfg)
            for m in monitors:
                apply_monitor(m, samples)
            if pair is not None:
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
    if len({s.source for s in samples}) >= 2:
        from auditlens.monitor.report.transfer_page import transfer_lines

        for line in transfer_lines(_transfer_into(samples, cfg, folder.path)):
            log.info("transfer: %s", line)
    folder.mark("complete")
    return report


def load_samples(cfg: EvaluateConfig) -> list[CodeSample]:
    """The fixtures (``cfg.fixtures``) and every set of ``cfg.sources``, filtered by style and problem count."""
    from auditlens.monitor.fixtures import source_path

    samples = load_fixtures(cfg.fixtures, styles=cfg.styles)
    for spec in cfg.sources:
        samples += load_fixtures(source_path(spec), styles=cfg.styles)
    ids = [s.id for s in samples]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise MonitorError(
            f"sample id {dup!r} appears more than once across --fixtures and --source",
            hint="give each sample set once; ids must be unique across sets",
        )
    return select_problems(samples, cfg.max_problems, cfg.seed)


def retransfer(run: str | Path, out: str | Path | None = None) -> Any:
    """The transfer matrix of a finished evaluation again, from its ``scores.jsonl`` (no monitor is re-run;
    the transfer probes reuse their feature tables), written to ``out`` (default: the run folder itself).

    For a change in how cells are tuned, combined or bootstrapped, or a finished run without a matrix."""
    run = Path(run)
    record, scores = run / "run.json", run / "scores.jsonl"
    if not record.is_file() or not scores.is_file():
        raise MonitorError(
            f"{run} is not a finished monitor evaluation (run.json and scores.jsonl are needed)",
            hint="pass the --out folder of an `auditlens monitor evaluate` run",
        )
    cfg = EvaluateConfig.model_validate(read_json(record, RunRecord, what="run record").config)
    samples = load_scores(scores)
    if len({s.source for s in samples}) < 2:
        raise MonitorError(
            f"{run} holds samples of one source only: a transfer matrix needs two or more",
            hint="evaluate again with --source",
        )
    folder = Path(out) if out is not None else run
    folder.mkdir(parents=True, exist_ok=True)
    return _transfer_into(samples, cfg, folder)


def _transfer_into(samples: list[CodeSample], cfg: EvaluateConfig, folder: Path) -> Any:
    """:func:`run_transfer`, its matrix written to ``folder`` (transfer.json/html/png) and returned."""
    from auditlens.monitor.report.transfer_page import write_transfer

    matrix = run_transfer(samples, cfg, folder)
    write_transfer(matrix, folder)
    return matrix


def _static_monitor(spec: str) -> Monitor:
    from auditlens.monitor.rules import RuleMonitor

    if spec == "rule":
        return RuleMonitor()
    if spec == "rule-free":
        return RuleMonitor(reference_free=True)
    from auditlens.monitor.differential import DifferentialMonitor

    return DifferentialMonitor()


def run_transfer(samples: list[CodeSample], cfg: EvaluateConfig, folder: Path) -> Any:
    """The transfer matrix of every monitor that scored ``samples`` (see the module)."""
    from auditlens.monitor.transfer import (
        AnyOf,
        StaticScores,
        TransferConfig,
        TransferMonitor,
        transfer_matrix,
    )

    tcfg = TransferConfig(fpr=cfg.fpr, n_boot=cfg.n_boot, seed=cfg.seed)
    names = sorted(
        {k for s in samples for k in s.suspicion if not k.startswith("probe")},
        key=lambda k: (k not in STATIC, STATIC.index(k) if k in STATIC else 0, k),
    )
    groups: list[tuple[list[str], TransferMonitor]] = [([n], StaticScores(n)) for n in names]
    notes: list[str] = []
    if "probe" in cfg.monitors:
        probes, note = _transfer_probes(samples, cfg, folder)
        notes.append(note)
        groups += [([], p) for p in probes]
        ensemble = probes[1]
        groups += [([n], AnyOf([ensemble, StaticScores(n)])) for n in names if n in STATIC]
    out = None
    for needs, m in groups:
        scored = [s for s in samples if all(n in s.suspicion for n in needs)]
        part = transfer_matrix(scored, [m], tcfg)
        if len(scored) < len(samples):
            part.notes.append(f"{m.name}: {len(samples) - len(scored)} samples it failed on left out")
        if out is None:
            out = part
        else:
            out.monitors += part.monitors
            out.notes += [n for n in part.notes if n not in out.notes]
    assert out is not None
    out.notes += notes
    return out


def _transfer_probes(samples: list[CodeSample], cfg: EvaluateConfig, folder: Path) -> tuple[list[Any], str]:
    from auditlens.models import load_model
    from auditlens.monitor.probe_ensemble import compute_features, default_hook_points, ensemble_trainer
    from auditlens.monitor.transfer import Learned

    model = load_model(cfg.probe_model)
    hooks = default_hook_points(model.n_layers)
    single = cfg.probe_hook_point or f"blocks.{model.n_layers // 2}.resid_post"
    if single not in hooks:
        hooks = sorted({*hooks, single}, key=lambda h: int(h.split(".")[1]))
    cache = (cfg.probe_features_dir or folder / "probe") / f"features-{cfg.probe_view.value}.safetensors"
    table, text_of = compute_features(
        model, samples, cfg.probe_view, hooks, ("mean", "last"), cfg.probe_max_tokens, cache=cache
    )
    k, seed = cfg.transfer_folds, cfg.seed
    layer = single.split(".")[1]
    probes = [
        Learned(
            f"probe-l{layer}", ensemble_trainer(table, text_of, [f"{single}:mean"], C=1.0, seed=seed), k, seed
        ),
        Learned("probe-ensemble", ensemble_trainer(table, text_of, seed=seed), k, seed),
        Learned("probe-shuffled", ensemble_trainer(table, text_of, seed=seed, shuffle_labels=True), k, seed),
    ]
    note = (
        f"transfer probes read {model.model_id} ({cfg.probe_view.value} view, {cfg.probe_max_tokens} tokens): "
        f"probe-l{layer} = one logistic regression on mean-pooled {single} (C=1, as the split probe); "
        f"probe-ensemble = mean logit of {len(table.keys)} regressions (C=0.05) on {', '.join(table.keys)}; "
        "probe-shuffled = the ensemble trained on shuffled labels (the random-label baseline)"
    )
    return probes, note


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
