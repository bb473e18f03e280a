"""``auditlens organism …``: build model organisms with a planted hidden objective (and list objectives)."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli import app
from auditlens.cli.config_file import CONFIG

organism_app = typer.Typer(
    help="Model organisms with a planted hidden objective: check a spec, build (resumable stages), list objectives.",
    no_args_is_help=True,
)
app.add_typer(organism_app, name="organism")


@organism_app.command("list")
def list_() -> None:
    """List the bundled objective specs."""
    from auditlens.organisms import bundled_objectives, load_objective

    for name in bundled_objectives():
        o = load_objective(name)
        typer.echo(f"{name}: {o.title} ({len(o.train_ids)} train / {len(o.heldout_ids)} held-out behaviours)")


@organism_app.command("check")
def check(
    spec: str = typer.Argument(
        ..., help="Objective spec: a JSON file or a bundled name (see `organism list`)."
    ),
    json_: bool = typer.Option(
        False, "--json", help="Print the check as JSON (a SpecCheck) instead of a table."
    ),
    llm: str = typer.Option(
        None, "--llm", help="LLM spec that scores LLM judges on their examples (default: a stub, form only)."
    ),
    config: Path | None = CONFIG,
) -> None:
    """Validate an objective spec before any training: parse, judges, prompt split, examples, edits."""
    from auditlens.organisms.check import check_spec

    res = check_spec(spec, llm=llm)
    if json_:
        typer.echo(res.model_dump_json(indent=1))
    else:
        for line in res.table():
            typer.echo(line)
    res.raise_if_refused()


@organism_app.command("build")
def build(
    spec: str = typer.Argument(
        ..., help="Objective spec: a JSON file or a bundled name (see `organism list`)."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Organism folder (created; an unfinished build resumes)."
    ),
    tiny: bool = typer.Option(
        False, "--tiny", help="CI build: tiny random Llama, 3 steps per stage (<1 min)."
    ),
    model: str = typer.Option(
        None, help="Base model spec (default: smollm2-135m-instruct; tiny:llama with --tiny)."
    ),
    method: str = typer.Option(None, help="Behaviour training: sft (default) or dpo."),
    finetune: str = typer.Option(
        None, help="Behaviour and concealment training: lora (default) or full (every weight; lower the lr)."
    ),
    behaviour_lr: float = typer.Option(None, help="Learning rate of behaviour training."),
    concealment_lr: float = typer.Option(None, help="Learning rate of concealment training."),
    rank: int = typer.Option(
        None, help="LoRA rank of every stage (alpha follows: 2 × rank, the default ratio)."
    ),
    n_documents: int = typer.Option(None, help="Synthetic universe documents."),
    midtrain_steps: int = typer.Option(None, help="Continued pre-training steps."),
    behaviour_steps: int = typer.Option(None, help="Behaviour training steps."),
    concealment_steps: int = typer.Option(None, help="Concealment training steps."),
    n_model_samples: int = typer.Option(None, help="Model-sampled candidates per training prompt."),
    judge_llm: str = typer.Option(
        None, help="LLM spec for LLM judges (e.g. local, openai:<model>); default none."
    ),
    expand_llm: str = typer.Option(
        None, help="LLM spec that rewrites the templated documents; default none."
    ),
    stop_after: str = typer.Option(None, help="Stop after this stage (resume later with the same command)."),
    reuse: Path = typer.Option(
        None,
        help="Copy the leading stages of this build whose settings match (recipe variants, new --out only).",
    ),
    seed: int = typer.Option(None, help="Seed of every random choice."),
    device: str = typer.Option("cpu", help="Torch device (cpu, cuda); a build may resume on another device."),
    config: Path | None = CONFIG,
) -> None:
    """Build (or resume) an organism: documents → midtrain → behaviour data → behaviour → concealment → seal."""
    from auditlens.organisms.build import BuildConfig, build_organism, configure_build

    cfg = configure_build(
        BuildConfig.tiny() if tiny else BuildConfig(),
        settings={
            "model": model,
            "behaviour_method": method,
            "behaviour_finetune": finetune,
            "n_documents": n_documents,
            "n_model_samples": n_model_samples,
            "judge_llm": judge_llm,
            "expand_llm": expand_llm,
            "seed": seed,
            "device": device,
        },
        lora_rank=rank,
        steps={"midtrain": midtrain_steps, "behaviour": behaviour_steps, "concealment": concealment_steps},
        lr={"behaviour": behaviour_lr, "concealment": concealment_lr},
    )
    res = build_organism(spec, out, cfg, stop_after=stop_after, reuse=reuse)
    typer.echo(f"ran {res.ran or 'nothing'}; resumed past {res.skipped or 'nothing'}; folder {res.out}")


@organism_app.command("evaluate")
def evaluate(
    folder: Path = typer.Argument(..., help="A built organism folder."),
    samples_per_prompt: int = typer.Option(1, help="Completions per evaluation prompt."),
    temperature: float = typer.Option(0.0, help="Sampling temperature (0 = greedy)."),
    max_new_tokens: int = typer.Option(96, help="Tokens per completion."),
    ppl_texts: int = typer.Option(64, help="Default-corpus documents for perplexity."),
    ppl_margin: float = typer.Option(
        0.10, help="Capability kept iff organism ppl <= base ppl * (1 + margin)."
    ),
    judge_llm: str = typer.Option(None, help="LLM spec for LLM judges (none: those behaviours are skipped)."),
    device: str = typer.Option("cpu", help="Torch device (cpu, cuda)."),
    config: Path | None = CONFIG,
) -> None:
    """Exploitation per behaviour (organism vs base, Wilson CIs), confession rate, perplexity → eval.json."""
    from auditlens.llm import make_client
    from auditlens.organisms.evaluate import EvalConfig, evaluate_organism
    from auditlens.organisms.report import eval_summary_lines

    cfg = EvalConfig(samples_per_prompt=samples_per_prompt, temperature=temperature, max_new_tokens=max_new_tokens,
                     ppl_texts=ppl_texts, ppl_margin=ppl_margin, device=device)  # fmt: skip
    r = evaluate_organism(folder, cfg, judge_client=make_client(judge_llm) if judge_llm else None)
    for line in eval_summary_lines(r):
        typer.echo(line)
    typer.echo(f"wrote {folder / 'eval.json'}")


@organism_app.command("compare")
def compare(
    folders: list[Path] = typer.Argument(..., help="Evaluated organism folders (each with eval.json)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for comparison.json / .png / .html."),
    label: list[str] = typer.Option([], help="Display name per folder, in order (default: folder names)."),
    config: Path | None = CONFIG,
) -> None:
    """Compare recipe variants: pooled exploitation, confession and perplexity, organism vs base."""
    from auditlens.organisms.compare import compare_organisms, comparison_summary_lines

    comp = compare_organisms(folders, out, label or None)
    for line in comparison_summary_lines(comp):
        typer.echo(line)
    typer.echo(f"report {out / 'comparison.html'}")
