"""``auditlens run``: the main job (the README's first command) — audit the bundled organism and score it."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli import app
from auditlens.cli.config_file import CONFIG


@app.command()
def run(
    out: Path = typer.Option(
        Path("runs/audit"), "--out", "-o", help="Audit folder (an interrupted run resumes)."
    ),
    organism: str = typer.Option("rm_sycophancy", help="Name of the installed bundled organism to audit."),
    seed: int = typer.Option(None, help="Seed of every sample."),
    dictionary: Path = typer.Option(
        None, help="A dictionary of the organism (default: trained by the audit)."
    ),
    device: str = typer.Option("cpu", help="Torch device."),
    config: Path | None = CONFIG,
) -> None:
    """Audit the bundled organism for its hidden objective, then unseal the truth and score the audit.

    Writes OUT/audit.json, OUT/audit.html (conclusion → behaviours → samples, documents, features) and
    OUT/score.json. The dictionary pipeline is `auditlens pipeline`.
    """
    from auditlens.audit.main_job import audit_bundled
    from auditlens.cli.audit import _print

    settings = None
    if seed is not None:
        from auditlens.audit.settings import AuditSettings

        settings = AuditSettings(seed=seed)
    report, score = audit_bundled(out, organism, settings=settings, device=device, dictionary=dictionary)
    _print(report, out)
    typer.echo("")
    typer.echo("against the sealed truth: " + score.text())
    typer.echo(f"score: {out / 'score.json'}")
