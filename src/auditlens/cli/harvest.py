"""``auditlens harvest``: corpus → model → activation store (resumable)."""

from __future__ import annotations

from pathlib import Path

import typer

from auditlens.cli import app
from auditlens.cli.config_file import CONFIG


def print_store_summary(manifest: object, out: Path) -> None:
    """Print what a harvest produced: rows, hook points, timing, packing statistics."""
    from auditlens.activations import StoreManifest

    assert isinstance(manifest, StoreManifest)
    share = manifest.forward_seconds / manifest.wall_seconds if manifest.wall_seconds else 0.0
    tokens = manifest.rows
    rate = tokens / manifest.wall_seconds if manifest.wall_seconds else 0.0
    typer.echo(f"store      {out}  ({manifest.status}, run {manifest.run_id})")
    typer.echo(f"model      {manifest.model.id}  weights sha256 {str(manifest.model.weights_sha256)[:16]}…")
    for hp, d in manifest.hook_points.items():
        typer.echo(f"hook point {hp}  d_in={d}")
    typer.echo(
        f"rows       {tokens:,} tokens in {manifest.contexts:,} contexts of {manifest.context_length}, "
        f"{len(manifest.shards)} shards, {manifest.dtype}"
    )
    typer.echo(
        f"time       {manifest.wall_seconds:.1f} s ({rate:,.0f} tokens/s), {share:.0%} in the model's forward pass"
    )
    p = manifest.packing
    typer.echo(
        f"packing    policy {p.get('policy')}, {p.get('documents', 0):,} documents, truncated tokens "
        f"{p.get('truncated_tokens', 0):,}, dropped tail tokens {p.get('dropped_tail_tokens', 0):,}"
    )


@app.command()
def harvest(
    out: Path = typer.Option(..., "--out", "-o", help="Output folder of the activation store."),
    model: str = typer.Option(
        "smollm2-135m-instruct",
        help="Model spec: the embedded default, an HF folder, a .gguf file or a hub id.",
    ),
    hook_point: list[str] = typer.Option(
        ["blocks.9.resid_post"], "--hook-point", "-p", help="Hook point to capture; repeat for several."
    ),
    tokens: int = typer.Option(1_000_000, help="Token budget (rounded up to whole contexts)."),
    context_length: int = typer.Option(128, help="Tokens per context, start token included."),
    batch_size: int = typer.Option(32, help="Contexts per forward pass."),
    dtype: str = typer.Option("float16", help="Storage dtype: float16 or bfloat16."),
    source: str = typer.Option(
        "default", help="Text source: default, a file, folder, glob, .jsonl, .parquet, or hf:<dataset>."
    ),
    text_field: str = typer.Option("text", help="Field (jsonl) or column (parquet) holding the text."),
    shard_tokens: int = typer.Option(65_536, help="Approximate rows per shard file."),
    seed: int = typer.Option(0, help="Seed of the document order."),
    overwrite: bool = typer.Option(False, help="Replace a store in --out that holds a different run."),
    config: Path | None = CONFIG,
) -> None:
    """Harvest activations at one or more hook points into a sharded safetensors store.

    Re-running the same command after an interruption resumes where it stopped; a larger --tokens extends
    a finished store.
    """
    from auditlens.activations import HarvestConfig
    from auditlens.activations import harvest as run_harvest

    cfg = HarvestConfig(
        model=model,
        hook_points=hook_point,
        source=source,
        text_field=text_field,
        tokens=tokens,
        context_length=context_length,
        batch_size=batch_size,
        dtype=dtype,  # type: ignore[arg-type]
        shard_tokens=shard_tokens,
        seed=seed,
        out=out,
    )
    manifest = run_harvest(cfg, overwrite=overwrite)
    print_store_summary(manifest, out)
