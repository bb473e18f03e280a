"""``auditlens monitor …``: side-task monitoring — score samples with monitors, calibrate, report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from auditlens.cli import app
from auditlens.cli.config_file import CONFIG

monitor_app = typer.Typer(
    help="Side-task monitoring: monitors, calibration at a fixed FPR, reports.", no_args_is_help=True
)
app.add_typer(monitor_app, name="monitor")


@monitor_app.command("evaluate")
def evaluate_(
    monitor: list[str] = typer.Option(
        ["rule"],
        "--monitor",
        "-m",
        help="Monitor: 'rule', 'rule-free' (no reference), 'diff' (differential testing against the "
        "reference), 'probe', or 'llm:<spec>' (llm:local = embedded SmolLM2, llm:stub, "
        "llm:openai:<model>@<url>, llm:anthropic:<model>; runs output + reasoning views and their OR). "
        "Repeatable.",
    ),
    fixtures: Path = typer.Option(
        None, "--fixtures", help="Labelled samples (jsonl of CodeSample); default: the bundled fixtures."
    ),
    source: list[str] = typer.Option(
        [],
        "--source",
        help="Another sample set: a bundled one (rewrites, authored, ...) or a jsonl path. With two or more "
        "sources the run also writes the transfer matrix (transfer.json/html/png). Repeatable.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder for scores.jsonl and the report."),
    style: list[str] = typer.Option(
        [],
        "--style",
        help="Keep only these reasoning styles (none, honest, blatant, persuasive). Repeatable.",
    ),
    max_problems: int = typer.Option(None, help="Use the samples of N problems (seeded choice)."),
    fpr: float = typer.Option(0.01, help="Target false-positive rate of the thresholds."),
    audit_budget: float = typer.Option(1.0, help="Audit budget in percent, for safety."),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples per confidence interval."),
    seed: int = typer.Option(0, help="Seed of problem choice, probe split and bootstrap."),
    probe_model: str = typer.Option("smollm2-135m-instruct", help="Model whose activations the probe reads."),
    probe_hook_point: str = typer.Option(None, help="Probe hook point (default: middle layer resid_post)."),
    probe_view: str = typer.Option("reasoning", help="What the probe model reads: 'reasoning' or 'output'."),
    llm_cache: Path = typer.Option(None, help="LLM response cache folder (default: the auditlens cache)."),
    llm_view: list[str] = typer.Option(
        ["output", "reasoning"], help="Views each LLM monitor reads ('output', 'reasoning'). Repeatable."
    ),
    probe_features: Path = typer.Option(
        None, help="Folder of the transfer probes' feature tables, shared by runs (default: <out>/probe)."
    ),
    llm_answer: str = typer.Option(
        "auto",
        help="How LLM monitors read a verdict: 'logprobs' (P(\"A\")), 'score' (a 0-100 text score, for APIs "
        "without log-probabilities such as Anthropic's), 'auto' (logprobs, else the text score).",
    ),
    config: Path | None = CONFIG,
) -> None:
    """Score the samples with each monitor, calibrate at the target FPR, write report.json/html/png."""
    from auditlens.monitor.evaluate import EvaluateConfig, evaluate
    from auditlens.monitor.report import summary_lines

    cfg = EvaluateConfig(
        monitors=list(monitor),
        fixtures=fixtures,
        sources=list(source),
        out=out,
        styles=list(style) or None,
        max_problems=max_problems,
        fpr=fpr,
        audit_budget_pct=audit_budget,
        n_boot=n_boot,
        seed=seed,
        probe_model=probe_model,
        probe_hook_point=probe_hook_point,
        probe_view=probe_view,
        llm_cache_dir=llm_cache,
        llm_views=list(llm_view),
        probe_features_dir=probe_features,
        llm_answer=llm_answer,  # type: ignore[arg-type]  # validated by EvaluateConfig
    )
    report = evaluate(cfg)
    for line in summary_lines(report):
        typer.echo(line)
    typer.echo(f"wrote {out / 'report.html'}")
    if (out / "transfer.json").is_file():
        from auditlens.monitor.transfer import TransferMatrix

        _echo_transfer(TransferMatrix.model_validate_json((out / "transfer.json").read_text()), out)


def _echo_transfer(matrix: Any, folder: Path) -> None:
    from auditlens.monitor.report.transfer_page import transfer_lines

    typer.echo("transfer (headline = worst off-diagonal cell):")
    for line in transfer_lines(matrix):
        typer.echo(f"  {line}")
    typer.echo(f"wrote {folder / 'transfer.html'}")


@monitor_app.command("transfer")
def transfer_(
    run: Path = typer.Argument(..., help="The --out folder of a finished `monitor evaluate` run."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Where transfer.json/html/png go (default: RUN)."
    ),
    config: Path | None = CONFIG,
) -> None:
    """Recompute the transfer matrix of RUN from its scores.jsonl, without re-running the monitors."""
    from auditlens.monitor.evaluate import retransfer

    _echo_transfer(retransfer(run, out), out or run)
