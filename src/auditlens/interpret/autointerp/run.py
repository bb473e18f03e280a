"""Auto-interp of a feature source over a store: explain -> simulate -> score, per feature, resumable.

Result folder layout::

    fragments.safetensors   FragmentTable of the candidate features (reused when source, store and config match)
    features/<id>.json      FeatureResult per feature, written atomically as soon as the feature is done
    summary.json            AutoInterpSummary: means with 95% CIs per score, counts, LLM usage
    explanations.jsonl      explanations and scores in the form dashboards read

A re-run skips features whose result is ``scored`` or ``skipped``; ``failed`` ones are tried again, and with the
LLM client's on-disk cache every call that had succeeded is answered from the cache (not billed again).

Protocol (seed §5.5): the ``n_top`` = 20 top fragments are split interleaved as in neuron-explainer — the
explainer sees ``top[0::4]`` (5 fragments), the simulator scores ``top[2::4]`` (5) and ``random[2::4]`` (5 of the
20 random varying fragments); with fewer slots the first ones are used instead. Activations shown to the models
are ``min(10, floor(10 * relu(a) / max))`` with ``max`` the feature's maximum over all fragments; scores correlate
simulated values with the real activations. A feature with fewer than ``min_varying`` (20) varying fragments is
skipped. delphi's detection and fuzzing scorers and the embedding scorer read the same 10 held-out activating
fragments, with ``n_nonactivating`` fragments where the feature never fires as negatives.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor

from auditlens.activations import ActivationStore
from auditlens.interpret.autointerp.fragments import (
    FRAGMENTS_FILE,
    FragmentConfig,
    FragmentTable,
    collect_fragments,
    discretise,
    select_fragments,
)
from auditlens.interpret.autointerp.prompts import (
    Fragment,
    detection_request,
    explainer_request,
    fuzzing_request,
    highlight,
    parse_binary_list,
    parse_explanation,
    parse_simulation,
    show_token,
    simulator_request,
)
from auditlens.interpret.autointerp.scorers import (
    ClassifierScores,
    EmbeddingScore,
    SimulationScores,
    classifier_scores,
    default_embedder,
    embedding_score,
    simulation_scores,
)
from auditlens.interpret.errors import InterpretError
from auditlens.interpret.explanations import FeatureExplanation, load_explanations, save_explanations
from auditlens.interpret.features import FeatureSource
from auditlens.interpret.tokens import TokenText
from auditlens.llm import ChatRequest, ChatResponse, LLMClient, LLMError, LLMFailure, LLMMalformed, LLMRefusal
from auditlens.runs.stats import mean_ci

Scorer = Literal["simulation", "detection", "fuzzing", "embedding"]
SUMMARY_FILE = "summary.json"
FEATURES_DIR = "features"
SCORE_NAMES = (
    "top_and_random",
    "top_only",
    "random_only",
    "detection_balanced_accuracy",
    "fuzzing_balanced_accuracy",
    "embedding_auroc",
)
"""Scores averaged in the summary (``top_and_random`` is the seed's headline)."""


class AutoInterpConfig(BaseModel):
    """The auto-interp protocol's settings (defaults: the seed's)."""

    model_config = ConfigDict(extra="forbid")

    fragments: FragmentConfig = Field(default_factory=FragmentConfig, description="Fragments and draws.")
    n_explain: int = Field(default=5, ge=1, description="Top fragments shown to the explainer.")
    n_sim_top: int = Field(default=5, ge=1, description="Other top fragments the simulator scores.")
    n_sim_random: int = Field(default=5, ge=0, description="Random varying fragments the simulator scores.")
    min_varying: int = Field(
        default=20, ge=1, description="Skip features with fewer varying (max > 0) fragments than this."
    )
    scorers: list[Scorer] = Field(
        default_factory=lambda: ["simulation", "detection", "fuzzing", "embedding"],
        description="Scorers to run; simulation (the seed's correlation) is always run.",
    )
    explainer_max_tokens: int = Field(default=60, ge=4, description="Tokens the explainer may write.")
    explainer_prefill: bool = Field(
        default=True,
        description='Prefill the explainer\'s answer with "the main thing this neuron does is find".',
    )
    simulator_top_logprobs: int = Field(
        default=20,
        ge=0,
        description="Ask the simulator for this many top log-probabilities per token (expected values over "
        "'0'..'10' where the backend gives them); 0: use the sampled numbers.",
    )
    simulator_prefill: bool = Field(
        default=True,
        description="Start the simulator's answer with '<start>\\n<first token>\\t' (format help).",
    )
    unparsable_simulation: Literal["zero", "fail"] = Field(
        default="zero",
        description="A simulator answer with no parsable activation (malformed, refusal): 'zero' scores it as "
        "predicting 0 on every token (recorded in failures and parsed_fraction; a weak simulator then scores "
        "low instead of dropping out of the mean, which would flatter it); 'fail' fails the feature.",
    )
    batch_examples: int = Field(
        default=5, ge=1, description="Examples per detection/fuzzing prompt (delphi: 5)."
    )
    feature_batch: int = Field(
        default=8, ge=1, description="Features whose LLM requests are sent together (batching, concurrency)."
    )
    seed: int = Field(default=0, description="Seed of example shuffles and fuzzing's wrong highlights.")
    retry_temperature: float = Field(
        default=0.7,
        ge=0.0,
        description="When a re-run retries a step that gave a malformed answer or a refusal (cached, so asking "
        "again greedily would repeat it), that step's requests are sampled at this temperature, seeded by the "
        "attempt number.",
    )


class StepFailure(BaseModel):
    """One failed step of one feature (the run went on)."""

    step: str = Field(description="explain, simulate, detection, fuzzing or embedding.")
    kind: str = Field(description="Failure class: timeout, malformed, refusal, server, ... (auditlens.llm).")
    message: str


class ScoredFragment(BaseModel):
    """A fragment the simulator scored: its tokens, real and simulated activations."""

    kind: str
    context: int
    start: int
    tokens: list[str]
    real: list[float]
    simulated: list[float]


class FeatureResult(BaseModel):
    """Auto-interp of one feature."""

    feature: int = Field(description="Feature id in the source.")
    source: str = Field(description="Feature source name.")
    status: Literal["scored", "skipped", "failed"] = Field(
        description="scored: explanation and simulation done; skipped: fewer varying fragments than asked (or "
        "dead); failed: an LLM step failed (see failures; a re-run retries it)."
    )
    reason: str | None = Field(default=None, description="Why skipped or failed.")
    varying_fragments: int = Field(description="Fragments whose maximum activation is > 0.")
    max_activation: float = Field(description="Maximum activation over all fragments.")
    explanation: str | None = None
    simulation: SimulationScores | None = None
    detection: ClassifierScores | None = None
    fuzzing: ClassifierScores | None = None
    embedding: EmbeddingScore | None = None
    failures: list[StepFailure] = Field(default_factory=list)
    attempts: int = Field(default=1, description="Runs that tried this feature (a failed one is retried).")
    explainer: str | None = Field(default=None, description="Explainer backend and model.")
    simulator: str | None = Field(default=None, description="Simulator/scorer backend and model.")
    scored_fragments: list[ScoredFragment] = Field(default_factory=list)

    def score(self, name: str) -> float | None:
        """A score by name (one of :data:`SCORE_NAMES`)."""
        if name in ("top_and_random", "top_only", "random_only"):
            return None if self.simulation is None else getattr(self.simulation, name)
        if name == "detection_balanced_accuracy":
            return None if self.detection is None else self.detection.balanced_accuracy
        if name == "fuzzing_balanced_accuracy":
            return None if self.fuzzing is None else self.fuzzing.balanced_accuracy
        if name == "embedding_auroc":
            return None if self.embedding is None else self.embedding.auroc
        raise KeyError(name)


class ScoreEstimate(BaseModel):
    """Mean of a score over features with its 95% CI (1.96·SD/√n, SD with ddof=1); ``None`` when ``n`` is 0."""

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int = Field(description="Features the mean is over.")

    @classmethod
    def of(cls, values: Sequence[float]) -> ScoreEstimate:
        if not values:
            return cls(mean=None, ci_low=None, ci_high=None, n=0)
        e = mean_ci(values)
        return cls(mean=e.value, ci_low=e.ci_low, ci_high=e.ci_high, n=e.n)

    def text(self) -> str:
        """``0.412 [0.301, 0.523] (n=150)``, or ``n/a (n=0)``."""
        if self.mean is None or self.ci_low is None or self.ci_high is None:
            return f"n/a (n={self.n})"
        return f"{self.mean:.3f} [{self.ci_low:.3f}, {self.ci_high:.3f}] (n={self.n})"


class AutoInterpSummary(BaseModel):
    """A run's results: means with 95% CIs (1.96·SD/√n over scored features) per score."""

    source: str
    store: str
    hook_point: str
    explainer: str
    simulator: str
    requested: int = Field(description="Features asked for.")
    scored: int
    skipped: int
    failed: int
    scores: dict[str, ScoreEstimate] = Field(
        description="Score name -> mean and CI over the features that have it."
    )
    fragments: int = Field(description="Fragments cut from the store (one per document).")
    documents: int = Field(description="Documents read.")
    dropped_replacement: int = Field(description="Fragments dropped for the replacement character.")
    llm_usage: dict[str, Any] = Field(description="Usage of the explainer and simulator clients in this run.")
    seconds: float
    note: str | None = Field(default=None, description="Caveats (e.g. a small local explainer: weak scores).")


def client_name(client: LLMClient) -> str:
    b = client.backend
    return f"{getattr(b, 'identity', type(b).__name__)}/{getattr(b, 'default_model', '?')}"


class _Columns:
    """A source restricted to some of its columns (keeps their feature ids)."""

    def __init__(self, source: FeatureSource, cols: Tensor) -> None:
        self.source, self.cols = source, cols

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def d_in(self) -> int:
        return self.source.d_in

    @property
    def n_features(self) -> int:
        return int(self.cols.numel())

    @property
    def feature_ids(self) -> Tensor:
        return self.source.feature_ids[self.cols]

    def encode(self, x: Tensor) -> Tensor:
        return self.source.encode(x)[:, self.cols.to(x.device)]

    def directions(self) -> Tensor:
        return self.source.directions()[self.cols]


def _fragment(table: FragmentTable, idx: int, acts: Tensor, kind: str, text: TokenText) -> Fragment:
    ids = table.index.tokens[idx].tolist()
    return Fragment(
        kind=kind,
        context=int(table.index.context[idx]),
        start=int(table.index.start[idx]),
        token_ids=ids,
        tokens=text.many(ids),
        activations=[float(a) for a in acts.tolist()],
    )


def _split(items: list[Fragment], n: int, offset: int) -> list[Fragment]:
    """neuron-explainer's interleaved split (``items[offset::4]``) when there are enough items, else contiguous."""
    if len(items) >= 4 * n:
        return items[offset::4][:n]
    return items[:n] if offset == 0 else items[n : 2 * n]


def _failure(step: str, err: LLMError | LLMFailure) -> StepFailure:
    if isinstance(err, LLMFailure):
        return StepFailure(step=step, kind=err.kind, message=err.message)
    return StepFailure(step=step, kind=err.kind, message=err.message)


class _Plan:
    """What one feature needs from the LLMs."""

    def __init__(
        self, result: FeatureResult, explain: list[Fragment], top: list[Fragment], rnd: list[Fragment]
    ):
        self.result, self.explain, self.top, self.rnd = result, explain, top, rnd
        self.negatives: list[Fragment] = []
        self.detection_items: list[tuple[str, int]] = []
        self.fuzzing_items: list[tuple[str, int]] = []
        self.reseed: set[str] = set()

    def adjust(self, step: str, request: ChatRequest, cfg: AutoInterpConfig) -> ChatRequest:
        """Sample (seeded by the attempt) a step that gave a malformed answer or a refusal last time."""
        if step not in self.reseed:
            return request
        return request.model_copy(update={"temperature": cfg.retry_temperature, "seed": self.result.attempts})


def _one_line(text: str) -> str:
    return show_token(text)


def _classifier_items(plan: _Plan, cfg: AutoInterpConfig, kind: str) -> list[tuple[str, int]]:
    rng = random.Random(f"{cfg.seed}/{kind}/{plan.result.feature}")
    pos = plan.top + plan.rnd
    items: list[tuple[str, int]] = []
    if kind == "detection":
        items = [(_one_line(f.text), 1) for f in pos] + [(_one_line(f.text), 0) for f in plan.negatives]
    else:
        for f in pos:
            marked = [a > 0 for a in f.activations]
            items.append((_one_line(highlight(f.tokens, marked)), 1))
            off = [i for i, m in enumerate(marked) if not m]
            k = min(sum(marked), len(off))
            if k:
                wrong = set(rng.sample(off, k))
                items.append((_one_line(highlight(f.tokens, [i in wrong for i in range(len(marked))])), 0))
    rng.shuffle(items)
    return items


def _batches(items: list[tuple[str, int]], size: int) -> list[list[tuple[str, int]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _score_classifier(
    plan: _Plan, step: str, batches: list[list[tuple[str, int]]], answers: list[ChatResponse | LLMFailure]
) -> ClassifierScores | None:
    truth: list[int] = []
    said: list[int] = []
    for batch, ans in zip(batches, answers, strict=True):
        if isinstance(ans, LLMFailure):
            plan.result.failures.append(_failure(step, ans))
            continue
        try:
            got = parse_binary_list(ans, len(batch))
        except LLMError as err:
            plan.result.failures.append(_failure(step, err))
            continue
        truth += [y for _, y in batch]
        said += got
    return classifier_scores(truth, said) if truth else None


def _write_result(folder: Path, result: FeatureResult) -> None:
    path = folder / f"{result.feature}.json"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(result.model_dump_json(indent=1))
    tmp.replace(path)


def load_results(out: str | Path) -> dict[int, FeatureResult]:
    """Every per-feature result in a result folder, by feature id."""
    folder = Path(out) / FEATURES_DIR
    res: dict[int, FeatureResult] = {}
    if folder.is_dir():
        for p in sorted(folder.glob("*.json")):
            r = FeatureResult.model_validate_json(p.read_text())
            res[r.feature] = r
    return res


def summarise(results: Sequence[FeatureResult]) -> dict[str, ScoreEstimate]:
    """Mean and 95% CI of each score over the scored features that have it."""
    out: dict[str, ScoreEstimate] = {}
    for name in SCORE_NAMES:
        vals = [v for r in results if r.status == "scored" and (v := r.score(name)) is not None]
        out[name] = ScoreEstimate.of([float(v) for v in vals if not math.isnan(v)])
    return out


def _fragment_table(
    source: FeatureSource,
    store: ActivationStore,
    out: Path,
    text: TokenText,
    cfg: FragmentConfig,
    ids: Tensor,
) -> FragmentTable:
    path = out / FRAGMENTS_FILE
    if path.exists():
        table = FragmentTable.load(path)
        same = (
            table.meta.get("source") == source.name
            and table.meta.get("store") == str(store.path)
            and table.meta.get("config") == cfg.key()
            and torch.equal(table.feature_ids, ids)
        )
        if same:
            return table
    pos = {int(f): i for i, f in enumerate(source.feature_ids.tolist())}
    missing = [int(f) for f in ids.tolist() if int(f) not in pos]
    if missing:
        raise InterpretError(
            f"features {missing[:8]} are not in source {source.name!r}",
            hint=f"the source has {source.n_features} features, ids like {source.feature_ids[:5].tolist()}",
        )
    cols = torch.tensor([pos[int(f)] for f in ids.tolist()], dtype=torch.long)
    sub = source if torch.equal(cols, torch.arange(source.n_features)) else _Columns(source, cols)
    index = select_fragments(store, text, cfg)
    table = collect_fragments(sub, store, index, cfg)
    table.save(path)
    return table


def run_autointerp(
    source: FeatureSource,
    store: ActivationStore,
    out: str | Path,
    *,
    explainer: LLMClient,
    simulator: LLMClient | None = None,
    features: Sequence[int] | None = None,
    n_scored: int | None = None,
    text: TokenText | None = None,
    config: AutoInterpConfig | None = None,
    embedder: Any | None = None,
    explanations_dir: str | Path | None = None,
    note: str | None = None,
    progress: bool = False,
) -> AutoInterpSummary:
    """Explain and score features of ``source`` over ``store``, writing results into ``out`` as they come.

    Args:
        source: the features (dictionary or baseline).
        store: the activation store (its token ids make the fragments).
        out: result folder (created).
        explainer: client that writes explanations.
        simulator: client that simulates activations and answers the detection/fuzzing prompts (default:
            ``explainer``).
        features: feature ids to consider, in order (default: all of the source's).
        n_scored: stop once this many features are scored or failed (skipped ones do not count); None: all.
        text: decodes token ids (a :class:`TokenText` with the store model's tokenizer); without a tokenizer
            tokens read ``<id>`` and the replacement-character rule cannot apply.
        config: protocol settings.
        embedder: sentence embedder of the embedding scorer (default: the packaged all-MiniLM-L6-v2).
        explanations_dir: also merge the explanations into this folder's ``explanations.jsonl`` (e.g. the
            result folder of ``auditlens interpret dashboard``, then ``rebuild_dashboard`` shows them).
        note: caveat recorded in the summary (e.g. "local 135M explainer: scores are weak").
        progress: print one line per finished feature.
    """
    cfg = config or AutoInterpConfig()
    simulator = simulator or explainer
    text = text or TokenText()
    out = Path(out)
    (out / FEATURES_DIR).mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    hp = store.resolve_hook_point(cfg.fragments.hook_point)
    ids = (
        source.feature_ids.clone() if features is None else torch.as_tensor(list(features), dtype=torch.long)
    )
    if ids.numel() == 0:
        raise InterpretError("no features to interpret", hint="pass at least one feature id")
    table = _fragment_table(source, store, out, text, cfg.fragments, ids)
    done = load_results(out)
    explainer.reset_usage()
    if simulator is not explainer:
        simulator.reset_usage()
    e_name, s_name = client_name(explainer), client_name(simulator)
    results: dict[int, FeatureResult] = {}
    counted = 0
    queue = [int(f) for f in ids.tolist()]
    need_embed = "embedding" in cfg.scorers
    while queue and (n_scored is None or counted < n_scored):
        chunk: list[_Plan] = []
        while (
            queue and len(chunk) < cfg.feature_batch and (n_scored is None or counted + len(chunk) < n_scored)
        ):
            f = queue.pop(0)
            prev = done.get(f)
            if prev is not None and prev.status != "failed":
                results[f] = prev
                counted += prev.status == "scored"
                continue
            plan = _plan_feature(table, f, source.name, cfg, text)
            if prev is not None:
                plan.result.attempts = prev.attempts + 1
                plan.reseed = {x.step for x in prev.failures if x.kind in ("malformed", "refusal")}
            if plan.result.status == "skipped":
                _write_result(out / FEATURES_DIR, plan.result)
                results[f] = plan.result
                continue
            plan.result.explainer, plan.result.simulator = e_name, s_name
            chunk.append(plan)
        if not chunk:
            continue
        _run_chunk(
            chunk, cfg, explainer, simulator, embedder if not need_embed else (embedder or default_embedder())
        )
        for plan in chunk:
            _write_result(out / FEATURES_DIR, plan.result)
            results[plan.result.feature] = plan.result
            counted += 1
            if progress:
                r = plan.result
                sc = r.score("top_and_random")
                print(
                    f"[{source.name}] feature {r.feature}: {r.status} score={sc} {r.explanation!r}",
                    flush=True,
                )
    ordered = [results[f] for f in ids.tolist() if f in results]
    _save_explanations(out, ordered, explanations_dir)
    usage = {"explainer": explainer.usage.model_dump()}
    if simulator is not explainer:
        usage["simulator"] = simulator.usage.model_dump()
    summary = AutoInterpSummary(
        source=source.name,
        store=str(store.path),
        hook_point=hp,
        explainer=e_name,
        simulator=s_name,
        requested=len(ordered),
        scored=sum(r.status == "scored" for r in ordered),
        skipped=sum(r.status == "skipped" for r in ordered),
        failed=sum(r.status == "failed" for r in ordered),
        scores=summarise(ordered),
        fragments=table.index.n,
        documents=table.index.documents,
        dropped_replacement=table.index.dropped_replacement,
        llm_usage=usage,
        seconds=time.perf_counter() - t0,
        note=note,
    )
    (out / SUMMARY_FILE).write_text(summary.model_dump_json(indent=1))
    return summary


def _save_explanations(out: Path, results: list[FeatureResult], extra: str | Path | None) -> None:
    new = {
        r.feature: FeatureExplanation(
            feature=r.feature,
            explanation=r.explanation or "",
            score=r.score("top_and_random"),
            scores={n: r.score(n) for n in SCORE_NAMES},
            explainer=r.explainer,
        )
        for r in results
        if r.explanation
    }
    for folder in [out] + ([Path(extra)] if extra is not None else []):
        folder.mkdir(parents=True, exist_ok=True)
        merged = {**load_explanations(folder), **new}
        save_explanations(merged.values(), folder)


def _plan_feature(table: FragmentTable, f: int, source: str, cfg: AutoInterpConfig, text: TokenText) -> _Plan:
    row = table.row_of(f)
    varying = int(table.varying[row])
    mx = float(table.max_activation[row])
    result = FeatureResult(
        feature=f, source=source, status="scored", varying_fragments=varying, max_activation=mx
    )
    if varying < cfg.min_varying:
        result.status = "skipped"
        result.reason = f"{varying} varying fragments (< {cfg.min_varying})"
        return _Plan(result, [], [], [])
    top = [
        _fragment(table, int(i), table.top_acts[row, j], "top", text)
        for j, i in enumerate(table.top[row].tolist())
        if i >= 0
    ]
    rnd = [
        _fragment(table, int(i), table.random_acts[row, j], "random", text)
        for j, i in enumerate(table.random[row].tolist())
        if i >= 0
    ]
    plan = _Plan(
        result, _split(top, cfg.n_explain, 0), _split(top, cfg.n_sim_top, 2), _split(rnd, cfg.n_sim_random, 2)
    )
    zero_acts = torch.zeros(table.index.tokens.shape[1])
    plan.negatives = [
        _fragment(table, int(i), zero_acts, "nonactivating", text)
        for i in table.nonactivating[row].tolist()
        if i >= 0
    ]
    return plan


def _run_chunk(
    chunk: list[_Plan], cfg: AutoInterpConfig, explainer: LLMClient, simulator: LLMClient, embedder: Any
) -> None:
    # 1. Explanations.
    reqs = []
    for p in chunk:
        mx = p.result.max_activation
        levels = [discretise(torch.tensor(fr.activations), mx) for fr in p.explain]
        req = explainer_request(
            p.explain, levels, max_tokens=cfg.explainer_max_tokens, prefill=cfg.explainer_prefill
        )
        reqs.append(p.adjust("explain", req, cfg))
    answers = explainer.complete_many(reqs, on_error="return")
    ready: list[_Plan] = []
    for p, ans in zip(chunk, answers, strict=True):
        try:
            if isinstance(ans, LLMFailure):
                p.result.failures.append(_failure("explain", ans))
                raise LLMError(ans.message)
            p.result.explanation = parse_explanation(ans)
            ready.append(p)
        except LLMError as err:
            if not isinstance(ans, LLMFailure):
                p.result.failures.append(_failure("explain", err))
            p.result.status, p.result.reason = "failed", "no explanation"
    # 2. Simulation, detection and fuzzing requests of every ready feature, sent together.
    requests: list[ChatRequest] = []
    slots: list[tuple[_Plan, str, Any]] = []
    for p in ready:
        assert p.result.explanation is not None
        for fr in p.top + p.rnd:
            req = simulator_request(
                p.result.explanation,
                fr,
                top_logprobs=cfg.simulator_top_logprobs,
                prefill=cfg.simulator_prefill,
            )
            requests.append(p.adjust("simulate", req, cfg))
            slots.append((p, "simulate", fr))
        for kind, make in (("detection", detection_request), ("fuzzing", fuzzing_request)):
            if kind not in cfg.scorers:
                continue
            items = _classifier_items(p, cfg, kind)
            for batch in _batches(items, cfg.batch_examples):
                requests.append(p.adjust(kind, make(p.result.explanation, [t for t, _ in batch]), cfg))
                slots.append((p, kind, batch))
    answers2 = simulator.complete_many(requests, on_error="return") if requests else []
    for p in ready:
        mine = [(kind, payload, a) for (q, kind, payload), a in zip(slots, answers2, strict=True) if q is p]
        _score_plan(p, cfg, mine, embedder)


def _score_plan(p: _Plan, cfg: AutoInterpConfig, mine: list[tuple[str, Any, Any]], embedder: Any) -> None:
    sims: list[list[float]] = []
    parsed = total = lp_tokens = 0
    ok = True
    for kind, fr, ans in (m for m in mine if m[0] == "simulate"):
        n = len(fr.tokens)
        total += n
        try:
            if isinstance(ans, LLMFailure):
                p.result.failures.append(_failure("simulate", ans))
                ok = False
                continue
            values, k, used = parse_simulation(ans, n)
        except (LLMMalformed, LLMRefusal) as err:
            p.result.failures.append(_failure("simulate", err))
            if cfg.unparsable_simulation == "fail":
                ok = False
                continue
            values, k, used = [0.0] * n, 0, False
        except LLMError as err:
            p.result.failures.append(_failure("simulate", err))
            ok = False
            continue
        sims.append(values)
        parsed += k
        lp_tokens += k if used else 0
        del kind
    if not ok:
        p.result.status, p.result.reason = "failed", "simulation failed"
    else:
        nt = len(p.top)
        real = [fr.activations for fr in p.top + p.rnd]
        scores = simulation_scores(real[:nt], sims[:nt], real[nt:], sims[nt:])
        scores.parsed_fraction = parsed / max(total, 1)
        scores.logprob_tokens = lp_tokens
        p.result.simulation = scores
        p.result.scored_fragments = [
            ScoredFragment(
                kind=fr.kind,
                context=fr.context,
                start=fr.start,
                tokens=fr.tokens,
                real=fr.activations,
                simulated=s,
            )
            for fr, s in zip(p.top + p.rnd, sims, strict=True)
        ]
    for kind in ("detection", "fuzzing"):
        if kind not in cfg.scorers:
            continue
        batches = [payload for k, payload, _ in mine if k == kind]
        answers = [a for k, _, a in mine if k == kind]
        setattr(p.result, kind, _score_classifier(p, kind, batches, answers))
    if "embedding" in cfg.scorers and embedder is not None and p.result.explanation:
        try:
            p.result.embedding = embedding_score(
                embedder,
                p.result.explanation,
                [fr.text for fr in p.top + p.rnd],
                [fr.text for fr in p.negatives],
            )
        except Exception as err:  # an embedder failure is recorded, never fatal
            p.result.failures.append(StepFailure(step="embedding", kind="embedder", message=str(err)))
