"""Field types for result models written as JSON.

``NanFloat`` is a float that may be undefined (NaN): a mean over nothing, a ratio with a zero denominator, an R² of
targets without variance. JSON has no NaN, so pydantic writes it as ``null`` — standard JSON that every reader accepts —
but a plain ``float`` field then refuses that ``null`` when the file is read back. ``NanFloat`` reads ``null`` as NaN,
so such a result survives its round trip. (Fields where ``None`` means something else, e.g. "not measured", stay
``float | None``.)
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator

__all__ = ["NanFloat"]


def _null_is_nan(value: Any) -> Any:
    return math.nan if value is None else value


NanFloat = Annotated[float, BeforeValidator(_null_is_nan)]
