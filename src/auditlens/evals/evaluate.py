"""Evaluate a saved dictionary against an activation store (and the model), writing ``eval.json`` beside it."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import torch
from pydantic import BaseModel, Field

from auditlens.activations import ActivationStore
from auditlens.activations.filters import DEFAULT_MAX_NORM_FACTOR
from auditlens.errors import DataError
from auditlens.evals.downstream import DownstreamMetrics, evaluate_downstream
from auditlens.evals.mmcs import DictionaryComparison, compare_dictionaries
from auditlens.evals.reconstruction import ReconstructionMetrics, evaluate_reconstruction
from auditlens.models import HookedModel
from auditlens.runs.io import read_json, write_json
from auditlens.sae import Dictionary, load_dictionary

EVAL_FILENAME = "eval.json"


class EvalReport(BaseModel):
    """All evaluations of one dictionary; saved as ``eval.json`` beside its checkpoint."""

    checkpoint: str = Field(description="Folder of the evaluated dictionary.")
    architecture: str
    d_in: int
    d_sae: int
    store: str = Field(description="Activation store the sample came from.")
    store_id: str
    hook_point: str
    max_norm_factor: float | None = Field(
        description="Rows with norm above this × the store's median norm were left out (and kept clean when "
        "splicing); None: none left out. Special tokens are always left out."
    )
    created_at: str
    reconstruction: ReconstructionMetrics
    downstream: DownstreamMetrics | None = Field(
        default=None, description="Spliced next-token metrics; None when the model was not run."
    )
    comparisons: dict[str, DictionaryComparison] = Field(
        default_factory=dict, description="MMCS against other dictionaries, keyed by their folder."
    )


def decoder_directions(dictionary: Dictionary, member: int = 0) -> torch.Tensor:
    """Decoder rows ``(d_sae, d_in)`` of one member (the feature directions)."""
    return dictionary.saelens_state(member)[1]["W_dec"].detach().float()


def eval_batches(
    store: ActivationStore,
    hook_point: str,
    tokens: int,
    batch_size: int = 4096,
    max_norm_factor: float | None = DEFAULT_MAX_NORM_FACTOR,
) -> list[torch.Tensor]:
    """A fixed, shuffled evaluation sample of ``tokens`` rows (seed 12345, so it is the same every time)."""
    out, n = [], 0
    batches = store.batches(
        batch_size, hook_point=hook_point, seed=12345, epochs=1, max_norm_factor=max_norm_factor
    )
    for b in batches:
        out.append(b[: tokens - n])
        n += out[-1].shape[0]
        if n >= tokens:
            break
    return out


def eval_contexts(store: ActivationStore, n_contexts: int, batch_contexts: int = 8) -> list[torch.Tensor]:
    """The last ``n_contexts`` stored contexts, in batches (token ids only)."""
    rows: list[torch.Tensor] = []
    for shard in reversed(store.manifest.shards):
        rows.insert(0, store.read_tokens(shard.index))
        if sum(r.shape[0] for r in rows) >= n_contexts:
            break
    tokens = torch.cat(rows)[-n_contexts:]
    return list(tokens.split(batch_contexts))


def evaluate_dictionary(
    checkpoint: str | Path,
    store: ActivationStore,
    *,
    hook_point: str | None = None,
    model: HookedModel | None = None,
    tokens: int = 65_536,
    contexts: int = 64,
    compare: list[str | Path] | None = None,
    max_norm_factor: float | None = DEFAULT_MAX_NORM_FACTOR,
    write: bool = True,
    progress: bool = True,
) -> EvalReport:
    """Evaluate one dictionary folder; with ``model`` also splice it in and score next-token loss."""
    checkpoint = Path(checkpoint)
    hp = hook_point or store.resolve_hook_point(None)
    dictionary = load_dictionary(checkpoint, expected_d_in=store.d_in(hp))
    recon = evaluate_reconstruction(
        dictionary, eval_batches(store, hp, tokens, max_norm_factor=max_norm_factor)
    )[0]
    downstream = None
    if model is not None:
        if model.weights_hash and store.manifest.model.weights_sha256 not in (None, model.weights_hash):
            raise DataError(
                f"the store at {store.path} was harvested from another model ({store.manifest.model.id})",
                hint="evaluate with the model the store was harvested from",
            )
        downstream = evaluate_downstream(
            model,
            hp,
            dictionary,
            eval_contexts(store, contexts),
            special_token_ids=store.manifest.special_token_ids,
            max_norm=None if max_norm_factor is None else max_norm_factor * store.norm_median(hp),
            progress=progress,
        )[0]
    comparisons = {}
    for other in compare or []:
        b = load_dictionary(other, expected_d_in=dictionary.d_in)
        comparisons[str(other)] = compare_dictionaries(
            decoder_directions(dictionary),
            decoder_directions(b),
            hungarian=max(dictionary.d_sae, b.d_sae) <= 8192,
        )
    report = EvalReport(
        checkpoint=str(checkpoint),
        architecture=dictionary.architecture,
        d_in=dictionary.d_in,
        d_sae=dictionary.d_sae,
        store=str(store.path),
        store_id=store.store_id,
        hook_point=hp,
        max_norm_factor=max_norm_factor,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        reconstruction=recon,
        downstream=downstream,
        comparisons=comparisons,
    )
    if write:
        write_json(checkpoint / EVAL_FILENAME, report)
    return report


def summary_row(report: EvalReport) -> dict[str, float | str | int]:
    """The headline numbers of a report, for tables."""
    d = report.downstream
    return {
        "dictionary": Path(report.checkpoint).name,
        "architecture": report.architecture,
        "d_sae": report.d_sae,
        "l0": report.reconstruction.l0.value,
        "fvu": report.reconstruction.fvu.value,
        "dead_fraction": report.reconstruction.dead_fraction,
        "loss_recovered": d.loss_recovered.value if d else math.nan,
        "ce_increase": d.ce_increase.value if d else math.nan,
        "kl": d.kl_clean_spliced.value if d else math.nan,
    }


def load_report(checkpoint: str | Path) -> EvalReport:
    return read_json(Path(checkpoint) / EVAL_FILENAME, EvalReport, what="evaluation report")
