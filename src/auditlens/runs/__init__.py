"""The run kit: the base layer every orchestrator stands on. It knows no stage.

What it owns, one module each:

- :mod:`~auditlens.runs.folder` — a **run folder**: claimed before anything is written, ``run.json`` records the kind
  of job, the fingerprint of the settings that determine its results and the config as run; the same run resumes,
  another run is refused (or parked, or replaced when asked), folders of older versions are read through a legacy
  reader.
- :mod:`~auditlens.runs.fingerprint` — the identity hash (stable encoding, so old folders keep their fingerprints).
- :mod:`~auditlens.runs.stages` — resumable steps inside a run folder: a folder per step with a marker written last.
- :mod:`~auditlens.runs.io` — atomic writes of files and folders; JSON and JSONL read and written with errors that
  name the file and the line; durable appends.
- :mod:`~auditlens.runs.stats` — the two result types for values with uncertainty, :class:`Estimate` (a point
  estimate with its 95% interval) and :class:`Proportion` (k of n, Wilson), and the interval functions (Wilson,
  normal, bootstrap, paired bootstrap, ratio of sums).
- :mod:`~auditlens.runs.progress` — one channel for progress and messages: tqdm bars that a caller can silence,
  ``logging`` underneath.
- :mod:`~auditlens.runs.report` and :mod:`~auditlens.runs.figures` — one HTML page kit with one stylesheet, and one
  figure helper on matplotlib's object API.

Contract for an orchestrator: claim the output folder with :meth:`RunFolder.claim` (identity = what changes the
results, never the machine), write every file through :mod:`~auditlens.runs.io`, report every rate as a
:class:`Proportion` and every other uncertain value as an :class:`Estimate`, write the typed JSON first and draw
figures and pages from it with :mod:`~auditlens.runs.figures` and :class:`~auditlens.runs.report.Page`, log with
``logging.getLogger(__name__)`` and show progress with :func:`bar`.
"""

from auditlens.runs.fingerprint import fingerprint
from auditlens.runs.folder import RUN_FILE, RunFolder, RunRecord, config_diff, now
from auditlens.runs.io import (
    append_jsonl,
    atomic_write_bytes,
    atomic_write_text,
    iter_jsonl,
    read_json,
    read_jsonl,
    remove_stale_temporaries,
    write_dir_atomically,
    write_file_atomically,
    write_json,
    write_jsonl,
)
from auditlens.runs.progress import bar, cli_logging, progress_enabled, quiet
from auditlens.runs.stats import (
    Estimate,
    Proportion,
    bootstrap,
    mean_ci,
    paired_difference,
    ratio_ci,
    wilson,
)

__all__ = [
    "RUN_FILE",
    "Estimate",
    "Proportion",
    "RunFolder",
    "RunRecord",
    "append_jsonl",
    "atomic_write_bytes",
    "atomic_write_text",
    "bar",
    "bootstrap",
    "cli_logging",
    "config_diff",
    "fingerprint",
    "iter_jsonl",
    "mean_ci",
    "now",
    "paired_difference",
    "progress_enabled",
    "quiet",
    "ratio_ci",
    "read_json",
    "read_jsonl",
    "remove_stale_temporaries",
    "wilson",
    "write_dir_atomically",
    "write_file_atomically",
    "write_json",
    "write_jsonl",
]
