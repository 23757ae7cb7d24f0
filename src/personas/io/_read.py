"""The one reader: every source personas takes, for user tables and event logs alike.

CSV/TSV (gzip, zstd, bz2 or xz), Parquet files, folders and globs, JSON (lines or an
array), Excel, a zip download holding one of those, a DuckDB database (a table or a SQL
query) and a query on an in-memory DuckDB that reads files itself. DuckDB reads them
(Excel goes through pandas, and a user table's one Parquet file through Arrow's reader,
which needs less memory on its way to pandas); delimited text is read by
:mod:`personas.io._csv`, which adds to DuckDB's sniffer what it does not do. What the
reader finds goes to :class:`SourceInfo`'s notes.

:func:`open_source` leaves the data in a DuckDB connection (what profiling queries);
:func:`load_table` fetches them as a pandas DataFrame (what validation, EDA and
segmentation take).
"""

from __future__ import annotations

import glob
import io
import json
import lzma
import shutil
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from personas._optional import import_optional
from personas.errors import (
    EmptyDataError,
    FileFormatError,
    InputFileError,
    PersonasError,
    SchemaError,
)
from personas.io._csv import first_line, quote, read_csv_files, short_list
from personas.io._files import (
    check_path,
    compression,
    detect_format,
    folder_files,
    open_decompressed,
    raw_head,
    text_head,
    unzip_one,
)

__all__ = ["READ_OPTIONS", "SCHEMA_KEY", "SourceInfo", "load_table", "open_source", "read_table"]

#: How a source is read, for every command that reads one (what ``read_options`` hold).
READ_OPTIONS = ("table", "query", "sheet", "format", "delimiter", "encoding", "skip_bad_lines")

#: DuckDB's types pandas takes as they are (others are read as text)
PLAIN_TYPES = {"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT",
               "USMALLINT", "UINTEGER", "FLOAT", "DOUBLE", "VARCHAR", "DATE", "TIMESTAMP",
               "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE",
               "TIME", "BLOB"}  # fmt: skip
SCHEMA_KEY = b"personas.schema"  # the schema `personas profile` stores in its Parquet output


@dataclass
class SourceInfo:
    """Where a table came from and how it was read.

    Attributes
    ----------
    name : str
        Short name used in messages (the file name, ``"query"`` or ``"DataFrame"``).
    path : str or None
        Absolute path of the file, when there is one.
    format : str
        ``"csv"``, ``"parquet"``, ``"jsonl"``, ``"excel"``, ``"duckdb"``, ``"sql"`` or
        ``"dataframe"``.
    options : dict
        What was detected or given (delimiter, encoding, compression, table, sheet…).
    notes : list of str
        Facts worth reporting (encoding, rows skipped, dates read day first, no header).
    rows_skipped : int
        Malformed rows left out (only with ``skip_bad_lines=True``; always reported).
    """

    name: str
    path: str | None = None
    format: str = "dataframe"
    options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rows_skipped: int = 0
    schema_hint: dict[str, Any] | None = None  # a schema personas stored in the file
    headerless: bool = False  # a CSV without a header (columns column0, column1…)
    date_formats: dict[str, str] = field(default_factory=dict)  # how DuckDB read CSV dates
    parse_once: bool = False  # text still to parse (JSON): worth storing as a table
    temporary: list[str] = field(default_factory=list, repr=False)  # folders to remove

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "format": self.format,
            "options": {k: v for k, v in self.options.items() if v is not None},
            "notes": list(self.notes),
            "rows_skipped": self.rows_skipped,
        }

    def clean_up(self) -> None:
        """Remove the temporary folders reading made (an unpacked zip, a UTF-8 copy)."""
        for folder in self.temporary:
            shutil.rmtree(folder, ignore_errors=True)
        self.temporary.clear()


def read_table(
    source: Any = None,
    *,
    table: str | None = None,
    query: str | None = None,
    sheet: str | int | None = None,
    format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    skip_bad_lines: bool = False,
) -> pd.DataFrame:
    """Read a user table from a file, a folder, a DuckDB database or a SQL query.

    Parameters
    ----------
    source : str, Path, pandas.DataFrame or duckdb connection
        A file path (CSV/TSV, optionally compressed; Parquet; JSON lines or array; Excel;
        a DuckDB database; a zip holding one data file), a folder or glob of such files, a
        ``duckdb://`` URL, an open DuckDB connection (with ``query`` or ``table``) or a
        DataFrame (returned as is).
    table : str, optional
        Table to read from a DuckDB database (needed when it holds several).
    query : str, optional
        SQL to run on the DuckDB database or connection (or, when ``source`` is None, on an
        in-memory DuckDB that can read files: ``SELECT * FROM 'users.csv'``).
    sheet : str or int, optional
        Excel sheet name or position (default: the first sheet).
    format : str, optional
        Force the format instead of detecting it from the content.
    delimiter, encoding : str, optional
        Force the CSV delimiter or text encoding instead of sniffing them.
    skip_bad_lines : bool, default False
        Leave out CSV rows with the wrong number of fields (they are counted and reported)
        instead of failing.
    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputFileError, FileFormatError, EmptyDataError, SchemaError
        With a message naming the file, what was expected, what was found and the fix.

    Examples
    --------
    >>> import personas, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "users.csv")
    >>> _ = open(path, "w").write("user_id;age\\nu1;31\\nu2;45\\n")
    >>> personas.read_table(path)
      user_id  age
    0      u1   31
    1      u2   45
    """
    options = {"table": table, "query": query, "sheet": sheet, "format": format,
               "delimiter": delimiter, "encoding": encoding}  # fmt: skip
    return load_table(source, skip_bad_lines=skip_bad_lines, **options)[0]


def load_table(source: Any = None, **options: Any) -> tuple[pd.DataFrame, SourceInfo]:
    """Like :func:`read_table`, but also return the :class:`SourceInfo`."""
    if isinstance(source, pd.DataFrame):
        return source, SourceInfo(name="DataFrame")
    import duckdb

    own = not _is_connection(source)
    con = duckdb.connect() if own else source
    info = SourceInfo(name="the data")
    try:
        data, info = open_source(con, source, **options)
        if isinstance(data, pd.DataFrame):
            return data, info
        tbl = data if hasattr(data, "num_rows") else _arrow(_plain_types(data), info)
        if tbl.num_rows == 0:
            raise EmptyDataError(
                f"{info.name} has {tbl.num_columns} columns ({short_list(tbl.column_names)}) "
                "but no rows. Give a table with at least one row."
            )
        return _to_pandas(tbl), info
    finally:
        info.clean_up()
        if own:
            con.close()


def open_source(
    con: Any,
    source: Any,
    *,
    table: str | None = None,
    query: str | None = None,
    sheet: str | int | None = None,
    format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    skip_bad_lines: bool = False,
    date_order: str | None = None,
    date_formats: dict[str, str] | None = None,
    log: bool = False,
) -> tuple[Any, SourceInfo]:
    """Read ``source`` with the DuckDB connection ``con``: (the data, a
    :class:`SourceInfo`). The data are a DuckDB relation — a log's text files parsed
    into a table of ``con`` once, Parquet and databases read where they are —, or a
    DataFrame (an Excel workbook), or an Arrow table (a user table's CSV, or its one
    Parquet file).

    ``log``: an event log — every date form reads (a table keeps dates of two-digit years
    or months by name as text) and a workbook's sheets with the same columns are read
    together. ``date_formats``: the forms a log read before was read with (a fitted
    builder's), which decide dates that read both ways.
    """
    if source is None or _is_connection(source):
        if query is None and table is None:
            raise InputFileError(
                "Nothing to read: give a file path, or a SQL query with --query "
                "(e.g. --query \"SELECT * FROM 'users.csv'\")."
            )
        if source is None and table is not None:
            raise InputFileError(f"--table {table!r} needs the DuckDB file that holds it.")
        name = "query" if source is None else "DuckDB connection"
        return _database(con, None, name, table, query)
    text = str(source)
    if not text.strip():  # (Path("") is the current folder: never read it unasked)
        raise InputFileError(
            "The path given is empty: give a file, a folder or a glob of files to read, or "
            "a SQL query with --query."
        )
    if text.startswith("duckdb://"):
        target = text[len("duckdb://") :]
        target = target if target.startswith("/") and text.startswith("duckdb:///") else target
        if target in ("", "/", ":memory:", "/:memory:"):
            return _database(con, None, "query", table, query)
        path = check_path(Path(target))
        return _database(con, path, path.name, table, query)
    globbed = _is_glob(text) and not Path(text).expanduser().exists()  # ("users[1].csv")
    if globbed:
        files = [f for f in sorted(glob.glob(text, recursive=True)) if Path(f).is_file()]
        if not files:
            raise InputFileError(f"No file matches {text!r}. Check the pattern and the folder.")
    else:
        path = check_path(Path(text))
        files = folder_files(path) if path.is_dir() else [str(path)]
    many = globbed or len(files) > 1 or Path(text).expanduser().is_dir()
    first = Path(files[0])
    fmt = format or detect_format(first)
    if fmt == "zip":
        inner, member, folder = unzip_one(first)
        options = {"sheet": sheet, "delimiter": delimiter, "encoding": encoding,
                   "skip_bad_lines": skip_bad_lines, "date_order": date_order}  # fmt: skip
        try:
            data, info = open_source(con, inner, date_formats=date_formats, log=log, **options)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        info.name, info.path = f"{first.name}/{member}", str(first.absolute())
        info.temporary.append(folder)
        return data, info
    if fmt == "duckdb":
        return _database(con, first, first.name, table, query)
    if table or query:
        raise InputFileError(
            f"--table and --query go with a DuckDB database (.duckdb), not {first.name}; "
            "leave them out, or give the query alone (it can read files itself)."
        )
    if sheet is not None and fmt != "excel":
        raise InputFileError(
            f"--sheet {sheet!r} goes with an Excel workbook (.xlsx), not {first.name} "
            f"(read as {fmt}); leave it out."
        )
    if delimiter is not None and fmt != "csv":
        raise InputFileError(
            f"--delimiter {delimiter!r} goes with delimited text (CSV, TSV), not "
            f"{first.name} (read as {fmt}); leave it out."
        )
    shown = Path(text).name or text  # (the file, the folder or the pattern)
    info = SourceInfo(name=shown, path=str(Path(text).absolute()), format=fmt)
    files = [_plain_name(f, info) for f in files]  # (DuckDB reads "a[1].csv" as a pattern)
    first = Path(files[0])
    spec = quote(files if many else files[0])
    union = ", union_by_name = true" if many else ""  # (a file with another column order)
    if many:
        listed = ", ".join(Path(f).name for f in files[:3]) + ("…" if len(files) > 3 else "")
        info.notes.append(f"Read {len(files)} file(s) of {shown} together: {listed}.")
    try:
        if fmt == "parquet":
            info.schema_hint = None if many else _stored_schema(first)
            if not (log or many):  # (a table's one file: Arrow's reader, as pandas needs it,
                import pyarrow.parquet as pq  # in a fifth less memory than through DuckDB)

                return pq.read_table(first), info
            return con.sql(f"SELECT * FROM read_parquet({spec}{union})"), info
        if fmt == "jsonl":
            return _json(con, first, spec, union, info), info
        if fmt == "excel":
            return _workbook(first, sheet, info, log=log), info
        if fmt == "csv":
            dates = {"order": date_order, "fitted": date_formats, "log": log}
            return read_csv_files(con, [Path(f) for f in files], info, delimiter, encoding,
                        skip_bad_lines, dates), info  # fmt: skip
    except PersonasError:
        info.clean_up()
        raise
    except Exception as exc:  # DuckDB's own message says what it could not parse
        found = None
        if fmt == "jsonl" and info.options.get("layout") == "lines":
            found = _bad_json_line([Path(f) for f in files], Path(text).name)
        info.clean_up()
        if found is not None:
            raise found from None
        what = {"parquet": "Parquet", "jsonl": "JSON"}.get(fmt, fmt)
        raise FileFormatError(
            f"{info.name} could not be read as {what}: {first_line(exc)}. The file may be "
            "damaged, truncated or misnamed; write it again, or read it yourself with "
            "--query."
        ) from None
    raise FileFormatError(
        f"Unknown format {fmt!r} for {first.name}. Use one of: csv, parquet, jsonl, excel, "
        "duckdb, zip."
    )


# --------------------------------------------------------------------------- other formats


def _json(con, path: Path, spec: str, union: str, info: SourceInfo):
    """JSON objects, one per line or in an array (nested objects stay structs: the table
    reader names their fields ``a.b``, profiling ``a_b``)."""
    head = text_head(path, 4096).lstrip()
    if not head:
        raise EmptyDataError(f"{path.name} is empty: it holds no JSON records.")
    info.options["layout"] = "array" if head.startswith("[") else "lines"
    info.options["compression"] = compression(path, raw_head(path))
    info.parse_once = True
    if head.startswith("[") and head[1:].lstrip().startswith("]"):
        raise EmptyDataError(f"{path.name} holds an empty JSON array: no records.")
    return con.sql(f"SELECT * FROM read_json({spec}{union})")


def _bad_json_line(files: list[Path], shown: str) -> FileFormatError | None:
    """The first line of JSON lines that is not a JSON object, named by its file and line
    number (DuckDB's message counts one line too many); None when every line is one."""
    for path in files:
        try:
            raw, _ = open_decompressed(path)
            with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace") as lines:
                for number, line in enumerate(lines, start=1):
                    if line.strip() and not _json_object(line):
                        name = path.name if len(files) > 1 else shown
                        return FileFormatError(
                            f"{name}, line {number}: not a JSON object "
                            f"({line.strip()[:60]!r}). Each line of JSON lines holds one "
                            'object such as {"user_id": "u1", "amount": 12.5}: fix or remove '
                            "that line."
                        )
        except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):  # (a truncated
            return None  # or damaged download: DuckDB's message says so)
    return None


def _json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _stored_schema(path: Path) -> dict[str, Any] | None:
    """The schema `personas profile` stores in its Parquet output, if any."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
        return json.loads(meta[SCHEMA_KEY]) if SCHEMA_KEY in meta else None
    except (ValueError, OSError):
        return None


def _workbook(path: Path, sheet: str | int | None, info: SourceInfo, *, log: bool):
    """One sheet of an Excel workbook (the first by default), and, when no sheet is named,
    every other sheet with the same columns (a log split by year over sheets, as UCI's
    Online Retail II workbook is; customers split by region). For a ``log``, cells of
    mixed kinds (invoice 489434 beside C489449) become text."""
    import_optional("openpyxl", purpose="to read Excel files")
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many unrelated types for damaged files
        raise FileFormatError(
            f"{path.name} could not be opened as an Excel workbook: {exc}. "
            "Save it again as .xlsx, or export the sheet to CSV."
        ) from exc
    with book:
        names = book.sheet_names
        stack = sheet is None  # (a sheet named is read alone)
        if sheet is None:
            sheet = 0
        elif isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise SchemaError(
                f"{path.name} has {len(names)} sheet(s) ({short_list(names)}): there is no "
                f"sheet {sheet} (the first is 0). Pass a sheet's name or position with --sheet."
            )
        elif isinstance(sheet, str) and sheet not in names:
            raise SchemaError(
                f"{path.name} has no sheet {sheet!r}; its sheets are {short_list(names)}. "
                "Pass one of those with --sheet."
            )
        sheet = names[sheet] if isinstance(sheet, int) else sheet
        info.options["sheet"] = sheet

        def read(name: str) -> pd.DataFrame:  # (cells as written: text "007" stays text)
            return pd.read_excel(book, sheet_name=name, dtype=object).infer_objects()

        data = read(sheet)
        data.columns = [str(c) for c in data.columns]
        same = [] if not stack else [
            n for n in names
            if n != sheet and [str(c) for c in pd.read_excel(book, sheet_name=n, nrows=0).columns]
            == list(data.columns)
        ]  # fmt: skip
        parts = [data] + [read(n) for n in same]
    copies = []
    if not log and same:  # (a user table: a sheet repeating rows is a view of it, not more)
        seen = set(pd.util.hash_pandas_object(data.astype(str), index=False))
        for name, part in list(zip(same, parts[1:], strict=True)):
            part.columns = data.columns
            if seen & set(pd.util.hash_pandas_object(part.astype(str), index=False)):
                copies.append(name)
        parts = [data] + [p for n, p in zip(same, parts[1:], strict=True) if n not in copies]
        same = [n for n in same if n not in copies]
    if copies:
        info.notes.append(
            f"Sheets of {path.name} repeating rows of {sheet!r} were left out as views of it: "
            + ", ".join(repr(n) for n in copies) + " (name one with --sheet to read it)."
        )  # fmt: skip
    if same:
        info.notes.append(
            f"Read {len(same) + 1} sheets of {path.name} with the same columns: "
            + ", ".join(repr(n) for n in [sheet, *same]) + "."
        )  # fmt: skip
    other = [n for n in names if n != sheet and n not in same + copies] if stack else []
    if other:
        info.notes.append(
            f"Sheets of {path.name} with other columns were left out: "
            + ", ".join(repr(n) for n in other) + "."
        )  # fmt: skip
    data = pd.concat(parts, ignore_index=True) if same else data
    if data.empty:
        raise EmptyDataError(
            f"Sheet {sheet!r} of {path.name} has no data rows. Choose another sheet with --sheet."
        )
    if log:
        for col in data.columns:
            if data[col].dtype == object:
                data[col] = data[col].map(lambda v: v if v is None or v != v else str(v))
    return data


def _database(con, path: Path | None, name: str, table: str | None, query: str | None):
    """A table (or a query) of a DuckDB database file, attached read-only (not copied), of
    the connection itself, or a query on an in-memory DuckDB that reads files."""
    located = str(path.absolute()) if path else None
    info = SourceInfo(name, located, "sql" if query else "duckdb", {"table": table, "query": query})
    if table and query:
        raise InputFileError("Give either a table (--table) or a query (--query), not both.")
    catalog = None
    if path is not None:
        catalog = f"personas_db{len(con.execute('FROM duckdb_databases()').fetchall())}"
        try:
            con.sql(f"ATTACH {quote(str(path))} AS {catalog} (READ_ONLY)")
        except Exception as exc:
            raise FileFormatError(
                f"{path.name} could not be opened as a DuckDB database: {first_line(exc)}."
            ) from None
        # Names in a query are found in the database (personas' own tables stay in memory).
        con.sql(f"SET search_path = '{con.execute('SELECT current_database()').fetchall()[0][0]}"
                f".main,{catalog}.main'")  # fmt: skip
    if query is None:
        where = f"table_catalog = '{catalog}'" if catalog else "table_catalog = current_database()"
        tables = [
            r[0] if r[1] == "main" else f"{r[1]}.{r[0]}"
            for r in con.execute(
                "SELECT table_name, table_schema FROM information_schema.tables "
                f"WHERE {where} "
                "ORDER BY table_schema, table_name"
            ).fetchall()
        ]
        listed = short_list(tables, 10) if tables else "none"
        if table is None and len(tables) != 1:
            raise SchemaError(
                f"{name} holds {len(tables)} tables ({listed}). "
                "Name the one to read with --table (table= in Python)."
            )
        if table is not None and table not in tables:
            raise SchemaError(
                f"{name} has no table {table!r}; its tables are {listed}. "
                "Pass one of those with --table."
            )
        table = info.options["table"] = table or tables[0]
        query = f"SELECT * FROM {catalog + '.' if catalog else ''}{_ident(table)}"
    try:
        rel = con.sql(query)
    except Exception as exc:
        what = "the query" if info.options["query"] else f"table {table!r}"
        raise FileFormatError(
            f"DuckDB could not run {what} on {name}: {first_line(exc)}. "
            "Check the SQL, the table and column names."
        ) from None
    if rel is None:
        raise InputFileError(f"The query {query[:80]!r} returns no table. Give a SELECT query.")
    return rel, info


# --------------------------------------------------------------------------- helpers


def _to_pandas(tbl: Any) -> pd.DataFrame:
    """An Arrow table as pandas: nested objects as dotted columns, lists of values as
    "a;b" text, dates as datetimes (not Python date objects in an object column)."""
    import pyarrow as pa

    names = [str(n) if n is not None else "" for n in tbl.column_names]
    if any(not n.strip() for n in names):  # (a Parquet file's index column without a name)
        tbl = tbl.rename_columns([n if n.strip() else f"unnamed_{i}" for i, n in enumerate(names)])
    for i, f in enumerate(tbl.schema):
        if pa.types.is_list(f.type) or pa.types.is_large_list(f.type):
            joined = pa.array(
                [
                    ";".join(map(str, v)) if v is not None else None
                    for v in tbl.column(i).to_pylist()
                ],
                type=pa.string(),
            )
            tbl = tbl.set_column(i, f.name, joined)
    while any(pa.types.is_struct(f.type) for f in tbl.schema):
        tbl = tbl.flatten()
    for i, f in enumerate(tbl.schema):
        if pa.types.is_date(f.type):
            tbl = tbl.set_column(i, f.name, tbl.column(i).cast(pa.timestamp("ms")))
    return tbl.to_pandas(split_blocks=True, self_destruct=True)


def _plain_types(rel: Any) -> Any:
    """The relation with columns of types pandas cannot take from DuckDB (its big
    integers, intervals, UUIDs…) as text, which the table's inference reads."""
    odd = [
        c
        for c, t in zip(rel.columns, rel.types, strict=True)
        if str(t) not in PLAIN_TYPES
        and not str(t).startswith(("STRUCT", "MAP"))
        and not str(t).endswith("[]")  # (nested JSON: flattened by _to_pandas)
    ]
    if not odd:
        return rel
    quoted = {c: '"' + c.replace('"', '""') + '"' for c in rel.columns}
    cols = ", ".join(
        f"CAST({quoted[c]} AS VARCHAR) AS {quoted[c]}" if c in odd else quoted[c]
        for c in rel.columns
    )
    return rel.project(cols)


def _arrow(rel: Any, info: SourceInfo) -> Any:
    try:
        return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
    except Exception as exc:
        raise FileFormatError(
            f"{info.name} could not be read: {first_line(exc)}. Check the file, the SQL, "
            "the table and column names."
        ) from None


def _is_connection(obj: Any) -> bool:
    return type(obj).__module__.lstrip("_").startswith("duckdb") and hasattr(obj, "sql")


def _plain_name(path: str, info: SourceInfo) -> str:
    """``path``, or a link to it in a temporary folder when its name holds ``*?[``, named
    as it is but for those ("users[1].csv" → "users(1).csv": messages name it so)."""
    if not _is_glob(path):
        return path
    folder = tempfile.mkdtemp(prefix="personas-name-")
    info.temporary.append(folder)
    plain = Path(path).name.translate(str.maketrans("[]*?", "()__"))
    link = Path(folder) / plain
    link.symlink_to(Path(path).absolute())
    return str(link)


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _ident(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))
