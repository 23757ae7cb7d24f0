"""Readers: CSV (sniffed), Parquet, JSON lines, Excel, DuckDB tables and SQL queries.

Each reader returns a pandas DataFrame and a :class:`SourceInfo` describing what was read
and how (delimiter, encoding, compression, rows skipped). Files are read once, by Arrow's
multi-threaded readers, and converted to pandas without an extra copy where Arrow allows.
Only a small head of the file (at most 1 MiB) is looked at before the read, to sniff the
format, encoding and delimiter.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from personas._optional import import_optional
from personas.errors import (
    EmptyDataError,
    FileFormatError,
    InputFileError,
    PersonasError,
    SchemaError,
)
from personas.io._files import (
    HEAD_BYTES,
    arrow_stream,
    check_path,
    decode_head,
    detect_format,
    open_decompressed,
    unzip_one,
)
from personas.io._names import keep_as_text

__all__ = ["SCHEMA_KEY", "SourceInfo", "load_table", "read_excel", "read_table"]

_DELIMITERS = [",", ";", "\t", "|"]


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
        Facts worth reporting (encoding fallback, rows skipped, columns renamed).
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "format": self.format,
            "options": {k: v for k, v in self.options.items() if v is not None},
            "notes": list(self.notes),
            "rows_skipped": self.rows_skipped,
        }


def read_table(
    source: Any,
    *,
    table: str | None = None,
    query: str | None = None,
    sheet: str | int | None = None,
    format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    skip_bad_lines: bool = False,
) -> pd.DataFrame:
    """Read a user table from a file, a DuckDB database or a SQL query.

    Parameters
    ----------
    source : str, Path, pandas.DataFrame or duckdb connection
        A file path (CSV/TSV, optionally compressed; Parquet file or folder; JSON lines;
        Excel; DuckDB database), a ``duckdb://`` URL, an open DuckDB connection (with
        ``query`` or ``table``) or a DataFrame (returned as is).
    table : str, optional
        Table to read from a DuckDB database (needed when it holds several).
    query : str, optional
        SQL to run on the DuckDB database or connection (or, when ``source`` is None, on an
        in-memory DuckDB that can read files: ``SELECT * FROM 'users.csv'``).
    sheet : str or int, optional
        Excel sheet name or position (default: the first sheet).
    format : str, optional
        Force the format instead of detecting it from the name and content.
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
    InputFileError, FileFormatError, EmptyDataError
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
    df, _ = load_table(
        source,
        table=table,
        query=query,
        sheet=sheet,
        format=format,
        delimiter=delimiter,
        encoding=encoding,
        skip_bad_lines=skip_bad_lines,
    )
    return df


def load_table(
    source: Any,
    *,
    table: str | None = None,
    query: str | None = None,
    sheet: str | int | None = None,
    format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    skip_bad_lines: bool = False,
) -> tuple[pd.DataFrame, SourceInfo]:
    """Like :func:`read_table`, but also return the :class:`SourceInfo`."""
    if isinstance(source, pd.DataFrame):
        return source, SourceInfo(name="DataFrame")
    if source is None or _is_duckdb_connection(source):
        if query is None and table is None:
            raise InputFileError(
                "Nothing to read: give a file path, or a SQL query with --query "
                "(e.g. --query \"SELECT * FROM 'users.csv'\")."
            )
        return _read_duckdb(source, table=table, query=query)
    text = str(source)
    if text.startswith("duckdb://"):
        target = text[len("duckdb://") :].lstrip("/") if text != "duckdb://" else ""
        if text.startswith("duckdb:///"):
            target = "/" + text[len("duckdb:///") :]
        if target in ("", "/", ":memory:", "/:memory:"):
            return _read_duckdb(None, table=table, query=query)
        return _read_duckdb(check_path(Path(target)), table=table, query=query)

    path = check_path(Path(source))
    if path.is_dir():
        return _read_parquet_dir(path)
    fmt = format or detect_format(path)
    if fmt == "csv":
        return _read_csv(
            path, delimiter=delimiter, encoding=encoding, skip_bad_lines=skip_bad_lines
        )
    if fmt == "parquet":
        return _read_parquet(path)
    if fmt == "jsonl":
        return _read_json(path)
    if fmt == "excel":
        return read_excel(path, sheet=sheet)
    if fmt == "duckdb":
        return _read_duckdb(path, table=table, query=query)
    if fmt == "zip":  # a download holding one data file
        inner, member, folder = unzip_one(path)
        try:
            df, info = load_table(inner, sheet=sheet, delimiter=delimiter, encoding=encoding,
                                  skip_bad_lines=skip_bad_lines)  # fmt: skip
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        info.name, info.path = f"{path.name}/{member}", str(path.absolute())
        return df, info
    raise FileFormatError(
        f"Unknown format {fmt!r} for {path.name}. Use one of: csv, parquet, jsonl, excel, "
        "duckdb, zip."
    )


# --------------------------------------------------------------------------- paths + formats


# --------------------------------------------------------------------------- CSV


def _sniff_delimiter(lines: list[str]) -> str:
    sample = "\n".join(lines[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        pass
    best, best_score = ",", 0.0
    for d in _DELIMITERS:
        counts = [len(row) - 1 for row in csv.reader(lines[:50], delimiter=d) if row]
        if not counts or max(counts) == 0:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) / len(counts) * (1 + min(mode, 50) / 100)
        if mode > 0 and score > best_score:
            best, best_score = d, score
    return best


def _read_csv(
    path: Path,
    *,
    delimiter: str | None,
    encoding: str | None,
    skip_bad_lines: bool,
) -> tuple[pd.DataFrame, SourceInfo]:
    import pyarrow.csv as pacsv

    fh, compression = open_decompressed(path)
    with fh:
        raw = fh.read(HEAD_BYTES)
        complete = len(raw) < HEAD_BYTES
    text, enc = decode_head(raw, path, encoding)
    if not text.strip():
        raise EmptyDataError(
            f"{path.name} is empty: it has no header and no rows. "
            "Export the table again, with a header row and at least one data row."
        )
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the last line of a partial head may be cut
    lines = [ln for ln in lines if ln.strip()]
    sep = delimiter or _sniff_delimiter(lines)
    if len(sep) != 1:
        raise FileFormatError(f"The delimiter must be one character; got {sep!r}.")
    sample = list(csv.reader(io.StringIO("\n".join(lines[:2000])), delimiter=sep))
    header = [h.strip() for h in sample[0]] if sample else []
    _check_header(header, path)
    newlines_in_values = '"' in text and any(
        "\n" in v or "\r" in v for row in csv.reader(io.StringIO(text), delimiter=sep) for v in row
    )
    # Keep the text of id-like columns and of columns with leading zeros ("007").
    as_text = set()
    for j, name in enumerate(header):
        values = [row[j] for row in sample[1:] if len(row) > j]
        if keep_as_text(name) or any(re.fullmatch(r"\s*[+-]?0\d+\s*", v) for v in values):
            as_text.add(name)
    info = SourceInfo(
        name=path.name,
        path=str(path.absolute()),
        format="csv",
        options={"delimiter": sep, "encoding": enc, "compression": compression},
    )
    bad: list[Any] = []

    def on_bad_row(row):
        bad.append(row)
        return "skip"

    def read(use_threads: bool, encoding_: str):
        source = arrow_stream(path, compression)
        return pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(
                encoding=encoding_, use_threads=use_threads, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                newlines_in_values=newlines_in_values,
                invalid_row_handler=on_bad_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in as_text},
                strings_can_be_null=True,
                null_values=["", "NA", "N/A", "n/a", "NULL", "null", "NaN", "nan", "#N/A"],
            ),
        )

    def not_utf8(tbl_: pa.Table | None, msg: str = "") -> bool:
        if enc != "utf-8":
            return False
        if tbl_ is None:
            return "UTF8" in msg or "UTF-8" in msg or "utf-8" in msg
        # Arrow types a column holding invalid UTF-8 as binary instead of failing.
        return any(pa.types.is_binary(f.type) for f in tbl_.schema)

    try:
        tbl = read(True, enc)
        late_bad_bytes = not_utf8(tbl)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if not not_utf8(None, str(exc)):
            raise FileFormatError(
                f"{path.name} could not be parsed as CSV with delimiter {sep!r}: {exc}. "
                "Check that it is a delimited text file; pass --delimiter to force the delimiter."
            ) from exc
        late_bad_bytes = True
    if late_bad_bytes:
        bad.clear()
        enc = "cp1252"
        info.options["encoding"] = enc
        info.notes.append(
            "The file is not valid UTF-8 past its first MiB; it was read as cp1252. "
            "Pass --encoding to choose another encoding."
        )
        tbl = read(True, enc)
    if bad:
        n_bad = len(bad)
        bad.clear()
        if not skip_bad_lines or tbl.num_rows == 0:
            read(False, enc)  # serial re-read, only on this error path, to get line numbers
            examples = "; ".join(
                f"line {r.number}: {r.actual_columns} fields, expected {r.expected_columns}"
                f" ({r.text[:60]!r})"
                for r in bad[:3]
            )
            raise FileFormatError(
                f"{path.name}: {n_bad} row(s) have the wrong number of fields for delimiter "
                f"{sep!r} ({examples}). Fix those rows (a missing or stray delimiter, or an "
                "unquoted value containing the delimiter), or pass --skip-bad-lines to leave "
                "them out (they will be counted in the report)."
            )
        info.rows_skipped = n_bad
        info.notes.append(f"{n_bad} malformed row(s) with the wrong number of fields were skipped.")
    if tbl.num_rows == 0:
        raise EmptyDataError(
            f"{path.name} has a header ({len(header)} columns: {_short_list(header)}) "
            "but no data rows. Export the table again with its rows."
        )
    return _to_pandas(tbl), info


def _check_header(header: list[str], path: Path) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if name in seen:
            raise FileFormatError(
                f"{path.name}: the header names column {name!r} twice (positions "
                f"{seen[name]} and {i}). Rename one of them so every column name is unique."
            )
        seen[name] = i


def _short_list(names: list[str], n: int = 6) -> str:
    shown = ", ".join(repr(x) for x in names[:n])
    return shown + (f", … ({len(names) - n} more)" if len(names) > n else "")


def _to_pandas(tbl: pa.Table) -> pd.DataFrame:
    names = [str(n) if n is not None else "" for n in tbl.column_names]
    renamed = [n if n.strip() else f"unnamed_{i}" for i, n in enumerate(names)]
    if renamed != names:
        tbl = tbl.rename_columns(renamed)
    # Nested JSON objects become dotted columns; lists of strings become "a;b" strings.
    for i, f in enumerate(tbl.schema):
        if pa.types.is_list(f.type) or pa.types.is_large_list(f.type):
            col = tbl.column(i)
            joined = pa.array(
                [";".join(map(str, v)) if v is not None else None for v in col.to_pylist()],
                type=pa.string(),
            )
            tbl = tbl.set_column(i, f.name, joined)
    while any(pa.types.is_struct(f.type) for f in tbl.schema):
        tbl = tbl.flatten()
    # Arrow dates become pandas datetimes (not Python date objects in an object column).
    for i, f in enumerate(tbl.schema):
        if pa.types.is_date(f.type):
            tbl = tbl.set_column(i, f.name, tbl.column(i).cast(pa.timestamp("ms")))
    return tbl.to_pandas(split_blocks=True, self_destruct=True)


# --------------------------------------------------------------------------- other formats


def _read_parquet(path: Path) -> tuple[pd.DataFrame, SourceInfo]:
    import pyarrow.parquet as pq

    try:
        tbl = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileFormatError(
            f"{path.name} could not be read as Parquet: {exc}. The file may be damaged or "
            "truncated; write it again."
        ) from exc
    info = SourceInfo(name=path.name, path=str(path.absolute()), format="parquet")
    info.schema_hint = _stored_schema(tbl)
    return _finish(tbl, info)


SCHEMA_KEY = b"personas.schema"


def _stored_schema(tbl: pa.Table) -> dict[str, Any] | None:
    """The schema `personas profile` stores in its Parquet output, if any."""
    meta = tbl.schema.metadata or {}
    if SCHEMA_KEY not in meta:
        return None
    try:
        return json.loads(meta[SCHEMA_KEY])
    except ValueError:
        return None


def _read_parquet_dir(path: Path) -> tuple[pd.DataFrame, SourceInfo]:
    import pyarrow.dataset as ds

    try:
        tbl = ds.dataset(str(path), format="parquet").to_table()
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileFormatError(
            f"The Parquet files in folder {str(path)!r} could not be read together: {exc}. "
            "Check that they share one schema."
        ) from exc
    info = SourceInfo(name=path.name, path=str(path.absolute()), format="parquet")
    return _finish(tbl, info)


def _finish(tbl: pa.Table, info: SourceInfo) -> tuple[pd.DataFrame, SourceInfo]:
    if tbl.num_rows == 0:
        raise EmptyDataError(
            f"{info.name} has {tbl.num_columns} columns ({_short_list(tbl.column_names)}) "
            "but no rows. Give a table with at least one row."
        )
    return _to_pandas(tbl), info


def _read_json(path: Path) -> tuple[pd.DataFrame, SourceInfo]:
    import pyarrow.json as pajson

    info = SourceInfo(name=path.name, path=str(path.absolute()), format="jsonl")
    fh, compression = open_decompressed(path)
    info.options["compression"] = compression
    with fh:
        head = fh.read(4096)
    text = head.decode("utf-8", errors="replace").lstrip()
    if not text:
        raise EmptyDataError(f"{path.name} is empty: it holds no JSON records.")
    if text.startswith("["):  # one JSON array of records, not JSON lines
        info.options["layout"] = "array"
        fh, _ = open_decompressed(path)
        with fh:
            try:
                df = pd.read_json(fh, orient="records")
            except ValueError as exc:
                raise FileFormatError(
                    f"{path.name} could not be parsed as a JSON array of records: {exc}. "
                    "Write one JSON object per line (JSON lines) or a valid array of objects."
                ) from exc
        if df.empty:
            raise EmptyDataError(f"{path.name} holds an empty JSON array: no records.")
        return df, info
    try:
        tbl = pajson.read_json(arrow_stream(path, compression))
    except pa.ArrowInvalid as exc:
        raise FileFormatError(
            f"{path.name} could not be parsed as JSON lines: {exc}. Each line must be one "
            'JSON object, e.g. {"user_id": "u1", "age": 31}.'
        ) from exc
    return _finish(tbl, info)


def read_excel(path: Path, *, sheet: str | int | None) -> tuple[pd.DataFrame, SourceInfo]:
    """One sheet of an Excel workbook (the first by default), with its SourceInfo."""
    import_optional("openpyxl", purpose="to read Excel files")
    info = SourceInfo(
        name=path.name, path=str(path.absolute()), format="excel", options={"sheet": sheet}
    )
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many unrelated types for damaged files
        raise FileFormatError(
            f"{path.name} could not be opened as an Excel workbook: {exc}. "
            "Save it again as .xlsx, or export the sheet to CSV."
        ) from exc
    with book:
        names = book.sheet_names
        if sheet is None:
            sheet = names[0]
        elif isinstance(sheet, str) and sheet not in names:
            raise SchemaError(
                f"{path.name} has no sheet {sheet!r}; its sheets are {_short_list(names)}. "
                "Pass one of those with --sheet."
            )
        info.options["sheet"] = sheet
        df = pd.read_excel(book, sheet_name=sheet)
    if df.empty:
        raise EmptyDataError(
            f"Sheet {sheet!r} of {path.name} has no data rows. Choose another sheet with --sheet."
        )
    df.columns = [str(c) for c in df.columns]
    return df, info


def _arrow(relation) -> pa.Table:
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return fetch()


def _is_duckdb_connection(obj: Any) -> bool:
    return type(obj).__module__.lstrip("_").startswith("duckdb") and hasattr(obj, "sql")


def _read_duckdb(
    source: Any, *, table: str | None, query: str | None
) -> tuple[pd.DataFrame, SourceInfo]:
    import duckdb

    own = not _is_duckdb_connection(source)
    if own:
        try:
            con = duckdb.connect(str(source) if source else ":memory:", read_only=bool(source))
        except duckdb.Error as exc:
            raise FileFormatError(
                f"{Path(str(source)).name} could not be opened as a DuckDB database: {exc}."
            ) from exc
        name = Path(str(source)).name if source else "query"
    else:
        con, name = source, "DuckDB connection"
    info = SourceInfo(
        name=name,
        path=str(Path(str(source)).absolute()) if own and source is not None else None,
        format="sql" if query else "duckdb",
        options={"table": table, "query": query},
    )
    try:
        if query is not None:
            if table is not None:
                raise InputFileError("Give either a table or a query, not both.")
            rel = con.sql(query)
            if rel is None:
                raise InputFileError(
                    f"The query {query[:80]!r} returns no table. Give a SELECT query."
                )
            tbl = _arrow(rel)
        else:
            tables = [
                r[0] if r[1] == "main" else f"{r[1]}.{r[0]}"
                for r in con.sql(
                    "SELECT table_name, table_schema FROM information_schema.tables "
                    "ORDER BY table_schema, table_name"
                ).fetchall()
            ]
            if table is None:
                if len(tables) != 1:
                    listed = _short_list(tables, 10) if tables else "none"
                    raise SchemaError(
                        f"{name} holds {len(tables)} tables ({listed}). "
                        "Name the one to read with --table (or table= in Python)."
                    )
                table = tables[0]
                info.options["table"] = table
            elif table not in tables:
                raise SchemaError(
                    f"{name} has no table {table!r}; its tables are "
                    f"{_short_list(tables, 10) if tables else 'none'}. Pass one of those with "
                    "--table."
                )
            tbl = _arrow(con.table(table))
    except duckdb.Error as exc:
        what = f"the query {query[:80]!r}" if query else f"table {table!r}"
        raise FileFormatError(
            f"DuckDB could not run {what} on {name}: {str(exc).splitlines()[0]}. "
            "Check the SQL, the table and column names."
        ) from exc
    except PersonasError:
        raise
    finally:
        if own:
            con.close()
    return _finish(tbl, info)
