"""An auto-interp result folder: claimed as a run, per-feature results written as they come, resumed.

Layout::

    run.json                RunRecord (kind 'autointerp'): fingerprint of the run's identity, the config as run
    fragments.safetensors   FragmentTable of the candidate features (reused when source, store and config match)
    features/<id>.json      FeatureResult per feature, written atomically as soon as the feature is done
    summary.json            AutoInterpSummary: means with 95% CIs per score, counts, LLM usage
    explanations.jsonl      explanations and scores in the form dashboards read

**Identity** (:class:`RunKey`): the source's name, the store's data (its store id), the resolved hook point, the
explainer and the simulator (backend/model) and the protocol (:meth:`AutoInterpConfig.protocol`). Which features
are candidates and how many are scored are the run's budget, not its identity: a re-run asking for more scores
more in the same folder. A folder holding another run is refused, naming the settings that differ.

**Resume**: features whose result is ``scored`` or ``skipped`` are kept; ``failed`` ones are tried again (with
the LLM client's on-disk cache every call that had succeeded is answered from the cache, not billed again).

**Folders of older versions** (no ``run.json``) are read through :func:`legacy_reader`: their ``summary.json``,
feature results and fragment table show the source, store path, hook point, explainer, simulator and fragment
settings; a folder where all of those agree with the claiming run is resumed as that run (and gets its
``run.json``), any other is refused.

A **comparison** folder (:func:`claim_comparison`, kind 'autointerp-compare') holds one such run per layer and
method (``<hook point>/<method>/``) and the baseline fits; its identity is the store's data, the dictionaries, the
hook points as given, the explainer, the simulator, the protocol, the seed, the ICA/NMF subsample and the
candidate factor (methods and ``n_features`` are its budget). An older comparison folder shows its store path,
explainer, simulator and config in ``comparison.json`` (or, cut short before it, in its first method folder).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from auditlens.activations import ActivationStore
from auditlens.errors import DataError
from auditlens.interpret._files import write_model
from auditlens.interpret._legacy import legacy_record, same_store
from auditlens.interpret.autointerp.config import AutoInterpConfig
from auditlens.interpret.autointerp.fragments import (
    FRAGMENTS_FILE,
    FragmentConfig,
    FragmentTable,
    collect_fragments,
    select_fragments,
)
from auditlens.interpret.autointerp.results import FeatureResult
from auditlens.interpret.errors import InterpretError
from auditlens.interpret.features import FeatureSource
from auditlens.interpret.tokens import TokenText
from auditlens.runs import RunFolder, RunRecord, fingerprint, read_json

__all__ = [
    "COMPARE_KIND",
    "COMPARISON_FILE",
    "FEATURES_DIR",
    "KIND",
    "SUMMARY_FILE",
    "RunKey",
    "claim_comparison",
    "claim_run",
    "fragment_table",
    "legacy_reader",
    "legacy_shown",
    "load_results",
    "write_result",
]

KIND = "autointerp"
LABEL = "auto-interp run"
SUMMARY_FILE = "summary.json"
FEATURES_DIR = "features"
COMPARE_KIND = "autointerp-compare"
COMPARISON_FILE = "comparison.json"
_REFUSED = "choose another output folder, or delete this one to start again"


@dataclass
class RunKey:
    """What identifies an auto-interp run (see the module docstring)."""

    source: str
    store: ActivationStore
    hook_point: str
    explainer: str
    simulator: str
    config: AutoInterpConfig

    def identity(self) -> dict[str, Any]:
        """What the run's fingerprint hashes."""
        return {
            "source": self.source,
            "store": self.store.store_id,
            "hook_point": self.hook_point,
            "explainer": self.explainer,
            "simulator": self.simulator,
            "protocol": self.config.protocol(),
        }

    def shown(self) -> dict[str, Any]:
        """The settings an older folder's files show, as this run has them (the head of its recorded config)."""
        return {
            "source": self.source,
            "store": str(self.store.path),
            "hook_point": self.hook_point,
            "explainer": self.explainer,
            "simulator": self.simulator,
            "fragments_key": self.config.fragments.key(),
        }

    def fragment_keys(self) -> set[str]:
        """The fragment-config keys of this run, with the hook point as given, resolved or left out."""
        f = self.config.fragments
        return {f.key()} | {f.model_copy(update={"hook_point": hp}).key() for hp in (None, self.hook_point)}


def legacy_shown(folder: Path) -> tuple[dict[str, Any], str] | None:
    """What an auto-interp folder written before ``run.json`` shows of its settings, and the file that says most;
    None when the folder is not one."""
    shown: dict[str, Any] = {}
    source_file: str | None = None
    frag = folder / FRAGMENTS_FILE
    if frag.is_file():
        meta = FragmentTable.read_meta(frag)
        shown.update({k: meta[m] for k, m in _FRAGMENT_META.items() if m in meta})
        source_file = FRAGMENTS_FILE
    results = sorted((folder / FEATURES_DIR).glob("*.json")) if (folder / FEATURES_DIR).is_dir() else []
    for p in results:
        r = read_json(p, FeatureResult, what="auto-interp feature result")
        shown["source"] = r.source
        if r.explainer is not None and r.simulator is not None:
            shown.update(explainer=r.explainer, simulator=r.simulator)
            break
    if results:
        source_file = FEATURES_DIR
    summary = folder / SUMMARY_FILE
    if summary.is_file():
        data = read_json(summary, what="auto-interp summary")
        if not isinstance(data, dict) or "simulator" not in data or "scores" not in data:
            return None  # another job's summary (e.g. a dashboard folder's)
        shown.update({k: data[k] for k in ("source", "store", "hook_point", "explainer", "simulator")})
        source_file = SUMMARY_FILE
    return None if source_file is None else (shown, source_file)


_FRAGMENT_META = {"source": "source", "store": "store", "hook_point": "hook_point", "fragments_key": "config"}


def legacy_reader(key: RunKey) -> Callable[[Path], RunRecord | None]:
    """The ``legacy`` reader :meth:`RunFolder.claim` gets for a run of ``key`` (see the module docstring)."""
    fp = fingerprint(key.identity())
    checks = {"store": same_store(key.store), "fragments_key": lambda k: k in key.fragment_keys()}

    def read(folder: Path) -> RunRecord | None:
        try:
            found = legacy_shown(folder)
        except DataError as err:
            raise InterpretError(
                f"{folder} looks like an auto-interp folder of an older version but cannot be read: {err}",
                hint=_REFUSED,
            ) from err
        if found is None:
            return None
        shown, source_file = found
        return legacy_record(KIND, shown, source_file, expected=key.shown(), fp=fp, checks=checks)

    return read


def claim_run(out: Path, key: RunKey, recorded: dict[str, Any]) -> RunFolder:
    """Claim ``out`` for the run of ``key`` (``recorded``: the rest of the config as run)."""
    return RunFolder.claim(
        out,
        KIND,
        {**key.shown(), "store_id": key.store.store_id, **recorded},
        identity=key.identity(),
        legacy=legacy_reader(key),
        label=LABEL,
        hint="choose another output folder (a run folder holds one source, store, explainer, simulator and "
        "protocol), or delete this one to start again",
    )


def claim_comparison(
    out: Path,
    *,
    store: ActivationStore,
    dictionaries: Sequence[str | Path],
    hook_points: Sequence[str | None],
    explainer: str,
    simulator: str,
    config: AutoInterpConfig,
    seed: int,
    n_rows: int,
    candidate_factor: int,
    budget: dict[str, Any],
) -> RunFolder:
    """Claim ``out`` for a comparison (see the module docstring); ``budget``: methods and ``n_features``."""
    shown = {"store": str(store.path), "explainer": explainer, "simulator": simulator}
    identity = {
        "store": store.store_id,
        "dictionaries": [str(Path(d).resolve()) for d in dictionaries],
        "hook_points": list(hook_points),
        "explainer": explainer,
        "simulator": simulator,
        "protocol": config.protocol(),
        "seed": seed,
        "n_rows": n_rows,
        "candidate_factor": candidate_factor,
    }
    fp = fingerprint(identity)
    checks = {
        "store": same_store(store),
        "config": lambda c: AutoInterpConfig.model_validate(c).protocol() == config.protocol(),
    }

    def read(folder: Path) -> RunRecord | None:
        found = _legacy_comparison(folder)
        if found is None:
            return None
        old, source_file = found
        return legacy_record(COMPARE_KIND, old, source_file, expected=shown, fp=fp, checks=checks)

    recorded = {
        **shown,
        "store_id": store.store_id,
        "config": config.model_dump(mode="json"),
        **{k: identity[k] for k in ("dictionaries", "hook_points", "seed", "n_rows", "candidate_factor")},
        **budget,
    }
    return RunFolder.claim(
        out,
        COMPARE_KIND,
        recorded,
        identity=identity,
        legacy=read,
        label="auto-interp comparison",
        hint=_REFUSED,
    )


def _legacy_comparison(folder: Path) -> tuple[dict[str, Any], str] | None:
    """What a comparison folder of an older version shows: ``comparison.json``'s store, explainer, simulator
    and config, or (cut short before it) its first method folder's store, explainer and simulator."""
    path = folder / COMPARISON_FILE
    try:
        if path.is_file():
            data = read_json(path, what="auto-interp comparison")
            return {k: data[k] for k in ("store", "explainer", "simulator", "config")}, COMPARISON_FILE
        for sub in sorted(p for p in folder.glob("*/*") if p.is_dir() and p.parent.name != "fits"):
            found = legacy_shown(sub)
            if found is not None:
                keys = ("store", "explainer", "simulator")
                shown = {k: found[0][k] for k in keys if k in found[0]}
                return shown, f"{sub.relative_to(folder).as_posix()}/{found[1]}"
    except (DataError, KeyError, TypeError) as err:
        raise InterpretError(
            f"{folder} looks like an auto-interp comparison of an older version but cannot be read: {err}",
            hint=_REFUSED,
        ) from err
    return None


def write_result(out: Path, result: FeatureResult) -> None:
    """Write one feature's result (atomically) into the run folder."""
    write_model(out / FEATURES_DIR / f"{result.feature}.json", result)


def load_results(out: str | Path) -> dict[int, FeatureResult]:
    """Every per-feature result in a result folder, by feature id."""
    folder = Path(out) / FEATURES_DIR
    res: dict[int, FeatureResult] = {}
    if folder.is_dir():
        for p in sorted(folder.glob("*.json")):
            r = read_json(p, FeatureResult, what="auto-interp feature result")
            res[r.feature] = r
    return res


def fragment_table(
    source: FeatureSource,
    store: ActivationStore,
    out: Path,
    text: TokenText,
    cfg: FragmentConfig,
    ids: Tensor,
) -> FragmentTable:
    """The run's fragment table: the saved one when it was cut for this source, store, config and features,
    else cut now (and saved)."""
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
