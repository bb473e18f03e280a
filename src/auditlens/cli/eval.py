"""``auditlens eval``: evaluate a dictionary checkpoint against a store, writing eval.json beside it."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli import app
from auditlens.cli.config_file import CONFIG


@app.command("eval")
def eval_(
    checkpoint: Path = typer.Argument(..., help="Dictionary folder (cfg.json + sae_weights.safetensors)."),
    store: Path = typer.Option(
        ..., "--store", "-s", help="Activation store to draw the evaluation sample from."
    ),
    hook_point: str = typer.Option(None, help="Hook point in the store (needed when it holds several)."),
    model: str = typer.Option(
        None, help="Model spec for spliced next-token metrics (default: the store's model; 'none' to skip)."
    ),
    tokens: int = typer.Option(65_536, help="Activation rows for reconstruction metrics."),
    contexts: int = typer.Option(64, help="Contexts for the spliced CE/KL metrics."),
    compare: list[Path] = typer.Option(
        [], help="Other dictionary folders to compute MMCS against; repeatable."
    ),
    config: Path | None = CONFIG,
) -> None:
    """Evaluate one dictionary: MSE, FVU, L0, dead latents, CE/KL with the reconstruction spliced in, MMCS."""
    from auditlens.activations import ActivationStore
    from auditlens.evals.evaluate import evaluate_dictionary, summary_row
    from auditlens.models import load_model
    from auditlens.pipeline.report import summary_table

    st = ActivationStore.open(store)
    spec = st.model_spec(model)
    hooked = None if spec == "none" else load_model(spec)
    report = evaluate_dictionary(
        checkpoint,
        st,
        hook_point=hook_point,
        model=hooked,
        tokens=tokens,
        contexts=contexts,
        compare=list(compare),
    )
    typer.echo(summary_table([summary_row(report)]))
    for other, c in report.comparisons.items():
        typer.echo(f"MMCS vs {other}: {c.mmcs:.3f} (Hungarian {c.hungarian_mmcs})")
    typer.echo(f"wrote {checkpoint / 'eval.json'}")
