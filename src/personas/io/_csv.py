"""Delimited text for the one reader (:mod:`personas.io._read`): CSV/TSV files (one, or
several read together), and files of columns separated by spaces.

DuckDB parses them; its sniffer finds the dialect, the header and the types. What it does
not do is here: encodings it does not decode (a UTF-8 copy), no silent preamble skip,
quotes always read, text kept as text where a number would lose it, whole numbers typed
by every value, the one date policy, malformed lines told by line number (or counted and
left out), a column unlike the sniffed lines further down read as text. ``info`` is the
reader's :class:`~personas.io._read.SourceInfo`: what reading finds goes to its notes and
options.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from personas.errors import EmptyDataError, FileFormatError, PersonasError
from personas.io._dates import decide, fitted_or_data, other_order
from personas.io._files import HEAD_BYTES, decode_head, open_decompressed, read_head, text_head
from personas.io._names import keep_as_text

__all__ = ["NULLS", "first_line", "quote", "read_csv_files", "short_list", "sql_options"]

NULLS = ["", "NA", "N/A", "n/a", "NULL", "null", "NaN", "nan", "#N/A"]


DATE_SAMPLE = 20_000  # first lines whose dates say which of day and month comes first


# Encodings DuckDB reads itself (canonical names: see _codec), as it names them
DUCKDB_READS = {"utf-8": None, "utf-8-sig": None, "utf-16": "utf-16", "iso8859-1": "latin-1"}


_DELIMITERS = ",;\t|"


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


def read_csv_files(con, files: list[Path], info: Any, delimiter, encoding, skip_bad_lines, dates):
    """Text files of delimited columns (or columns separated by spaces), parsed by DuckDB:
    a log into the table ``personas_read`` of ``con``, a user table into Arrow."""
    if delimiter is not None:  # (a tab as the shell passes it: "\t", or by name)
        delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter.lower(), delimiter)
        if len(delimiter) != 1:
            raise FileFormatError(
                f"The delimiter must be one character (a tab: --delimiter tab); got "
                f"{delimiter!r}. Leave it out to have it sniffed."
            )
    try:
        d = _dialect(con, files, info, delimiter, encoding, skip_bad_lines, dates)
    except csv.Error as exc:  # (the head's lines, split by Python's csv: a quote left open)
        named = [Path(f).name for f in files]
        enc = encoding or info.options.get("encoding") or "utf-8"
        found = _open_quote(files, named, enc, delimiter or ",")
        raise found or FileFormatError(f"{named[0]} could not be read as CSV: {exc}.") from None
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
        f"{files[0].name} has a header ({len(d.names)} columns: {short_list(d.names)}) "
        "but no data rows. Export the table again with its rows."
    )


def _dialect(con, files, info, delimiter, encoding, skip_bad_lines, dates) -> _Dialect:
    """The files' encodings (file by file), delimiter, header and column types."""
    first, given = files[0], list(files)
    raw, packed = read_head(first)
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
    odd = [c for c, t in kinds.items() if t not in SNIFFED_TYPES]  # (a 40-digit "BIGNUM")
    types |= {c: "VARCHAR" for c in [*dated, *ints, *odd]}
    shown = [Path(f).name for f in given]
    return _Dialect(files, options, sep, names, columns, types, ints, spaced, skip_bad_lines, shown)


def _decodable(files: list[Path], enc: str, given: bool, info: Any, packed):
    """The files as DuckDB can read them, with the compression and encoding options to
    give it: each file's head says its encoding (``given``: ``enc`` for every file); a
    file not in UTF-8, UTF-16 or Latin-1, or compressed with bz2 or xz, or in another
    encoding than the first file, is decoded into a UTF-8 copy."""
    out, encodings = [], []
    for i, f in enumerate(files):
        own = enc
        if i and not given:  # (the first file's head is read already)
            own = decode_head(read_head(f)[0], f, None)[1]
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


def _parse_all(con, d: _Dialect, info: Any, log: bool) -> Any:
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
                found = _open_quote(d.files, d.shown, info.options["encoding"], d.sep)
                found = found or _unreadable(d.shown[0], d.sep, failure or exc)
                raise found from None
            failure, lenient = exc, True  # (read leniently, to say which lines are wrong)
    raise _unreadable(d.shown[0], d.sep, failure or "the file's columns keep changing types")


class _Retry(Exception):
    """The dialect changed (a column read as text, the files as cp1252): parse again."""


def _lenient(con, d: _Dialect, info: Any, log: bool) -> Any:
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


def _as_cp1252(d: _Dialect, info: Any) -> None:
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
        parts.append(f"SELECT * FROM read_csv({quote(str(f))}, {sql_options(options)})")
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


# The types of DuckDB's sniffer kept; others (big integers beyond 64 bits…) read as text
SNIFFED_TYPES = {"BOOLEAN", "BIGINT", "DOUBLE", "VARCHAR", "DATE", "TIME", "TIMESTAMP",
                 "TIMESTAMP WITH TIME ZONE"}  # fmt: skip
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
            f"sniff_csv({quote(str(path))}, {sql_options(keep)})"
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
    are kept unless the lines plainly say otherwise (:func:`fitted_or_data`; a value that
    reads only the other way is then no time, as in a DataFrame the builder reads). A
    user table keeps as text dates of other forms than ``TABLE_FORMATS`` (two-digit
    years, months by name)."""
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
                f"SELECT {cols} FROM (SELECT * FROM read_csv({quote(str(path))}, "
                f"{sql_options(plain | {'all_varchar': True})}) {limit})"
            ).fetch_df()
            read = {f: int(sum(counts[f"{n}|{f}"].iloc[0] for n in names)) for f in (fmt, twin)}
            if read[twin] != read[fmt]:
                break
        fitted = (dates["fitted"] or {}).get(key)
        if fitted in (fmt, twin):  # a fitted builder reads them as its log was read, unless
            other = twin if fitted == fmt else fmt  # the file is plainly written otherwise
            out[key], note = fitted_or_data(read, fitted, other, ", ".join(names), path.name)
            notes += [note] if note else []
            continue
        if read[twin] < read[fmt]:
            continue  # (a day above 12: only day first reads them)
        chosen, note = decide(read, max(read.values()), ", ".join(names), dates["order"])
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


def _open_quote(files: list[Path], shown: list[str], encoding: str, sep: str) -> Any:
    """An error naming the line of a file where quotes are malformed — a quote opening a
    value that never closes makes the rest of the file one value, which DuckDB can neither
    sniff nor parse —; None when there is none. Looked for after the files failed."""
    for path, name in zip(files, shown, strict=True):
        raw, _ = open_decompressed(path)
        with raw, io.TextIOWrapper(raw, encoding=_codec(encoding),
                                   errors="replace", newline="") as text:  # fmt: skip
            reader = csv.reader(text, delimiter=sep, strict=True)
            start = 1
            try:
                for _ in reader:
                    start = reader.line_num + 1
            except csv.Error as err:
                if "end of data" in str(err) or "field limit" in str(err):
                    return FileFormatError(
                        f'{name}, line {start}: a quote (") opens a value that never '
                        "closes, so the rest of the file would be one value. Close or remove "
                        "the quote on that line."
                    )
                return FileFormatError(
                    f"{name}, line {start}: a quoted value is malformed ({err}): a quote "
                    '(") opens a value, and the quote that closes it must be followed by the '
                    "delimiter. Fix the quotes on that line."
                )
    return None


def _unreadable(name: str, sep: str, exc: Any) -> FileFormatError:
    return FileFormatError(
        f"{name} could not be parsed as CSV with delimiter {sep!r}: {first_line(exc)}. "
        "Check that it is a delimited text file; pass --delimiter to force the delimiter."
    )


def _utf8_copy(path: Path, encoding: str, info: Any, *, spaces: bool = False) -> Path:
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


def quote(value: Any) -> str:
    """A value written as DuckDB SQL: text quoted, lists and structs as DuckDB writes them."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list):
        return "[" + ", ".join(quote(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{quote(k)}: {quote(v)}" for k, v in value.items()) + "}"
    return str(value)


def sql_options(options: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {quote(v)}" for k, v in options.items())


def first_line(exc: Any) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def short_list(names: list[str], n: int = 6) -> str:
    shown = ", ".join(repr(x) for x in names[:n])
    return shown + (f", … ({len(names) - n} more)" if len(names) > n else "")
