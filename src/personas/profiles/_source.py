"""Where the data come from: a DuckDB connection (in memory, bounded, spilling to a
temporary folder), the log read from CSV, Parquet, a DuckDB database or a query, its
as-of instant, the per-user result fetched back as pandas, and the users table joined."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from personas.errors import DataError, InputFileError, PersonasError
from personas.io._dates import decide, other_order, read_instant
from personas.io._files import (
    EXCEL_FILES,
    HEAD_BYTES,
    JSON_FILES,
    TEXT_FILES,
    compression,
    decode_head,
    folder_glob,
    raw_head,
    text_head,
    unzip_one,
)
from personas.io._readers import read_excel

__all__ = [
    "DUCKDB_FILES",
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


DUCKDB_FILES = (".duckdb", ".ddb", ".db")
DATE_SAMPLE = 20_000  # lines whose dates say which of day and month comes first


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
    query: str | None,
    table: str | None = None,
    *,
    date_order: str | None = None,
    date_formats: dict[str, str] | None = None,
) -> Events:
    """The events as an Ibis table of ``con``. Dates written as text in a CSV are read by
    the policy of :mod:`personas.io._dates` (``date_order`` first when they fit both
    orders), or with the ``date_formats`` of a log read before (a fitted builder's)."""
    import ibis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if events is None:
            if table:
                raise InputFileError(f"--table {table!r} needs the DuckDB file that holds it.")
            if not query:
                raise InputFileError("Nothing to profile: give an events file or a --query.")
            return Events(_query(con, query, "the query"), "the query")
        if isinstance(events, pd.DataFrame):
            return Events(ibis.memtable(events), "DataFrame")
        text = str(events)
        path = Path(text)
        if path.is_dir():
            text = folder_glob(path)
        elif not any(ch in text for ch in "*?[") and not path.exists():
            raise InputFileError(
                f"Events file {text!r} does not exist. Give the path of a CSV or Parquet "
                "file, a folder of Parquet files, a DuckDB database, or a glob like "
                "'events/*.parquet'."
            )
        name = path.name
        lower = text.lower()
        if lower.endswith(DUCKDB_FILES):
            return Events(_read_database(con, path, table, query), name)
        if table or query:
            raise InputFileError(
                f"--table and --query go with a DuckDB database (.duckdb), not {name}; "
                "leave them out, or give the query alone (it can read files itself)."
            )
        dates = {"date_order": date_order, "date_formats": date_formats}
        if lower.endswith(".zip") and path.is_file():  # a download, as published
            return _read_zip(con, path, dates)
        if lower.endswith(EXCEL_FILES):
            table, notes = _read_workbook(path)
            return Events(table, name, notes)
        # Files of a glob or folder are matched column by name (by position, a file
        # with another column order was misread, and a column some files lack dropped)
        union = {"union_by_name": True} if any(ch in text for ch in "*?[") else {}
        try:
            if lower.endswith(".parquet") or lower.endswith(".parq"):
                return Events(con.read_parquet(text, **union), name)
            if lower.endswith(JSON_FILES):  # objects, one per line or in an array
                return Events(con.read_json(text, **union), name, parse_once=True)
            if path.is_file() and (fields_ := _whitespace_columns(path)):
                return _read_whitespace(con, path, *fields_)
            return _read_csv(
                con, text, path, parse_once=lower.endswith(TEXT_FILES), dates=dates, **union
            )
        except PersonasError:  # ours already say what is wrong and how to fix it
            raise
        except Exception as exc:  # DuckDB's own message says what it could not parse
            raise InputFileError(
                f"Cannot read events from {name}: {str(exc).splitlines()[0]}. Give a CSV "
                "(optionally compressed), a Parquet file named .parquet, JSON lines, an "
                "Excel workbook, or read it yourself with --query."
            ) from None


def _read_zip(con, path: Path, dates: dict[str, Any]) -> Events:
    """The one data file of a zip archive, unpacked into a temporary folder that goes
    with the connection."""
    inner, member, folder = unzip_one(path)
    weakref.finalize(con, shutil.rmtree, folder, ignore_errors=True)
    log = read_events(con, inner, None, **dates)
    log.source = f"{path.name}/{member}"
    return log


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


def _read_csv(
    con, text: str, path: Path, *, parse_once: bool, dates: dict[str, Any], **union: bool
) -> Events:
    """A CSV (or a glob of them), read by DuckDB; with ``parse_once`` parsed into a
    DuckDB table here. UTF-16 (a byte-order mark) is read as such; a file that is not
    UTF-8 (Windows and Excel exports of Western European text) as Latin-1, with a note.
    Dates written as text are read as :func:`_date_formats` says.
    """
    encoding = None  # DuckDB reads UTF-8, UTF-16 and Latin-1 itself (not cp1252)
    if path.is_file() and compression(path, raw_head(path)) is None:
        with open(path, "rb") as fh:
            _, found = decode_head(fh.read(HEAD_BYTES), path, None)  # (as the table reader)
        encoding = {"utf-8": None, "utf-16": "utf-16"}.get(found, "latin-1")
    notes: list[str] = []
    sniffed = _sniff(con, text, encoding)
    # Ibis reads the first line as the header; DuckDB's sniffer tells when it is data
    header = _has_header(sniffed)
    formats = _date_formats(
        con, text, encoding, header, sniffed, dates["date_order"], dates["date_formats"], notes
    )
    for attempt in (encoding, "latin-1"):
        options = ({"encoding": attempt} if attempt else {}) | union | formats
        options |= {} if header else {"header": False}
        try:
            table = con.read_csv(text, **options)
            if parse_once:
                # Text is parsed once: its typed columns go to a table every query reads.
                con.raw_sql('DROP TABLE IF EXISTS "personas_raw"')
                table = con.create_table("personas_raw", table)
            break
        except Exception as exc:
            if attempt == "latin-1" or "not utf-8 encoded" not in str(exc):
                raise
    if attempt == "latin-1":
        notes.append(f"{path.name} is not UTF-8: read as Latin-1 (ISO 8859-1).")
    return Events(table, path.name, notes, headerless=not header, date_formats=formats)


def _sniff(con, text: str, encoding: str | None) -> dict[str, Any] | None:
    """DuckDB's sniffer on the CSV ``text`` (its first file, for a glob): whether it finds
    a header, the columns and their types, the forms of dates and times; None when it
    cannot read the file (read_csv then says what is wrong with it)."""
    import glob

    first = sorted(glob.glob(text))[:1] if any(ch in text for ch in "*?[") else [text]
    if not first:
        return None
    quoted = first[0].replace("'", "''")
    option = f", encoding = '{encoding}'" if encoding else ""
    try:
        row = con.raw_sql(
            "SELECT HasHeader, Columns, DateFormat, TimestampFormat "
            f"FROM sniff_csv('{quoted}'{option})"
        ).fetchone()
    except Exception:
        return None
    keys = ("header", "columns", "dateformat", "timestampformat")
    return dict(zip(keys, row, strict=True)) | {"file": quoted, "option": option}


def _has_header(sniffed: dict[str, Any] | None) -> bool:
    """Whether the first line of the CSV names the columns: not when DuckDB's sniffer finds
    it typed as the lines below it (numbers where they hold numbers), nor when a name it
    would give reads as a number or a date ("17850", "2011-12-09": data, not a name)."""
    if sniffed is None:
        return True
    return bool(sniffed["header"]) and not any(
        _is_number(c["name"]) or _DATE_LIKE.fullmatch(c["name"].strip()) for c in sniffed["columns"]
    )


def _date_formats(con, text, encoding, header, sniffed, order, fitted, notes) -> dict[str, str]:
    """The forms DuckDB reads dates and times of the CSV with, by personas' one policy
    (:mod:`personas.io._dates`): DuckDB's sniffer reads day first what fits both orders
    of day and month; the first lines of those columns, read as text, say whether they
    do — then a note says so, and ``order`` ("month") reads them month first. ``fitted``:
    the forms a fitted builder read its log with, which decide such a tie instead (a few
    users' dates must read as the whole log's did)."""
    if sniffed is None:
        return {}
    out: dict[str, str] = {}
    kinds = {"dateformat": "DATE", "timestampformat": "TIMESTAMP"}
    for key, typ in kinds.items():
        fmt = sniffed[key]
        if not fmt:
            continue
        out[key] = fmt
        twin = other_order(fmt)
        names = [c["name"] for c in sniffed["columns"] if c["type"] == typ]
        if twin == fmt or not names:
            continue
        quoted = {n: n.replace('"', '""') for n in names}
        cols = ", ".join(
            f'count(try_strptime("{quoted[n]}", \'{f}\')) AS "{quoted[n]}|{f}"'
            for n in names
            for f in (fmt, twin)
        )
        counts = con.raw_sql(
            f"SELECT {cols} FROM (SELECT * FROM read_csv("
            f"'{sniffed['file']}'{sniffed['option']}, all_varchar = true, "
            f"header = {str(header).lower()}) LIMIT {DATE_SAMPLE})"
        ).fetchdf()
        read = {f: int(sum(counts[f"{n}|{f}"].iloc[0] for n in names)) for f in (fmt, twin)}
        if read[twin] < read[fmt]:
            continue  # (a day above 12 in the sample: only day first reads them)
        prefer = (fitted or {}).get(key)
        first = order
        if prefer in (fmt, twin):  # the fitted log's order
            first = "month" if prefer.startswith("%m") else "day"
        chosen, note = decide(read, max(read.values()), ", ".join(names), first)
        out[key] = chosen
        notes += [note] if note else []
    return out


_DATE_LIKE = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T].*)?|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}( .*)?"
)


def _read_workbook(path: Path) -> tuple[Any, list[str]]:
    """An Excel log: its first sheet, and every other sheet with the same columns (a log
    split by year over sheets, as UCI's Online Retail II workbook is)."""
    import ibis

    first, _ = read_excel(path, sheet=None)
    book = pd.ExcelFile(path, engine="openpyxl")
    with book:
        names = book.sheet_names
        same = [
            n
            for n in names[1:]
            if [str(c) for c in pd.read_excel(book, sheet_name=n, nrows=0).columns]
            == list(first.columns)
        ]
        parts = [first] + [pd.read_excel(book, sheet_name=n) for n in same]
    notes = []
    if same:
        notes.append(
            f"Read {len(same) + 1} sheets of {path.name} with the same columns: "
            + ", ".join(repr(n) for n in [names[0], *same])
            + "."
        )
    other = [n for n in names[1:] if n not in same]
    if other:
        notes.append(
            f"Sheets of {path.name} with other columns were left out: "
            + ", ".join(repr(n) for n in other)
            + "."
        )
    data = pd.concat(parts, ignore_index=True) if same else first
    for col in data.columns:  # mixed cells (invoice 489434 beside C489449) become text
        if data[col].dtype == object:
            data[col] = data[col].map(lambda v: v if v is None or v != v else str(v))
    return ibis.memtable(data), notes


_DELIMITERS = ",;\t|"


def _whitespace_columns(path: Path) -> tuple[int, bool] | None:
    """(fields per line, has a header) when the file is columns separated by runs of
    spaces (CDNOW's ``CDNOW_master.txt``); None for anything else."""
    try:
        text = text_head(path)
    except OSError:
        return None
    lines = [line for line in text.splitlines()[:200] if line.strip()]
    if len(lines) < 2 or any(ch in line for line in lines for ch in _DELIMITERS + '"'):
        return None
    widths = [len(line.split()) for line in lines]
    n = max(set(widths), key=widths.count)  # (other widths: an error once read)
    if n < 2 or widths[0] != n or widths.count(n) < 0.8 * len(widths):
        return None
    return n, not any(_is_number(v) for v in lines[0].split())


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_whitespace(con, path: Path, n: int, header: bool) -> Events:
    """A file of columns separated by spaces: split, then each column typed as integer,
    number or text by all its values (not a sample). Lines with another number of
    fields are an error, not dropped."""
    quoted = str(path).replace("'", "''")
    lines = (
        f"SELECT string_split_regex(trim(line), '\\s+') AS f FROM read_csv('{quoted}', "
        "columns = {'line': 'VARCHAR'}, header = false, delim = '\x01', quote = '', "
        "escape = '', auto_detect = false) WHERE trim(line) <> ''"
    )
    if header:
        names = next(line for line in text_head(path).splitlines() if line.strip()).split()
        lines += " OFFSET 1"  # (the header is the first non-empty line)
    else:
        names = [f"column{i}" for i in range(n)]
    select = ", ".join(f'f[{i + 1}] AS "{c}"' for i, c in enumerate(names))
    con.raw_sql(
        f"CREATE TABLE personas_raw AS SELECT {select}, len(f) AS personas_width FROM ({lines})"
    )
    checks = ", ".join(
        f'count("{c}"), count(CASE WHEN "{c}" SIMILAR TO \'[-+]?[0-9]{{1,18}}\' THEN 1 END), '
        f'count(TRY_CAST("{c}" AS DOUBLE)), '
        f"count(CASE WHEN \"{c}\" SIMILAR TO '0[0-9]+' THEN 1 END)"
        for c in names
    )
    row = con.raw_sql(
        f"SELECT count(*), count(CASE WHEN personas_width <> {n} THEN 1 END), {checks} "
        "FROM personas_raw"
    ).fetchone()
    if row[1]:
        example = con.raw_sql(f"SELECT f FROM ({lines}) WHERE len(f) <> {n} LIMIT 1").fetchone()[0]
        raise DataError(
            f"{path.name} reads as {n} columns separated by spaces, but {row[1]:,} of its "
            f"{row[0]:,} lines have another number of fields (e.g. {' '.join(example)!r}). "
            "Fix those lines, or convert the file to CSV."
        )
    types = []
    for i, c in enumerate(names):
        present, whole, number, padded = row[2 + 4 * i : 6 + 4 * i]
        if present and whole == present and not padded:
            types.append(f'CAST("{c}" AS BIGINT) AS "{c}"')
        elif present and number == present and not padded:
            types.append(f'CAST("{c}" AS DOUBLE) AS "{c}"')
        else:  # text (ids such as 00012 keep their zeros)
            types.append(f'"{c}"')
    con.raw_sql(f"CREATE TABLE personas_typed AS SELECT {', '.join(types)} FROM personas_raw")
    con.raw_sql("DROP TABLE personas_raw")
    note = f"{path.name}: {n} columns separated by spaces" + (
        "." if header else f", no header (named {names[0]} to {names[-1]})."
    )
    return Events(con.table("personas_typed"), path.name, [note], headerless=not header)


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
