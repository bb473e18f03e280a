"""Auto-interp: fragments, parsers, scorers, and whole runs with scripted stub LLMs (known correlations)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from auditlens.activations import ActivationStore
from auditlens.interpret import TokenText
from auditlens.interpret.autointerp import (
    AutoInterpConfig,
    FragmentConfig,
    auroc,
    classifier_scores,
    collect_fragments,
    correlation,
    discretise,
    load_results,
    parse_binary_list,
    parse_explanation,
    parse_simulation,
    run_autointerp,
    select_fragments,
)
from auditlens.interpret.autointerp.fragments import REPLACEMENT_CHAR
from auditlens.interpret.explanations import load_explanations
from auditlens.llm import (
    ChatRequest,
    ChatResponse,
    LLMClient,
    LLMMalformed,
    LLMRefusal,
    LLMTimeout,
    StubBackend,
)

from .conftest import LinearReLU

FCFG = FragmentConfig(length=16, n_top=20, n_random=20, n_nonactivating=6, max_documents=None)


def _resp(text: str, **kw: object) -> ChatResponse:
    return ChatResponse(text=text, finish_reason="stop", backend="t", model="t", **kw)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------- pure parts
def test_parsers() -> None:
    vals, k, used = parse_simulation(_resp("<start>\nthe\t3\n cat\t 12\nno number here\nsat\t0\n<end>"), 4)
    assert vals == [3.0, 10.0, 0.0, 0.0] and k == 3 and not used
    with pytest.raises(LLMMalformed):
        parse_simulation(_resp("I think it fires on cats."), 3)
    with pytest.raises(LLMRefusal):
        parse_simulation(_resp("I'm sorry, I can't help with that."), 3)
    # Log-probabilities aligned with the text: expected value over "0".."10" at each number's first token.
    toks = ["a", "\t", "2", "\n", "b", "\t", "0"]
    lp = [{"x": 0.0}] * 7
    lp[2] = {"2": math.log(0.5), "4": math.log(0.25), " 8": math.log(0.25), "z": math.log(0.5)}
    lp[6] = {"0": 0.0}
    vals, k, used = parse_simulation(_resp("".join(toks), tokens=toks, top_logprobs=lp), 2)
    assert used and k == 2 and vals[0] == pytest.approx(0.5 * 2 + 0.25 * 4 + 0.25 * 8) and vals[1] == 0.0
    assert parse_binary_list(_resp("Sure: [1, 0, True, 'false']"), 4) == [1, 0, 1, 0]
    with pytest.raises(LLMMalformed):
        parse_binary_list(_resp("[1, 0]"), 3)
    assert parse_explanation(_resp(' words about "cats".\nmore')) == 'words about "cats"'
    with pytest.raises(LLMMalformed):
        parse_explanation(_resp("   "))


def test_scorers() -> None:
    assert correlation([0, 1, 2, 3], [0, 2, 4, 6]) == pytest.approx(1.0)
    assert correlation([0, 1, 2, 3], [3, 2, 1, 0]) == pytest.approx(-1.0)
    assert correlation([0, 1, 2, 3], [5, 5, 5, 5]) == 0.0  # a constant simulation carries no information
    assert correlation([1, 1, 1], [0, 1, 2]) is None
    s = classifier_scores([1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0, 1])
    assert s.accuracy == pytest.approx(6 / 8) and s.balanced_accuracy == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert (
        s.precision == pytest.approx(2 / 3)
        and s.recall == pytest.approx(2 / 3)
        and s.f1 == pytest.approx(2 / 3)
    )
    assert (
        auroc([3, 2, 1, 0], [1, 1, 0, 0]) == 1.0 and auroc([0, 0], [1, 0]) == 0.5 and auroc([1], [1]) is None
    )
    assert discretise(torch.tensor([-1.0, 0.0, 0.49, 0.5, 1.0, 2.0]), 1.0) == [0, 0, 4, 5, 10, 10]


def test_fragments_one_per_document(
    interp_store: ActivationStore, tiny_hm, linear_source: LinearReLU
) -> None:  # type: ignore[no-untyped-def]
    text = TokenText(tiny_hm.tokenizer)
    index = select_fragments(interp_store, text, FCFG)
    special = set(interp_store.manifest.special_token_ids)
    # The corpus is one long document cut into contexts: every context holds one document piece of 31 tokens.
    assert index.documents == interp_store.manifest.contexts
    assert index.n + index.dropped_replacement == index.documents and index.dropped_replacement > 0
    assert len(set(index.context.tolist())) == index.n  # one fragment per document
    all_tokens = torch.cat([interp_store.read_tokens(s.index) for s in interp_store.manifest.shards])
    for i in range(index.n):
        c, s = int(index.context[i]), int(index.start[i])
        frag = all_tokens[c, s : s + 16]
        assert torch.equal(frag, index.tokens[i]) and not (set(frag.tolist()) & special)
        assert not any(REPLACEMENT_CHAR in text(t) for t in frag.tolist())
    again = select_fragments(interp_store, text, FCFG)
    assert torch.equal(again.start, index.start)  # deterministic
    # Per-feature top / random / non-activating sets agree with brute force over the fragments.
    table = collect_fragments(
        linear_source, interp_store, index, FCFG.model_copy(update={"batch_fragments": 7})
    )
    acts_all = torch.cat([a for _, a in interp_store.contexts()])
    x = acts_all[index.context[:, None], index.start[:, None] + torch.arange(16)]
    codes = linear_source.encode(x.reshape(-1, x.shape[-1])).reshape(index.n, 16, -1)
    fmax = codes.amax(1)  # (M, F)
    assert torch.equal(table.varying, (fmax > 0).sum(0))
    for f in range(linear_source.n_features):
        top = table.top[f][table.top[f] >= 0]
        assert torch.allclose(fmax[top, f], fmax[:, f].topk(len(top)).values)
        assert torch.allclose(table.top_acts[f, : len(top)], codes[top, :, f])
        rnd = table.random[f][table.random[f] >= 0]
        assert len(rnd) == min(20, int(table.varying[f])) and (fmax[rnd, f] > 0).all()
        assert torch.allclose(table.random_acts[f, : len(rnd)], codes[rnd, :, f])
        zero = table.nonactivating[f][table.nonactivating[f] >= 0]
        assert len(zero) == min(6, index.n - int(table.varying[f])) and (fmax[zero, f] <= 0).all()


# ----------------------------------------------------------------------------------------------- whole runs
class Oracle:
    """Scripted LLM: names the feature in its explanation, simulates the true discretised activations (or
    zeros), and answers detection/fuzzing perfectly — so every score is known."""

    def __init__(self, levels: dict, *, zeros: bool = False) -> None:
        self.levels, self.zeros = levels, zeros

    def __call__(self, req: ChatRequest) -> str:
        sys_, user = req.messages[0].content, req.messages[-1].content
        if "summarize in a single sentence" in sys_:
            return f" tokens of feature {self.levels[('explain', user)]}."
        m = re.search(r"tokens of feature (\d+)", user)
        assert m is not None
        f = int(m.group(1))
        if "predict its activations" in sys_:
            rows = re.findall(r"^(.*)\tunknown$", user, flags=re.M)
            lv = [0] * len(rows) if self.zeros else self.levels[(f, *rows)]
            return "\n".join(f"{r}\t{v}" for r, v in zip(rows, lv, strict=True))
        examples = re.findall(r"^Example \d+: (.*)$", user, flags=re.M)
        kind = "fuzz" if "<<" in sys_ else "detect"
        return str([int((kind, f, e) in self.levels) for e in examples])


def _oracle_levels(store: ActivationStore, source: LinearReLU, text: TokenText) -> dict:
    from auditlens.interpret.autointerp.prompts import Fragment, explainer_request, highlight, show_token

    index = select_fragments(store, text, FCFG)
    table = collect_fragments(source, store, index, FCFG)
    levels: dict = {}
    for f in range(source.n_features):
        mx = float(table.max_activation[f])
        shown: list = []
        for j, (idx, acts) in enumerate(
            [
                *zip(table.top[f], table.top_acts[f], strict=True),
                *zip(table.random[f], table.random_acts[f], strict=True),
            ]
        ):
            if idx < 0:
                continue
            toks = text.many(index.tokens[idx].tolist())
            lv = discretise(acts, mx)
            if j < 20 and j % 4 == 0:
                shown.append(
                    (Fragment(kind="top", context=0, start=0, token_ids=[], tokens=toks, activations=[]), lv)
                )
            # The oracle simulates the true discretised levels (0..10), so its score is corr(real, levels).
            levels[(f, *(show_token(t) for t in toks))] = lv
            levels[("detect", f, show_token("".join(toks)))] = 1
            levels[("fuzz", f, show_token(highlight(toks, [a > 0 for a in acts.tolist()])))] = 1
        if shown:
            req = explainer_request([fr for fr, _ in shown], [lv for _, lv in shown])
            levels[("explain", req.messages[-1].content)] = f
    return levels


class BagEmbedder:
    """A tiny deterministic stand-in for the sentence embedder: hashed bag of characters."""

    def encode(self, texts: list[str], normalize_embeddings: bool = True) -> np.ndarray:
        out = np.zeros((len(texts), 64))
        for i, t in enumerate(texts):
            for ch in t:
                out[i, hash(ch) % 64] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_run_perfect_and_zero_simulators(
    interp_store: ActivationStore,
    tiny_hm,
    linear_source: LinearReLU,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    text = TokenText(tiny_hm.tokenizer)
    levels = _oracle_levels(interp_store, linear_source, text)
    cfg = AutoInterpConfig(fragments=FCFG, simulator_top_logprobs=0, feature_batch=5)
    stub = StubBackend(Oracle(levels), name="oracle")
    client = LLMClient(stub, cache_dir=tmp_path / "cache")
    s = run_autointerp(
        linear_source, interp_store, tmp_path / "run", explainer=client, text=text, config=cfg,
        embedder=BagEmbedder(), explanations_dir=tmp_path / "dash",
    )  # fmt: skip
    res = load_results(tmp_path / "run")
    assert s.scored + s.skipped + s.failed == linear_source.n_features == len(res)
    assert s.scored >= 10 and s.failed == 0
    for r in res.values():
        if r.varying_fragments < 20:
            assert r.status == "skipped" and r.explanation is None
            continue
        assert r.status == "scored" and r.explanation == f"tokens of feature {r.feature}"
        real = [a for fr in r.scored_fragments for a in fr.real]
        assert [a for fr in r.scored_fragments for a in fr.simulated] == discretise(
            torch.tensor(real), r.max_activation
        )
        expected = correlation(real, discretise(torch.tensor(real), r.max_activation))
        assert r.simulation is not None and r.simulation.top_and_random == pytest.approx(expected)
        assert r.simulation.top_and_random > 0.9 and r.simulation.top_only > 0.9
        assert r.detection is not None and r.detection.accuracy == 1.0
        has_negatives = r.varying_fragments < 86  # 86 fragments in all: the others never fire
        assert r.detection.n == 10 + min(6, 86 - r.varying_fragments)
        assert (
            (r.detection.balanced_accuracy == 1.0) if has_negatives else r.detection.balanced_accuracy is None
        )
        assert r.fuzzing is not None and r.fuzzing.accuracy == 1.0
        assert r.embedding is not None and r.embedding.positives == 10
        assert [f.kind for f in r.scored_fragments] == ["top"] * 5 + ["random"] * 5
    tr = [r.simulation.top_and_random for r in res.values() if r.simulation is not None]
    assert (
        s.scores["top_and_random"].value == pytest.approx(np.mean(tr))
        and s.scores["top_and_random"].n == s.scored
    )
    assert s.scores["top_and_random"].ci_high - s.scores["top_and_random"].value == pytest.approx(
        1.96 * np.std(tr, ddof=1) / math.sqrt(len(tr))
    )
    # Explanations land where the dashboard reads them.
    ex = load_explanations(tmp_path / "dash")
    assert len(ex) == s.scored and all(e.score == res[f].score("top_and_random") for f, e in ex.items())
    # A warm re-run makes no LLM call and reads the same results.
    calls = stub.calls
    s2 = run_autointerp(
        linear_source,
        interp_store,
        tmp_path / "run",
        explainer=client,
        text=text,
        config=cfg,
        embedder=BagEmbedder(),
    )
    assert stub.calls == calls and s2.scores == s.scores
    # Even with fresh result files, the cache answers everything.
    s3 = run_autointerp(
        linear_source,
        interp_store,
        tmp_path / "run3",
        explainer=client,
        text=text,
        config=cfg,
        embedder=BagEmbedder(),
    )
    assert stub.calls == calls and s3.scores["top_and_random"] == s.scores["top_and_random"]
    # A simulator that predicts nothing scores 0.
    zero = LLMClient(StubBackend(Oracle(levels, zeros=True), name="zeros"), use_cache=False)
    s4 = run_autointerp(
        linear_source, interp_store, tmp_path / "run4", explainer=client, simulator=zero, text=text,
        config=cfg.model_copy(update={"scorers": ["simulation"]}), n_scored=3,
    )  # fmt: skip
    assert (
        s4.scored == 3
        and s4.scores["top_and_random"].value == 0.0
        and s4.scores["detection_balanced_accuracy"].n == 0
    )
    assert (tmp_path / "run4" / "summary.json").read_text() == s4.model_dump_json(indent=1)
    sim_req = next(r for r in stub.requests if "predict its activations" in r.messages[0].content)
    assert (
        sim_req.prefill is not None
        and sim_req.prefill.startswith("<start>\n")
        and sim_req.prefill.endswith("\t")
    )
    # A simulator whose answers never parse predicts nothing: scored 0, each answer recorded as malformed...
    chatty = LLMClient(StubBackend(lambda r: "I think it fires on cats.", name="chatty"), use_cache=False)
    cfg5 = cfg.model_copy(update={"scorers": ["simulation"]})
    kw = {"explainer": client, "simulator": chatty, "text": text, "n_scored": 2}
    s5 = run_autointerp(linear_source, interp_store, tmp_path / "run5", config=cfg5, **kw)  # type: ignore[arg-type]
    r5 = [r for r in load_results(tmp_path / "run5").values() if r.status != "skipped"]
    assert s5.scored == 2 and s5.scores["top_and_random"].value == 0.0
    assert all(len(r.failures) == 10 and r.simulation and r.simulation.parsed_fraction == 0 for r in r5)
    # ... or, when asked, fails the feature.
    cfg6 = cfg5.model_copy(update={"unparsable_simulation": "fail"})
    s6 = run_autointerp(linear_source, interp_store, tmp_path / "run6", config=cfg6, **kw)  # type: ignore[arg-type]
    assert s6.failed == 2 and s6.scored == 0


def test_failures_recorded_and_retried(
    interp_store: ActivationStore,
    tiny_hm,
    linear_source: LinearReLU,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    text = TokenText(tiny_hm.tokenizer)
    oracle = Oracle(_oracle_levels(interp_store, linear_source, text))
    state = {"broken": True}

    def flaky(req: ChatRequest) -> str:
        user = req.messages[-1].content
        if state["broken"] and "summarize in a single sentence" in req.messages[0].content:
            first = re.search(r"<start>\n(.*)\t", user)
            assert first is not None
            h = sum(map(ord, first.group(1))) % 3
            if h == 0:
                raise LLMTimeout("slow", hint="wait")
            if h == 1:
                return "<start>"  # malformed
        return oracle(req)

    stub = StubBackend(flaky, name="flaky")
    from auditlens.llm import RetryConfig

    client = LLMClient(stub, cache_dir=tmp_path / "cache", retry=RetryConfig(max_retries=0))
    cfg = AutoInterpConfig(fragments=FCFG, simulator_top_logprobs=0, scorers=["simulation"])
    s = run_autointerp(linear_source, interp_store, tmp_path / "run", explainer=client, text=text, config=cfg)
    res = load_results(tmp_path / "run")
    failed = [r for r in res.values() if r.status == "failed"]
    assert failed and s.scored > 0 and s.failed == len(failed)
    kinds = {f.kind for r in failed for f in r.failures}
    assert kinds <= {"timeout", "malformed"} and kinds
    scored_before = {f: r for f, r in res.items() if r.status == "scored"}
    state["broken"] = False
    calls = stub.calls
    s2 = run_autointerp(
        linear_source, interp_store, tmp_path / "run", explainer=client, text=text, config=cfg
    )
    assert s2.failed == 0 and s2.scored == s.scored + s.failed
    res2 = load_results(tmp_path / "run")
    assert all(res2[f] == r for f, r in scored_before.items())  # nothing scored is lost
    # Only the failed features were asked again (at most one explanation + 10 simulations each).
    assert 0 < stub.calls - calls <= 11 * len(failed)
    failed_ids = {r.feature for r in failed}
    for req in stub.requests[calls:]:
        m = re.search(r"tokens of feature (\d+)", req.messages[-1].content)
        assert m is None or int(m.group(1)) in failed_ids  # no scored feature is simulated again
    assert any(r.temperature > 0 and r.seed == 2 for r in stub.requests[calls:])  # malformed: re-sampled


def test_bad_input(interp_store: ActivationStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from auditlens.interpret import InterpretError

    client = LLMClient(StubBackend(), use_cache=False)
    wrong = LinearReLU(torch.randn(4, 7))
    with pytest.raises(InterpretError, match="width"):
        run_autointerp(
            wrong, interp_store, tmp_path / "w", explainer=client, config=AutoInterpConfig(fragments=FCFG)
        )
    with pytest.raises(InterpretError, match="do not fit"):
        cfg = AutoInterpConfig(fragments=FragmentConfig(length=64))
        run_autointerp(
            LinearReLU(torch.randn(4, 32)), interp_store, tmp_path / "l", explainer=client, config=cfg
        )
    # A feature that never fires is skipped, not an error.
    dead = LinearReLU(torch.zeros(2, 32), bias=torch.full((2,), -1.0))
    s = run_autointerp(
        dead, interp_store, tmp_path / "d", explainer=client, config=AutoInterpConfig(fragments=FCFG)
    )
    assert s.skipped == 2 and s.scored == 0 and not s.scores["top_and_random"].defined
