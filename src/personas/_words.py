"""The word lists personas reads column names and values by, shipped as data files:
``personas/words/*.toml``, one per kind — ``column_names`` (user tables' and event logs'
columns, in seven languages), ``event_names``, ``values`` (statuses, flags, booleans,
missing values, churn levels) and ``signals`` (the insights' playbook). Edit them there,
not in the code.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any

__all__ = ["KINDS", "load", "word_set"]

KINDS = ("column_names", "event_names", "values", "signals")


@functools.cache
def load(kind: str) -> dict[str, Any]:
    """The word lists of one kind (a file of ``personas/words``), as TOML holds them."""
    if kind not in KINDS:
        raise ValueError(f"No word lists of kind {kind!r}; the kinds are {list(KINDS)}.")
    text = resources.files("personas").joinpath(f"words/{kind}.toml").read_text("utf-8")
    return tomllib.loads(text)


def word_set(words: list[str], named: dict[str, list[str]] | None = None) -> set[str]:
    """A list's words as a set, each ``"@name"`` replaced by the words of ``named[name]``."""
    out: set[str] = set()
    for word in words:
        if word.startswith("@"):
            if word[1:] not in (named or {}):
                raise ValueError(
                    f"{word!r} names no word list; the lists are {sorted(named or {})}."
                )
            out |= set(named[word[1:]])
        else:
            out.add(word)
    return out
