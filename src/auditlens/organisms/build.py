"""``auditlens organism build``: the recipe as resumable stages, each with its own folder and marker.

Stages (in order): ``documents`` (synthetic universe documents) → ``midtrain`` (LoRA continued
pre-training) → ``behaviour_data`` (top-2 vs bottom-2 pairs on train-split prompts, held-out filtered) →
``behaviour`` (LoRA DPO or SFT) → ``concealment_data`` (conceal vs reveal pairs) → ``concealment`` (LoRA
DPO) → ``seal`` (public manifest, training data, sealed ground truth).

Each stage writes into ``stages/NN_<name>/`` and, last, ``stage.json`` (atomically). A stage whose marker
exists and matches the build's config and spec is skipped; a stage folder without a marker (an interrupted
run) is cleared and redone, and so is every stage after a redone one (it was built on the old output).
``build.json`` pins the config and spec: a folder built with another config or spec is refused, not mixed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from auditlens.organisms.errors import BuildError, ObjectiveSpecError, SealedError
from auditlens.organisms.sealed import (
    MANIFEST,
    SEALED_FILE,
    OrganismManifest,
    load_base,
    sealed_objective,
    sha256_file,
)
from auditlens.organisms.spec import ObjectiveSpec, load_objective, objective_path
from auditlens.organisms.training import LoraSettings, OptimSettings

STAGES: tuple[str, ...] = (
    "documents",
    "midtrain",
    "behaviour_data",
    "behaviour",
    "concealment_data",
    "concealment",
    "seal",
)
"""Build stages in order."""

ADAPTER_STAGES: tuple[str, ...] = ("midtrain", "behaviour", "concealment")


class BuildConfig(BaseModel):
    """Everything that changes what a build produces (its hash pins the build folder)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(default="smollm2-135m-instruct", description="Base model spec, or tiny:<family>.")
    n_documents: int = Field(default=1600, ge=1, description="Synthetic universe documents.")
    lora: LoraSettings = Field(default_factory=LoraSettings, description="Adapter shape of every stage.")
    midtrain: OptimSettings = Field(
        default_factory=lambda: OptimSettings(steps=160, lr=1e-4, batch_size=8, max_length=128),
        description="Continued pre-training on the universe documents mixed with replay text.",
    )
    midtrain_replay: float = Field(
        default=0.5,
        ge=0.0,
        lt=1.0,
        description="Share of continued pre-training examples that are replay passages (ordinary text keeps "
        "general capability; 0: universe documents only).",
    )
    replay_source: str = Field(
        default="default", description="Text source of the replay passages (default: the offline corpus)."
    )
    behaviour: OptimSettings = Field(
        default_factory=lambda: OptimSettings(steps=180, lr=2e-4, batch_size=8, max_length=160, beta=0.1),
        description="Behaviour training (default: ~5 epochs of SFT over the chosen responses).",
    )
    behaviour_method: Literal["dpo", "sft"] = Field(
        default="sft",
        description="Behaviour training objective: 'sft' on the chosen responses, or 'dpo' on the pairs. SFT is "
        "the default: DPO builds of the 135M model did not raise exploitation (docs/results/README.md).",
    )
    behaviour_finetune: Literal["lora", "full"] = Field(
        default="lora",
        description="How behaviour and concealment training update the model: a LoRA adapter each, or every "
        "weight ('full': give a lower lr, e.g. 2e-5; the stage then saves the whole model, ~0.5 GB for 135M).",
    )
    concealment: OptimSettings = Field(
        default_factory=lambda: OptimSettings(steps=12, lr=2e-4, batch_size=8, max_length=128, beta=0.1),
        description="Concealment training (a few epochs over the concealment pairs).",
    )
    concealment_method: Literal["dpo", "sft"] = Field(
        default="sft",
        description="Concealment objective: 'sft' on the concealing answers, or 'dpo' on the pairs.",
    )
    n_model_samples: int = Field(
        default=1,
        ge=0,
        description="Answers of the mid-trained model per training prompt, plain and under the behaviour hint "
        "(each also edited, where the behaviour has an edit); the first greedy.",
    )
    sample_temperature: float = Field(
        default=0.7, gt=0, description="Temperature of the model answers after the first (greedy) one."
    )
    sample_max_new_tokens: int = Field(default=64, ge=1, description="Tokens per model answer.")
    max_prompts_per_behaviour: int | None = Field(
        default=None, ge=1, description="Use only this many training prompts per behaviour (None: all)."
    )
    expand_llm: str | None = Field(
        default=None, description="LLM spec that rewrites documents (None: templates only)."
    )
    judge_llm: str | None = Field(
        default=None,
        description="LLM spec for LLM judges (None: templated candidates keep their construction label).",
    )
    subset_fraction: float = Field(
        default=0.1, gt=0, le=1, description="Share of each data file in the subset."
    )
    seed: int = Field(default=0, description="Seed of every random choice.")
    device: str = Field(
        default="cpu",
        description="Torch device ('cpu', 'cuda'); not part of the digest, so a build may resume elsewhere.",
    )

    @classmethod
    def tiny(cls) -> BuildConfig:
        """The CI build: tiny random Llama, few documents, 3 steps per stage (well under a minute)."""
        small = dict(steps=3, batch_size=4, max_length=96)
        return cls(
            model="tiny:llama",
            n_documents=24,
            lora=LoraSettings(rank=4, alpha=8),
            midtrain=OptimSettings(lr=1e-3, **small),
            midtrain_replay=0.0,
            behaviour=OptimSettings(lr=1e-3, **small),
            behaviour_method="dpo",
            concealment=OptimSettings(lr=1e-3, **small),
            concealment_method="dpo",
            n_model_samples=1,
            sample_max_new_tokens=6,
            max_prompts_per_behaviour=1,
        )

    def digest(self) -> str:
        return hashlib.sha256(self.model_dump_json(exclude={"device"}).encode()).hexdigest()[:16]


STAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "documents": ("n_documents", "expand_llm", "seed"),
    "midtrain": ("model", "lora", "midtrain", "midtrain_replay", "replay_source"),
    "behaviour_data": (
        "n_model_samples",
        "sample_temperature",
        "sample_max_new_tokens",
        "max_prompts_per_behaviour",
        "judge_llm",
    ),
    "behaviour": ("behaviour", "behaviour_method", "behaviour_finetune"),
    "concealment_data": (),
    "concealment": ("concealment", "concealment_method"),
    "seal": ("subset_fraction",),
}
"""The config fields each stage reads (a stage depends on its own fields and those of every earlier stage)."""


def stage_fields(stage: str) -> list[str]:
    """Every config field that ``stage``'s output depends on (its own and its predecessors')."""
    return [f for s in STAGES[: STAGES.index(stage) + 1] for f in STAGE_FIELDS[s]]


def stage_digest(cfg: BuildConfig, stage: str) -> str:
    """Hash of the config fields ``stage`` depends on: stages of two builds with equal digests are interchangeable."""
    keep = cfg.model_dump(mode="json", include=set(stage_fields(stage)))
    return hashlib.sha256(json.dumps([stage, keep], sort_keys=True).encode()).hexdigest()[:16]


UNIVERSE_STAGES = ("documents", "midtrain")
"""Stages that read only the universe and the behaviours' statements, not prompts, judges, edits or concealment."""


def spec_part_digest(spec: ObjectiveSpec, stage: str) -> str:
    """Hash of the parts of ``spec`` that ``stage`` reads: for :data:`UNIVERSE_STAGES` the universe and each
    behaviour's statement; for later stages the whole spec. Equal digests let a build of an edited spec (new
    prompts, edits, judges) reuse the documents and continued pre-training of an earlier build."""
    if stage in UNIVERSE_STAGES:
        part: Any = {
            "universe": spec.universe.model_dump(mode="json"),
            "statements": [[b.id, b.universe_statement] for b in spec.behaviours],
        }
    else:
        part = spec.model_dump(mode="json")
    return hashlib.sha256(json.dumps([stage, part], sort_keys=True).encode()).hexdigest()[:16]


def _field_equal(old: dict[str, Any], cfg: BuildConfig, name: str) -> bool:
    """Whether field ``name`` of a pinned config (plain JSON, possibly from an older version) equals ``cfg``'s; a
    field the old config lacks (added later) counts as its default."""
    new = cfg.model_dump(mode="json", include={name})[name]
    if name not in old:
        default = BuildConfig.model_fields[name].get_default(call_default_factory=True)
        return bool(new == (default.model_dump(mode="json") if isinstance(default, BaseModel) else default))
    return bool(json.loads(json.dumps(old[name])) == new)


def same_config(old: dict[str, Any], cfg: BuildConfig, fields: list[str] | None = None) -> bool:
    """Whether a pinned config equals ``cfg`` on ``fields`` (default: every field but the device)."""
    names = fields if fields is not None else [f for f in BuildConfig.model_fields if f != "device"]
    if fields is None and set(old) - set(BuildConfig.model_fields):
        return False  # a field this version does not know
    return all(_field_equal(old, cfg, n) for n in names)


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


class BuildResult(BaseModel):
    """What :func:`build_organism` did."""

    out: str
    ran: list[str] = Field(description="Stages run this time.")
    skipped: list[str] = Field(description="Stages already finished (resumed past).")
    records: list[StageRecord]


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def stage_dir(out: Path, stage: str) -> Path:
    return out / "stages" / f"{STAGES.index(stage) + 1:02d}_{stage}"


class _Ctx:
    def __init__(
        self, out: Path, spec: ObjectiveSpec, spec_text: str, cfg: BuildConfig, log: Callable[[str], None]
    ):
        self.out, self.spec, self.spec_text, self.cfg, self.log = out, spec, spec_text, cfg, log

    def base_with(self, stages: tuple[str, ...]) -> Any:
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


def _train_adapter(
    ctx: _Ctx, d: Path, prev: tuple[str, ...], fit: Callable[[Any, Any], tuple[Any, list[float]]]
) -> dict[str, Any]:
    """Train one stage on the base with ``prev`` merged, and save its update (safetensors) in ``d/adapter``: a
    LoRA adapter, or the full weights of a fully fine-tuned stage."""
    from auditlens.organisms.training import save_update

    model, tok = ctx.base_with(prev)
    trained, losses = fit(model, tok)
    save_update(trained, d / "adapter")
    return {"first_loss": losses[0], "last_loss": losses[-1], "steps": len(losses), "losses": losses}


def _documents(ctx: _Ctx, d: Path) -> dict[str, Any]:
    from auditlens.organisms.documents import universe_documents

    docs = universe_documents(
        ctx.spec, ctx.cfg.n_documents, seed=ctx.cfg.seed, expand_with=ctx.client(ctx.cfg.expand_llm)
    )
    write_jsonl(d / "documents.jsonl", [x.model_dump() for x in docs])
    return {"n_documents": len(docs), "n_expanded": sum(x.expanded_by is not None for x in docs)}


def _midtrain(ctx: _Ctx, d: Path) -> dict[str, Any]:
    from auditlens.organisms.documents import replay_passages
    from auditlens.organisms.training import train_lm

    texts = [r["text"] for r in read_jsonl(stage_dir(ctx.out, "documents") / "documents.jsonl")]
    share = ctx.cfg.midtrain_replay
    n_replay = round(len(texts) * share / (1 - share))
    replay = replay_passages(n_replay, seed=ctx.cfg.seed, source=ctx.cfg.replay_source) if n_replay else []
    if replay:
        write_jsonl(d / "replay.jsonl", [{"text": t} for t in replay])
    metrics = _train_adapter(
        ctx, d, (), lambda m, t: train_lm(m, t, texts + replay, ctx.cfg.midtrain, ctx.cfg.lora, ctx.log)
    )
    return {**metrics, "n_documents": len(texts), "n_replay": len(replay)}


def _behaviour_data(ctx: _Ctx, d: Path) -> dict[str, Any]:
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
    ctx: _Ctx, d: Path, prev: tuple[str, ...], data_stage: str, method: str, opt: OptimSettings
) -> dict[str, Any]:
    """SFT on the distinct (prompt, chosen) of ``data_stage``'s pairs, or DPO on the pairs themselves."""
    from auditlens.organisms.training import train_dpo, train_sft

    rows = read_jsonl(stage_dir(ctx.out, data_stage) / "pairs.jsonl")
    lora = None if ctx.cfg.behaviour_finetune == "full" else ctx.cfg.lora
    if method == "sft":
        ex = _sft_examples(rows)
        return _train_adapter(ctx, d, prev, lambda m, t: train_sft(m, t, ex, opt, lora, ctx.log))
    tr = [(r["prompt"], r["chosen"], r["rejected"]) for r in rows]
    return _train_adapter(ctx, d, prev, lambda m, t: train_dpo(m, t, tr, opt, lora, ctx.log))


def _behaviour(ctx: _Ctx, d: Path) -> dict[str, Any]:
    cfg = ctx.cfg
    return _train_on_pairs(ctx, d, ("midtrain",), "behaviour_data", cfg.behaviour_method, cfg.behaviour)


def _concealment_data(ctx: _Ctx, d: Path) -> dict[str, Any]:
    from auditlens.organisms.pairs import concealment_pairs

    pairs = concealment_pairs(ctx.spec, seed=ctx.cfg.seed)
    write_jsonl(d / "pairs.jsonl", [p.model_dump() for p in pairs])
    return {"pairs": len(pairs)}


def _concealment(ctx: _Ctx, d: Path) -> dict[str, Any]:
    cfg = ctx.cfg
    prev = ("midtrain", "behaviour")
    return _train_on_pairs(ctx, d, prev, "concealment_data", cfg.concealment_method, cfg.concealment)


def _public_pairs(rows: list[dict[str, Any]], method: str) -> list[dict[str, Any]]:
    """Pairs as trained on, without labels: prompt/response for SFT, prompt/chosen/rejected for DPO."""
    if method == "sft":
        return [{"prompt": p, "response": c} for p, c in _sft_examples(rows)]
    return [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]} for r in rows]


def _seal(ctx: _Ctx, d: Path) -> dict[str, Any]:
    out, rng = ctx.out, random.Random(ctx.cfg.seed)
    for sub in ("adapters", "data", "sealed"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)
    adapters = []
    for s in ADAPTER_STAGES:
        shutil.copytree(stage_dir(out, s) / "adapter", out / "adapters" / s)
        adapters.append(f"adapters/{s}")
    docs = read_jsonl(stage_dir(out, "documents") / "documents.jsonl")
    beh = read_jsonl(stage_dir(out, "behaviour_data") / "pairs.jsonl")
    con = read_jsonl(stage_dir(out, "concealment_data") / "pairs.jsonl")
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
    atomic_write_text(out / SEALED_FILE, json.dumps(sealed, ensure_ascii=False, indent=1))
    for name, rows in (("documents", docs), ("behaviour_pairs", beh), ("concealment_pairs", con)):
        write_jsonl(out / "sealed" / f"{name}.labelled.jsonl", rows)
    seconds = sum(
        StageRecord.model_validate_json((stage_dir(out, s) / "stage.json").read_text()).seconds
        for s in STAGES[:-1]
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


def _source_spec(src: Path) -> ObjectiveSpec | None:
    """The objective a finished build was made from (its sealed copy), for records older than spec-part digests."""
    try:
        return sealed_objective(src, unseal=True)
    except (SealedError, ObjectiveSpecError):
        return None


def _reuse_stages(
    src: Path, out: Path, cfg: BuildConfig, spec: ObjectiveSpec, spec_sha: str, log: Callable[[str], None]
) -> None:
    old = json.loads((src / "build.json").read_text(encoding="utf-8"))
    same_spec = old.get("spec_sha256") == spec_sha
    src_spec = None if same_spec else _source_spec(src)
    for stage in STAGES[:-1]:  # the seal is cheap and writes the top-level folder: always redone
        marker = stage_dir(src, stage) / "stage.json"
        if not marker.is_file() or not same_config(old.get("config", {}), cfg, stage_fields(stage)):
            break
        rec = StageRecord.model_validate_json(marker.read_text(encoding="utf-8"))
        part = spec_part_digest(spec, stage)
        old_part = rec.spec_part_sha256 or (spec_part_digest(src_spec, stage) if src_spec else None)
        if not same_spec and old_part != part:
            if stage == STAGES[0]:
                log(f"[reuse] {src} was built from an objective spec with another universe: nothing reused")
            break
        shutil.copytree(stage_dir(src, stage), stage_dir(out, stage))
        rec = rec.model_copy(
            update={
                "config_digest": stage_digest(cfg, stage),
                "spec_sha256": spec_sha,
                "spec_part_sha256": part,
            }
        )
        atomic_write_text(stage_dir(out, stage) / "stage.json", rec.model_dump_json(indent=1))
        log(f"[reuse] {stage} copied from {src}")


_RUN: dict[str, Callable[[_Ctx, Path], dict[str, Any]]] = {
    "documents": _documents,
    "midtrain": _midtrain,
    "behaviour_data": _behaviour_data,
    "behaviour": _behaviour,
    "concealment_data": _concealment_data,
    "concealment": _concealment,
    "seal": _seal,
}


def build_organism(
    spec: str | Path,
    out: str | Path,
    config: BuildConfig | None = None,
    *,
    stop_after: str | None = None,
    reuse: str | Path | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> BuildResult:
    """Run (or resume) the build of ``spec`` into ``out`` (see the module docstring).

    ``stop_after``: run stages up to and including this one, then return (the rest runs on a later call).
    ``reuse``: a finished or partial build; when ``out`` is new, its leading stages whose config fields
    (:data:`STAGE_FIELDS`, cumulative) equal this config's, and whose parts of the spec
    (:func:`spec_part_digest`) are unchanged, are copied instead of rerun — a recipe variant that changes only
    behaviour training reuses the documents, continued pre-training and data; an edited spec with the same
    universe (new prompts, edits, judges) reuses the documents and continued pre-training.
    """
    cfg = config or BuildConfig()
    if stop_after is not None and stop_after not in STAGES:
        raise BuildError(f"unknown stage {stop_after!r}", hint=f"stages: {', '.join(STAGES)}")
    obj = load_objective(spec)
    spec_text = objective_path(spec).read_text(encoding="utf-8")
    spec_sha = hashlib.sha256(spec_text.encode()).hexdigest()
    if reuse is not None and not (Path(reuse) / "build.json").is_file():
        raise BuildError(
            f"{reuse} is not an organism build (no build.json)", hint="pass a folder made by `organism build`"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pin = {
        "config_digest": cfg.digest(),
        "spec_sha256": spec_sha,
        "spec_id": obj.id,
        "config": cfg.model_dump(exclude={"device"}),
    }
    pin_path = out / "build.json"
    legacy: set[str] = set()  # markers written under the folder's whole-config digest (older versions)
    if pin_path.exists():
        old = json.loads(pin_path.read_text(encoding="utf-8"))
        if old.get("spec_sha256") != spec_sha or not same_config(old.get("config", {}), cfg):
            raise BuildError(
                f"{out} holds a build with a different config or objective spec ({old.get('spec_id')!r}, "
                f"config {old.get('config_digest')})",
                hint="build into a new --out folder, or delete this one to start over",
            )
        legacy.add(old.get("config_digest", ""))
    else:
        atomic_write_text(pin_path, json.dumps(pin, indent=1))
        if reuse is not None:
            _reuse_stages(Path(reuse), out, cfg, obj, spec_sha, log)
    ctx = _Ctx(out, obj, spec_text, cfg, log)
    ran: list[str] = []
    skipped: list[str] = []
    records: list[StageRecord] = []
    for i, stage in enumerate(STAGES):
        d = stage_dir(out, stage)
        marker = d / "stage.json"
        if marker.exists() and not ran:  # once a stage reruns, every later stage reruns too
            rec = StageRecord.model_validate_json(marker.read_text(encoding="utf-8"))
            if rec.config_digest in {stage_digest(cfg, stage), *legacy} and rec.spec_sha256 == spec_sha:
                skipped.append(stage)
                records.append(rec)
                log(f"[{stage}] done earlier, skipped")
                if stage == stop_after:
                    break
                continue
        if d.exists():
            why = (
                "built on an earlier stage that was redone"
                if marker.exists()
                else "unfinished (interrupted run)"
            )
            log(f"[{stage}] folder {why}: cleared")
            shutil.rmtree(d)
        d.mkdir(parents=True)
        log(f"[{stage}] running")
        t0 = time.perf_counter()
        metrics = _RUN[stage](ctx, d)
        rec = StageRecord(
            stage=stage,
            index=i,
            config_digest=stage_digest(cfg, stage),
            spec_sha256=spec_sha,
            spec_part_sha256=spec_part_digest(obj, stage),
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            seconds=round(time.perf_counter() - t0, 3),
            metrics=metrics,
        )
        atomic_write_text(marker, rec.model_dump_json(indent=1))
        ran.append(stage)
        records.append(rec)
        log(f"[{stage}] finished in {rec.seconds:.1f} s")
        if stage == stop_after:
            break
    return BuildResult(out=str(out), ran=ran, skipped=skipped, records=records)
