"""The cleaning passes over a log: one scan counting what every check and rule finds
(and hashing the usable lines), and the removal of exact duplicate lines."""

from __future__ import annotations

import functools
import operator
from typing import Any

import pandas as pd

from personas.profiles._features import rule_tests

__all__ = ["Tally", "scan", "without_duplicates"]


class Tally:
    """Lines per combination of test bits (from :func:`scan`).

    ``bits[name]`` says, for every combination, whether that test is set in it: any
    boolean combination of tests (``&``, ``|``, ``~`` on these arrays) is then counted by
    :meth:`count`. ``usable``: the combinations where none of the first ``n_checks``
    tests (the checks that leave a line out) is set.
    """

    def __init__(self, tally, names: list[str], n_checks: int):
        import numpy as np

        index = np.arange(len(tally))
        self.tally = tally
        self.bits = {name: (index >> i) & 1 == 1 for i, name in enumerate(names)}
        self.usable = (index & ((1 << n_checks) - 1)) == 0
        self.false = np.zeros(len(tally), dtype=bool)
        self.total = int(tally.sum())

    def count(self, mask) -> int:
        return int(self.tally[mask].sum())


def scan(
    e,
    checks: dict[str, Any],
    facts: dict[str, Any],
    *,
    with_hash: bool,
    chunk_size: int = 1_000_000,
):
    """One pass over the log: lines per combination of ``checks`` and ``facts``, and the
    usable lines' hashes.

    Each line becomes a small integer whose bits are its tests and, with ``with_hash``,
    its hash (``h``). A line failing one of the ``checks`` is not usable. Codes are
    counted by NumPy as they stream in (a :class:`Tally`); the hashes of usable lines are
    kept for :func:`without_duplicates` (8 bytes a line). One pass instead of an
    aggregate followed by a second pass for the hashes, and every rule counted from a few
    plain facts per line rather than from the rules written out per line.
    """
    import ibis
    import numpy as np

    tests = checks | facts
    names = list(tests)
    # A CASE per test (casts to integer times powers of two took 1.6 times as long)
    bits = [ibis.ifelse(test, 1 << i, 0) for i, test in enumerate(tests.values())]
    code = functools.reduce(operator.add, bits)
    columns = {"code": code, **({"h": e.h} if with_hash else {})}
    tally = np.zeros(1 << len(names), dtype=np.int64)
    parts = []
    unusable = (1 << len(checks)) - 1
    for batch in e.select(**columns).to_pyarrow_batches(chunk_size=chunk_size):
        codes = batch.column(0).to_numpy()
        tally += np.bincount(codes, minlength=len(tally))
        if with_hash:
            parts.append(batch.column(1).to_numpy()[(codes & unusable) == 0])
    hashes = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
    return Tally(tally, names, len(checks)), (hashes if with_hash else None)


def without_duplicates(con, e, hashes):
    """``e`` with each set of identical lines replaced by one; the lines removed, in all
    and per purchase/return rule.

    Identical lines share the 64-bit hash of every column (``h``); ``hashes`` holds
    those of the usable lines (from :func:`scan`). They are sorted (a DuckDB grouping
    of 100M lines needed 4 GB and twice the time); only the lines whose hash repeats
    are then grouped, exactly, by every column. Every later query reads the log without
    those lines plus one copy of each (a small table): nothing rewrites the log.
    """
    import ibis
    import numpy as np

    hashes.sort()
    repeated = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    del hashes
    if len(repeated) == 0:
        return e.drop("h"), 0, {}
    candidates = e.semi_join(ibis.memtable({"h": repeated}), "h")
    copies = candidates.group_by(candidates.columns).aggregate(n=candidates.count())
    copies = con.create_table("personas_duplicates", copies.filter(copies.n > 1))
    extra = copies.aggregate(
        extra=(copies.n - 1).sum(),
        **{rule: (copies.n - 1).sum(where=test) for rule, test in rule_tests(copies).items()},
    ).execute()
    extra = {k: int(v) if pd.notna(v) else 0 for k, v in extra.iloc[0].items()}
    if extra["extra"] == 0:
        return e.drop("h"), 0, {}
    keys = copies.select("h", "sec")
    one_each = copies.drop("n").cast(e.schema())  # (the stored table's types may differ)
    once = e.anti_join(keys, ["h", "sec"]).union(one_each, distinct=False)
    return once.drop("h"), extra.pop("extra"), extra
