"""``auditlens pipeline``: harvest a middle layer of the default model, train a TopK and a ReLU+L1 dictionary on it
from one read of the data, evaluate both (reconstruction, sparsity, spliced next-token loss), and write a run
folder with ``summary.json``, plots and ``report.html``. Every stage resumes: re-running after an interruption
continues the harvest, resumes training from its last checkpoint, and skips finished evaluations.

The folder is claimed with :meth:`auditlens.runs.RunFolder.claim` (``run.json``, kind ``pipeline``): every setting
but the folder and the progress switch determines the results, so a folder made with other settings is refused
(a folder of the previous version, with ``config.json``, resumes through it).
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from auditlens.activations import ActivationStore, HarvestConfig, harvest
from auditlens.evals.evaluate import EVAL_FILENAME, EvalReport, evaluate_dictionary, load_report, summary_row
from auditlens.models import DEFAULT_MODEL, HookedModel, load_model
from auditlens.pipeline.report import write_report
from auditlens.pipeline.train import train_on_store
from auditlens.runs import RunFolder, RunRecord, fingerprint, read_json, write_json
from auditlens.sae import ReluL1UntiedConfig, TopKConfig

KIND = "pipeline"
LABEL = "pipeline run"
SUMMARY_FILE = "summary.json"
LEGACY_CONFIG = "config.json"


class PipelineConfig(BaseModel):
    """Settings of the main pipeline; the defaults finish in about 15 minutes on 2 CPU cores."""

    model_config = ConfigDict(extra="forbid")

    out: Path = Field(default=Path("runs/default"), description="Run folder.")
    model: str = Field(default=DEFAULT_MODEL, description="Model spec.")
    hook_point: str = Field(default="blocks.15.resid_post", description="Where to harvest (a middle layer).")
    source: str = Field(default="default", description="Text source spec (default: the offline corpus).")
    tokens: int = Field(default=300_000, gt=0, description="Tokens to harvest (and train on, one epoch).")
    context_length: int = Field(default=128, gt=1, description="Tokens per context.")
    expansion: int = Field(default=8, gt=0, description="Dictionary width as a multiple of d_in.")
    k: int = Field(default=32, gt=0, description="Active latents of the TopK dictionary.")
    l1_coefficient: float = Field(
        default=3e-3,
        gt=0,
        description="Sparsity coefficient α of the ReLU+L1 dictionary (per-element MSE + α·Σ|c|).",
    )
    batch_size: int = Field(default=1024, gt=0, description="Activation rows per training step.")
    eval_tokens: int = Field(default=32_768, gt=0, description="Rows for the reconstruction metrics.")
    eval_contexts: int = Field(default=48, gt=0, description="Contexts for the spliced next-token metrics.")
    seed: int = Field(default=0, description="Seed of data order and initialisation.")
    progress: bool = Field(default=True, description="Show progress bars.")


class PipelineSummary(BaseModel):
    """What ``auditlens pipeline`` produced; saved as ``summary.json`` in the run folder."""

    config: dict = Field(description="The pipeline configuration as run.")
    store: str = Field(description="Activation store folder.")
    store_rows: int
    harvest_seconds: float
    harvest_forward_share: float = Field(
        description="Share of harvest wall time in the model's forward pass."
    )
    train_seconds: float
    train_activations_per_second: float
    eval_seconds: float
    dictionaries: list[dict] = Field(description="One summary row per dictionary (see evals.summary_row).")
    reports: list[str] = Field(description="eval.json paths.")


def _dictionary_configs(cfg: PipelineConfig, d_in: int) -> list:
    width = cfg.expansion * d_in
    return [
        TopKConfig(d_in=d_in, d_sae=width, k=cfg.k, name=f"topk_k{cfg.k}_{width}"),
        ReluL1UntiedConfig(d_in=d_in, d_sae=width, coefficient=cfg.l1_coefficient, name=f"relu_l1_{width}"),
    ]


def _train(cfg: PipelineConfig, store: ActivationStore) -> tuple[list[Path], float, float]:
    outcome = train_on_store(
        store,
        _dictionary_configs(cfg, store.d_in()),
        cfg.out / "dictionaries",
        batch_size=cfg.batch_size,
        epochs=1.0,
        seed=cfg.seed,
        progress=cfg.progress,
    )
    r = outcome.result
    return (
        [Path(p) for p in outcome.dictionaries],
        r.wall_seconds if r else 0.0,
        r.activations_per_second if r else 0.0,
    )


def identity(cfg: PipelineConfig) -> dict:
    """The settings that determine a pipeline run's results (all but the folder and the progress switch)."""
    return cfg.model_dump(mode="json", exclude={"out", "progress"})


def _legacy_run(folder: Path) -> RunRecord | None:
    """The record of a folder written before ``run.json``: its ``config.json`` was the whole config."""
    f = folder / LEGACY_CONFIG
    if not f.is_file():
        return None
    old = read_json(f, PipelineConfig, what="pipeline config of a run made before run.json")
    return RunRecord(
        kind=KIND,
        fingerprint=fingerprint(identity(old)),
        config=old.model_dump(mode="json"),
        legacy_source=LEGACY_CONFIG,
    )


def run_pipeline(cfg: PipelineConfig, *, model: HookedModel | None = None) -> PipelineSummary:
    """Run (or resume) the whole pipeline and write the run folder; see the module docstring."""
    folder = RunFolder.claim(
        cfg.out,
        KIND,
        cfg,
        identity=identity(cfg),
        legacy=_legacy_run,
        label=LABEL,
        hint="choose another --out folder (only the progress switch may change between resumes)",
    )
    model = model or load_model(cfg.model)
    hcfg = HarvestConfig(
        model=cfg.model,
        hook_points=[cfg.hook_point],
        source=cfg.source,
        tokens=cfg.tokens,
        context_length=cfg.context_length,
        seed=cfg.seed,
        out=cfg.out / "activations",
    )
    manifest = harvest(hcfg, model=model, progress=cfg.progress)
    store = ActivationStore.open(hcfg.out)
    paths, train_s, train_rate = _train(cfg, store)
    t0 = time.perf_counter()
    reports: list[EvalReport] = []
    for path in paths:
        if (path / EVAL_FILENAME).exists():
            reports.append(load_report(path))
            continue
        others = [p for p in paths if p != path]
        reports.append(
            evaluate_dictionary(
                path,
                store,
                model=model,
                tokens=cfg.eval_tokens,
                contexts=cfg.eval_contexts,
                compare=others,
                progress=cfg.progress,
            )
        )
    summary = PipelineSummary(
        config=cfg.model_dump(mode="json"),
        store=str(store.path),
        store_rows=store.n_rows,
        harvest_seconds=manifest.wall_seconds,
        harvest_forward_share=manifest.forward_seconds / manifest.wall_seconds
        if manifest.wall_seconds
        else 0.0,
        train_seconds=train_s,
        train_activations_per_second=train_rate,
        eval_seconds=time.perf_counter() - t0,
        dictionaries=[summary_row(r) for r in reports],
        reports=[str(Path(r.checkpoint) / EVAL_FILENAME) for r in reports],
    )
    write_json(cfg.out / SUMMARY_FILE, summary)
    write_report(cfg.out, summary, reports)
    folder.mark("complete")
    return summary
