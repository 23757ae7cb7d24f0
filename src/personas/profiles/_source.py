"""Where the data come from: a DuckDB connection (in memory, bounded, spilling to a
temporary folder), the log read from CSV, Parquet, a DuckDB database or a query, its
as-of instant, the per-user result fetched back as pandas, and the users table joined."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import warnings
import weakref
from pathlib import Path
from typing import Any

import pandas as pd

from personas.errors import DataError, InputFileError, PersonasError

__all__ = ["DUCKDB_FILES", "resolve_as_of", "connect", "fetch", "join_users", "kind", "read_events"]


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


DUCKDB_FILES = (".duckdb", ".ddb", ".db")


def read_events(con, events: Any, query: str | None, table: str | None = None):
    import ibis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if events is None:
            if table:
                raise InputFileError(f"--table {table!r} needs the DuckDB file that holds it.")
            if not query:
                raise InputFileError("Nothing to profile: give an events file or a --query.")
            return _query(con, query, "the query"), "the query"
        if isinstance(events, pd.DataFrame):
            return ibis.memtable(events), "DataFrame"
        text = str(events)
        path = Path(text)
        if path.is_dir():
            text = str(path / "**" / "*.parquet")
        elif not any(ch in text for ch in "*?[") and not path.exists():
            raise InputFileError(
                f"Events file {text!r} does not exist. Give the path of a CSV or Parquet "
                "file, a folder of Parquet files, a DuckDB database, or a glob like "
                "'events/*.parquet'."
            )
        name = path.name
        lower = text.lower()
        if lower.endswith(DUCKDB_FILES):
            return _read_database(con, path, table, query), name
        if table or query:
            raise InputFileError(
                f"--table and --query go with a DuckDB database (.duckdb), not {name}; "
                "leave them out, or give the query alone (it can read files itself)."
            )
        try:
            if lower.endswith(".parquet") or lower.endswith(".parq"):
                return con.read_parquet(text), name
            return con.read_csv(text), name
        except Exception as exc:  # DuckDB's own message says what it could not parse
            raise InputFileError(
                f"Cannot read events from {name}: {str(exc).splitlines()[0]}. Give a CSV "
                "(optionally compressed) "
                "or a Parquet file named .parquet, or read it yourself with --query."
            ) from None


def _query(con, query: str, name: str):
    try:
        return con.sql(query)
    except Exception as exc:
        raise InputFileError(
            f"DuckDB could not run the query on {name}: {str(exc).splitlines()[0]}. "
            "Check the SQL, the table and column names."
        ) from None


def _read_database(con, path: Path, table: str | None, query: str | None):
    """A table (or a query) of a DuckDB database file, attached read-only: not copied."""
    if table and query:
        raise InputFileError("Give either --table or --query, not both.")
    quoted = str(path).replace("'", "''")
    try:
        con.raw_sql(f"ATTACH '{quoted}' AS personas_source (READ_ONLY)")
    except Exception as exc:
        raise InputFileError(
            f"{path.name} could not be opened as a DuckDB database: {str(exc).splitlines()[0]}."
        ) from None
    # Names in a query are found in the database (personas' own tables stay in memory).
    con.raw_sql("SET search_path = 'memory.main,personas_source.main'")
    if query:
        return _query(con, query, path.name)
    tables = [
        row[0]
        for row in con.raw_sql(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = 'personas_source' AND table_schema = 'main' "
            "ORDER BY table_name"
        ).fetchall()
    ]
    listed = ", ".join(repr(t) for t in tables[:10]) or "none"
    if table is None:
        if len(tables) != 1:
            raise InputFileError(
                f"{path.name} holds {len(tables)} tables ({listed}). Name the one with the "
                "events with --table (table= in Python)."
            )
        table = tables[0]
    elif table not in tables:
        raise InputFileError(
            f"{path.name} has no table {table!r}; its tables are {listed}. "
            "Pass one of those with --table."
        )
    return con.table(table, database=("personas_source", "main"))


def kind(dtype) -> str:
    if dtype.is_numeric():
        return "number"
    if dtype.is_timestamp() or dtype.is_date():
        return "time"
    if dtype.is_string():
        return "text"
    return "other"


def resolve_as_of(e, as_of: Any, source: str) -> dt.datetime:
    if as_of is not None:
        try:
            ts = pd.Timestamp(as_of)
        except (ValueError, TypeError):
            raise DataError(
                f"as_of {as_of!r} is not a date; write it like 2024-12-31 or 2024-12-31T18:00:00Z."
            ) from None
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
    ids = table[schema.id_column].astype("string")
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
    extra = extra[[c for c in extra.columns if c not in merged.columns]]
    out = pd.concat([merged, extra], axis=1)
    unknown = int((~data["user_id"].isin(ids)).sum())
    if unknown:
        out.attrs["users_only_in_events"] = unknown
    return out, no_events
