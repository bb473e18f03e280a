"""``auditlens train``: activation store → dictionaries (also under ``torchrun``)."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli import app
from auditlens.cli.config_file import CONFIG


@app.command()
def train(
    store: Path = typer.Argument(..., help="Activation store folder (from `auditlens harvest`)."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output folder: checkpoints/ and one folder per dictionary."
    ),
    dictionary: list[str] = typer.Option(
        ...,
        "--dict",
        "-d",
        help="A dictionary to train, as ARCH:field=value,...; repeat for several (trained from one read of "
        "the data). E.g. topk:d_sae=4608,k=32  relu_l1_untied:d_sae=4608,coefficient=3e-3  "
        "batchtopk:d_sae=4608,k=32  jumprelu:d_sae=4608,coefficient=1e-3. d_in comes from the store.",
    ),
    hook_point: str = typer.Option(None, help="Hook point in the store (needed when it holds several)."),
    batch_size: int = typer.Option(4096, help="Activation rows per (global) training step."),
    epochs: float = typer.Option(1.0, help="Passes over the store (ignored when --steps is given)."),
    steps: int = typer.Option(None, help="Training steps (global batches)."),
    lr: float = typer.Option(None, help="Adam learning rate (default: per architecture)."),
    seed: int = typer.Option(0, help="Seed of data order and initialisation."),
    checkpoint_every: int = typer.Option(None, help="Checkpoint every N steps (default: 8 per run)."),
    b_dec_init: str = typer.Option(
        "geometric_median",
        help="Decoder-bias init from the data: geometric_median (exact on one process) or mean.",
    ),
    config: Path | None = CONFIG,
) -> None:
    """Train one or more sparse dictionaries on a store; re-running resumes from the last checkpoint.

    Data parallel: `torchrun --nproc_per_node=N -m auditlens train ...` splits every batch over N processes.
    """
    from auditlens.activations import ActivationStore
    from auditlens.pipeline.train import parse_dictionary_spec, train_on_store

    st = ActivationStore.open(store)
    hp = st.resolve_hook_point(hook_point)
    configs = [parse_dictionary_spec(spec, st.d_in(hp)) for spec in dictionary]
    extra: dict[str, object] = {"b_dec_init": b_dec_init}
    if lr is not None:
        extra["lr"] = lr
    outcome = train_on_store(
        st, configs, out, hook_point=hp, batch_size=batch_size, epochs=epochs, steps=steps, seed=seed,
        checkpoint_every=checkpoint_every, **extra,
    )  # fmt: skip
    if outcome.result is None:
        typer.echo("every dictionary already exists; nothing to train")
    else:
        r = outcome.result
        typer.echo(
            f"trained {r.steps} steps on {r.tokens:,} rows at {r.activations_per_second:,.0f} activations/s"
        )
        for m in r.members:
            typer.echo(f"  {m.name:28s} L0 {m.l0:8.2f}  FVU {m.fvu:.4f}  dead {m.dead_fraction:.1%}")
    for path in outcome.dictionaries:
        typer.echo(f"wrote {path}")
