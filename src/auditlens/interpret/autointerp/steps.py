"""Explain → simulate → score for a chunk of features: what each feature needs from the LLMs, the requests sent
together, and the scores made from the answers.

Protocol (seed §5.5): the ``n_top`` = 20 top fragments are split interleaved as in neuron-explainer — the
explainer sees ``top[0::4]`` (5 fragments), the simulator scores ``top[2::4]`` (5) and ``random[2::4]`` (5 of the
20 random varying fragments); with fewer slots the first ones are used instead. Activations shown to the models
are ``min(10, floor(10 * relu(a) / max))`` with ``max`` the feature's maximum over all fragments; scores correlate
simulated values with the real activations. A feature with fewer than ``min_varying`` (20) varying fragments is
skipped. delphi's detection and fuzzing scorers and the embedding scorer read the same 10 held-out activating
fragments, with ``n_nonactivating`` fragments where the feature never fires as negatives.
"""

from __future__ import annotations

import random
from typing import Any

import torch
from torch import Tensor

from auditlens.interpret.autointerp.config import AutoInterpConfig
from auditlens.interpret.autointerp.fragments import FragmentTable, discretise
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
from auditlens.interpret.autointerp.results import FeatureResult, ScoredFragment, StepFailure
from auditlens.interpret.autointerp.scorers import (
    ClassifierScores,
    classifier_scores,
    embedding_score,
    simulation_scores,
)
from auditlens.interpret.tokens import TokenText
from auditlens.llm import ChatRequest, ChatResponse, LLMClient, LLMError, LLMFailure, LLMMalformed, LLMRefusal

__all__ = ["Plan", "plan_feature", "run_chunk"]


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
    return StepFailure(step=step, kind=err.kind, message=err.message)


class Plan:
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


def _classifier_items(plan: Plan, cfg: AutoInterpConfig, kind: str) -> list[tuple[str, int]]:
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
    plan: Plan, step: str, batches: list[list[tuple[str, int]]], answers: list[ChatResponse | LLMFailure]
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


def plan_feature(table: FragmentTable, f: int, source: str, cfg: AutoInterpConfig, text: TokenText) -> Plan:
    """Feature ``f``'s fragments for the explainer, the simulator and the classifiers (or a skipped result)."""
    row = table.row_of(f)
    varying = int(table.varying[row])
    mx = float(table.max_activation[row])
    result = FeatureResult(
        feature=f, source=source, status="scored", varying_fragments=varying, max_activation=mx
    )
    if varying < cfg.min_varying:
        result.status = "skipped"
        result.reason = f"{varying} varying fragments (< {cfg.min_varying})"
        return Plan(result, [], [], [])
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
    plan = Plan(
        result, _split(top, cfg.n_explain, 0), _split(top, cfg.n_sim_top, 2), _split(rnd, cfg.n_sim_random, 2)
    )
    zero_acts = torch.zeros(table.index.tokens.shape[1])
    plan.negatives = [
        _fragment(table, int(i), zero_acts, "nonactivating", text)
        for i in table.nonactivating[row].tolist()
        if i >= 0
    ]
    return plan


def run_chunk(
    chunk: list[Plan], cfg: AutoInterpConfig, explainer: LLMClient, simulator: LLMClient, embedder: Any
) -> None:
    """Explain every feature of ``chunk``, then send the simulation, detection and fuzzing requests of all that
    have an explanation together, and score them (results and failures land in each plan's ``result``)."""
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
    ready: list[Plan] = []
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
    slots: list[tuple[Plan, str, Any]] = []
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


def _score_plan(p: Plan, cfg: AutoInterpConfig, mine: list[tuple[str, Any, Any]], embedder: Any) -> None:
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
