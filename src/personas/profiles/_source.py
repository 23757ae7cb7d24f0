"""Where the data come from: a DuckDB connection (in memory, bounded, spilling to a
temporary folder), the log read by personas' one reader (:mod:`personas.io._read`) as an
Ibis table, its as-of instant, the per-user result fetched back as pandas, and the users
table joined."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from personas.errors import DataError, InputFileError, PersonasError
from personas.io._dates import read_instant
from personas.io._read import READ_OPTIONS, open_source

__all__ = [
    "Events",
    "resolve_as_of",
    "connect",
    "fetch",
    "join_users",
    "kind",
    "read_events",
]


def fetch(expr, con=None, drop: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """The result as pandas, Arrow buffers freed as columns are converted.

    The DuckDB tables named in ``drop`` are dropped once the result is in Arrow, before
    the conversion, so that both do not hold memory at once.
    """
    table = expr.to_pyarrow()
    for name in drop:
        con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')  # (Ibis 12 writes invalid SQL)
    return table.to_pandas(self_destruct=True, split_blocks=True)


def connect():
    import duckdb
    import ibis

    cls = duckdb.DuckDBPyConnection
    if not hasattr(cls, "fetch_arrow_table"):
        # Ibis 12 still calls the pre-2.0 DuckDB names of these methods.
        cls.fetch_arrow_table = cls.to_arrow_table
    if not hasattr(cls, "fetch_record_batch"):

        def fetch_record_batch(self, rows_per_batch=1_000_000):
            with warnings.catch_warnings():  # "an extra copy": one batch at a time
                warnings.simplefilter("ignore", UserWarning)
                return self.to_arrow_reader(batch_size=rows_per_batch)

        cls.fetch_record_batch = fetch_record_batch
    # In memory, with a temporary folder DuckDB spills to when a log does not fit.
    folder = tempfile.mkdtemp(prefix="personas-profile-")
    con = ibis.duckdb.connect()
    weakref.finalize(con, shutil.rmtree, folder, ignore_errors=True)
    con.raw_sql("SET TimeZone = 'UTC'")
    con.raw_sql("SET enable_progress_bar = false")
    # A bounded working set: beyond it DuckDB pages to the temporary folder (10M events:
    # 1.4 GB peak with a 1 GB limit, against 2.8 GB unlimited, for 30 % more time). Half
    # the machine's memory: at 100M events a 4 GB limit made the events aggregate spill
    # (52 s, 4,005 MB peak) where 6, 8 or 12 GB did not (42–48 s, 2,870–3,054 MB).
    limit = os.environ.get("PERSONAS_DUCKDB_MEMORY") or _half_the_memory()
    try:
        con.raw_sql(f"SET memory_limit = '{limit}'")
    except Exception as exc:  # only the variable can hold something DuckDB rejects
        raise PersonasError(
            f"PERSONAS_DUCKDB_MEMORY is {limit!r}, which DuckDB does not take as a memory "
            f"size ({str(exc).splitlines()[0]}). Set it like 4GB or 8000MB, or unset it "
            "to use half of this machine's memory."
        ) from None
    con.raw_sql(f"SET temp_directory = '{folder}'")
    return con


def _half_the_memory() -> str:
    """Half of the machine's memory, for DuckDB (4 GB where it cannot be read)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # (no sysconf on Windows)
        return "4GB"
    return f"{max(1, total // 2 // 2**20)}MiB"


@dataclass
class Events:
    """The log as an Ibis table, with where it came from and what reading it found.

    ``parse_once``: text still to be parsed (JSON), worth storing as a DuckDB table;
    ``headerless``: the file has no header (its columns are column0, column1…);
    ``date_formats``: the forms DuckDB's CSV reader read dates and times with
    (``dateformat``, ``timestampformat``), when they were text.
    """

    table: Any
    source: str
    notes: list[str] = field(default_factory=list)
    parse_once: bool = False
    headerless: bool = False
    date_formats: dict[str, str] = field(default_factory=dict)


def read_events(
    con,
    events: Any,
    *,
    date_order: str | None = None,
    date_formats: dict[str, str] | None = None,
    **read: Any,
) -> Events:
    """The events as an Ibis table of ``con``, read by personas' one reader
    (:func:`personas.io._read.open_source`): dates written as text in a CSV by the
    policy of :mod:`personas.io._dates` (``date_order`` first when they fit both
    orders), or with the ``date_formats`` of a log read before (a fitted builder's).
    ``read``: the reader's options (:data:`personas.io._read.READ_OPTIONS`)."""
    import ibis

    if isinstance(events, pd.DataFrame):
        return Events(ibis.memtable(_one_kind_each(events)), "DataFrame")
    unknown = sorted(set(read) - set(READ_OPTIONS))
    if unknown:
        raise PersonasError(
            f"Unknown reading option(s) {', '.join(map(repr, unknown))}; the options are "
            f"{', '.join(READ_OPTIONS)}."
        )
    if events is None and not (read.get("query") or read.get("table")):
        raise InputFileError("Nothing to profile: give an events file or a --query.")
    dates = {"date_order": date_order, "date_formats": date_formats}
    data, info = open_source(con.con, events, **read, **dates, log=True)
    for folder in info.temporary:  # (an unpacked zip, a UTF-8 copy: read until the end)
        weakref.finalize(con, shutil.rmtree, folder, ignore_errors=True)
    if isinstance(data, pd.DataFrame):
        log = ibis.memtable(data)
    else:
        data.create_view("personas_source")
        log = con.table("personas_source")
    source = "the query" if events is None else info.name
    return Events(log, source, info.notes, info.parse_once, info.headerless, info.date_formats)


def _one_kind_each(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its columns of values of mixed kinds (ids 17850 beside "C17850", as
    a spreadsheet read by pandas holds them) as text, which Arrow can take."""
    mixed = [
        c for c in frame.columns
        if frame[c].dtype == object
        and pd.api.types.infer_dtype(frame[c], skipna=True).startswith("mixed")
    ]  # fmt: skip
    if not mixed:
        return frame
    text = {c: frame[c].map(lambda v: v if v is None or v != v else str(v)) for c in mixed}
    return frame.assign(**text)


def flatten(table: Any) -> tuple[Any, list[str]]:
    """Fields of struct columns as columns of their own, named by their path
    (``properties.revenue`` -> ``properties_revenue``), as trackers' exports nest them;
    and a note naming the structs unpacked. A column (or field) of no type — always
    empty where DuckDB sampled the JSON — or a list of such values becomes text, which a
    stored table can hold."""
    if not any(t.is_struct() or _untyped(t) for t in table.schema().values()):
        return table, []
    top = set(table.columns)  # their names stay; a field named like one gets a "_"
    cols: dict[str, Any] = {}
    nested: list[str] = []

    def add(name: str, expr: Any, field_of: str | None = None) -> None:
        if expr.type().is_struct():
            nested.append(name)
            for field_name in expr.type().names:
                add(f"{name}_{field_name}", expr[field_name], name)
            return
        while field_of and (name in cols or name in top):
            name += "_"
        cols[name] = expr.cast("string") if _untyped(expr.type()) else expr

    for name in table.columns:
        add(name, table[name])
    roots = [n for n in nested if n in table.columns]
    if not roots:
        return table.select(**cols), []
    note = (
        "Nested fields read as columns of their own: "
        + ", ".join(f"{n}.*" for n in roots)
        + f" ({len(cols) - (len(table.columns) - len(roots))} columns)."
    )
    return table.select(**cols), [note]


def _untyped(dtype: Any) -> bool:
    """Whether a type is DuckDB's NULL type, or holds it (a list of NULL)."""
    if dtype.is_null():
        return True
    if dtype.is_array():
        return _untyped(dtype.value_type)
    if dtype.is_map():
        return _untyped(dtype.key_type) or _untyped(dtype.value_type)
    if dtype.is_struct():
        return any(_untyped(t) for t in dtype.types)
    return False


def kind(dtype) -> str:
    if dtype.is_numeric():
        return "number"
    if dtype.is_timestamp() or dtype.is_date():
        return "time"
    if dtype.is_string():
        return "text"
    return "other"


def resolve_as_of(e, as_of: Any, source: str, order: str | None = None) -> dt.datetime:
    """The instant profiles are made at: ``as_of`` as given (read as dates are, see
    :func:`personas.io._dates.read_instant`), else midnight after the last event."""
    if as_of is not None:
        ts = read_instant(as_of, order)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts.to_pydatetime().replace(tzinfo=dt.UTC)
    latest = e.ts.max().execute()
    if latest is None or pd.isna(latest):
        raise DataError(f"No event of {source} has a readable time; name the time column.")
    return (
        (pd.Timestamp(latest).normalize() + pd.Timedelta(days=1))
        .to_pydatetime()
        .replace(tzinfo=dt.UTC)
    )


def join_users(data: pd.DataFrame, users: Any) -> tuple[pd.DataFrame, int]:
    from personas.io import read_table
    from personas.io._schema import Schema

    table = users if isinstance(users, pd.DataFrame) else read_table(users)
    schema = Schema.infer(table)
    if schema.id_column is None:
        raise DataError(
            "The users table has no user-id column that could be recognised; name it like "
            "user_id or customer_id (its values must match the events' user ids)."
        )
    ids = table[schema.id_column]
    if ids.dtype.kind == "f" and ((ids.dropna() % 1) == 0).all():
        ids = ids.astype("Int64")  # 17850.0 (a column with missing values) is 17850
    ids = ids.astype("string")
    name = "the users table" if isinstance(users, pd.DataFrame) else Path(str(users)).name
    unknown = int((~data["user_id"].isin(ids)).sum())
    if len(data) and unknown == len(data):
        raise DataError(
            f"None of the {len(data):,} users of the log is in {name}: its id column "
            f"{schema.id_column!r} holds {', '.join(repr(v) for v in ids.dropna()[:3])}…, "
            f"the log's user ids are {', '.join(repr(v) for v in data['user_id'][:3])}…. "
            "Check which column is the user id in each (--user-id for the log)."
        )
    merged = pd.DataFrame({"user_id": ids}).merge(data, on="user_id", how="left")
    no_events = int(merged["n_events"].isna().sum())
    count_like = [
        c
        for c in data.columns
        if c.startswith(("n_", "orders_", "spend_", "events_", "share_"))
        or c
        in (
            "frequency",
            "monetary",
            "returns",
            "returns_value",
            "active_days",
            "active_weeks",
            "sessions",
            "renewals",
            "cancellations",
        )
    ]
    merged[count_like] = merged[count_like].fillna(0)
    extra = table.drop(columns=[schema.id_column]).reset_index(drop=True)
    notes = []
    clash = [c for c in extra.columns if c in merged.columns]
    if clash:  # (kept, under another name: a profile feature has theirs)
        extra = extra.rename(columns={c: f"{c}_users" for c in clash})
        notes.append(
            f"{name}'s column(s) {', '.join(clash)} share a profile feature's name: kept "
            f"as {', '.join(f'{c}_users' for c in clash)}."
        )
    out = pd.concat([merged, extra], axis=1)
    if unknown:
        notes.append(
            f"{unknown:,} of the log's {len(data):,} users are not in {name}: their profiles "
            "are left out (profile without --users to keep them)."
        )
    out.attrs["notes"] = notes
    return out, no_events
