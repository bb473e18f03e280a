"""Spec entries that name a function of a registry and give its keyword arguments (rule judges, behaviour
edits): one check, run when the spec is loaded, so a typo fails there rather than mid-build."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

from auditlens.errors import AuditlensError


def check_call(
    registry: Mapping[str, Callable[..., Any]],
    name: str,
    params: dict[str, Any],
    *,
    where: str,
    what: str,
    error: type[AuditlensError],
    alternative: str = "",
) -> None:
    """Raise ``error`` unless ``name`` is in ``registry``, ``params`` bind to its signature (after the text
    argument), and every regex in ``params['patterns']`` / ``params['requires']`` compiles."""
    fn = registry.get(name)
    if fn is None:
        raise error(f"{where}: unknown {what} {name!r}", hint=f"use one of {sorted(registry)}{alternative}")
    try:
        inspect.signature(fn).bind("", **params)
    except TypeError as exc:
        raise error(
            f"{where}: {what} {name!r} cannot take params {params}: {exc}",
            hint=f"its signature is {name}{inspect.signature(fn)}",
        ) from None
    for key in ("patterns", "requires"):
        for p in params.get(key) or []:
            try:
                re.compile(p)
            except re.error as exc:
                raise error(f"{where}: bad regex {p!r} in {key}: {exc}", hint="fix the pattern") from None
