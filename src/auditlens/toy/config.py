"""A pydantic base for the toy lab's configs: bad values become :class:`ConfigError`, not tracebacks."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from auditlens.errors import ConfigError


class ToyConfigModel(BaseModel):
    """Frozen, extra-forbidding pydantic model whose validation failures raise :class:`ConfigError`.

    Range checks live in ``model_validator(mode="after")`` methods that call :func:`require`, which raises
    :class:`ConfigError` directly (pydantic lets non-``ValueError`` exceptions through). Type errors that
    pydantic itself finds (a string for an int, an unknown field) are converted in ``__init__``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '<config>'}: {e['msg']}" for e in err.errors()
            )
            raise ConfigError(
                f"invalid {type(self).__name__}: {problems}",
                hint=f"check the field names and types of {type(self).__name__} (see its docstring)",
            ) from err


def require(condition: bool, message: str, hint: str) -> None:
    """Raise :class:`ConfigError` with ``message`` and ``hint`` unless ``condition`` holds."""
    if not condition:
        raise ConfigError(message, hint=hint)
