"""How the log's time column is read: real timestamps and dates as they are, text in
ISO form or in one of the usual day/month orders, dates written as numbers (20240131) and
Unix times (seconds, milliseconds, microseconds or nanoseconds since 1970).

The way is chosen once, from the column's type and values (:func:`time_reader`); every
line is then converted the same way. A value that cannot be read becomes a missing time,
and such lines are counted apart ("unreadable_timestamp") rather than stopping the run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from personas.errors import DataError
from personas.io._dates import FORMATS, decide, fitted_or_data, other_order, shape
from personas.profiles._mapping import TIME_WORDS, words

__all__ = [
    "TimeReader",
    "date_from_parts",
    "epoch_seconds",
    "fitted_time_reader",
    "time_reader",
    "with_clock",
]

# Text forms (io._dates.FORMATS) are tried when DuckDB's own reading (ISO 8601, with an
# offset or a zone name) does not read every sampled value: the forms and the policy for
# ambiguous dates are shared with user tables. A reading counts only with a year from 1900
# on (DuckDB reads "13/01/24" as January 24th of the year 13).
YEAR_1900 = -2_208_988_800  # 1900-01-01 in seconds since 1970
DAY_NUMBERS = 100_000  # a column named day of whole numbers below this: day numbers
SAMPLE = 5_000  # non-missing values looked at to choose a text format
# Unix times: the largest value says the unit (each range starts in 1973 and ends past
# the year 5000 in its unit).
EPOCH_UNITS = ((1e8, 1e11, 1.0, "seconds"), (1e11, 1e14, 1e3, "milliseconds"),
               (1e14, 1e17, 1e6, "microseconds"), (1e17, 1e20, 1e9, "nanoseconds"))  # fmt: skip


@dataclass
class TimeReader:
    """How to turn the time column into a UTC timestamp, and what to tell the user."""

    how: str  # "as_is", "date", "cast", "format", "yyyymmdd", "epoch", "days"
    format: str | None = None
    scale: float = 1.0
    note: str | None = None
    clock: str | None = None  # a column with the time of day, added to dates
    clock_digits: int = 0  # a clock written as a number: 6 (hhmmss), 4 (hhmm), 2 (hours)
    text_format: str | None = None  # the form of the text DuckDB's CSV reader parsed

    @property
    def dates_only(self) -> bool:
        """Whether the times read are whole days (a date, yyyymmdd, a form without hours)."""
        return self.how in ("date", "yyyymmdd", "days") or (
            self.how == "format" and "%H" not in (self.format or "") and "%I" not in self.format
        )

    @property
    def may_fail(self) -> bool:
        """Whether a present value can turn out unreadable (and be counted as such)."""
        return self.how in ("cast", "format", "yyyymmdd", "epoch")

    def __call__(self, col: Any, table: Any = None) -> Any:
        ts = self._read(col)
        if self.clock is None or table is None:
            return ts
        clock = table[self.clock]
        if self.clock_digits:  # 143207 is 14:32:07, 1631 is 16:31, 9 is 09:00
            n = clock.cast("int64") * 10 ** (6 - self.clock_digits)
            seconds = (n // 10_000) * 3600 + (n // 100 % 100) * 60 + n % 100
        else:
            if not clock.type().is_time():
                clock = clock.try_cast("time")
            seconds = clock.hour() * 3600 + clock.minute() * 60 + clock.second()
        return _to_timestamp(epoch_seconds(ts) + seconds.fill_null(0))

    def _read(self, col: Any) -> Any:
        import ibis
        import ibis.expr.datatypes as dt_

        if self.how == "as_is":
            return col
        if self.how == "date":
            return col.cast("timestamp")
        if self.how == "cast":  # ISO text: offsets such as +02:00 are honoured
            return col.try_cast(dt_.Timestamp(timezone="UTC"))
        if self.how == "format":
            return _try_strptime(col.cast("string"), ibis.literal(self.format))
        if self.how == "yyyymmdd":
            whole = col.cast("int64").cast("string")
            return _try_strptime(whole, ibis.literal("%Y%m%d"))
        if self.how == "days":  # day numbers: days after 1970-01-01
            return _to_timestamp(col.cast("int64").cast("float64") * 86_400)
        return _to_timestamp(col.cast("float64") / self.scale)


def time_reader(t: Any, column: str, source: str, order: str | None = None) -> TimeReader:
    """Choose how ``column`` of ``t`` (an Ibis table) is read as times (see the module);
    ``order`` ("day" or "month") comes first in dates that read both ways.

    Raises a :class:`DataError` naming the column, what it holds and how to fix it when
    its values are not times in any of these ways.
    """
    col = t[column]
    typ = col.type()
    if typ.is_timestamp():
        return TimeReader("as_is")
    if typ.is_date():
        return TimeReader("date")
    if typ.is_numeric():
        return _numeric_reader(t, column, source)
    if typ.is_string():
        return _text_reader(t, column, source, order)
    raise DataError(
        f"The time column {column!r} of {source} holds {typ} values, not times. Name the "
        "time column with --timestamp (timestamp= in Python)."
    )


def date_from_parts(t: Any, named: str | None = None) -> tuple[str, Any] | None:
    """A date made of three number columns named year, month and day (card transaction
    exports: ``Year``, ``Month``, ``Day`` and a ``Time`` of day), as (name, expression).

    Only when the log has no column of dates or times and none of its text columns named
    for a time holds dates (a time of day such as ``06:21`` is added by
    :func:`with_clock`), or when ``named`` (the time column the caller named) is this
    date's name, ``Year-Month-Day``. A day that does not exist (31 April) is a missing time.
    """
    import ibis

    schema = t.schema()
    parts: dict[str, str] = {}
    for name, typ in schema.items():
        w = words(name)
        for part in ("year", "month", "day"):
            if w == {part} and typ.is_integer() and part not in parts:
                parts[part] = name
    if len(parts) < 3:
        return None
    name = "-".join(parts[p] for p in ("year", "month", "day"))
    if named is not None and named != name:
        return None
    if named is None:
        if any(typ.is_timestamp() or typ.is_date() for typ in schema.values()):
            return None
        for col, typ in schema.items():
            if typ.is_string() and words(col) & TIME_WORDS and not _is_clock(t, col):
                return None
    y, m, d = (t[parts[p]].cast("int64").cast("string") for p in ("year", "month", "day"))
    text = y + "-" + m.lpad(2, "0") + "-" + d.lpad(2, "0")
    return name, _try_strptime(text, ibis.literal("%Y-%m-%d")).cast("date")


def _clock_digits(t: Any, name: str) -> int:
    """6, 4 or 2 when every value of a whole-number column is a time of day written
    hhmmss, hhmm or as an hour (the largest value says which); else 0."""
    import ibis

    v = t[name].cast("int64")
    facts = t.aggregate(
        hi=v.max(),
        bad=ibis.cases(((v < 0) | (v % 100 >= 60) | (v // 100 % 100 >= 60), 1), else_=0).sum(),
    ).execute()
    hi, bad = facts["hi"].iloc[0], facts["bad"].iloc[0]
    if hi is None or hi != hi:  # (no values)
        return 0
    if hi > 235959 or int(bad) > 0:
        return 0
    return 6 if hi > 2359 else 4 if hi > 23 else 2


def _is_clock(t: Any, name: str) -> bool:
    """Whether at least 90 % of a sample of a text column reads as times of day."""
    import ibis

    values = t.filter(t[name].notnull()).select(v=t[name]).limit(SAMPLE).execute()
    if len(values) == 0:
        return False
    return ibis.memtable(values).v.try_cast("time").count().execute() >= 0.9 * len(values)


def with_clock(reader: TimeReader, t: Any, date: str, used: set[str]) -> TimeReader:
    """``reader`` with the time of day of another column added to its dates, when the
    times it reads are whole days and the log has a time-of-day column (of type TIME, or
    text such as 08:26 or 14:05:33 named for a time or an hour, or whole numbers so named
    written hhmmss, hhmm or as hours: 143207, 1631, 9) that no meaning took. Timestamps
    that are all at midnight (dates parsed by pandas) are whole days too."""
    if not reader.dates_only and reader.how != "as_is":
        return reader
    midnight: list[bool] = []  # (checked once, when a clock column is there)

    def whole_days() -> bool:
        if not midnight:
            ts = t[date]
            off = ts.notnull() & (ts != ts.truncate("D"))
            midnight.append(int(t.aggregate(n=off.sum()).execute()["n"].iloc[0] or 0) == 0)
        return midnight[0]

    for name, typ in t.schema().items():
        if name == date or name in used:
            continue
        named = bool(words(name) & {"time", "hour"})
        clock = named and typ.is_string() and _is_clock(t, name)
        digits = _clock_digits(t, name) if named and typ.is_integer() else 0
        if not (typ.is_time() or clock or digits):
            continue
        if not reader.dates_only and not whole_days():
            return reader
        reader.clock, reader.clock_digits = name, digits
        reader.note = (reader.note + " " if reader.note else "") + (
            f"{date} and {name} are read together as each event's time."
        )
        return reader
    return reader


def _numeric_reader(t: Any, column: str, source: str) -> TimeReader:
    import ibis

    col = t[column]
    x = col.cast("float64")
    month = (x / 100).floor() % 100
    day = x % 100
    calendar = (x == x.floor()) & x.between(18_000_101, 21_991_231)
    calendar &= month.between(1, 12) & day.between(1, 31)
    facts = t.aggregate(
        n=col.count(),
        lo=x.min(),
        hi=x.max(),
        ymd=ibis.cases((calendar, 1), else_=0).sum(),
        whole=ibis.cases((x == x.floor(), 1), else_=0).sum(),
    ).execute()
    n, lo, hi, ymd = (facts[k].iloc[0] for k in ("n", "lo", "hi", "ymd"))
    whole = int(facts["whole"].iloc[0]) == int(n)
    if not n:
        raise DataError(f"The time column {column!r} of {source} is empty.")
    if int(ymd) == int(n):
        return TimeReader(
            "yyyymmdd", note=f"{column} holds dates written as numbers (yyyymmdd, e.g. {int(hi)})."
        )
    w = words(column)  # "DAY", "day_number"; not "day_of_week"
    day_numbers = w & {"day", "days"} and w <= {"day", "days", "no", "nr", "num", "number", "index"}
    if day_numbers and float(lo) >= 0 and hi < DAY_NUMBERS and whole:
        return TimeReader(
            "days",
            note=f"{column} holds day numbers ({lo:g} to {hi:g}), not dates: read as days "
            "after 1970-01-01, so day 1 is 1970-01-02 (recency, tenure and windows count "
            "days the same; give --as-of on that scale).",
        )
    for low, high, scale, unit in EPOCH_UNITS:
        if low <= hi < high:
            when = dt.datetime.fromtimestamp(float(hi) / scale, dt.UTC)
            return TimeReader(
                "epoch",
                scale=scale,
                note=f"{column} holds Unix times in {unit} (the latest, {hi:.0f}, is "
                f"{when:%Y-%m-%d %H:%M} UTC).",
            )
    raise DataError(
        f"The time column {column!r} of {source} holds numbers from {lo:g} to {hi:g}: "
        "neither dates written as yyyymmdd (like 20240131) nor Unix times (seconds, "
        "milliseconds… since 1970). Name the column that holds the events' times with "
        "--timestamp, or build one with --query (e.g. DATE '2024-01-01' + day_number)."
    )


def _text_reader(t: Any, column: str, source: str, order: str | None = None) -> TimeReader:
    import ibis
    import ibis.expr.datatypes as dt_

    col = t[column]
    values = t.filter(col.notnull() & (col.strip() != "")).select(v=col.strip()).limit(SAMPLE)
    values = values.execute()
    if len(values) == 0:
        raise DataError(f"The time column {column!r} of {source} has no values.")
    sample = ibis.memtable(values)
    v = sample.v
    cast = v.try_cast(dt_.Timestamp(timezone="UTC"))  # ("13/01/24" is the year 13 to it)
    tries = {"cast": cast.count(where=epoch_seconds(cast) >= YEAR_1900)}
    for f in FORMATS:  # (a reading of a year before 1900 does not count)
        read = _try_strptime(v, ibis.literal(f))
        tries[f] = read.count(where=epoch_seconds(read) >= YEAR_1900)
    counts = sample.aggregate(n=v.count(), **{f"c{i}": e for i, e in enumerate(tries.values())})
    row = counts.execute().iloc[0]
    n = int(row["n"])
    read = {way: int(row[f"c{i}"]) for i, way in enumerate(tries)}
    if read["cast"] == n:
        return TimeReader("cast")
    best = max(read.values())
    if best < 0.9 * n:
        examples = _unread_examples(sample, v)
        raise DataError(
            f"The time column {column!r} of {source} holds text that is not a date or time "
            f"in a form personas reads (e.g. {examples}). Write times like 2024-01-31 or "
            "2024-01-31 13:45:00 (or 01/31/2024, 31.01.2024), or name the time column "
            "with --timestamp."
        )
    if read["cast"] == best:
        return TimeReader("cast", note=_partly(column, n, best))
    chosen, ambiguous = decide({f: read[f] for f in FORMATS}, n, column, order)
    if ambiguous and n == SAMPLE:  # the sample reads both ways: every line decides
        chosen, ambiguous = _every_line(t, column, chosen, order)
    note = f"{column} holds times written like {shape(chosen)}"
    note += f" ({ambiguous.split(': ', 1)[1][:-1]})" if ambiguous else ""
    note += "." + (" " + _partly(column, n, best) if best < n else "")
    return TimeReader("format", format=chosen, note=note)


def _every_line(t: Any, column: str, chosen: str, order: str | None) -> tuple[str, str | None]:
    """Day or month first by every line of ``column`` (a value such as 04/25/2024 may come
    after the sample), as a table's dates and a CSV's are decided; the note if they all
    read both ways."""
    import ibis

    v = t[column].strip()
    forms = (chosen, other_order(chosen))
    reads = [_try_strptime(v, ibis.literal(f)) for f in forms]
    counts = t.aggregate(
        **{f"c{i}": r.count(where=epoch_seconds(r) >= YEAR_1900) for i, r in enumerate(reads)}
    ).execute()
    read = {f: int(counts[f"c{i}"].iloc[0]) for i, f in enumerate(forms)}
    return decide(read, max(read.values()), column, order)


def _fitted_order(t: Any, column: str, fitted: str, source: str) -> tuple[str | None, str | None]:
    """The fitted form of day and month (``fitted``), unless a sample of ``column`` reads
    under 90 % as many values so as the other way (a file written day first given to a
    builder fitted month first): then the other, with a note. A few values that read only
    the other way (04/25/2024 among 03/04/2024s) are no time, counted. (None when neither
    way reads 90 % of the sample: text of another form.)"""
    import ibis

    other = other_order(fitted)
    if other == fitted:
        return fitted, None
    col = t[column]
    v = t.filter(col.notnull() & (col.strip() != "")).select(v=col.strip()).limit(SAMPLE)
    reads = {f: _try_strptime(v.v, ibis.literal(f)) for f in (fitted, other)}
    counts = v.aggregate(
        n=v.v.count(),
        **{
            f"c{i}": r.count(where=epoch_seconds(r) >= YEAR_1900)
            for i, r in enumerate(reads.values())
        },
    ).execute()
    read = {f: int(counts[f"c{i}"].iloc[0]) for i, f in enumerate(reads)}
    if max(read.values()) < 0.9 * int(counts["n"].iloc[0]):
        return None, None  # (another form altogether: dates with times, ISO…)
    return fitted_or_data(read, fitted, other, column, source)


def _partly(column: str, n: int, read: int) -> str:
    return f"{n - read} of {n} sampled values of {column} are not times: those lines are left out."


def _unread_examples(sample: Any, v: Any) -> str:
    import ibis.expr.datatypes as dt_

    bad = sample.filter(v.try_cast(dt_.Timestamp(timezone="UTC")).isnull()).v.execute()
    return ", ".join(repr(s) for s in list(dict.fromkeys(bad))[:3])


def epoch_seconds(ts: Any) -> Any:
    """Seconds since 1970 as 64-bit integers (Ibis' own are 32-bit: an instant past
    January 2038 overflowed them)."""
    return _udfs()["epoch"](ts).cast("int64")


def _try_strptime(text: Any, fmt: Any) -> Any:
    return _udfs()["try_strptime"](text, fmt)


def _to_timestamp(seconds: Any) -> Any:
    return _udfs()["to_timestamp"](seconds)


_CACHE: dict[str, Any] = {}


def _udfs() -> dict[str, Any]:
    """DuckDB's own functions, declared to Ibis (``try_strptime`` gives null for a value
    it cannot read; ``to_timestamp`` turns seconds since 1970 into a UTC timestamp)."""
    if not _CACHE:
        import ibis
        import ibis.expr.datatypes as dt_

        utc = dt_.Timestamp(timezone="UTC")
        _CACHE["try_strptime"] = ibis.udf.scalar.builtin(
            lambda text, fmt: None,
            name="try_strptime",
            signature=(("string", "string"), "timestamp"),
        )
        _CACHE["epoch"] = ibis.udf.scalar.builtin(
            lambda ts: None, name="epoch", signature=((utc,), "float64")
        )
        _CACHE["to_timestamp"] = ibis.udf.scalar.builtin(
            lambda seconds: None, name="to_timestamp", signature=(("float64",), utc)
        )
    return _CACHE


def fitted_time_reader(
    fitted: dict[str, Any], table, column: str, source: str, order: str | None = None
) -> TimeReader:
    """The fitted way of reading times, for the type ``column`` has in ``table``: real
    timestamps and dates as they are; text or numbers as the fitted log's were, when they
    were text or numbers too (text a CSV reader parsed, by the form it had); else read as
    :func:`time_reader` finds (a note says how)."""
    spec = TimeReader(**fitted)
    typ = table[column].type()
    clock = spec.clock if spec.clock in table.columns else None
    same = (typ.is_numeric() and spec.how in ("yyyymmdd", "epoch", "days")) or (
        typ.is_string() and spec.how in ("cast", "format")
    )
    if typ.is_timestamp():
        how = TimeReader("as_is")
    elif typ.is_date():
        how = TimeReader("date")
    elif typ.is_string() and (spec.how == "format" or (not same and spec.text_format)):
        # text read by the fitted form (text a CSV reader parsed, by the form it had), day
        # and month in the fitted order unless the text plainly has them the other way
        form = spec.format if spec.how == "format" else spec.text_format
        how = TimeReader("format", format=form)
        how.format, how.note = _fitted_order(table, column, form, source)
        if how.format is None:  # text of another form: read as found (a note says how),
            first = "month" if form.startswith("%m") else "day"  # ties as the fitted log's
            how = time_reader(table, column, source, order or first)
    elif same:
        how = TimeReader(spec.how, format=spec.format, scale=spec.scale)
    else:
        how = time_reader(table, column, source, order)
    how.clock, how.clock_digits = clock, spec.clock_digits if clock else 0
    how.text_format = spec.text_format
    return how
