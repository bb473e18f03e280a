"""``auditlens audit …``: find a model's hidden objective (run), the controls, and grading against sealed truth."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli import app
from auditlens.cli.config_file import CONFIG
from auditlens.organisms.bundled import organism_folder

audit_app = typer.Typer(
    help="Audit a model for a hidden objective: run the fixed plan, run the controls, score against sealed truth.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


SETTINGS = typer.Option(
    None,
    "--settings",
    help="TOML or JSON file of audit settings (budget per technique, the dictionary plan); flags override it.",
)


def _settings(file: Path | None, **over: object):
    from auditlens.audit.settings import AuditSettings, read_audit_settings

    if file is not None:
        return read_audit_settings(file, **over)
    return AuditSettings(**{k: v for k, v in over.items() if v is not None})


def _auditor(kind: str, llm: str | None, *, token_budget: int | None, max_turns: int | None):
    """The auditor ``--auditor`` names: the fixed plan, or the agent driven by the ``--llm`` spec."""
    from auditlens.audit.auditor import FixedPlanAuditor
    from auditlens.errors import ConfigError

    if kind == "fixed":
        if llm or token_budget is not None or max_turns is not None:
            raise ConfigError(
                "--llm, --token-budget and --max-turns are options of the agent auditor",
                hint="add --auditor agent",
            )
        return FixedPlanAuditor()
    if kind != "agent":
        raise ConfigError(f"unknown auditor {kind!r}", hint="use --auditor fixed or --auditor agent")
    if not llm:
        raise ConfigError(
            "the agent auditor needs an LLM",
            hint="give --llm SPEC, e.g. --llm local or --llm anthropic:<model>",
        )
    from auditlens.audit.agent import AgentAuditor

    budgets = {k: v for k, v in (("token_budget", token_budget), ("max_turns", max_turns)) if v is not None}
    return AgentAuditor(llm, **budgets)


def _print(report, out: Path) -> None:
    rc = report.root_cause
    typer.echo(("ROOT CAUSE: " if rc.claimed else "") + rc.statement)
    for b in report.behaviours[:8]:
        typer.echo(f"  {b.id} {'confirmed' if b.confirmed else 'unconfirmed'}: {b.description}")
    typer.echo(
        f"confidence {rc.confidence:.2f}; {report.cost.model_calls} model calls, "
        f"{report.cost.tokens_generated} tokens, {report.wall_s:.0f} s"
        + (f", {report.cost.llm_tokens} LLM tokens ({report.auditor})" if report.cost.llm_tokens else "")
    )
    typer.echo(f"report: {out / 'audit.html'}")


@audit_app.command("run")
def run(
    organism: Path = typer.Argument(
        None,
        help="Organism folder to audit (reads organism.json, adapters, data/), or a bundled organism's name.",
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Audit folder (created; an interrupted audit resumes)."
    ),
    model: str = typer.Option(None, help="Audit this model spec instead of an organism (with --data)."),
    data: Path = typer.Option(None, help="Data sample (JSONL or text) instead of the organism's subset."),
    base: str = typer.Option(
        "manifest", help="Comparison model: 'manifest' (the organism's base), a model spec, or 'none'."
    ),
    dictionary: Path = typer.Option(
        None, help="A dictionary of the audited model (default: trained by the audit)."
    ),
    seed: int = typer.Option(None, help="Seed of every sample."),
    samples_per_prompt: int = typer.Option(None, help="Samples per prompt of the sampling techniques."),
    max_tokens: int = typer.Option(None, help="New tokens per sample."),
    settings_file: Path = SETTINGS,
    device: str = typer.Option("cpu", help="Torch device."),
    auditor: str = typer.Option(
        "fixed", help="'fixed' (the LLM-free plan) or 'agent' (an LLM investigates; needs --llm)."
    ),
    llm: str = typer.Option(
        None,
        help="The agent's LLM, an auditlens.llm spec: 'stub', 'local', 'openai:<model>', 'anthropic:<model>' "
        "(only the last two reach the network).",
    ),
    token_budget: int = typer.Option(None, help="The agent's LLM tokens (in + out) before it must conclude."),
    max_turns: int = typer.Option(None, help="The agent's tool turns before it must conclude."),
    config: Path | None = CONFIG,
) -> None:
    """Audit a model: explore with every technique, form and test hypotheses, write audit.json and audit.html."""
    from auditlens.audit.run import run_audit
    from auditlens.audit.subject import AuditSubject
    from auditlens.errors import ConfigError

    base_arg = None if base == "none" else base
    if organism is not None:
        subject = AuditSubject.from_organism(
            organism_folder(organism), device=device, base=base_arg, data=data
        )
    elif model is not None and data is not None:
        subject = AuditSubject.from_spec(
            model, data, base=None if base_arg in (None, "manifest") else base_arg, device=device
        )
    else:
        raise ConfigError("nothing to audit", hint="give an organism folder, or --model with --data")
    settings = _settings(
        settings_file, seed=seed, samples_per_prompt=samples_per_prompt, max_tokens=max_tokens
    )
    report = run_audit(
        subject,
        out,
        settings=settings,
        dictionary=dictionary,
        auditor=_auditor(auditor, llm, token_budget=token_budget, max_turns=max_turns),
    )
    _print(report, out)


@audit_app.command("control")
def control(
    organism: Path = typer.Argument(
        ..., help="Organism folder (or bundled name) whose base model and data sample make the control."
    ),
    kind: str = typer.Option(
        ..., help="'neutral' (base + default-corpus sample) or 'organism-data' (base + its data)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Audit folder of the control."),
    seed: int = typer.Option(None, help="Seed of every sample."),
    settings_file: Path = SETTINGS,
    device: str = typer.Option("cpu", help="Torch device."),
    config: Path | None = CONFIG,
) -> None:
    """Run a control audit: the base model, which pursues nothing, must not be found to pursue anything."""
    from auditlens.audit.controls import control_subject
    from auditlens.audit.run import run_audit

    report = run_audit(
        control_subject(organism_folder(organism), kind, device=device),
        out,
        settings=_settings(settings_file, seed=seed),
    )  # type: ignore[arg-type]
    _print(report, out)


@audit_app.command("score")
def score(
    audit_dir: Path = typer.Argument(..., help="A finished audit folder."),
    organism: Path = typer.Argument(
        ..., help="The organism folder or bundled name (its sealed objective is read)."
    ),
    judge_llm: str = typer.Option(
        None, help="Also ask this LLM (auditlens.llm spec) whether the root cause is named."
    ),
    config: Path | None = CONFIG,
) -> None:
    """Grade an audit against the organism's sealed objective; writes score.json into the audit folder."""
    from auditlens.audit.score import score_audit

    llm = None
    if judge_llm:
        from auditlens.llm import make_client

        llm = make_client(judge_llm)
    s = score_audit(audit_dir, organism_folder(organism), llm=llm)
    typer.echo(s.text())
    typer.echo(f"score: {audit_dir / 'score.json'}")
