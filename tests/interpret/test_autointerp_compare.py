"""`compare` and the CLI verbs: the seed's comparison table and plot over the dictionary and baselines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditlens.activations import ActivationStore
from auditlens.cli import app
from auditlens.cli import commands as _commands  # noqa: F401  (registers the verbs)
from auditlens.interpret import InterpretError, TokenText
from auditlens.interpret.autointerp import AutoInterpConfig, FragmentConfig, load_results
from auditlens.interpret.autointerp.compare import Comparison, compare
from auditlens.llm import ChatRequest, LLMClient, StubBackend
from auditlens.sae import TopK, TopKConfig, save_dictionary

FCFG = FragmentConfig(length=16, max_documents=None)


def scripted(req: ChatRequest) -> str:
    """Explains with a fixed sentence; simulates len(token) % 3 per token; answers every example with 1."""
    sys_, user = req.messages[0].content, req.messages[-1].content
    if "summarize in a single sentence" in sys_:
        return " short tokens."
    if "predict its activations" in sys_:
        rows = re.findall(r"^(.*)\tunknown$", user, flags=re.M)
        return "\n".join(f"{r}\t{len(r) % 3}" for r in rows)
    return str([1] * len(re.findall(r"^Example \d+:", user, flags=re.M)))


class Flat:
    def encode(self, texts: list[str], normalize_embeddings: bool = True):  # type: ignore[no-untyped-def]
        import numpy as np

        return np.ones((len(texts), 4)) / 2


def test_compare_writes_table_and_plot(interp_store: ActivationStore, tiny_hm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ckpt = save_dictionary(TopK([TopKConfig(d_in=32, d_sae=48, k=4, name="tk")]), tmp_path / "tk")
    client = LLMClient(StubBackend(scripted, name="scripted"), cache_dir=tmp_path / "cache")
    methods = ["dictionary", "neurons_relu", "random_bias", "pca", "ica", "topk_pca"]
    cfg = AutoInterpConfig(fragments=FCFG, simulator_top_logprobs=0)
    c = compare(
        interp_store, [ckpt], tmp_path / "cmp", explainer=client, methods=methods, n_features=2,
        text=TokenText(tiny_hm.tokenizer), config=cfg, n_rows=500, embedder=Flat(),
    )  # fmt: skip
    assert [r.method for r in c.results] == methods and c.top_k == {"blocks.0.resid_post": 4}
    saved = Comparison.model_validate_json((tmp_path / "cmp" / "comparison.json").read_text())
    assert saved == c and (tmp_path / "cmp" / "comparison.png").stat().st_size > 10_000
    assert c.note is not None and "weak" in c.note
    for r in c.results:
        assert r.scored == 2 and r.failed == 0
        est = r.scores["top_and_random"]
        assert est.n == 2 and est.defined and est.ci_low <= est.value <= est.ci_high
        assert (
            r.scores["embedding_auroc"].value in (0.5,) or r.scores["embedding_auroc"].n == 0
        )  # flat embedder
        res = load_results(r.folder)
        assert sum(x.status == "scored" for x in res.values()) == 2
    # A warm re-run asks nothing new.
    calls = client.backend.calls  # type: ignore[attr-defined]
    compare(
        interp_store, [ckpt], tmp_path / "cmp", explainer=client, methods=methods, n_features=2,
        text=TokenText(tiny_hm.tokenizer), config=cfg, n_rows=500, embedder=Flat(),
    )  # fmt: skip
    assert client.backend.calls == calls  # type: ignore[attr-defined]
    with pytest.raises(InterpretError, match="unknown methods"):
        compare(interp_store, [ckpt], tmp_path / "x", explainer=client, methods=["svd"])
    # A dictionary that does not fit the store is reported and the other layers go on.
    bad = save_dictionary(TopK([TopKConfig(d_in=16, d_sae=8, k=2, name="bad")]), tmp_path / "bad")
    c2 = compare(
        interp_store, [bad, ckpt], tmp_path / "y", explainer=client, methods=["dictionary"], n_features=1,
        text=TokenText(tiny_hm.tokenizer), config=cfg, embedder=Flat(),
    )  # fmt: skip
    assert len(c2.errors) == 1 and c2.errors[0].method is None and "width" in c2.errors[0].error
    assert [r.method for r in c2.results] == ["dictionary"] and c2.results[0].scored == 1


def test_cli_autointerp_and_compare(interp_store: ActivationStore, tiny_hm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model_dir = tmp_path / "model"
    tiny_hm.model.save_pretrained(model_dir)
    tiny_hm.tokenizer.save_pretrained(model_dir)
    ckpt = save_dictionary(TopK([TopKConfig(d_in=32, d_sae=48, k=4, name="tk")]), tmp_path / "tk")
    common = ["--store", str(interp_store.path), "--model", str(model_dir), "--explainer", "stub",
              "--fragment-length", "16", "--scorers", "simulation,detection", "--cache-dir", str(tmp_path / "c")]  # fmt: skip
    res = CliRunner().invoke(
        app, ["interpret", "autointerp", str(ckpt), "--out", str(tmp_path / "a"), "-n", "3", *common]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    # The hash stub answers nonsense: every outcome is recorded per feature and the run finishes.
    assert summary["scored"] + summary["failed"] == 3 and "top_and_random" in res.output
    res = CliRunner().invoke(
        app, ["interpret", "compare", "-d", str(ckpt), "--out", str(tmp_path / "b"), "-n", "2",
              "--methods", "dictionary,neurons_relu", *common],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "b" / "comparison.json").read_text())
    assert [r["method"] for r in data["results"]] == ["dictionary", "neurons_relu"]
    assert (tmp_path / "b" / "comparison.png").exists() and "weak" in res.output
