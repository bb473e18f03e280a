"""One registry: architecture name -> (dictionary class, config class).

Adding an architecture is one file: subclass :class:`~auditlens.sae.base.Dictionary` and
:class:`~auditlens.sae.base.DictionaryConfig`, then decorate the dictionary class with :func:`register`.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from auditlens.sae.errors import ConfigError

if TYPE_CHECKING:
    from auditlens.sae.base import Dictionary, DictionaryConfig

_REGISTRY: dict[str, tuple[type[Dictionary], type[DictionaryConfig]]] = {}

D = TypeVar("D", bound="type[Dictionary]")


def register(name: str, config_cls: type[DictionaryConfig]) -> Any:
    """Class decorator: register ``cls`` under ``name`` with its config class."""

    def deco(cls: D) -> D:
        if name in _REGISTRY and _REGISTRY[name][0] is not cls:
            raise ConfigError(f"architecture {name!r} is registered twice", hint="pick a unique name")
        _REGISTRY[name] = (cls, config_cls)
        cls.architecture = name
        return cls

    return deco


def registered_classes() -> dict[str, type]:
    """Every registered dictionary and config class by its class name (what :mod:`auditlens.sae` exports)."""
    _ensure_builtin()
    out: dict[str, type] = {}
    for cls, cfg in _REGISTRY.values():
        out[cls.__name__] = cls
        out[cfg.__name__] = cfg
    return out


def list_architectures() -> list[str]:
    """Names of every registered architecture, sorted."""
    _ensure_builtin()
    return sorted(_REGISTRY)


def get_architecture(name: str) -> tuple[type[Dictionary], type[DictionaryConfig]]:
    """Look up ``name``; unknown names raise :class:`ConfigError` listing the valid ones."""
    _ensure_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown dictionary architecture {name!r}",
            hint=f"valid architectures: {', '.join(sorted(_REGISTRY))}",
        ) from None


def config_from_dict(data: dict[str, Any]) -> DictionaryConfig:
    """Build the right config class from a dict holding an ``architecture`` key (unknown keys are errors)."""
    if "architecture" not in data:
        raise ConfigError("dictionary config has no 'architecture' key", hint="add architecture=<name>")
    _, cfg_cls = get_architecture(str(data["architecture"]))
    try:
        return cfg_cls.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in e.errors()
        )
        raise ConfigError(
            f"invalid {data['architecture']!r} dictionary config: {problems}",
            hint=f"valid keys: {', '.join(sorted(cfg_cls.model_fields))}",
        ) from None


def _ensure_builtin() -> None:
    """Import every module of :mod:`auditlens.sae.architectures`; each registers itself on import, so a new
    architecture is one new file there."""
    import auditlens.sae.architectures as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
