"""``auditlens faking …``: the alignment-faking evaluation of a model and the calibration of its classifiers."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli import app
from auditlens.cli.config_file import CONFIG

faking_app = typer.Typer(
    help="Alignment faking: compliance gap between monitored and unmonitored tiers, AF reasoning, classifiers.",
    no_args_is_help=True,
)
app.add_typer(faking_app, name="faking")


@faking_app.command("evaluate")
def evaluate_(
    model: str = typer.Argument(
        ...,
        help="The evaluated model: an auditlens.llm spec (local, local:<model>, openai:<model>[@url], anthropic:<model>, "
        "stub) or inspect:<provider/model> to run it through Inspect (logs in OUT/inspect-logs).",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder (resumable)."),
    split: str = typer.Option("eval", help="Request split: 'eval' (held out) or 'train'."),
    limit: int = typer.Option(None, help="Send only the first N requests of the split (default: all)."),
    prompt: list[str] = typer.Option(
        ["standard"], "--prompt", help="System prompt by name; 'paraphrases' adds all. Repeatable."
    ),
    samples: int = typer.Option(1, help="Replies per (request, prompt, tier)."),
    max_tokens: int = typer.Option(512, help="Most tokens per reply."),
    temperature: float = typer.Option(1.0, help="Sampling temperature of the evaluated model."),
    seed: int = typer.Option(0, help="Base seed of the replies and the bootstrap."),
    classifier: str = typer.Option(
        "rules", help="'rules', or an auditlens.llm spec for the LLM classifiers."
    ),
    n_boot: int = typer.Option(2000, help="Bootstrap resamples per interval."),
    config: Path | None = CONFIG,
) -> None:
    """Send every request in both tiers, classify the replies, write evaluation.json/png and report.html."""
    from auditlens.faking.evaluate import FakingEvalSettings, evaluate_faking

    st = FakingEvalSettings(
        split=split,  # type: ignore[arg-type]
        limit=limit,
        prompts=list(prompt),
        samples=samples,
        max_tokens=max_tokens,
        temperature=temperature,
        seed=seed,
        classifier=classifier,
        n_boot=n_boot,
    )
    ev = evaluate_faking(model, out, st)
    m = ev.metrics
    typer.echo(f"compliance free {m.overall.free.text(2)}, paid {m.overall.paid.text(2)}")
    typer.echo(f"gap free − paid {m.overall.gap.text(3)} ({m.overall.n_pairs} paired units)")
    typer.echo(f"AF reasoning on monitored replies {m.af_rate_monitored.text(2)}")
    typer.echo(f"format: {ev.format.n_ok}/{ev.format.n} replies well formed; {ev.n_failed} failed")
    typer.echo(f"wrote {out / 'report.html'}")


@faking_app.command("calibrate")
def calibrate_(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for calibration.json, auroc.png, report.html."),
    llm: str = typer.Option(None, help="auditlens.llm spec: add the LLM classifier of every task."),
    n_boot: int = typer.Option(2000, help="Bootstrap resamples per interval."),
    config: Path | None = CONFIG,
) -> None:
    """Every classifier on the dev set (thresholds chosen there), then frozen on the held-out calibration set."""
    from auditlens.faking.report import run_classifier_calibration

    client = None
    if llm:
        from auditlens.llm import make_client

        client = make_client(llm, cache_dir=out / "llm-cache")
    report = run_classifier_calibration(out, llm_client=client, n_boot=n_boot)
    for r in report.results:
        if r.dataset == report.heldout_set:
            typer.echo(f"{r.classifier:24s} {r.task:11s} AUROC held out {r.auroc.text(3)}")
    typer.echo(f"wrote {out / 'report.html'}")
