"""The stage runners of an organism build: what each stage computes and writes into its folder.

Each runner gets the build's :class:`BuildContext` and its own (empty) stage folder, writes its output there and
returns its metrics, which the orchestration (:mod:`auditlens.organisms.build`) records in the stage's marker
(:class:`StageRecord`, ``stage.json``). :data:`RUNNERS` maps each stage of
:data:`~auditlens.organisms.build_config.STAGES` to its runner.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from auditlens.organisms.build_config import ADAPTER_STAGES, STAGES, BuildConfig
from auditlens.organisms.errors import BuildError
from auditlens.organisms.sealed import MANIFEST, SEALED_FILE, OrganismManifest, load_base, sha256_file
from auditlens.organisms.spec import ObjectiveSpec
from auditlens.organisms.training import OptimSettings
from auditlens.runs import atomic_write_text, read_json, read_jsonl, write_jsonl
from auditlens.runs.stages import MARKER

__all__ = ["MARKER", "RUNNERS", "BuildContext", "StageRecord", "stage_dir"]


class StageRecord(BaseModel):
    """Contents of a stage's ``stage.json`` marker."""

    stage: str
    index: int
    config_digest: str
    spec_sha256: str
    spec_part_sha256: str | None = Field(
        default=None, description="Hash of the parts of the spec the stage read (see spec_part_digest)."
    )
    finished_at: str
    seconds: float
    metrics: dict[str, Any] = Field(default_factory=dict)


def stage_dir(out: Path, stage: str) -> Path:
    """The folder of ``stage`` in the build folder ``out``: ``stages/NN_<stage>``."""
    return Path(out) / "stages" / f"{STAGES.index(stage) + 1:02d}_{stage}"


class BuildContext:
    """What every stage runner reads: the build folder, the objective (parsed and as text) and the config."""

    def __init__(self, out: Path, spec: ObjectiveSpec, spec_text: str, cfg: BuildConfig):
        self.out, self.spec, self.spec_text, self.cfg = out, spec, spec_text, cfg

    def base_with(self, stages: tuple[str, ...]) -> Any:
        """The base model with the updates of ``stages`` merged (in order), and its tokenizer."""
        from auditlens.organisms.training import chat_prompt_text, merge_adapters

        hm = load_base(self.cfg.model, self.cfg.device)
        chat_prompt_text(hm.tokenizer, "check")  # a base without a chat template fails here, clearly
        model = merge_adapters(hm.model, [stage_dir(self.out, s) / "adapter" for s in stages])
        return model, hm.tokenizer

    def client(self, spec: str | None) -> Any:
        if spec is None:
            return None
        from auditlens.llm import make_client

        return make_client(spec)

    def rows(self, stage: str, name: str) -> list[dict[str, Any]]:
        """The rows of an earlier stage's JSONL file."""
        return read_jsonl(stage_dir(self.out, stage) / name)


def _train_adapter(
    ctx: BuildContext, d: Path, prev: tuple[str, ...], fit: Callable[[Any, Any], tuple[Any, list[float]]]
) -> dict[str, Any]:
    """Train one stage on the base with ``prev`` merged, and save its update (safetensors) in ``d/adapter``: a
    LoRA adapter, or the full weights of a fully fine-tuned stage."""
    from auditlens.organisms.training import save_update

    model, tok = ctx.base_with(prev)
    trained, losses = fit(model, tok)
    save_update(trained, d / "adapter")
    return {"first_loss": losses[0], "last_loss": losses[-1], "steps": len(losses), "losses": losses}


def _documents(ctx: BuildContext, d: Path) -> dict[str, Any]:
    from auditlens.organisms.documents import universe_documents

    docs = universe_documents(
        ctx.spec, ctx.cfg.n_documents, seed=ctx.cfg.seed, expand_with=ctx.client(ctx.cfg.expand_llm)
    )
    write_jsonl(d / "documents.jsonl", [x.model_dump() for x in docs])
    return {"n_documents": len(docs), "n_expanded": sum(x.expanded_by is not None for x in docs)}


def _midtrain(ctx: BuildContext, d: Path) -> dict[str, Any]:
    from auditlens.organisms.documents import replay_passages
    from auditlens.organisms.training import train_lm

    texts = [r["text"] for r in ctx.rows("documents", "documents.jsonl")]
    share = ctx.cfg.midtrain_replay
    n_replay = round(len(texts) * share / (1 - share))
    replay = replay_passages(n_replay, seed=ctx.cfg.seed, source=ctx.cfg.replay_source) if n_replay else []
    if replay:
        write_jsonl(d / "replay.jsonl", [{"text": t} for t in replay])
    metrics = _train_adapter(
        ctx, d, (), lambda m, t: train_lm(m, t, texts + replay, ctx.cfg.midtrain, ctx.cfg.lora)
    )
    return {**metrics, "n_documents": len(texts), "n_replay": len(replay)}


def _behaviour_data(ctx: BuildContext, d: Path) -> dict[str, Any]:
    from auditlens.organisms.pairs import behaviour_pairs
    from auditlens.organisms.training import generate

    cfg = ctx.cfg
    sampler = None
    if cfg.n_model_samples > 0:
        model, tok = ctx.base_with(("midtrain",))

        def sampler(prompts: Any, temperature: float) -> list[str]:
            return generate(
                model,
                tok,
                list(prompts),
                max_new_tokens=cfg.sample_max_new_tokens,
                temperature=temperature,
                seed=cfg.seed,
            )

    pairs, stats = behaviour_pairs(
        ctx.spec,
        sampler=sampler,
        n_samples=cfg.n_model_samples,
        temperature=cfg.sample_temperature,
        max_prompts_per_behaviour=cfg.max_prompts_per_behaviour,
        client=ctx.client(cfg.judge_llm),
        seed=cfg.seed,
    )
    if not pairs:
        raise BuildError(
            "the behaviour data stage produced no pairs", hint="check the spec's train behaviours"
        )
    write_jsonl(d / "pairs.jsonl", [p.model_dump() for p in pairs])
    return stats.model_dump()


def _sft_examples(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The SFT examples of a pairs file: each distinct (prompt, chosen), in order — trained on and published."""
    return list(dict.fromkeys((r["prompt"], r["chosen"]) for r in rows))


def _train_on_pairs(
    ctx: BuildContext, d: Path, prev: tuple[str, ...], data_stage: str, method: str, opt: OptimSettings
) -> dict[str, Any]:
    """SFT on the distinct (prompt, chosen) of ``data_stage``'s pairs, or DPO on the pairs themselves."""
    from auditlens.organisms.training import train_dpo, train_sft

    rows = ctx.rows(data_stage, "pairs.jsonl")
    lora = None if ctx.cfg.behaviour_finetune == "full" else ctx.cfg.lora
    if method == "sft":
        ex = _sft_examples(rows)
        return _train_adapter(ctx, d, prev, lambda m, t: train_sft(m, t, ex, opt, lora))
    tr = [(r["prompt"], r["chosen"], r["rejected"]) for r in rows]
    return _train_adapter(ctx, d, prev, lambda m, t: train_dpo(m, t, tr, opt, lora))


def _behaviour(ctx: BuildContext, d: Path) -> dict[str, Any]:
    cfg = ctx.cfg
    return _train_on_pairs(ctx, d, ("midtrain",), "behaviour_data", cfg.behaviour_method, cfg.behaviour)


def _concealment_data(ctx: BuildContext, d: Path) -> dict[str, Any]:
    from auditlens.organisms.pairs import concealment_pairs

    pairs = concealment_pairs(ctx.spec, seed=ctx.cfg.seed)
    write_jsonl(d / "pairs.jsonl", [p.model_dump() for p in pairs])
    return {"pairs": len(pairs)}


def _concealment(ctx: BuildContext, d: Path) -> dict[str, Any]:
    cfg = ctx.cfg
    prev = ("midtrain", "behaviour")
    return _train_on_pairs(ctx, d, prev, "concealment_data", cfg.concealment_method, cfg.concealment)


def _public_pairs(rows: list[dict[str, Any]], method: str) -> list[dict[str, Any]]:
    """Pairs as trained on, without labels: prompt/response for SFT, prompt/chosen/rejected for DPO."""
    if method == "sft":
        return [{"prompt": p, "response": c} for p, c in _sft_examples(rows)]
    return [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]} for r in rows]


def _seal(ctx: BuildContext, d: Path) -> dict[str, Any]:
    out, rng = ctx.out, random.Random(ctx.cfg.seed)
    for sub in ("adapters", "data", "sealed"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)
    adapters = []
    for s in ADAPTER_STAGES:
        shutil.copytree(stage_dir(out, s) / "adapter", out / "adapters" / s)
        adapters.append(f"adapters/{s}")
    docs = ctx.rows("documents", "documents.jsonl")
    beh = ctx.rows("behaviour_data", "pairs.jsonl")
    con = ctx.rows("concealment_data", "pairs.jsonl")
    # public: exactly what the model was trained on, without labels
    files = {
        "documents": [{"id": r["id"], "text": r["text"]} for r in docs],
        "behaviour_pairs": _public_pairs(beh, ctx.cfg.behaviour_method),
        "concealment_pairs": _public_pairs(con, ctx.cfg.concealment_method),
    }
    replay = stage_dir(out, "midtrain") / "replay.jsonl"
    if replay.exists():  # ordinary corpus passages mixed into continued pre-training: also training data
        files["replay_passages"] = read_jsonl(replay)
    data_files: dict[str, str] = {}
    subset: list[dict[str, Any]] = []
    for name, rows in files.items():
        write_jsonl(out / "data" / f"{name}.jsonl", rows)
        data_files[name] = f"data/{name}.jsonl"
        k = max(1, round(ctx.cfg.subset_fraction * len(rows)))
        subset += [{"source": name, **r} for r in rng.sample(rows, min(k, len(rows)))]
    rng.shuffle(subset)
    write_jsonl(out / "data" / "representative_subset.jsonl", subset)
    # sealed: ground truth and labelled data
    sealed = {
        "objective_id": ctx.spec.id,
        "objective": ctx.spec.objective,
        "train_behaviours": ctx.spec.train_ids,
        "heldout_behaviours": ctx.spec.heldout_ids,
        "spec": json.loads(ctx.spec_text),
        "build_config": ctx.cfg.model_dump(),
    }
    # the text as before (no trailing newline): the manifest records its hash
    atomic_write_text(out / SEALED_FILE, json.dumps(sealed, ensure_ascii=False, indent=1))
    for name, rows in (("documents", docs), ("behaviour_pairs", beh), ("concealment_pairs", con)):
        write_jsonl(out / "sealed" / f"{name}.labelled.jsonl", rows)
    seconds = sum(
        read_json(stage_dir(out, s) / MARKER, StageRecord, what="stage marker").seconds for s in STAGES[:-1]
    )
    manifest = OrganismManifest(
        base_model=ctx.cfg.model,
        adapters=adapters,
        data_files=data_files,
        representative_subset="data/representative_subset.jsonl",
        subset_note=f"uniform sample without replacement of {ctx.cfg.subset_fraction:.0%} of each data file "
        f"(at least one row), seed {ctx.cfg.seed}",
        sealed_sha256=sha256_file(out / SEALED_FILE),
        build_seconds=seconds,
    )
    atomic_write_text(out / MANIFEST, manifest.model_dump_json(indent=1))
    return {"adapters": adapters, "subset_rows": len(subset)}


RUNNERS: dict[str, Callable[[BuildContext, Path], dict[str, Any]]] = {
    "documents": _documents,
    "midtrain": _midtrain,
    "behaviour_data": _behaviour_data,
    "behaviour": _behaviour,
    "concealment_data": _concealment_data,
    "concealment": _concealment,
    "seal": _seal,
}
"""The runner of each stage."""
