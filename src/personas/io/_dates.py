"""The one way dates written as text are read, for user tables and event logs alike.

The forms tried are listed once (``FORMATS``). The one that reads the most of a column's
sampled values wins; the data decide the order of day and month — a value with a first
field above 12 (``13/04/2024``) can only be day first, one with a second field above 12
(``04/13/2024``) only month first, and when the sample reads both ways every value of the
column is looked at. When every value fits both orders (``03/04/2024``),
the day comes first — as most of the world writes dates, and as DuckDB's CSV sniffer
reads them — and a note says so; the order is chosen with ``date_order="month"``
(``--date-order month``), or a column's form with the schema's ``format``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from personas.errors import DataError

__all__ = [
    "FORMATS",
    "TABLE_FORMATS",
    "ambiguous_note",
    "decide",
    "fitted_or_data",
    "ordered",
    "other_order",
    "pattern",
    "read_instant",
    "shape",
]

# Each day-first form comes before its month-first twin (the order kept on a tie). A
# reading counts only with a year from 1900 on (the readers check it): "2/8/16" read with
# %Y would be the year 16, so two-digit years (%y) are tried too.
FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S %z",  # an offset without a colon (Shopify's exports: -0500)
    "%Y-%m-%d %H:%M %z",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%d/%m/%Y %I:%M %p",
    "%m/%d/%Y %I:%M %p",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S",
    "%m-%d-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%m-%d-%Y %H:%M",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d",
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y %H:%M:%S",
    "%d-%b-%Y %H:%M",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d-%B-%Y",
    "%b %d, %Y %I:%M:%S %p",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%d/%m/%y %H:%M",
    "%m/%d/%y %H:%M",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d.%m.%y",
    "%d-%m-%y",
)


# User tables read numeric forms with four-digit years only: a code such as "14-07-35" or
# a label such as "28 Mar 2024" stays text there (months by name, two-digit years, AM/PM
# and offsets are event logs' forms).
TABLE_FORMATS = tuple(f for f in FORMATS if not re.search(r"%[ybBpIz]", f))


def other_order(fmt: str) -> str:
    """The same form with day and month swapped ("%m/%d/%Y" ↔ "%d/%m/%Y")."""
    for sep in "/.-":
        month, day = f"%m{sep}%d", f"%d{sep}%m"
        if fmt.startswith(month):
            return day + fmt[5:]
        if fmt.startswith(day):
            return month + fmt[5:]
    return fmt


def ordered(order: str | None) -> tuple[str, ...]:
    """``FORMATS`` with ``order``'s forms first ("month": each month-first form before its
    day-first twin); the default, day first."""
    if order is None or order == "day":
        return FORMATS
    if order != "month":
        raise ValueError(f"date_order must be 'day' or 'month', not {order!r}.")
    out = list(FORMATS)
    for i, fmt in enumerate(out):
        twin = other_order(fmt)
        if fmt.startswith("%d") and twin != fmt and twin in out[i + 1 :]:
            j = out.index(twin)
            out[i], out[j] = twin, fmt
    return tuple(out)


def shape(fmt: str) -> str:
    """How a form writes 31 January 2024, 13:45 (for messages)."""
    return dt.datetime(2024, 1, 31, 13, 45, 0, tzinfo=dt.UTC).strftime(fmt)


_PATTERN = {"%d": "dd", "%m": "mm", "%Y": "yyyy", "%y": "yy", "%H": "hh", "%M": "mm", "%S": "ss",
            "%I": "hh", "%p": "AM", "%b": "Mon", "%B": "Month", "%z": "+hhmm"}  # fmt: skip


def pattern(fmt: str) -> str:
    """A form as people write it: "%d/%m/%Y" is dd/mm/yyyy."""
    return re.sub(r"%[a-zA-Z]", lambda m: _PATTERN.get(m.group(0), m.group(0)), fmt)


def ambiguous_note(column: str, chosen: str, best: list[str]) -> str | None:
    """The note when the sample reads equally well day first and month first (``best``:
    the forms that read the most values)."""
    twin = other_order(chosen)
    if twin == chosen or twin not in best:
        return None
    first = "month" if chosen.startswith("%m") else "day"
    other = "day" if first == "month" else "month"
    return (
        f"{column}: every sampled date reads both as {pattern(chosen)} and as "
        f"{pattern(twin)}: read {first} first (--date-order {other}, date_order={other!r} "
        f"in Python, reads them {other} first)."
    )


def decide(
    counts: dict[str, float], n: float, column: str, order: str | None = None, least: float = 0.9
) -> tuple[str | None, str | None]:
    """The form that reads the most of ``n`` sampled values (``counts``: values read per
    form, or their weights), if it reads ``least`` of them or more — on a tie the first
    in ``order``'s list (day first unless ``order`` is "month") —, and the note when the
    sample fits both orders of day and month."""
    best = max(counts.values(), default=0)
    if best == 0 or best < least * n:
        return None, None
    tied = [f for f in ordered(order) if counts.get(f, 0) == best]
    return tied[0], ambiguous_note(column, tied[0], tied)


def read_instant(value: Any, order: str | None = None, *, what: str = "as_of") -> Any:
    """A date or instant a person gave (``--as-of``), as a pandas Timestamp: ISO 8601
    (2024-12-31, 2024-12-31T18:00:00Z), or a usual form read by the same policy as the
    data's dates (03/04/2024 is 3 April unless ``order`` is "month"). A clear error
    names ``what`` otherwise."""
    import pandas as pd

    def bad() -> DataError:
        return DataError(
            f"{what} {value!r} is not a date; write it like 2024-12-31 or 2024-12-31T18:00:00Z."
        )

    if isinstance(value, str) and not re.match(r"^\d{4}-\d{1,2}-\d{1,2}([ T].*)?$", value):
        for fmt in ordered(order):  # (not ISO 8601: the forms of the data's dates)
            try:
                read = dt.datetime.strptime(value.strip(), fmt)
            except ValueError:
                continue
            if read.year >= 1900:
                return pd.Timestamp(read)
        raise bad()
    try:
        stamp = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError):
        raise bad() from None
    if pd.isna(stamp):
        raise bad()
    return stamp


def fitted_or_data(
    read: dict[str, int], fitted: str, other: str, column: str, source: str
) -> tuple[str, str | None]:
    """``fitted``, the form of day and month a fitted builder's log was read with, unless
    it reads under 90 % as many of ``read``'s values as ``other`` does; then ``other``, and
    the note that says so."""
    if read[fitted] >= 0.9 * read[other]:
        return fitted, None
    first = "month" if other.startswith("%m") else "day"
    return other, (
        f"{column} of {source} is read {first} first, not as the fitted log's dates were: "
        f"{read[other]:,} sampled values read so against {read[fitted]:,} the fitted way."
    )
