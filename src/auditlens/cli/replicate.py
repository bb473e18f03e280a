"""``auditlens replicate``: the ground-truth lab's replications, each writing JSON, PNGs and an HTML page."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli import app
from auditlens.cli.config_file import CONFIG

replicate_app = typer.Typer(
    help="Reproduce the sparse-coding replications (toy grid, architectures, tiny transformer, probes).",
    no_args_is_help=True,
)
app.add_typer(replicate_app, name="replicate")


def _numbers(values: str, cast: type[float] | type[int] = float) -> list:
    """A comma- or space-separated list of numbers, each read with ``cast`` (float or int)."""
    from auditlens.errors import ConfigError

    try:
        return [cast(v) for v in values.replace(",", " ").split()]
    except ValueError as err:
        kind, example = ("whole numbers", "'2,4,8'") if cast is int else ("numbers", "'0.5,1,2'")
        raise ConfigError(f"cannot read {kind} from {values!r}", hint=f"give e.g. {example}") from err


def _given(**values: object) -> dict[str, object]:
    """The options the user gave (those not None), as config overrides."""
    return {k: v for k, v in values.items() if v is not None}


def _threads(threads: int | None) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)


@replicate_app.command("toy")
def toy(
    out: Path = typer.Option(
        Path("replication/toy"), "--out", "-o", help="Output folder (re-run to resume)."
    ),
    quick: bool = typer.Option(
        False, help="The small CI grid (a few minutes) instead of the seed's (hours)."
    ),
    ratios: str | None = typer.Option(None, help="Override the dictionary ratios, e.g. '0.5,1,2'."),
    coefficients: str | None = typer.Option(None, help="Override the (divided-convention) coefficients."),
    steps: int | None = typer.Option(None, help="Override the training steps per dictionary."),
    convention: list[str] = typer.Option(
        [], help="Only this L1 convention ('divided' or 'undivided'); repeat for both (default)."
    ),
    n_features: int | None = typer.Option(None, help="Override the number of ground-truth features."),
    memory_gib: float | None = typer.Option(None, help="Training memory budget per chunk (GiB)."),
    threads: int | None = typer.Option(None, help="torch threads."),
    device: str = typer.Option("cpu", help="torch device for training, e.g. cuda."),
    tf32: bool = typer.Option(
        False, help="Allow TF32 matrix products on CUDA (faster; recorded in the JSON)."
    ),
    bf16: bool = typer.Option(
        False,
        help="bfloat16 matrix products (float32 weights and optimizer); ~3x faster on CPUs with AVX512-BF16. "
        "A different recipe: use its own --out folder.",
    ),
    estimate_only: bool = typer.Option(False, help="Print the time estimate and stop."),
    config: Path | None = CONFIG,
) -> None:
    """The seed's toy grid (17 coefficients × 8 ratios × 2 L1 conventions, 8,000 steps): heatmaps, JSON, claims."""
    from auditlens.toy.data import ToyDataConfig
    from auditlens.toy.replicate_toy import ToyGridConfig, run_toy_grid
    from auditlens.toy.report import build_report

    base = ToyGridConfig.quick() if quick else ToyGridConfig()
    update = _given(
        ratios=_numbers(ratios) if ratios is not None else None,
        coefficients=_numbers(coefficients) if coefficients is not None else None,
        steps=steps,
        conventions=convention or None,
        memory_budget_gib=memory_gib,
        num_threads=threads,
        device=device,
        tf32=tf32,
        bf16=bf16,
    )
    data = {**base.data.model_dump(), **_given(n_features=n_features)}
    cfg = ToyGridConfig(**{**base.model_dump(), "data": ToyDataConfig(**data), **update})
    if estimate_only:
        from auditlens.toy.replicate_toy import estimate_toy_grid

        typer.echo(estimate_toy_grid(cfg, out if out.exists() else None).summary())
        return
    result = run_toy_grid(cfg, out)
    page = build_report(out, "auditlens: toy-model replication")
    typer.echo(result.summary())
    typer.echo(f"report     {page}")


@replicate_app.command("compare-toy")
def compare_toy(
    a: Path = typer.Argument(..., help="First toy grid: its folder or its toy_grid.json."),
    b: Path = typer.Argument(
        ..., help="Second toy grid (same recipe; machine, precision and axes may differ)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for toy_compare.json and grid_compare.png."),
    threshold: float = typer.Option(0.9, help="MMCS with truth above which a cell recovers the features."),
    config: Path | None = CONFIG,
) -> None:
    """Two toy grids cell by cell: how far apart MMCS, dead counts, L0 and FVU are, and whether the verdicts agree."""
    from auditlens.toy.grid_compare import compare_toy_folders

    cmp, json_path, png = compare_toy_folders(a, b, out, threshold=threshold)
    typer.echo(f"{cmp.summary()}\njson       {json_path}\nplot       {png}")


@replicate_app.command("architectures")
def architectures(
    out: Path = typer.Option(Path("replication/architectures"), "--out", "-o", help="Output folder."),
    quick: bool = typer.Option(False, help="Small data and fewer steps (about a minute or two)."),
    steps: int | None = typer.Option(None, help="Override the training steps."),
    target_l0: float | None = typer.Option(
        None, help="Matched L0 (default: the data's mean active features)."
    ),
    threads: int | None = typer.Option(None, help="torch threads."),
    config: Path | None = CONFIG,
) -> None:
    """TopK, BatchTopK, JumpReLU, Matryoshka and ReLU+L1 on the toy ground truth at matched L0."""
    from auditlens.toy.architectures import ArchitecturesConfig, run_architectures
    from auditlens.toy.report import build_report

    _threads(threads)
    base = ArchitecturesConfig.quick() if quick else ArchitecturesConfig()
    cfg = ArchitecturesConfig(**{**base.model_dump(), **_given(steps=steps, target_l0=target_l0)})
    result = run_architectures(cfg, out)
    typer.echo(result.summary())
    typer.echo(f"report     {build_report(out, 'auditlens: architectures at matched L0')}")


@replicate_app.command("tiny-transformer")
def tiny_transformer(
    out: Path = typer.Option(
        Path("replication/tiny"), "--out", "-o", help="Output folder (re-run to resume)."
    ),
    quick: bool = typer.Option(False, help="A few minutes: short LM training, small store, sizes 2…16×."),
    steps: int | None = typer.Option(None, help="Override the language-model steps."),
    harvest_tokens: int | None = typer.Option(None, help="Override the activation rows harvested."),
    coefficient: float | None = typer.Option(None, help="L1 coefficient for every size (default: searched)."),
    resample_every: int | None = typer.Option(
        None, help="Resample dead latents every N dictionary steps (default: never, as the seed)."
    ),
    ratios: str | None = typer.Option(
        None,
        help="Dictionary sizes as multiples of the MLP width, e.g. '2,4,8,16,32,64,128' (default: 2…64).",
    ),
    sae_steps: int | None = typer.Option(
        None, help="Override the dictionary training steps (default 8,000)."
    ),
    seed: int | None = typer.Option(
        None, help="Seed of the whole run: model init, document order, dictionaries (default 0)."
    ),
    sae_seed: int | None = typer.Option(
        None, help="Seed of the dictionaries only (default: the run's seed); reuses the model and store."
    ),
    source: str = typer.Option("default", help="Text source (default: the offline corpus)."),
    threads: int | None = typer.Option(None, help="torch threads."),
    config: Path | None = CONFIG,
) -> None:
    """Train a nanoGPT-style model, harvest layer-2 MLP activations, sweep dictionary sizes, compare across sizes."""
    from auditlens.toy.report import build_report
    from auditlens.toy.tiny_transformer import TinyTransformerConfig, run_tiny_transformer

    base = TinyTransformerConfig.quick() if quick else TinyTransformerConfig()
    update = _given(
        steps=steps,
        harvest_tokens=harvest_tokens,
        coefficient=coefficient,
        resample_every=resample_every,
        num_threads=threads,
        ratios=_numbers(ratios, int) if ratios is not None else None,
        sae_steps=sae_steps,
        seed=seed,
        sae_seed=sae_seed,
    )
    cfg = TinyTransformerConfig(**{**base.model_dump(), **update})
    result = run_tiny_transformer(cfg, out, source=source)
    typer.echo(result.summary())
    typer.echo(f"report     {build_report(out, 'auditlens: tiny-transformer replication')}")


@replicate_app.command("probes")
def probes(
    out: Path = typer.Option(Path("replication/probes"), "--out", "-o", help="Output folder."),
    quick: bool = typer.Option(False, help="Small grids (about a minute)."),
    config: Path | None = CONFIG,
) -> None:
    """The nonlinearity probes (seed §4) with their claim verdicts."""
    from auditlens.toy.probe_suite import ProbeSuiteConfig, run_probe_suite
    from auditlens.toy.report import build_report

    run_probe_suite(out, ProbeSuiteConfig.quick() if quick else ProbeSuiteConfig())
    typer.echo(f"report     {build_report(out, 'auditlens: nonlinearity probes')}")


@replicate_app.command("report")
def report(
    root: Path = typer.Argument(
        Path("replication"), help="Folder holding replication outputs (searched recursively)."
    ),
    config: Path | None = CONFIG,
) -> None:
    """One HTML page with every claim and plot of the replications found under ROOT."""
    from auditlens.errors import ConfigError
    from auditlens.toy.report import build_report

    if not root.is_dir():
        raise ConfigError(f"{root} is not a folder", hint="run an 'auditlens replicate' command first")
    typer.echo(f"report     {build_report(root)}")
