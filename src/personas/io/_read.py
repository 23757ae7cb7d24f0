"""The one reader: every source personas takes, for user tables and event logs alike.

CSV/TSV (gzip, zstd, bz2 or xz), Parquet files, folders and globs, JSON (lines or an
array), Excel, a zip download holding one of those, a DuckDB database (a table or a SQL
query) and a query on an in-memory DuckDB that reads files itself. DuckDB reads them all:
its CSV sniffer finds the dialect, the header and the types; personas adds what it does
not do — the encoding of Windows exports (cp1252, decoded into a UTF-8 copy), text kept
as text where a number would lose it (ids, "007"), the one policy for dates that read both
ways (:mod:`personas.io._dates`), malformed lines reported with their line numbers (or
counted and left out), files of columns separated by spaces. What the reader finds goes
to :class:`SourceInfo`'s notes.

:func:`open_source` leaves the data in a DuckDB connection (what profiling queries);
:func:`load_table` fetches them as a pandas DataFrame (what validation, EDA and
segmentation take).
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import json
import re
import shutil
import tempfile
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
from personas.io._dates import decide, other_order
from personas.io._files import (
    HEAD_BYTES,
    check_path,
    compression,
    decode_head,
    detect_format,
    folder_files,
    open_decompressed,
    raw_head,
    text_head,
    unzip_one,
)
from personas.io._names import keep_as_text

__all__ = ["READ_OPTIONS", "SCHEMA_KEY", "SourceInfo", "load_table", "open_source", "read_table"]

#: How a source is read, for every command that reads one (what ``read_options`` hold).
READ_OPTIONS = ("table", "query", "sheet", "format", "delimiter", "encoding", "skip_bad_lines")

SCHEMA_KEY = b"personas.schema"  # the schema `personas profile` stores in its Parquet output
NULLS = ["", "NA", "N/A", "n/a", "NULL", "null", "NaN", "nan", "#N/A"]
DATE_SAMPLE = 20_000  # first lines whose dates say which of day and month comes first
# Encodings DuckDB reads itself (canonical names: see _codec), as it names them
DUCKDB_READS = {"utf-8": None, "utf-8-sig": None, "utf-16": "utf-16", "iso8859-1": "latin-1"}
_DELIMITERS = ",;\t|"


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


def load_table(source: Any, **options: Any) -> tuple[pd.DataFrame, SourceInfo]:
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
        tbl = data if hasattr(data, "num_rows") else _arrow(data, info)
        if tbl.num_rows == 0:
            raise EmptyDataError(
                f"{info.name} has {tbl.num_columns} columns ({_short_list(tbl.column_names)}) "
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
    shown = Path(text).name or text  # (the file, the folder or the pattern)
    info = SourceInfo(name=shown, path=str(Path(text).absolute()), format=fmt)
    files = [_plain_name(f, info) for f in files]  # (DuckDB reads "a[1].csv" as a pattern)
    first = Path(files[0])
    spec = _quote(files if many else files[0])
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
            return _workbook(first, sheet, info, stack=log), info
        if fmt == "csv":
            dates = {"order": date_order, "fitted": date_formats, "log": log}
            return _csv(con, [Path(f) for f in files], info, delimiter, encoding,
                        skip_bad_lines, dates), info  # fmt: skip
    except PersonasError:
        info.clean_up()
        raise
    except Exception as exc:  # DuckDB's own message says what it could not parse
        info.clean_up()
        what = {"parquet": "Parquet", "jsonl": "JSON"}.get(fmt, fmt)
        raise FileFormatError(
            f"{info.name} could not be read as {what}: {_first_line(exc)}. The file may be "
            "damaged, truncated or misnamed; write it again, or read it yourself with "
            "--query."
        ) from None
    raise FileFormatError(
        f"Unknown format {fmt!r} for {first.name}. Use one of: csv, parquet, jsonl, excel, "
        "duckdb, zip."
    )


# --------------------------------------------------------------------------- CSV


@dataclass
class _Dialect:
    """How a set of CSV files is read: DuckDB's options, the delimiter, the header as
    written, DuckDB's names of the columns (by position) and the types personas gives."""

    files: list[Path]
    options: dict[str, Any]
    sep: str
    names: list[str]  # the header as written ([] without a header)
    columns: list[str]  # DuckDB's names, by position
    types: dict[str, str]
    ints: list[str]
    spaced: bool
    skip_bad_lines: bool
    shown: list[str]  # the files' own names (``files`` may be UTF-8 copies)


def _csv(con, files: list[Path], info: SourceInfo, delimiter, encoding, skip_bad_lines, dates):
    """Text files of delimited columns (or columns separated by spaces), parsed by DuckDB:
    a log into the table ``personas_read`` of ``con``, a user table into Arrow."""
    d = _dialect(con, files, info, delimiter, encoding, skip_bad_lines, dates)
    out = _parse_all(con, d, info, dates["log"])
    out = _whole_numbers(con, out, d.ints, dates["log"])
    columns = list(getattr(out, "column_names", None) or out.columns)
    blank = {columns[i]: f"unnamed_{i}" for i, n in enumerate(d.names) if not n}
    cased = [f"{n!r} as {c!r}" for n, c in zip(d.names, columns, strict=False) if n and n != c]
    if cased:  # (DuckDB's names are not case-sensitive: "Age" and "age" are one name)
        info.notes.append(f"Names that differ only in case are read as: {', '.join(cased)}.")
    if blank and dates["log"]:
        for old, new in blank.items():
            con.sql(f'ALTER TABLE personas_read RENAME COLUMN "{old}" TO "{new}"')
        out = con.table("personas_read")
    elif blank:
        out = out.rename_columns([blank.get(c, c) for c in columns])
    if not d.names or (out.num_rows if hasattr(out, "num_rows") else out.shape[0]):
        return out
    raise EmptyDataError(
        f"{files[0].name} has a header ({len(d.names)} columns: {_short_list(d.names)}) "
        "but no data rows. Export the table again with its rows."
    )


def _dialect(con, files, info, delimiter, encoding, skip_bad_lines, dates) -> _Dialect:
    """The files' encodings (file by file), delimiter, header and column types."""
    first, given = files[0], list(files)
    fh, packed = open_decompressed(first)
    with fh:
        raw = fh.read(HEAD_BYTES)
    text, enc = decode_head(raw, first, encoding)
    text = text.removeprefix("\ufeff")  # (a byte-order mark is no part of the first name)
    if not text.strip():
        raise EmptyDataError(
            f"{first.name} is empty: it has no header and no rows. "
            "Export the table again, with a header row and at least one data row."
        )
    info.options.update(encoding=enc, compression=packed)
    spaced = bool(delimiter is None and len(files) == 1 and _whitespace_columns(text))
    if spaced:  # (columns separated by runs of spaces, as CDNOW_master.txt: made a CSV)
        files, packed, reads = [_utf8_copy(first, enc, info, spaces=True)], None, None
        info.notes.append(f"{first.name}: columns separated by spaces.")
    else:  # each file as DuckDB reads it: UTF-8 (or UTF-16, Latin-1), else a UTF-8 copy
        files, packed, reads = _decodable(files, enc, encoding is not None, info, packed)
    # (skip = 0: DuckDB's sniffer leaves out lines it takes for a preamble, silently;
    # quote: it reads no quotes where the sniffed lines hold none)
    options = {k: v for k, v in {"compression": packed, "encoding": reads}.items() if v}
    options |= {"nullstr": NULLS, "skip": 0, "quote": '"'}
    sniffed = _sniff(con, files[0], options | ({"delim": delimiter} if delimiter else {}))
    lines = text.splitlines()
    if len(raw) == HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # (the last line of a partial head may be cut)
    lines = [ln for ln in lines if ln.strip()]
    sep = delimiter or ("," if spaced else _delimiter(sniffed, lines))
    if len(sep) != 1:
        raise FileFormatError(f"The delimiter must be one character; got {sep!r}.")
    if len(files) > 1 and not delimiter:  # (one dialect reads them all)
        seps = {f.name: _delimiter(None, text_head(f, 1 << 16).splitlines()[:50]) for f in files}
        if len(set(seps.values())) > 1:
            shown = ", ".join(f"{n} {d!r}" for n, d in list(seps.items())[:6])
            raise FileFormatError(
                f"The files read together are not delimited alike ({shown}). Give the files "
                "of one delimiter (a glob naming them), or convert the others."
            )
    lines = [",".join(ln.split()) for ln in lines] if spaced else lines
    sample = list(csv.reader(io.StringIO("\n".join(lines[:2000])), delimiter=sep))
    header = _has_header(sniffed) if sniffed else True
    names = [h.strip() for h in sample[0]] if header and sample else []
    _check_header(names, first)
    columns = [c["name"] for c in sniffed["columns"]] if sniffed else names
    info.options["delimiter"] = "spaces" if spaced else sep
    info.headerless = not header
    if not header and not dates["log"]:  # (profiling says which columns it took)
        info.notes.append(f"{first.name} has no header: its columns are column0, column1….")
    options |= {"delim": sep, "header": header}
    types = _text_columns(sample[1 if header else 0 :], columns, names)
    formats, dated = _date_formats(con, files[0], options, sniffed, dates, info.notes)
    info.date_formats = formats
    options |= formats
    # Whole numbers are typed by every value, not the sniffed lines' (see _whole_numbers)
    kinds = {c["name"]: c["type"] for c in (sniffed or {}).get("columns", [])}
    ints = [c for c, t in kinds.items() if t == "BIGINT" and c not in types]
    types |= {c: "VARCHAR" for c in [*dated, *ints]}
    shown = [Path(f).name for f in given]
    return _Dialect(files, options, sep, names, columns, types, ints, spaced, skip_bad_lines, shown)


def _decodable(files: list[Path], enc: str, given: bool, info: SourceInfo, packed):
    """The files as DuckDB can read them, with the compression and encoding options to
    give it: each file's head says its encoding (``given``: ``enc`` for every file); a
    file not in UTF-8, UTF-16 or Latin-1, or compressed with bz2 or xz, or in another
    encoding than the first file, is decoded into a UTF-8 copy."""
    out, encodings = [], []
    for i, f in enumerate(files):
        own = enc
        if i and not given:  # (the first file's head is read already)
            fh, _ = open_decompressed(f)
            with fh:
                own = decode_head(fh.read(HEAD_BYTES), f, None)[1]
        if _codec(own) not in ("utf-8", "utf-16"):
            info.notes.append(f"{f.name} is not UTF-8: read as {own}.")
        encodings.append(own)
    mixed = len({_codec(e) for e in encodings}) > 1
    for f, own in zip(files, encodings, strict=True):
        plain = packed not in ("bz2", "xz") and _codec(own) in DUCKDB_READS and not mixed
        out.append(f if plain else _utf8_copy(f, own, info))
    if out == files:
        return out, packed, DUCKDB_READS[_codec(enc)]
    return out, None, None


def _codec(name: str) -> str:
    """An encoding's canonical name ("latin_1", "ISO-8859-1" → "iso8859-1")."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


def _parse_all(con, d: _Dialect, info: SourceInfo, log: bool) -> Any:
    """The files parsed by DuckDB with the dialect ``d``; on an error, read again leniently
    to tell the lines with the wrong number of fields (an error naming them, or counted
    and left out with ``skip_bad_lines``) from values unlike the sniffed lines' further
    down a column (that column read as text) and from bytes that are not UTF-8 (the files
    read as cp1252)."""
    failure, lenient = None, d.skip_bad_lines
    for _ in range(len(d.columns) + 3):
        try:
            return _lenient(con, d, info, log) if lenient else _parse(con, d, False, log)
        except _Retry:
            continue
        except PersonasError:
            raise
        except Exception as exc:
            if _not_utf8(exc) and _codec(info.options["encoding"]) == "utf-8":
                _as_cp1252(d, info)
                continue
            if lenient:
                raise _unreadable(d.shown[0], d.sep, failure or exc) from None
            failure, lenient = exc, True  # (read leniently, to say which lines are wrong)
    raise _unreadable(d.shown[0], d.sep, failure or "the file's columns keep changing types")


class _Retry(Exception):
    """The dialect changed (a column read as text, the files as cp1252): parse again."""


def _lenient(con, d: _Dialect, info: SourceInfo, log: bool) -> Any:
    """The files parsed leaving out the lines DuckDB cannot read, told file by file (a
    read of several files keeps no rejected lines)."""
    errors: list[tuple] = []
    for f, name in zip(d.files, d.shown, strict=True):
        before = _last_scan(con)
        con.execute(f"SELECT count(*) FROM {_read_csv(d, [f], True)}").fetchall()
        errors += [
            (*e, name)
            for e in con.execute(
                "SELECT line, error_type, column_name, csv_line, error_message FROM "
                f"reject_errors WHERE scan_id > {before} ORDER BY line"
            ).fetchall()
        ]
    utf8 = _codec(info.options["encoding"]) == "utf-8"
    if utf8 and any(e[1] == "INVALID UNICODE" for e in errors):
        _as_cp1252(d, info)
        raise _Retry
    broken = {(e[5], e[0]) for e in errors if e[1] != "CAST"}  # (a row per line, column)
    cast = {e[2]: "VARCHAR" for e in errors if e[1] == "CAST" and (e[5], e[0]) not in broken}
    if cast:  # values unlike the sniffed lines' further down: read that column as text
        d.types |= cast
        d.ints = [c for c in d.ints if c not in cast]
        raise _Retry
    by_line: dict[tuple, tuple] = {}
    for e in errors:
        if e[1] != "CAST":
            by_line.setdefault((e[5], e[0]), e)
    lines = list(by_line.values())
    if lines and not d.skip_bad_lines:
        what = "columns separated by spaces" if d.spaced else f"delimiter {d.sep!r}"
        raise FileFormatError(
            f"{lines[0][5]}: {len(lines)} row(s) have the wrong number of fields for "
            f"{what} ({_examples(lines, d.sep)}). Fix those rows (a missing or stray "
            "delimiter, or an unquoted value containing the delimiter), or pass "
            "--skip-bad-lines to leave them out (they will be counted in the report)."
        )
    if lines:
        info.rows_skipped = len(lines)
        info.notes.append(
            f"{len(lines)} malformed row(s) with the wrong number of fields were skipped."
        )
    return _parse(con, d, bool(lines), log)


def _last_scan(con) -> int:
    """The last scan whose rejected lines DuckDB kept (-1 before any)."""
    try:
        return con.execute("SELECT coalesce(max(scan_id), -1) FROM reject_errors").fetchall()[0][0]
    except Exception:  # (no table of rejected lines yet)
        return -1


def _not_utf8(exc: Exception) -> bool:
    text = str(exc).lower()
    return "invalid unicode" in text or "not utf-8 encoded" in text


def _as_cp1252(d: _Dialect, info: SourceInfo) -> None:
    """Read the files as cp1252 from now on (bytes that are not UTF-8 past the head)."""
    d.files = [_utf8_copy(f, "cp1252", info) for f in d.files]
    d.options.pop("encoding", None)
    d.options.pop("compression", None)
    info.options["encoding"] = "cp1252"
    info.notes.append(
        f"{info.name} is not valid UTF-8 past its first MiB: read as cp1252. "
        "Pass --encoding to choose another encoding."
    )


def _read_csv(d: _Dialect, files: list[Path], lenient: bool) -> str:
    """DuckDB's read of ``files``, each read alone and stacked by column name (a read of
    several files cannot keep its rejected lines; each file's types are its columns')."""
    parts = []
    for f in files:
        options = d.options | ({"ignore_errors": True} if lenient else {})
        if lenient and len(files) == 1:
            options["store_rejects"] = True
        head = _header_names(f, d) if len(d.files) > 1 else None
        types = {c: t for c, t in d.types.items() if head is None or c in head}
        if types:
            options["types"] = types
        parts.append(f"SELECT * FROM read_csv({_quote(str(f))}, {_sql_options(options)})")
    return "(" + " UNION ALL BY NAME ".join(parts) + ")"


def _header_names(path: Path, d: _Dialect) -> set[str]:
    """The column names of one of several files (their header, or column0…)."""
    first = next((ln for ln in text_head(path, 1 << 16).splitlines() if ln.strip()), "")
    row = next(csv.reader([first], delimiter=d.sep), [])
    if not d.options.get("header", True):
        return {f"column{i}" for i in range(len(row))} | set(d.columns)
    return {c.strip() for c in row}


def _parse(con, d: _Dialect, lenient: bool, log: bool) -> Any:
    """The CSV parsed: a log into the table ``personas_read`` every query reads; a user
    table, which goes to pandas, into Arrow."""
    select = f"SELECT * FROM {_read_csv(d, d.files, lenient)}"
    if not log:
        return con.sql(select).to_arrow_table()
    con.sql(f"CREATE OR REPLACE TABLE personas_read AS {select}")
    return con.table("personas_read")


WHOLE = "[+-]?(0|[1-9][0-9]{0,18})"  # (no leading zeros: "007" is a code, kept as text)
NUMBER = "[+-]?(0|[1-9][0-9]*)(\\.[0-9]*)?([eE][+-]?[0-9]+)?|[+-]?\\.[0-9]+([eE][+-]?[0-9]+)?"


def _whole_numbers(con, out: Any, ints: list[str], log: bool) -> Any:
    """The columns DuckDB's sniffer typed as whole numbers, read as text and typed here by
    all their values, not the sniffed lines' (DuckDB's cast rounds 3.5 to 4 and reads 007
    as 7): whole numbers as integers, numbers as floats, anything else stays text."""
    if not ints:
        return out
    if log:
        quoted = [c.replace('"', '""') for c in ints]
        checks = ", ".join(
            f"count(*) FILTER (WHERE NOT regexp_full_match(\"{c}\", '({pattern})'))"
            for c in quoted
            for pattern in (WHOLE, NUMBER)
        )
        row = con.execute(f"SELECT {checks} FROM personas_read").fetchall()[0]
        for i, c in enumerate(quoted):
            for typ, bad in (("BIGINT", row[2 * i]), ("DOUBLE", row[2 * i + 1])):
                try:  # (a whole number past the 64-bit range is a float)
                    if not bad:
                        con.execute(f'ALTER TABLE personas_read ALTER "{c}" TYPE {typ}')
                        break
                except Exception:
                    continue
        return con.table("personas_read")
    import pyarrow as pa
    import pyarrow.compute as pc

    for c in ints:
        i, col = out.schema.get_field_index(c), out.column(c)
        for pattern, typ in ((WHOLE, pa.int64()), (NUMBER, pa.float64())):
            if pc.all(pc.match_substring_regex(col, f"^({pattern})$")).as_py() is not False:
                try:  # (a whole number past the 64-bit range is a float)
                    out = out.set_column(i, c, pc.cast(col, typ))
                    break
                except pa.ArrowInvalid:
                    continue
    return out


def _sniff(con, path: Path, options: dict[str, Any]) -> dict[str, Any] | None:
    """DuckDB's sniffer on one CSV file: its delimiter, whether it finds a header, the
    columns and their types, the forms of dates and times; None when it cannot read it."""
    keep = {k: v for k, v in options.items() if k in ("compression", "encoding", "delim",
                                                       "nullstr", "skip", "quote")}  # fmt: skip
    try:
        row = con.execute(
            "SELECT Delimiter, HasHeader, Columns, DateFormat, TimestampFormat FROM "
            f"sniff_csv({_quote(str(path))}, {_sql_options(keep)})"
        ).fetchall()[0]
    except Exception:
        return None
    keys = ("delimiter", "header", "columns", "dateformat", "timestampformat")
    return dict(zip(keys, row, strict=True))


def _delimiter(sniffed: dict[str, Any] | None, lines: list[str]) -> str:
    """DuckDB's delimiter; where it reads one column only (lines of unequal widths mislead
    it), the one of ``,;\\t|`` that splits the most lines alike into the most fields."""
    if sniffed and len(sniffed["columns"]) > 1:
        return sniffed["delimiter"]
    best, best_score = sniffed["delimiter"] if sniffed else ",", 0.0
    for d in _DELIMITERS:
        counts = [len(row) - 1 for row in csv.reader(lines[:50], delimiter=d) if row]
        if not counts or max(counts) == 0:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) / len(counts) * (1 + min(mode, 50) / 100)
        if mode > 0 and score > best_score:
            best, best_score = d, score
    return best


def _has_header(sniffed: dict[str, Any]) -> bool:
    """Whether the first line names the columns: not when DuckDB's sniffer finds it typed
    as the lines below it, nor when a name reads as a number or a date ("17850",
    "2011-12-09": data, not a name)."""
    return bool(sniffed["header"]) and not any(
        _is_number(c["name"]) or _DATE_LIKE.fullmatch(c["name"].strip()) for c in sniffed["columns"]
    )


_DATE_LIKE = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T].*)?|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}( .*)?"
)


def _text_columns(rows: list[list[str]], columns: list[str], names: list[str]) -> dict[str, str]:
    """Columns (DuckDB's names, by position) read as text whatever they hold: named for ids
    or codes, or holding numbers with leading zeros ("007", "01234") that a number would
    lose."""
    out = {}
    for j, column in enumerate(columns):
        values = [row[j] for row in rows if len(row) > j]
        named = names[j] if j < len(names) else column
        if keep_as_text(named) or any(re.fullmatch(r"\s*[+-]?0\d+\s*", v) for v in values):
            out[column] = "VARCHAR"
    return out


def _date_formats(con, path, options, sniffed, dates, notes) -> tuple[dict[str, str], list[str]]:
    """The forms DuckDB reads dates and times with, by personas' one policy
    (:mod:`personas.io._dates`), and the columns to keep as text: DuckDB's sniffer reads
    day first what fits both orders of day and month; the first lines of those columns,
    read as text, say whether they do — then a note says so, and ``order`` ("month")
    reads them month first; ``fitted``, the forms a fitted builder's log was read with,
    decide such a tie instead. A user table keeps as text dates of other forms than
    ``TABLE_FORMATS`` (two-digit years, months by name)."""
    out: dict[str, str] = {}
    if sniffed is None:
        return out, []
    # (a user table's yes/no columns too: its inference reads their spellings)
    as_text = [c["name"] for c in sniffed["columns"] if c["type"] == "BOOLEAN" and not dates["log"]]
    for key, typ in {"dateformat": "DATE", "timestampformat": "TIMESTAMP"}.items():
        fmt = sniffed[key]
        names = [c["name"] for c in sniffed["columns"] if c["type"] == typ]
        if not fmt or not names:
            continue
        if not dates["log"]:  # (a user table's dates: read by its inference, as a DataFrame's)
            as_text += [] if fmt.startswith("%Y-%m-%d") else names
            continue
        out[key] = fmt
        twin = other_order(fmt)
        if twin == fmt:
            continue
        quoted = {n: n.replace('"', '""') for n in names}
        cols = ", ".join(
            f'count(try_strptime("{quoted[n]}", \'{f}\')) AS "{quoted[n]}|{f}"'
            for n in names
            for f in (fmt, twin)
        )
        plain = {k: v for k, v in options.items() if k in ("compression", "encoding", "delim",
                                                            "header", "skip", "quote")}  # fmt: skip
        for limit in (f"LIMIT {DATE_SAMPLE}", ""):  # the first lines, else every line
            counts = con.execute(
                f"SELECT {cols} FROM (SELECT * FROM read_csv({_quote(str(path))}, "
                f"{_sql_options(plain | {'all_varchar': True})}) {limit})"
            ).fetch_df()
            read = {f: int(sum(counts[f"{n}|{f}"].iloc[0] for n in names)) for f in (fmt, twin)}
            if read[twin] != read[fmt]:
                break
        if read[twin] < read[fmt]:
            continue  # (a day above 12: only day first reads them)
        prefer, first = (dates["fitted"] or {}).get(key), dates["order"]
        if prefer in (fmt, twin):  # the fitted log's order
            first = "month" if prefer.startswith("%m") else "day"
        chosen, note = decide(read, max(read.values()), ", ".join(names), first)
        out[key] = chosen
        notes += [note] if note else []
    return out, as_text


def _check_header(header: list[str], path: Path) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if name in seen and name:
            raise FileFormatError(
                f"{path.name}: the header names column {name!r} twice (positions "
                f"{seen[name]} and {i}). Rename one of them so every column name is unique."
            )
        seen[name] = i


def _examples(errors: list[tuple], sep: str) -> str:
    def fields(text: str) -> int:
        return len(next(csv.reader([text], delimiter=sep), []))

    def expected(message: str) -> str:
        found = re.search(r"Columns: (\d+)", message)
        return found.group(1) if found else "?"

    return "; ".join(
        f"line {line}: {fields(text)} fields, expected {expected(message)} ({text[:60]!r})"
        for line, _, _, text, message, *_ in errors[:3]
    )


def _unreadable(name: str, sep: str, exc: Any) -> FileFormatError:
    return FileFormatError(
        f"{name} could not be parsed as CSV with delimiter {sep!r}: {_first_line(exc)}. "
        "Check that it is a delimited text file; pass --delimiter to force the delimiter."
    )


def _utf8_copy(path: Path, encoding: str, info: SourceInfo, *, spaces: bool = False) -> Path:
    """A UTF-8, uncompressed copy of a text file DuckDB cannot read as it is (an encoding
    such as cp1252, bz2 or xz compression; with ``spaces``, columns separated by runs of
    spaces, written as a CSV), in a temporary folder ``info`` removes."""
    folder = tempfile.mkdtemp(prefix="personas-text-")
    info.temporary.append(folder)
    out = Path(folder) / (path.stem + ".csv")
    fh, _ = open_decompressed(path)
    with (
        io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="") as src,
        open(out, "w", encoding="utf-8", newline="") as dest,
    ):
        if spaces:
            dest.writelines(",".join(line.split()) + "\n" for line in src if line.strip())
        else:
            shutil.copyfileobj(src, dest, 1 << 24)
    return out


def _whitespace_columns(text: str) -> tuple[int, bool] | None:
    """(fields per line, has a header) when the text is columns separated by runs of
    spaces (CDNOW's ``CDNOW_master.txt``); None for anything else."""
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


def _stored_schema(path: Path) -> dict[str, Any] | None:
    """The schema `personas profile` stores in its Parquet output, if any."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
        return json.loads(meta[SCHEMA_KEY]) if SCHEMA_KEY in meta else None
    except (ValueError, OSError):
        return None


def _workbook(path: Path, sheet: str | int | None, info: SourceInfo, *, stack: bool):
    """One sheet of an Excel workbook (the first by default); with ``stack``, every
    other sheet with the same columns too (a log split by year over sheets, as UCI's
    Online Retail II workbook is). Cells of mixed kinds (invoice 489434 beside C489449)
    become text."""
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
        stack = stack and sheet is None  # (a sheet named is read alone)
        if sheet is None:
            sheet = 0
        elif isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise SchemaError(
                f"{path.name} has {len(names)} sheet(s) ({_short_list(names)}): there is no "
                f"sheet {sheet} (the first is 0). Pass a sheet's name or position with --sheet."
            )
        elif isinstance(sheet, str) and sheet not in names:
            raise SchemaError(
                f"{path.name} has no sheet {sheet!r}; its sheets are {_short_list(names)}. "
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
    if same:
        info.notes.append(
            f"Read {len(same) + 1} sheets of {path.name} with the same columns: "
            + ", ".join(repr(n) for n in [sheet, *same]) + "."
        )  # fmt: skip
    other = [n for n in names if n != sheet and n not in same] if stack else []
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
    if stack:
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
            con.sql(f"ATTACH {_quote(str(path))} AS {catalog} (READ_ONLY)")
        except Exception as exc:
            raise FileFormatError(
                f"{path.name} could not be opened as a DuckDB database: {_first_line(exc)}."
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
        listed = _short_list(tables, 10) if tables else "none"
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
            f"DuckDB could not run {what} on {name}: {_first_line(exc)}. "
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


def _arrow(rel: Any, info: SourceInfo) -> Any:
    try:
        return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
    except Exception as exc:
        raise FileFormatError(
            f"{info.name} could not be read: {_first_line(exc)}. Check the file, the SQL, "
            "the table and column names."
        ) from None


def _is_connection(obj: Any) -> bool:
    return type(obj).__module__.lstrip("_").startswith("duckdb") and hasattr(obj, "sql")


def _plain_name(path: str, info: SourceInfo) -> str:
    """``path``, or a link to it in a temporary folder when its name holds ``*?[``."""
    if not _is_glob(path):
        return path
    folder = tempfile.mkdtemp(prefix="personas-name-")
    info.temporary.append(folder)
    link = Path(folder) / ("data" + "".join(Path(path).suffixes[-2:]).replace("[", "_"))
    link.symlink_to(Path(path).absolute())
    return str(link)


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _quote(value: Any) -> str:
    """A value written as DuckDB SQL: text quoted, lists and structs as DuckDB writes them."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list):
        return "[" + ", ".join(_quote(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_quote(k)}: {_quote(v)}" for k, v in value.items()) + "}"
    return str(value)


def _sql_options(options: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {_quote(v)}" for k, v in options.items())


def _ident(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def _first_line(exc: Any) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _short_list(names: list[str], n: int = 6) -> str:
    shown = ", ".join(repr(x) for x in names[:n])
    return shown + (f", … ({len(names) - n} more)" if len(names) > n else "")
