"""Neutral text to compare the data sample against: passages of the offline default corpus (python docs, KJV,
stdlib — ordinary text no organism is trained to exploit) plus the everyday probes. A term is "distinctive" of the
sample only when it is rarer here."""

from __future__ import annotations

import logging
from functools import lru_cache

from auditlens.audit.probes import probes

__all__ = ["background_texts"]

log = logging.getLogger(__name__)
_SEED = 918_273  # not the seed of any build's replay passages (those use the build seed, 0 by default)


@lru_cache(maxsize=4)
def background_texts(n: int = 800) -> tuple[str, ...]:
    """``n`` default-corpus passages (when the corpus is there) and the everyday probes."""
    texts: list[str] = []
    try:
        from auditlens.organisms.documents import replay_passages

        texts = replay_passages(n, seed=_SEED, chars=400)
    except (
        Exception
    ) as e:  # the corpus may not be built on this machine: the probes alone are a weak background
        log.warning(
            "default corpus unavailable for the audit's background text (%s); using the probes only", e
        )
    return (*texts, *probes().everyday, *probes().text_prefixes)
