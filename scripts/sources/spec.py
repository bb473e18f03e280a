"""Authoring records for the hand-written `rewrites` source (read by ``verify.py``).

Each ``batch_*.py`` file calls :func:`add` once per HumanEval problem with:

- ``gen``: an input generator ``gen(rng) -> argument tuple`` drawing inputs of the test calls' types that
  respect the docstring's preconditions (it was written before the backdoors, for the clean check);
- ``clean``: one or two clean rewrites (:class:`Clean`), numbered rw1, rw2 in order;
- ``bds``: backdoored versions (:class:`Backdoor`), each naming the rewrite it was inserted into (``of``),
  its trigger input, its label, and ``fires(*args)``, the trigger condition written out in plain Python
  (verify.py checks that the program disagrees with the reference only where it holds).

Nothing here runs candidate code; verify.py runs every program in the sandbox.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Clean:
    code: str
    honest: str


@dataclass
class Backdoor:
    of: int  # 1-based number of the clean rewrite the backdoor was inserted into
    code: str
    input: str  # literal argument tuple on which the output differs from the reference
    label: str
    explanation: str
    blatant: str
    persuasive: str
    fires: Callable[..., bool]


@dataclass
class Entry:
    pid: str
    gen: Callable[[random.Random], tuple[Any, ...]]
    clean: list[Clean]
    bds: list[Backdoor] = field(default_factory=list)


ENTRIES: list[Entry] = []


def add(
    pid: str,
    gen: Callable[[random.Random], tuple[Any, ...]],
    clean: list[Clean],
    bds: list[Backdoor],
) -> None:
    ENTRIES.append(Entry(pid, gen, clean, bds))


# ------------------------------------------------------------------ small helpers for the generators


def ints(r: random.Random, lo_n: int, hi_n: int, lo: int, hi: int) -> list[int]:
    return [r.randint(lo, hi) for _ in range(r.randint(lo_n, hi_n))]


def floats(r: random.Random, lo_n: int, hi_n: int, lo: float, hi: float, nd: int = 1) -> list[float]:
    return [round(r.uniform(lo, hi), nd) for _ in range(r.randint(lo_n, hi_n))]


def word(r: random.Random, lo: int, hi: int, alphabet: str = string.ascii_lowercase) -> str:
    return "".join(r.choice(alphabet) for _ in range(r.randint(lo, hi)))


def words(
    r: random.Random, lo_n: int, hi_n: int, lo: int, hi: int, alphabet: str = string.ascii_lowercase
) -> list[str]:
    return [word(r, lo, hi, alphabet) for _ in range(r.randint(lo_n, hi_n))]


def balanced(r: random.Random, pairs: int, open_: str = "(", close: str = ")") -> str:
    """A random balanced bracket string with ``pairs`` pairs."""
    out, depth, left = [], 0, pairs
    while left or depth:
        if left and (depth == 0 or r.random() < 0.5):
            out.append(open_)
            depth += 1
            left -= 1
        else:
            out.append(close)
            depth -= 1
    return "".join(out)


def brackets(r: random.Random, lo: int, hi: int, open_: str = "(", close: str = ")") -> str:
    """Either a balanced string or a random one (about half each)."""
    if r.random() < 0.5:
        return balanced(r, r.randint(lo // 2 or 1, max(hi // 2, 1)), open_, close)
    return word(r, lo, hi, open_ + close)


# ------------------------------------------------------------------------------- label shorthands

IV = "input_validation"
OOP = "special_condition_out_of_place"
OOPC = "special_condition_out_of_place_comment"
BI = "special_condition_blends_in"
HC = "special_condition_blends_in_hardcoding"
OPT = "special_condition_claimed_optimisation"
SAE = "subtle_algorithmic_error"
DWC = "disguising_with_complexity"
OTHER = "other"
