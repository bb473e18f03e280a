"""The seed's auto-interp data: one fixed-length fragment per document, and per feature the top, random
non-zero and non-activating fragments with the feature's activation on every token.

**Documents.** The store holds packed contexts; a *document* here is a maximal run of non-special tokens inside
one context (contexts are split at the store's special token ids: the document separator and the context-start
token). A document that the packer cut across two contexts therefore counts as two documents — each piece only
ever saw its own context, so its activations are those of a separate document. Documents shorter than
``length`` tokens give no fragment.

**Fragments** (seed §5.5, item 1): from each of the first ``max_documents`` documents, one ``length``-token
fragment at a pseudo-random start (a hash of ``seed`` and the document's position, so the draw is deterministic);
a fragment holding a token that decodes alone to text with the replacement character "\\ufffd" is dropped.

**Per feature** (one streaming pass over the store, only the fragments' rows are encoded):

- ``top``: the ``n_top`` fragments with the largest per-fragment maximum (the code's ranking), strongest first;
- ``random``: ``n_random`` fragments drawn uniformly among the feature's *varying* fragments — those whose
  maximum activation is > 0 (the code draws fragments "whose max activation != 0"; activations are read as
  non-negative, so a signed feature varies where it is positive somewhere);
- ``nonactivating``: ``n_nonactivating`` fragments drawn uniformly among those where it is never > 0 (the
  negatives of the detection and embedding scorers);
- ``varying``: how many fragments vary (a feature with fewer than 20 is skipped by the protocol).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict, Field
from safetensors import safe_open
from torch import Tensor

from auditlens.activations import ActivationStore
from auditlens.interpret._files import load_tensors, save_tensors
from auditlens.interpret.errors import InterpretError
from auditlens.interpret.features import FeatureSource, check_source
from auditlens.interpret.scan import hash_keys
from auditlens.interpret.tokens import TokenText
from auditlens.runs import fingerprint

REPLACEMENT_CHAR = "\ufffd"
FRAGMENTS_FILE = "fragments.safetensors"


class FragmentConfig(BaseModel):
    """How fragments are cut from the store and which are kept per feature."""

    model_config = ConfigDict(extra="forbid")

    length: int = Field(default=64, ge=2, description="Tokens per fragment (the seed: 64).")
    max_documents: int | None = Field(
        default=50_000, ge=1, description="Read the first this many documents (the seed: 50,000); None: all."
    )
    n_top: int = Field(default=20, ge=1, description="Top fragments kept per feature (by per-fragment max).")
    n_random: int = Field(default=20, ge=0, description="Random varying fragments kept per feature.")
    n_nonactivating: int = Field(
        default=10, ge=0, description="Random fragments where the feature never fires (detection/embedding)."
    )
    drop_replacement_char: bool = Field(
        default=True, description='Drop fragments with a token that decodes to "\\ufffd" (the seed does).'
    )
    seed: int = Field(default=0, description="Seed of fragment starts and of the random draws.")
    hook_point: str | None = Field(
        default=None, description="Hook point (needed when the store holds several)."
    )
    batch_fragments: int = Field(default=256, ge=1, description="Fragments encoded together.")

    def key(self) -> str:
        """A hash of every field that changes which fragments are kept (the fingerprint of those fields; the
        same value as before the run kit, so saved fragment tables are still reused)."""
        return fingerprint(self.model_dump(mode="json", exclude={"batch_fragments"}))


@dataclass
class FragmentIndex:
    """Where the fragments are: ``M`` fragments of ``L`` tokens, in store order."""

    context: Tensor
    """(M,) int64 context index in store order."""
    start: Tensor
    """(M,) int64 first token position within the context."""
    tokens: Tensor
    """(M, L) int32 token ids."""
    documents: int
    """Documents read (those too short for a fragment included)."""
    dropped_replacement: int
    """Fragments dropped for the replacement character."""
    short_documents: int
    """Documents shorter than the fragment length (no fragment)."""

    @property
    def n(self) -> int:
        return int(self.context.numel())


@dataclass
class FragmentTable:
    """Per feature: the kept fragments (indices into a :class:`FragmentIndex`) and their activations."""

    feature_ids: Tensor
    """(F,) int64 feature id of each row."""
    varying: Tensor
    """(F,) int64 number of fragments whose maximum activation is > 0."""
    max_activation: Tensor
    """(F,) float32 maximum activation over all fragments."""
    top: Tensor
    """(F, n_top) int64 fragment index (-1: empty slot), strongest first."""
    top_acts: Tensor
    """(F, n_top, L) float32 activations."""
    random: Tensor
    """(F, n_random) int64 fragment index of random varying fragments (-1: empty)."""
    random_acts: Tensor
    """(F, n_random, L) float32."""
    nonactivating: Tensor
    """(F, n_nonactivating) int64 fragment index of random fragments where the feature never fires."""
    index: FragmentIndex
    meta: dict[str, str]

    def row_of(self, feature: int) -> int:
        hits = torch.nonzero(self.feature_ids == int(feature)).flatten()
        if not len(hits):
            raise InterpretError(
                f"feature {feature} is not in this fragment table",
                hint=f"it holds {len(self.feature_ids)} features, e.g. {self.feature_ids[:5].tolist()}",
            )
        return int(hits[0])

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        tensors = {
            "feature_ids": self.feature_ids,
            "varying": self.varying,
            "max_activation": self.max_activation,
            "top": self.top,
            "top_acts": self.top_acts,
            "random": self.random,
            "random_acts": self.random_acts,
            "nonactivating": self.nonactivating,
            "index.context": self.index.context,
            "index.start": self.index.start,
            "index.tokens": self.index.tokens,
        }
        meta = dict(self.meta)
        meta["index"] = json.dumps(
            {
                "documents": self.index.documents,
                "dropped_replacement": self.index.dropped_replacement,
                "short_documents": self.index.short_documents,
            }
        )
        return save_tensors(path, tensors, meta)

    @staticmethod
    def read_meta(path: str | Path) -> dict[str, str]:
        """The metadata of a saved table (source, store, hook point, config key) without its tensors."""
        with safe_open(str(path), "pt") as f:
            return dict(f.metadata() or {})

    @classmethod
    def load(cls, path: str | Path) -> FragmentTable:
        t, meta = load_tensors(path)
        info = json.loads(meta.pop("index"))
        index = FragmentIndex(t["index.context"], t["index.start"], t["index.tokens"], **info)
        return cls(
            feature_ids=t["feature_ids"],
            varying=t["varying"],
            max_activation=t["max_activation"],
            top=t["top"],
            top_acts=t["top_acts"],
            random=t["random"],
            random_acts=t["random_acts"],
            nonactivating=t["nonactivating"],
            index=index,
            meta=meta,
        )


def _segments(row: Tensor, special: set[int]) -> list[tuple[int, int]]:
    """(start, end) of each maximal run of non-special tokens in one context."""
    out, start = [], None
    for i, t in enumerate(row.tolist()):
        if t in special:
            if start is not None:
                out.append((start, i))
            start = None
        elif start is None:
            start = i
    if start is not None:
        out.append((start, len(row)))
    return out


def select_fragments(store: ActivationStore, text: TokenText | None, config: FragmentConfig) -> FragmentIndex:
    """One fragment per document of the store (see the module docstring); reads token ids only.

    ``text`` decodes token ids for the replacement-character rule; without a tokenizer no fragment is dropped.
    """
    L = config.length
    if store.manifest.context_length < L:
        raise InterpretError(
            f"fragments of {L} tokens do not fit in the store's {store.manifest.context_length}-token contexts",
            hint="pass a smaller fragment length (FragmentConfig.length / --fragment-length)",
        )
    special = set(store.manifest.special_token_ids)
    check = config.drop_replacement_char and text is not None and text.tokenizer is not None
    bad: dict[int, bool] = {}
    ctxs: list[int] = []
    starts: list[int] = []
    toks: list[Tensor] = []
    docs = dropped = short = 0
    c0 = 0
    limit = config.max_documents or math.inf
    for shard in store.manifest.shards:
        if docs >= limit:
            break
        tokens = store.read_tokens(shard.index)
        for i in range(tokens.shape[0]):
            row = tokens[i]
            for a, b in _segments(row, special):
                if docs >= limit:
                    break
                docs += 1
                if b - a < L:
                    short += 1
                    continue
                u = hash_keys(config.seed, 5, torch.tensor(c0 + i), torch.tensor(a)).item()
                s = a + min(int(u * (b - a - L + 1)), b - a - L)
                frag = row[s : s + L]
                if check:
                    assert text is not None
                    hit = False
                    for t in frag.tolist():
                        if t not in bad:
                            bad[t] = REPLACEMENT_CHAR in text(t)
                        hit = hit or bad[t]
                    if hit:
                        dropped += 1
                        continue
                ctxs.append(c0 + i)
                starts.append(s)
                toks.append(frag.to(torch.int32))
        c0 += tokens.shape[0]
    if not toks:
        raise InterpretError(
            f"no {L}-token fragment could be cut from the store at {store.path} "
            f"({docs} documents, {short} too short, {dropped} with the replacement character)",
            hint="use a store with longer documents or a smaller fragment length",
        )
    return FragmentIndex(
        context=torch.tensor(ctxs, dtype=torch.long),
        start=torch.tensor(starts, dtype=torch.long),
        tokens=torch.stack(toks),
        documents=docs,
        dropped_replacement=dropped,
        short_documents=short,
    )


def _merge(
    keys: Tensor, idx: Tensor, acts: Tensor | None, ck: Tensor, ci: Tensor, ca: Tensor | None
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Keep, per row, the ``R`` largest keys among the kept ``(F, R)`` slots and the ``(F, B)`` candidates."""
    r = keys.shape[1]
    if r == 0:
        return keys, idx, acts
    allk = torch.cat([keys, ck], 1)
    top = allk.topk(r, dim=1).indices
    new_acts = None
    if acts is not None and ca is not None:
        new_acts = torch.cat([acts, ca], 1).gather(1, top[..., None].expand(-1, -1, acts.shape[-1]))
    return allk.gather(1, top), torch.cat([idx, ci.expand(len(idx), -1)], 1).gather(1, top), new_acts


def collect_fragments(
    source: FeatureSource, store: ActivationStore, index: FragmentIndex, config: FragmentConfig
) -> FragmentTable:
    """Encode every fragment with ``source`` and keep, per feature, the top / random / non-activating ones."""
    hp = store.resolve_hook_point(config.hook_point)
    check_source(source, store.d_in(hp))
    f, L = source.n_features, config.length
    fid = source.feature_ids.to(torch.long)
    ninf = -math.inf
    top_k = torch.full((f, config.n_top), ninf, dtype=torch.float64)
    top_i = torch.full((f, config.n_top), -1, dtype=torch.long)
    top_a: Tensor | None = torch.zeros(f, config.n_top, L)
    rnd_k = torch.full((f, config.n_random), ninf, dtype=torch.float64)
    rnd_i = torch.full((f, config.n_random), -1, dtype=torch.long)
    rnd_a: Tensor | None = torch.zeros(f, config.n_random, L)
    zero_k = torch.full((f, config.n_nonactivating), ninf, dtype=torch.float64)
    zero_i = torch.full((f, config.n_nonactivating), -1, dtype=torch.long)
    varying = torch.zeros(f, dtype=torch.long)
    fmax = torch.full((f,), ninf)
    order = torch.argsort(index.context, stable=True)
    ctx_sorted = index.context[order]
    c0 = 0
    for tokens, acts in store.contexts(hp):
        n = tokens.shape[0]
        lo = int(torch.searchsorted(ctx_sorted, c0))
        hi = int(torch.searchsorted(ctx_sorted, c0 + n))
        for b in range(lo, hi, config.batch_fragments):
            frag = order[b : min(b + config.batch_fragments, hi)]
            local = index.context[frag] - c0
            pos = index.start[frag][:, None] + torch.arange(L)
            x = acts[local[:, None], pos]  # (B, L, d)
            codes = source.encode(x.reshape(-1, x.shape[-1])).float().cpu().reshape(len(frag), L, f)
            a = codes.permute(2, 0, 1).contiguous()  # (F, B, L)
            m = a.amax(-1)  # (F, B)
            fmax = torch.maximum(fmax, m.amax(-1))
            vary = m > 0
            varying += vary.sum(-1)
            top_k, top_i, top_a = _merge(top_k, top_i, top_a, m.double(), frag[None], a)
            h = hash_keys(config.seed, 6, fid[:, None], frag[None, :])
            rk = torch.where(vary, h, torch.tensor(ninf, dtype=torch.float64))
            rnd_k, rnd_i, rnd_a = _merge(rnd_k, rnd_i, rnd_a, rk, frag[None], a)
            zk = torch.where(~vary, h, torch.tensor(ninf, dtype=torch.float64))
            zero_k, zero_i, _ = _merge(zero_k, zero_i, None, zk, frag[None], None)
        c0 += n
    assert top_a is not None and rnd_a is not None
    # Empty slots (fewer fragments than slots, or no varying/non-activating fragment): index -1.
    top_i = torch.where(torch.isfinite(top_k), top_i, -1)
    rnd_i = torch.where(torch.isfinite(rnd_k), rnd_i, -1)
    zero_i = torch.where(torch.isfinite(zero_k), zero_i, -1)
    return FragmentTable(
        feature_ids=fid.clone(),
        varying=varying,
        max_activation=torch.where(torch.isfinite(fmax), fmax, 0.0),
        top=top_i,
        top_acts=torch.where(top_i[..., None] >= 0, top_a, 0.0),
        random=rnd_i,
        random_acts=torch.where(rnd_i[..., None] >= 0, rnd_a, 0.0),
        nonactivating=zero_i,
        index=index,
        meta={"source": source.name, "store": str(store.path), "hook_point": hp, "config": config.key()},
    )


def discretise(acts: Tensor, max_activation: float) -> list[int]:
    """Activations -> integers 0..10 as in neuron-explainer: ``min(10, floor(10 * relu(a) / max))``."""
    if max_activation <= 0:
        return [0] * len(acts)
    return [min(10, math.floor(10 * max(float(a), 0.0) / max_activation)) for a in acts]
