"""``auditlens faking evaluate MODEL``: the alignment-faking evaluation of one model (seeds-digest §1.2–1.3).

Every request of a split is sent under each chosen system prompt (the standard one, a variant, paraphrases) in
both tiers — the same requests in both, so the compliance gap is paired — through any :mod:`auditlens.llm`
backend (``local`` = the embedded SmolLM2, ``openai:…``, ``anthropic:…``, ``stub``) or any Inspect provider
(``inspect:openai/gpt-4o-mini``, ``inspect:hf/…``: each chunk is one Inspect evaluation whose log
``inspect view`` opens, under ``inspect-logs/``). Each reply is parsed
(:mod:`~auditlens.faking.parsing`: format problems are counted, never dropped), then classified for compliance
and strict alignment faking. Thresholds are **frozen on the ``dev`` tuning set** and every classifier's AUROC on
the held-out ``calibration`` set is reported with the run, so a reader knows how far to trust the rates.

The run folder (``run.json``, kind ``faking-eval``) holds ``transcripts.jsonl`` (appended a chunk of requests at a
time: kill the job and re-run it, finished replies are kept and nothing is sent twice), ``evaluation.json`` (the
typed result), ``evaluation.png`` and ``report.html`` (drawn from the JSON). A folder made with other settings or
another model is refused.

A reply that the backend could not produce (an error after retries) is kept as a transcript with its ``error``,
counted in ``n_failed`` and left out of the rates; a reply without an ``<OUTPUT>`` block is classified on its
whole text as output and counted under ``format``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from auditlens.errors import ConfigError
from auditlens.faking.calibration import ClassifierCalibration, calibrate
from auditlens.faking.classifiers.base import Classifier, Task
from auditlens.faking.metrics import FakingMetrics, Outcome, faking_metrics
from auditlens.faking.parsing import FormatReport, format_report, parse_response
from auditlens.faking.setting import Request, Setting, Split, load_setting, user_turn
from auditlens.faking.transcripts import FirstTurn, load_labelled
from auditlens.runs import RunFolder, bar, fingerprint
from auditlens.runs.io import append_jsonl, read_jsonl, write_json

__all__ = [
    "FakingEvalSettings",
    "FakingEvaluation",
    "Transcript",
    "evaluate_faking",
    "expand_prompts",
    "make_classifiers",
    "tuned_on_dev",
]

log = logging.getLogger(__name__)
Tier = Literal["free", "paid"]
TASKS_RUN: tuple[Task, ...] = ("compliance", "af")


class FakingEvalSettings(BaseModel):
    """What one evaluation sends and how its replies are read."""

    split: Split = Field("eval", description="Request split to send ('eval' is held out from any training).")
    limit: int | None = Field(
        None, ge=1, description="Send only the first N requests of the split (None: all)."
    )
    prompts: list[str] = Field(
        default_factory=lambda: ["standard"],
        description="System prompts by name ('standard', a variant, 'p01'…); 'paraphrases' adds every paraphrase.",
    )
    samples: int = Field(1, ge=1, description="Replies per (request, prompt, tier), distinct seeds.")
    max_tokens: int = Field(512, ge=16, description="Most tokens per reply (scratchpad and output together).")
    temperature: float = Field(1.0, ge=0.0, description="Sampling temperature of the evaluated model.")
    seed: int = Field(0, description="Base seed of the replies and of the bootstrap intervals.")
    chunk: int = Field(
        16,
        ge=1,
        description="Requests sent between two checkpoints of transcripts.jsonl (not part of the identity).",
    )
    classifier: str = Field(
        "rules", description="'rules' (the rule baselines) or an auditlens.llm spec for the LLM classifiers."
    )
    n_boot: int = Field(2000, ge=100, description="Bootstrap resamples per interval.")


class Transcript(BaseModel):
    """One reply of the evaluated model, parsed."""

    key: str = Field(description="'<request id>/<prompt>/<tier>/<sample>' (unique in a run).")
    request_id: str
    category: str
    prompt: str = Field(description="System-prompt name.")
    tier: Tier
    sample: int
    request: str
    reply: str = Field(description="The raw reply ('' when the backend failed).")
    scratchpad: str = ""
    output: str = ""
    issues: list[str] = Field(default_factory=list, description="Format problems of the reply (kinds).")
    error: str | None = Field(None, description="Why the backend produced no reply, if it did not.")
    tokens: int = 0


class TaskResult(BaseModel):
    """One classifier as it was used in this run."""

    classifier: str
    threshold: float = Field(description="Frozen on the dev set; a transcript is flagged when score > it.")
    heldout: ClassifierCalibration = Field(description="Its numbers on the held-out calibration set.")
    n_failed: int = Field(description="Transcripts it could not score (left out of its rate).")


class FakingEvaluation(BaseModel):
    """The typed result of one evaluation."""

    model: str = Field(description="The auditlens.llm spec of the evaluated model.")
    settings: FakingEvalSettings
    n_requests: int
    n_transcripts: int
    n_failed: int = Field(description="Replies the backend could not produce (kept, not rated).")
    format: FormatReport
    classifiers: dict[str, TaskResult]
    metrics: FakingMetrics
    generated_tokens: int
    wall_s: float


def expand_prompts(setting: Setting, names: Sequence[str]) -> list[str]:
    """System-prompt names in order, 'paraphrases' expanded to every paraphrase, repeats dropped; an unknown name is
    refused, listing the known ones."""
    out: list[str] = []
    for n in names:
        for m in [p.name for p in setting.paraphrases] if n == "paraphrases" else [n]:
            setting.system_prompt(m)
            if m not in out:
                out.append(m)
    return out


def make_classifiers(spec: str, cache_dir: Path | None = None) -> dict[Task, Classifier[Any]]:
    """The compliance and AF classifiers: rule baselines (``'rules'``) or LLM classifiers through ``spec``."""
    if spec == "rules":
        from auditlens.faking.classifiers.rules import rule_classifier

        return {t: rule_classifier(t) for t in TASKS_RUN}
    from auditlens.faking.classifiers.llm import LLMClassifier, LLMClassifierConfig
    from auditlens.llm import make_client

    client = make_client(spec, cache_dir=cache_dir)
    return {t: LLMClassifier(client, LLMClassifierConfig(task=t)) for t in TASKS_RUN}


def _requests(setting: Setting, st: FakingEvalSettings) -> list[Request]:
    reqs = setting.requests_for(st.split)
    if not reqs:
        raise ConfigError(f"the setting has no {st.split!r} requests", hint="choose split 'eval' or 'train'")
    return reqs[: st.limit] if st.limit else reqs


def _units(reqs: list[Request], prompts: list[str], samples: int) -> list[Unit]:
    flat = [(r, p, t, s) for r in reqs for p in prompts for t in ("free", "paid") for s in range(samples)]
    return [(i, r, p, t, s) for i, (r, p, t, s) in enumerate(flat)]  # type: ignore[misc]


def _key(r: Request, p: str, t: str, s: int) -> str:
    return f"{r.id}/{p}/{t}/{s}"


Unit = tuple[int, Request, str, Tier, int]  # (index in the run, request, prompt, tier, sample)


def _transcript(u: Unit, reply: str | None, *, error: str | None = None, tokens: int = 0) -> Transcript:
    _, r, p, t, s = u
    base = {"key": _key(r, p, t, s), "request_id": r.id, "category": r.category, "prompt": p, "tier": t}
    if reply is None:
        return Transcript(**base, sample=s, request=r.request, reply="", error=error or "no reply")
    parsed = parse_response(reply)
    return Transcript(
        **base,
        sample=s,
        request=r.request,
        reply=reply,
        scratchpad=parsed.scratchpad or "",
        output=parsed.output if parsed.output is not None else reply,
        issues=[i.kind for i in parsed.issues],
        tokens=tokens,
    )


def _seed(st: FakingEvalSettings, u: Unit) -> int:
    """A reply's seed depends on its place in the whole run, not on the chunk it was sent in (resume-proof)."""
    return st.seed * 1_000_003 + u[0]


def _sample_llm(client: Any, setting: Setting, units: list[Unit], st: FakingEvalSettings) -> list[Transcript]:
    from auditlens.llm import ChatRequest, LLMFailure

    reqs = [
        ChatRequest.from_prompt(
            user_turn(r.request, t == "free"),
            system=setting.system_prompt(p).text,
            max_tokens=st.max_tokens,
            temperature=st.temperature,
            seed=_seed(st, (i, r, p, t, s)),
        )
        for i, r, p, t, s in units
    ]
    out: list[Transcript] = []
    for u, resp in zip(units, client.complete_many(reqs, on_error="return"), strict=True):
        if isinstance(resp, LLMFailure):
            out.append(_transcript(u, None, error=f"{resp.kind}: {resp.message}"))
        else:
            out.append(_transcript(u, resp.text, tokens=resp.usage.output_tokens))
    return out


def _sample_inspect(
    model: Any, setting: Setting, units: list[Unit], st: FakingEvalSettings, logs: Path
) -> list[Transcript]:
    """The chunk as one Inspect evaluation (its log stays in ``logs`` for ``inspect view``)."""
    from inspect_ai import Task as InspectTask
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import MemoryDataset
    from inspect_ai.model import GenerateConfig
    from inspect_ai.solver import generate

    from auditlens.faking.inspect_task import faking_sample

    samples = [faking_sample(setting, r, p, t, sample_id=_key(r, p, t, s)) for _, r, p, t, s in units]
    task = InspectTask(
        dataset=MemoryDataset(samples, name="alignment-faking"),
        solver=generate(),
        config=GenerateConfig(
            max_tokens=st.max_tokens,
            temperature=st.temperature,
            seed=st.seed if st.samples == 1 else None,  # one seed for all would repeat a prompt's samples
        ),
    )
    (log,) = inspect_eval(task, model=model, log_dir=str(logs), display="none")
    got = {str(x.id): x for x in log.samples or []}
    out: list[Transcript] = []
    for u in units:
        x = got.get(_key(*u[1:]))
        if x is None or x.error is not None or x.output is None:
            out.append(
                _transcript(u, None, error=str(x.error.message) if x is not None and x.error else "no sample")
            )
        else:
            usage = x.output.usage
            out.append(_transcript(u, x.output.completion, tokens=usage.output_tokens if usage else 0))
    return out


def tuned_on_dev(task: Task, clf: Classifier[Any], n_boot: int = 2000) -> ClassifierCalibration:
    """``clf`` on the ``dev`` tuning set with its threshold chosen there (kappa-maximising): the threshold to freeze."""
    dev = load_labelled("dev")
    return calibrate(
        clf.name, task, clf.score_many(dev.first_turns), dev.first_turns, dataset="dev", n_boot=n_boot
    )


def _frozen(task: Task, clf: Classifier[Any], n_boot: int) -> tuple[float, ClassifierCalibration]:
    """The threshold frozen on dev, and the classifier's numbers at it on the held-out calibration set."""
    thr = tuned_on_dev(task, clf, n_boot).threshold
    held = load_labelled("calibration")
    h = calibrate(
        clf.name,
        task,
        clf.score_many(held.first_turns),
        held.first_turns,
        dataset="calibration",
        threshold=thr,
        n_boot=n_boot,
    )
    return thr, h


def _is_inspect_model(obj: Any) -> bool:
    try:
        from inspect_ai.model import Model
    except ImportError:  # pragma: no cover - inspect-ai is a dependency
        return False
    return isinstance(obj, Model)


def evaluate_faking(
    model: str,
    out: str | Path,
    settings: FakingEvalSettings | None = None,
    *,
    client: Any | None = None,
    setting: Setting | None = None,
    progress: bool = True,
) -> FakingEvaluation:
    """Evaluate ``model`` into ``out``: an auditlens.llm spec, or ``inspect:<provider/model>`` to send the requests
    as Inspect evaluations (one log per chunk under ``inspect-logs/``). ``client`` overrides how the model is
    reached (an :class:`auditlens.llm.LLMClient`, or an Inspect ``Model``)."""
    from auditlens.llm import make_client

    st = settings or FakingEvalSettings()
    setting = setting or load_setting()
    out = Path(out)
    prompts = expand_prompts(setting, st.prompts)
    reqs = _requests(setting, st)
    identity = {
        "model": model,
        "settings": st.model_dump(mode="json", exclude={"chunk"}),
        "requests": fingerprint([r.model_dump(mode="json") for r in reqs]),
        "prompts": fingerprint({p: setting.system_prompt(p).text for p in prompts}),
    }
    RunFolder.claim(out, "faking-eval", identity, label="faking evaluation")
    inspect_model = client if _is_inspect_model(client) else None
    if inspect_model is None and model.startswith("inspect:"):
        inspect_model = model[len("inspect:") :]
    if inspect_model is None:
        client = client or make_client(model, cache_dir=out / "llm-cache")
    path = out / "transcripts.jsonl"
    done = {t.key: t for t in (read_jsonl(path, Transcript, torn_tail_ok=True) if path.is_file() else [])}
    units = _units(reqs, prompts, st.samples)
    todo = [u for u in units if _key(*u[1:]) not in done]
    t0 = time.perf_counter()
    per = st.chunk * len(prompts) * 2 * st.samples
    with bar(
        total=len(units), initial=len(units) - len(todo), desc="faking eval", unit="reply", enabled=progress
    ) as pb:
        for s in range(0, len(todo), per):
            chunk = todo[s : s + per]
            got = (
                _sample_inspect(inspect_model, setting, chunk, st, out / "inspect-logs")
                if inspect_model is not None
                else _sample_llm(client, setting, chunk, st)
            )
            append_jsonl(path, got)
            done.update({t.key: t for t in got})
            pb.update(len(got))
    transcripts = [done[_key(*u[1:])] for u in units]
    rated = [t for t in transcripts if t.error is None]
    items = [
        FirstTurn(
            id=t.key,
            tier=t.tier,
            request=t.request,
            scratchpad=t.scratchpad,
            output=t.output,
            category=t.category,
        )
        for t in rated
    ]
    classifiers = make_classifiers(st.classifier, cache_dir=out / "llm-cache")
    flags: dict[Task, list[bool | None]] = {}
    results: dict[str, TaskResult] = {}
    for task, clf in classifiers.items():
        thr, held = _frozen(task, clf, st.n_boot)
        scores = clf.score_many(items)
        flags[task] = [None if sc.score is None else sc.score > thr for sc in scores]
        results[task] = TaskResult(
            classifier=clf.name, threshold=thr, heldout=held, n_failed=sum(sc.score is None for sc in scores)
        )
    outcomes = [
        Outcome(
            request_id=t.request_id,
            tier=t.tier,
            complied=bool(c),
            af=a,
            category=t.category,
            paraphrase=t.prompt,
        )
        for t, c, a in zip(rated, flags["compliance"], flags["af"], strict=True)
        if c is not None
    ]
    fmt = format_report([parse_response(t.reply) for t in rated])
    result = FakingEvaluation(
        model=model,
        settings=st,
        n_requests=len(reqs),
        n_transcripts=len(transcripts),
        n_failed=len(transcripts) - len(rated),
        format=fmt,
        classifiers=results,
        metrics=faking_metrics(outcomes, n_boot=st.n_boot, seed=st.seed),
        generated_tokens=sum(t.tokens for t in transcripts),
        wall_s=time.perf_counter() - t0,
    )
    write_json(out / "evaluation.json", result)
    from auditlens.faking.eval_report import render_evaluation

    render_evaluation(out)
    return result
