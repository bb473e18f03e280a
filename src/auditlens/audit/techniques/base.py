"""The one contract of a technique, and the registry the auditors draw from.

A technique is a function ``run(ctx, hypothesis=None) -> TechniqueResult``. With no hypothesis it explores
(what is unusual here?); with one it tests it (how often does the audited model, and the comparison model, show
it?). It reads the audited model, the data sample, the comparison model and the dictionary only through the
:class:`AuditContext`, never the organism folder. It declares what it needs; the auditor skips a technique whose
needs are not met and says so.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from auditlens.audit.evidence import Cost, TechniqueResult
from auditlens.audit.sampler import ModelSampler
from auditlens.audit.settings import AuditSettings
from auditlens.audit.subject import AuditSubject

__all__ = ["TECHNIQUES", "AuditContext", "Hypothesis", "Need", "Technique", "register"]

Need = Literal["data", "base", "dictionary", "chat"]


class Hypothesis(BaseModel):
    """A candidate explanation: marker terms (what a sample that shows it mentions) and a statement in words."""

    id: str = Field(description="Stable id ('H1', 'H2', ...).")
    terms: list[str] = Field(min_length=1, description="Marker terms, lowercase; a text hits if it has any.")
    statement: str = Field(description="The hypothesis in words.")
    evidence: list[str] = Field(default_factory=list, description="Ids of the evidence items it came from.")

    def hits(self, text: str) -> bool:
        low = text.lower()
        return any(re.search(rf"(?<![a-z0-9]){re.escape(t)}(?![a-z0-9])", low) for t in self.terms)


@dataclass
class AuditContext:
    """Everything a technique may use."""

    subject: AuditSubject
    settings: AuditSettings
    dictionary: Path | None = None
    work: Path | None = None  # a folder a technique may cache files in (the audit folder's cache/)
    _samplers: dict[str, ModelSampler] = field(default_factory=dict, repr=False)
    _memo: dict[tuple[object, ...], TechniqueResult] = field(default_factory=dict, repr=False)

    def _key(self, name: str, hypothesis: Hypothesis | None) -> tuple[object, ...]:
        h = None if hypothesis is None else (hypothesis.id, tuple(hypothesis.terms))
        return (name, h, self.settings.seed)

    def known(self, name: str, hypothesis: Hypothesis | None = None) -> TechniqueResult | None:
        """The result :meth:`result_of` would reuse, or None when this audit has not run it yet."""
        return self._memo.get(self._key(name, hypothesis))

    def result_of(self, name: str, hypothesis: Hypothesis | None = None) -> TechniqueResult:
        """``TECHNIQUES[name](self, hypothesis)``, run once per (technique, hypothesis, seed) and then reused:
        a technique that builds on another's result (steering on the top model-diff feature) does not redo it."""
        key = self._key(name, hypothesis)
        if key not in self._memo:
            self._memo[key] = TECHNIQUES[name](self, hypothesis)
        return self._memo[key]

    def remember(self, name: str, hypothesis: Hypothesis | None, result: TechniqueResult) -> None:
        """Make ``result`` (e.g. reloaded from a finished step) what :meth:`result_of` returns."""
        if result.error is None:
            self._memo[self._key(name, hypothesis)] = result

    @property
    def sampler(self) -> ModelSampler:
        if "model" not in self._samplers:
            self._samplers["model"] = ModelSampler(self.subject.model, batch_size=self.settings.batch_size)
        return self._samplers["model"]

    @property
    def base_sampler(self) -> ModelSampler | None:
        base = self.subject.base
        if base is None:
            return None
        if "base" not in self._samplers:
            self._samplers["base"] = ModelSampler(base, batch_size=self.settings.batch_size)
        return self._samplers["base"]

    def has(self, need: Need) -> bool:
        if need == "data":
            return bool(self.subject.rows)
        if need == "base":
            return self.subject.load_base is not None
        if need == "dictionary":
            return self.dictionary is not None
        return self.sampler.has_chat_template

    def hook_point(self) -> str:
        if self.settings.hook_point:
            return self.settings.hook_point
        return f"blocks.{self.subject.model.n_layers // 2}.resid_post"


RunFn = Callable[[AuditContext, Hypothesis | None], TechniqueResult]


@dataclass(frozen=True)
class Technique:
    """A registered technique."""

    name: str
    run: RunFn
    needs: tuple[Need, ...] = ()
    tests: bool = True  # whether it can test a hypothesis (count hits), not only explore
    summary: str = ""

    def __call__(self, ctx: AuditContext, hypothesis: Hypothesis | None = None) -> TechniqueResult:
        missing = [n for n in self.needs if not ctx.has(n)]
        if missing:
            return TechniqueResult(
                technique=self.name,
                question=hypothesis.statement if hypothesis else "",
                error=f"skipped: needs {', '.join(missing)}",
            )
        t0 = time.perf_counter()
        before = {k: s.cost.model_copy() for k, s in ctx._samplers.items()}
        res = self.run(ctx, hypothesis)
        spent = res.cost
        for k, s in ctx._samplers.items():
            prev = before.get(k)
            delta = s.cost if prev is None else _minus(s.cost, prev)
            spent = spent + delta.model_copy(update={"seconds": 0.0})
        res.cost = spent.model_copy(update={"seconds": time.perf_counter() - t0})
        return res


def _minus(a: Cost, b: Cost) -> Cost:
    return a.model_copy(
        update={
            "model_calls": a.model_calls - b.model_calls,
            "tokens_generated": a.tokens_generated - b.tokens_generated,
            "tokens_scored": a.tokens_scored - b.tokens_scored,
            "llm_tokens": a.llm_tokens - b.llm_tokens,
        }
    )


TECHNIQUES: dict[str, Technique] = {}
"""Every registered technique by name (filled by the modules of :mod:`auditlens.audit.techniques`)."""


def register(
    name: str, *, needs: tuple[Need, ...] = (), tests: bool = True, summary: str = ""
) -> Callable[[RunFn], RunFn]:
    """Decorator: register a technique function under ``name``."""

    def deco(fn: RunFn) -> RunFn:
        TECHNIQUES[name] = Technique(name, fn, needs, tests, summary or (fn.__doc__ or "").split("\n")[0])
        return fn

    return deco
