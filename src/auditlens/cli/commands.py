"""Imports every sub-command module so that each registers its verb on :data:`auditlens.cli.app`.

Add one import line per verb module; keep logic out of the CLI.
"""

from __future__ import annotations

from auditlens.cli import (
    audit,  # noqa: F401
    eval,  # noqa: F401
    faking,  # noqa: F401
    harvest,  # noqa: F401
    info,  # noqa: F401
    interpret,  # noqa: F401
    interpret_compare,  # noqa: F401
    llm,  # noqa: F401
    monitor,  # noqa: F401
    organism,  # noqa: F401
    pipeline,  # noqa: F401
    replicate,  # noqa: F401
    run,  # noqa: F401
    train,  # noqa: F401
)
