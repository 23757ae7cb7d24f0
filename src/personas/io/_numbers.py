"""Numbers written as text ("$1,234.50", "1.234,50 €", "(12.00)", "12.00-"), as
spreadsheets and shops export them: one rule for user tables and event logs.

The decimal mark of a column is told once from its values (:func:`decimal_mark`); every
value is then read the same way by one expression (:class:`NumberReader`), run by DuckDB
on a log's column and on the distinct values of a table's column alike. Parentheses and a
trailing minus make a number negative; currency signs, spaces and letters around it go.
"""

from __future__ import annotations

import re
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd

from personas.errors import DataError

__all__ = ["NumberReader", "decimal_mark", "is_number_text", "number_reader", "read_numbers"]

SAMPLE = 5_000
_LOCAL = threading.local()
_SPECIAL = ("inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan")
_EXPONENT = r"^\s*[+-]?([0-9]+[.,]?[0-9]*|[.,][0-9]+)[eE][+-]?[0-9]+\s*$"
# Spaces that spreadsheets put between thousands and before a currency sign (fr-FR Excel)
_SPACES = "[\u00a0\u202f\u2009]"
# A number as written, strictly (what a table's text column must hold to be numbers):
# an optional sign or parentheses, a currency sign before or after, thousands separated
# by commas, points or spaces, and a decimal part.
_WRITTEN = re.compile(
    r"^\(?[+-]? *[$€£¥]? *[+-]?([0-9]{1,3}([,. ][0-9]{3})+|[0-9]+)?([.,][0-9]*)?"
    r"([eE][+-]?[0-9]+)? *[$€£¥%]? *-?\)?$"
)


@dataclass
class NumberReader:
    """How a column becomes float64 numbers, and what to tell the user."""

    decimal: str | None = None  # None: already numbers
    note: str | None = None

    def __call__(self, col: Any) -> Any:
        if self.decimal is None:
            return col.cast("float64")
        # (each piece of the column once: the expression is inlined where it is used)
        thousands = "," if self.decimal == "." else "."
        kept = col.re_replace(r"[^0-9,.]", "")  # digits and marks: signs, letters go
        # a separator of thousands is one before three digits: "-3.5" keeps its point
        kept = kept.re_replace(rf"\{thousands}([0-9]{{3}})", r"\1")
        if self.decimal == ",":
            kept = kept.replace(",", ".")
        negative = col.re_search(r"^[^0-9]*[-(]|-[^0-9]*$")  # -12, $-12, (12.00), 12.00-
        value = kept.try_cast("float64") * negative.ifelse(-1.0, 1.0)
        exponent = col.strip().replace(",", ".").try_cast("float64")  # (1.5e-3 as written)
        return col.re_search(_EXPONENT).ifelse(exponent, value)


def decimal_mark(values: pd.Series) -> str:
    """ "," when more of ``values`` end in a comma and one or two digits ("12,50 €") than
    in a point and one or two digits ("$12.50"); else "."."""
    kept = values.astype(str).str.replace(r"[^0-9,.()\-]", "", regex=True)
    commas = kept.str.contains(r",\d{1,2}\)?-?$").sum()
    points = kept.str.contains(r"\.\d{1,2}\)?-?$").sum()
    return "," if commas > points else "."


def is_number_text(values: pd.Series) -> pd.Series:
    """Whether each of ``values`` (text) is a number as written (see ``_WRITTEN``), or
    an infinity or NaN as Python and NumPy write them ("inf", "-inf", "nan")."""
    text = values.astype(str).str.replace(_SPACES, " ", regex=True).str.strip()
    special = text.str.lower().isin(_SPECIAL)
    return (text.str.contains(r"[0-9]") & text.str.match(_WRITTEN)) | special


def read_numbers(values: pd.Series, decimal: str, *, strict: bool = False) -> pd.Series:
    """``values`` (text) read as numbers by :class:`NumberReader` — the expression that
    reads a log's amounts —, NaN where a value holds none (``strict``: where a value is
    not a number as written, "12 kg", "A-3": a table's column must hold nothing else)."""
    import ibis
    import pyarrow as pa

    text = values.astype("string").str.replace(_SPACES, " ", regex=True)
    with warnings.catch_warnings():  # (ibis asks pandas about an option pandas 3 retires)
        warnings.simplefilter("ignore", DeprecationWarning)
        arrow = pa.table({"v": pa.array(text.to_numpy(na_value=None), pa.string())})
        table = ibis.memtable(arrow)
        read = NumberReader(decimal=decimal)(table.v)
        if strict:  # (and infinities as infinities: typing counts them as such)
            written = table.v.strip().re_search(_WRITTEN.pattern) & table.v.re_search("[0-9]")
            read = written.ifelse(read, ibis.null("float64"))
            special = table.v.strip().lower().isin(list(_SPECIAL))
            read = special.ifelse(table.v.strip().try_cast("float64"), read)
        out = _connection().to_pyarrow(table.select(n=read))["n"]
    numbers = out.to_numpy(zero_copy_only=False).astype("float64")
    return pd.Series(numbers, index=values.index, name=values.name)


def _connection() -> Any:
    """This thread's own DuckDB connection (typing runs columns in threads, and one
    connection runs one query at a time)."""
    con = getattr(_LOCAL, "con", None)
    if con is None:
        import ibis

        con = _LOCAL.con = ibis.duckdb.connect()
    return con


def number_reader(t: Any, column: str, source: str, meaning: str = "amount") -> NumberReader:
    """How ``column`` of the log ``t`` is read as numbers: at least 90 % of a sample of its
    values must read (a value that still cannot is a missing amount for that line, and
    the note says how many of the sample were).

    A text column whose values are not numbers is an error naming the column, examples
    and the flag (``--{meaning}``) that chooses another column.
    """
    typ = t[column].type()
    if typ.is_numeric() or typ.is_boolean():
        return NumberReader()
    reader, values = _text_numbers(t, column) if typ.is_string() else (None, [])
    if reader is None:
        bad = [v for v in values if not any(ch.isdigit() for ch in v)][:3] or values[:3]
        held = ", ".join(repr(v) for v in bad) if typ.is_string() else f"{typ} values"
        flag = "--" + meaning.replace("_", "-")
        raise DataError(
            f"The {meaning} column {column!r} of {source} should hold numbers but holds "
            f"{held}. Name the right column with {flag}, or convert it with --query."
        )
    return reader


def _text_numbers(t: Any, column: str) -> tuple[NumberReader | None, list[str]]:
    """The reader of a text column of numbers (None if under 90 % of a sample read so),
    and the sample."""
    col = t[column]
    values = t.filter(col.notnull() & (col.strip() != "")).select(v=col.strip()).limit(SAMPLE)
    values = values.execute()["v"]
    if values.empty:
        return NumberReader(decimal="."), []
    decimal = decimal_mark(values)
    reader = NumberReader(decimal=decimal)
    n, read = len(values), int(read_numbers(values, decimal).notna().sum())
    if read < 0.9 * n:
        return None, values.tolist()
    reader.note = (
        f"{column} holds numbers written as text (e.g. {values.iloc[0]!r}): read with "
        f"{'commas' if decimal == ',' else 'points'} as decimal marks"
        + (f"; {n - read} of {n} sampled values are not numbers (left empty)." if read < n else ".")
    )
    return reader, values.tolist()
