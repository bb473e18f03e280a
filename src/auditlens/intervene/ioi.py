"""The indirect-object-identification (IOI) task (Wang et al. 2022; seed §5.7) and whether a model solves it.

A prompt names two people, repeats one of them (the subject, S) and ends where the other (the indirect object, IO)
should follow: "When Mary and John went to the store, John gave a drink to" → " Mary". The model solves it when
the logit of IO beats the logit of S at the last position: the **logit difference** ``logit(IO) − logit(S)``
(mean over prompts, with its 95% interval) and the **accuracy** (share of prompts with a positive difference,
Wilson interval). The seed's patching target is the same prompt with IO replaced by another name (Bob → Vanessa):
:attr:`IOIPrompt.counterfactual`.

Templates come in both name orders (ABBA: IO first; BABA: S first), and names, places and objects are drawn
from sets that each tokenise to a single token with a leading space under the model's tokenizer (names that do
not are dropped), so a prompt and its counterfactual have the same length and positions align.

    prompts = ioi_prompts(model.tokenizer, n=120, seed=0)
    score = ioi_score(model, prompts)      # score.logit_diff, score.accuracy, score.per_template
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import torch
from pydantic import BaseModel, Field

from auditlens.errors import ConfigError
from auditlens.runs import Estimate, Proportion, mean_ci

__all__ = ["NAMES", "TEMPLATES", "IOIPrompt", "IOIScore", "ioi_prompts", "ioi_score", "same_length_groups"]

TEMPLATES = [
    "When {A} and {B} went to the {PLACE}, {B} gave a {OBJECT} to",
    "After {A} and {B} went to the {PLACE}, {B} gave a {OBJECT} to",
    "While {A} and {B} were working at the {PLACE}, {B} gave a {OBJECT} to",
    "Then, {A} and {B} had a long argument. Afterwards {B} said to",
    "Friends {A} and {B} found a {OBJECT} at the {PLACE}. {B} gave it to",
    "When {A} and {B} got a {OBJECT} at the {PLACE}, {B} decided to give it to",
]
"""IOI templates after Wang et al.: ``{A}`` is the indirect object in ABBA order (swapped with ``{B}`` in the first
clause for BABA), ``{B}`` the repeated subject."""

NAMES = [
    "Mary",
    "John",
    "Alice",
    "Bob",
    "Tom",
    "James",
    "Sarah",
    "Emma",
    "David",
    "Michael",
    "Anna",
    "Paul",
    "Laura",
    "Mark",
    "Kate",
    "Peter",
    "Lucy",
    "Daniel",
    "Grace",
    "Henry",
    "Jack",
    "Rose",
    "Sam",
    "Lisa",
    "Adam",
    "Amy",
    "Ben",
    "Claire",
    "Dan",
    "Eric",
    "Frank",
    "George",
    "Helen",
    "Ian",
    "Jane",
    "Kevin",
    "Leo",
    "Max",
    "Nina",
    "Oscar",
    "Ruth",
    "Steve",
    "Tim",
    "Victor",
    "Will",
]
PLACES = [
    "store",
    "park",
    "school",
    "garden",
    "restaurant",
    "office",
    "hospital",
    "station",
    "beach",
    "house",
]
OBJECTS = ["drink", "book", "ring", "snack", "bone", "ball", "computer", "letter", "gift", "key"]


class IOIPrompt(BaseModel):
    """One IOI prompt, its answer and its counterfactual (IO replaced)."""

    template: int = Field(description="Index into TEMPLATES.")
    order: str = Field(description="'ABBA' (IO named first) or 'BABA'.")
    text: str
    io: str = Field(description="The indirect object (the right answer), without the leading space.")
    s: str = Field(description="The subject (named twice).")
    counterfactual: str = Field(description="The same prompt with IO replaced by another name.")
    counterfactual_io: str
    ids: list[int]
    counterfactual_ids: list[int]
    io_token: int
    s_token: int
    counterfactual_io_token: int


def _single(tokenizer: Any, word: str) -> int | None:
    ids = tokenizer(" " + word, add_special_tokens=False)["input_ids"]
    return ids[0] if len(ids) == 1 else None


def ioi_prompts(
    tokenizer: Any,
    n: int = 120,
    *,
    seed: int = 0,
    templates: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
) -> list[IOIPrompt]:
    """``n`` prompts cycling over templates and both orders, names/places/objects drawn at ``seed``."""
    temps = list(templates or TEMPLATES)
    pool = [w for w in (names or NAMES) if _single(tokenizer, w) is not None]
    places = [w for w in PLACES if _single(tokenizer, w) is not None]
    objects = [w for w in OBJECTS if _single(tokenizer, w) is not None]
    if len(pool) < 3:
        raise ConfigError(
            f"only {len(pool)} of the names are single tokens for this tokenizer",
            hint="give names that tokenise to one token with a leading space",
        )
    rng = random.Random(seed)
    out: list[IOIPrompt] = []
    for i in range(n):
        t = i % len(temps)
        order = "ABBA" if (i // len(temps)) % 2 == 0 else "BABA"
        io, s, other = rng.sample(pool, 3)
        fill = {"PLACE": rng.choice(places or ["store"]), "OBJECT": rng.choice(objects or ["drink"])}

        def render(a: str, t: int = t, order: str = order, s: str = s, fill: dict[str, str] = fill) -> str:
            first, second = (a, s) if order == "ABBA" else (s, a)
            text = temps[t].replace("{A}", "\0A").replace("{B}", "\0B", 1)
            text = text.replace("\0A", first).replace("\0B", second).replace("{B}", s)
            return text.replace("{PLACE}", fill["PLACE"]).replace("{OBJECT}", fill["OBJECT"])

        text, cf = render(io), render(other)
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        cf_ids = tokenizer(cf, add_special_tokens=False)["input_ids"]
        out.append(
            IOIPrompt(
                template=t,
                order=order,
                text=text,
                io=io,
                s=s,
                counterfactual=cf,
                counterfactual_io=other,
                ids=ids,
                counterfactual_ids=cf_ids,
                io_token=_single(tokenizer, io) or 0,
                s_token=_single(tokenizer, s) or 0,
                counterfactual_io_token=_single(tokenizer, other) or 0,
            )
        )
    return out


def same_length_groups(prompts: Sequence[IOIPrompt]) -> dict[int, list[IOIPrompt]]:
    """Prompts by token length (a patching batch needs aligned positions); only groups whose counterfactuals
    have the same length as the prompts."""
    groups: dict[int, list[IOIPrompt]] = defaultdict(list)
    for p in prompts:
        if len(p.ids) == len(p.counterfactual_ids):
            groups[len(p.ids)].append(p)
    return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))


class IOIScore(BaseModel):
    """How well a model solves IOI on a set of prompts."""

    n: int
    logit_diff: Estimate = Field(description="Mean logit(IO) − logit(S) at the last position, 95% interval.")
    accuracy: Proportion = Field(description="Prompts with logit(IO) > logit(S).")
    top1: Proportion = Field(description="Prompts whose most likely next token is IO.")
    control_diff: Estimate = Field(
        description="Control: mean logit(N) − logit(S) for a name N not in the prompt (the counterfactual's IO); "
        "a model that prefers IO, not merely any name but S, has logit_diff well above it."
    )
    per_template: dict[str, Estimate] = Field(description="Logit difference per 'template/order'.")


@torch.no_grad()
def ioi_score(model: Any, prompts: Sequence[IOIPrompt], *, batch: int = 32) -> IOIScore:
    """Score ``prompts`` (same-length groups run batched) on ``model`` (a HookedModel)."""
    from auditlens.intervene.pruning import answer_logits

    if not prompts:
        raise ConfigError("no IOI prompts to score", hint="make some with ioi_prompts")
    diffs: list[float] = []
    control: list[float] = []
    top: list[bool] = []
    by_t: dict[str, list[float]] = defaultdict(list)
    lengths: dict[int, list[IOIPrompt]] = defaultdict(list)
    for p in prompts:
        lengths[len(p.ids)].append(p)
    device = next(model.model.parameters()).device
    for group in lengths.values():
        for s in range(0, len(group), batch):
            chunk = group[s : s + batch]
            logits = answer_logits(model, torch.tensor([p.ids for p in chunk], device=device)).float().cpu()
            for p, row in zip(chunk, logits, strict=True):
                d = float(row[p.io_token] - row[p.s_token])
                diffs.append(d)
                control.append(float(row[p.counterfactual_io_token] - row[p.s_token]))
                top.append(int(row.argmax()) == p.io_token)
                by_t[f"{p.template}/{p.order}"].append(d)
    return IOIScore(
        n=len(diffs),
        logit_diff=mean_ci(diffs),
        accuracy=Proportion.count([d > 0 for d in diffs]),
        top1=Proportion.count(top),
        control_diff=mean_ci(control),
        per_template={k: mean_ci(v) for k, v in sorted(by_t.items())},
    )
