"""The audited model's sparse dictionary: trained (or reused) on its own activations, or a given one, checked.

Marks et al. (2025) browsed an SAE whose training data included the organism's training documents, and later
write-ups report that auditing agents succeed with such a dictionary and fail with one trained on other data
(seed digest §3.4). So :func:`audit_dictionary` trains on the default offline corpus **mixed with the data
sample's texts** (``include_sample=True``) and, for the comparison the seed asks for, on the default corpus only
(``include_sample=False``).

Algorithm: write a mixed text file (corpus documents, each cut to :attr:`DictionaryPlan.doc_chars`, with the
sample rows interleaved; the sample is capped at :attr:`DictionaryPlan.max_sample_share` of the characters, and
prompt/response rows are rendered with the model's chat template so the dictionary sees chat-formatted text),
harvest the audited model's activations at ``ctx.hook_point()`` with :func:`auditlens.activations.harvest`, and
train one TopK dictionary with :func:`auditlens.pipeline.train.train_on_store` — the project's own harvester and
trainer, so the result is an ordinary exported dictionary folder (``cfg.json`` names the model and hook point).
Everything is cached under ``ctx.work/dictionary/<fingerprint>/``, keyed by the model, hook point, plan and the
sample's digest; a second call returns the same folder at once (an interrupted one resumes: harvest and
training both resume).

:func:`check_dictionary` refuses a given dictionary trained on another model or hook point (from its
``cfg.json``), or of another width, saying which.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import TYPE_CHECKING

from auditlens.activations import ActivationStore, HarvestConfig, harvest
from auditlens.audit.errors import AuditError
from auditlens.audit.settings import DictionaryPlan
from auditlens.intervene.basis import DictionaryBasis
from auditlens.runs import fingerprint, write_jsonl

if TYPE_CHECKING:
    from auditlens.audit.techniques.base import AuditContext

__all__ = ["DictionaryPlan", "audit_dictionary", "check_dictionary", "load_audit_dictionary"]

log = logging.getLogger(__name__)


def _row_text(ctx: AuditContext, text: str) -> str:
    """A ``User: …\\nAssistant: …`` row rendered with the chat template (other rows as they are)."""
    if not text.startswith("User: ") or "\nAssistant: " not in text or not ctx.sampler.has_chat_template:
        return text
    user, _, answer = text[len("User: ") :].partition("\nAssistant: ")
    return ctx.sampler.chat_text([{"role": "user", "content": user}]) + answer


def _mixed_texts(ctx: AuditContext, plan: DictionaryPlan, include_sample: bool) -> list[str]:
    from auditlens.data import open_source

    budget = plan.tokens * 5  # characters: more than enough at ≥ 1 token per 5 characters
    sample: list[str] = []
    if include_sample:
        cap = int(budget * plan.max_sample_share)
        used = 0
        for r in ctx.subject.rows:
            t = _row_text(ctx, r.text)
            if used + len(t) > cap:
                break
            sample.append(t)
            used += len(t)
        budget -= used
    corpus: list[str] = []
    for doc in open_source("default"):
        if budget <= 0:
            break
        cut = doc[: plan.doc_chars]
        corpus.append(cut)
        budget -= len(cut)
    rng = random.Random(plan.seed)
    mixed = corpus + sample
    rng.shuffle(mixed)
    return mixed


def _key(ctx: AuditContext, plan: DictionaryPlan, include_sample: bool) -> str:
    m = ctx.subject.model
    ident = {
        "model": m.weights_hash or m.model_id,
        "hook_point": ctx.hook_point(),
        "plan": plan.model_dump(mode="json"),
        "sample": ctx.subject.identity()["data"] if include_sample else None,
    }
    return fingerprint(ident)[:16]


def audit_dictionary(
    ctx: AuditContext,
    *,
    include_sample: bool = True,
    corpus_mix: bool | None = None,
    plan: DictionaryPlan | None = None,
    progress: bool = True,
) -> Path:
    """Train (or reuse) the audited model's dictionary at ``ctx.hook_point()``; return its exported folder.

    ``include_sample`` (alias ``corpus_mix``): mix the data sample's texts into the default corpus (True) or use
    the default corpus only (False, the seed's comparison)."""
    from auditlens.pipeline.train import train_on_store
    from auditlens.sae import TopKConfig

    if corpus_mix is not None:
        include_sample = corpus_mix
    if ctx.work is None:
        raise AuditError(
            "training the audit's dictionary needs a work folder (ctx.work)",
            hint="run the audit with an output folder, or give a dictionary",
        )
    plan = plan or ctx.settings.dictionary
    hm = ctx.subject.model
    hp = ctx.hook_point()
    hm.parse(hp)
    root = Path(ctx.work) / "dictionary" / _key(ctx, plan, include_sample)
    name = f"topk_{plan.d_sae}_k{plan.k}"
    done = root / "dictionaries" / name
    if (done / "sae_weights.safetensors").is_file():
        return done
    mix = root / "texts.jsonl"
    if not mix.is_file():
        write_jsonl(mix, [{"text": t} for t in _mixed_texts(ctx, plan, include_sample)])
    hcfg = HarvestConfig(
        model=hm.model_id,
        hook_points=[hp],
        source=str(mix),
        tokens=plan.tokens,
        context_length=min(plan.context_length, hm.max_context or plan.context_length),
        seed=plan.seed,
        out=root / "activations",
    )
    log.info("training the audit dictionary (%s latents, %s tokens) at %s", plan.d_sae, plan.tokens, hp)
    harvest(hcfg, model=hm, progress=progress)
    store = ActivationStore.open(hcfg.out)
    cfg = TopKConfig(d_in=store.d_in(hp), d_sae=plan.d_sae, k=min(plan.k, plan.d_sae), name=name)
    batch = min(plan.batch_size, max(8, store.n_rows // 4))
    out = train_on_store(
        store, [cfg], root / "dictionaries", batch_size=batch, seed=plan.seed, progress=progress
    )
    return Path(out.dictionaries[0])


def check_dictionary(ctx: AuditContext, path: str | Path) -> DictionaryBasis:
    """Load a dictionary folder and refuse it unless it was made for the audited model at ``ctx.hook_point()``."""
    p = Path(path)
    if not p.is_dir():
        raise AuditError(f"dictionary {p} does not exist", hint="give an exported dictionary folder")
    try:
        basis = DictionaryBasis.load(p)
    except Exception as e:  # any unreadable folder is the same bad input
        raise AuditError(f"{p} is not a readable dictionary ({e})", hint="give an exported dictionary") from e
    hm = ctx.subject.model
    hp = ctx.hook_point()
    if basis.hook_point is not None and basis.hook_point != hp:
        raise AuditError(
            f"dictionary {p} was trained at hook point {basis.hook_point}, the audit reads {hp}",
            hint=f"give a dictionary of {hp}, set the audit's hook point to {basis.hook_point}, or let the "
            "audit train one",
        )
    if basis.model_name is not None and basis.model_name != hm.model_id:
        raise AuditError(
            f"dictionary {p} was trained on model {basis.model_name}, the audited model is {hm.model_id}",
            hint="give a dictionary trained on the audited model's activations, or let the audit train one",
        )
    if basis.d_in != hm.hook_dim(hp):
        raise AuditError(
            f"dictionary {p} reads width {basis.d_in}, {hm.model_id}'s {hp} has width {hm.hook_dim(hp)}",
            hint="give a dictionary of this model",
        )
    basis.hook_point = hp
    return basis


def load_audit_dictionary(ctx: AuditContext, *, progress: bool = True) -> tuple[DictionaryBasis, Path]:
    """The dictionary the feature techniques use: ``ctx.dictionary`` checked, or the audit's own, trained (or
    reused from the cache) with the settings' plan and recorded in ``ctx.dictionary``."""
    if ctx.dictionary is None:
        ctx.dictionary = audit_dictionary(ctx, progress=progress)
    return check_dictionary(ctx, ctx.dictionary), Path(ctx.dictionary)
