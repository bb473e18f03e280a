"""From paths and specs to results: what ``auditlens interpret autointerp`` and ``auditlens interpret compare`` do,
callable without the CLI (the protocol settings from their options, the LLM clients from specs, the feature
draw)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from auditlens.activations import ActivationStore
from auditlens.interpret.autointerp.compare import DEFAULT_METHODS, Comparison, compare
from auditlens.interpret.autointerp.config import AutoInterpConfig
from auditlens.interpret.autointerp.draw import choose_features
from auditlens.interpret.autointerp.fragments import FragmentConfig
from auditlens.interpret.autointerp.run import run_autointerp
from auditlens.interpret.autointerp.summary import AutoInterpSummary, weak_note
from auditlens.interpret.features import DictionaryFeatures
from auditlens.interpret.workflows import store_token_text
from auditlens.llm import LLMClient

__all__ = [
    "DEFAULT_SCORERS",
    "autointerp_dictionary",
    "compare_dictionaries",
    "make_clients",
    "protocol_config",
    "split_names",
]

DEFAULT_SCORERS = "simulation,detection,fuzzing,embedding"


def split_names(text: str | Sequence[str]) -> list[str]:
    """``"a, b,c"`` → ``["a", "b", "c"]`` (a list is kept as it is, stripped)."""
    items = text.split(",") if isinstance(text, str) else list(text)
    return [s.strip() for s in items if s.strip()]


def protocol_config(
    *,
    fragment_length: int = 64,
    max_documents: int = 50_000,
    seed: int = 0,
    scorers: str | Sequence[str] = DEFAULT_SCORERS,
    hook_point: str | None = None,
) -> AutoInterpConfig:
    """The protocol the verbs run: the seed's, with these fragments (``max_documents`` 0: all), scorers and seed
    (of fragments, draws and shuffles)."""
    fragments = FragmentConfig(
        length=fragment_length, max_documents=max_documents or None, seed=seed, hook_point=hook_point
    )
    return AutoInterpConfig(fragments=fragments, scorers=split_names(scorers), seed=seed)  # type: ignore[arg-type]


def make_clients(
    explainer: str,
    simulator: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    concurrency: int | None = None,
) -> tuple[LLMClient, LLMClient]:
    """The explainer's and the simulator's clients (one client for both when the specs agree)."""
    from auditlens.llm import make_client

    opts = {} if concurrency is None else {"concurrency": concurrency}
    e = make_client(explainer, cache_dir=cache_dir, **opts)
    if simulator is None or simulator == explainer:
        return e, e
    return e, make_client(simulator, cache_dir=cache_dir, **opts)


def autointerp_dictionary(
    checkpoint: str | Path,
    store: str | Path,
    out: str | Path,
    *,
    n_features: int = 20,
    features: Sequence[int] | None = None,
    explainer: str = "local",
    simulator: str | None = None,
    config: AutoInterpConfig | None = None,
    dashboard_dir: str | Path | None = None,
    model: str | None = None,
    cache_dir: str | Path | None = None,
    concurrency: int | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
) -> AutoInterpSummary:
    """Auto-interp of the dictionary at ``checkpoint``: ``features`` as given, or ``n_features`` scored from the
    seeded draw (:func:`~auditlens.interpret.autointerp.draw.choose_features`), with the weak-model caveat."""
    st = ActivationStore.open(store)
    text = store_token_text(st, model)
    source = DictionaryFeatures.load(checkpoint, device=device)
    ids, n_scored = choose_features(source, n_features, features, seed=seed)
    e, s = make_clients(explainer, simulator, cache_dir=cache_dir, concurrency=concurrency)
    return run_autointerp(
        source, st, out, explainer=e, simulator=s, features=ids, n_scored=n_scored, text=text,
        config=config or protocol_config(seed=seed), explanations_dir=dashboard_dir, note=weak_note(e, s),
        progress=progress,
    )  # fmt: skip


def compare_dictionaries(
    dictionaries: Sequence[str | Path],
    store: str | Path,
    out: str | Path,
    *,
    hook_points: Sequence[str | None] | None = None,
    methods: str | Sequence[str] = DEFAULT_METHODS,
    n_features: int = 150,
    explainer: str = "local",
    simulator: str | None = None,
    config: AutoInterpConfig | None = None,
    n_rows: int = 20_000,
    model: str | None = None,
    cache_dir: str | Path | None = None,
    concurrency: int | None = None,
    seed: int = 0,
    progress: bool = True,
) -> Comparison:
    """The seed's comparison (:func:`~auditlens.interpret.autointerp.compare.compare`) from paths and specs."""
    st = ActivationStore.open(store)
    text = store_token_text(st, model)
    e, s = make_clients(explainer, simulator, cache_dir=cache_dir, concurrency=concurrency)
    return compare(
        st, dictionaries, out, explainer=e, simulator=s, hook_points=hook_points or None,
        methods=split_names(methods), n_features=n_features, text=text, config=config or protocol_config(seed=seed),
        seed=seed, n_rows=n_rows, progress=progress,
    )  # fmt: skip
