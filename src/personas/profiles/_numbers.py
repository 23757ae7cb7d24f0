"""Amounts, prices and quantities written as text ("$1,234.50", "1.234,50 €", "(12.00)"),
as spreadsheets export them: read as numbers, the decimal mark told by a sample.

A column is read this way only when at least 90 % of a sample of its values do; a value
that still cannot be read is a missing amount for that line, and the note says how many
of the sample were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from personas.errors import DataError

__all__ = ["NumberReader", "number_reader"]

SAMPLE = 5_000
_KEEP = r"[^0-9,.()\-]"  # currency signs, spaces, letters go; digits, marks, signs stay


@dataclass
class NumberReader:
    """How a column becomes float64 numbers, and what to tell the user."""

    decimal: str | None = None  # None: already numbers
    note: str | None = None

    def __call__(self, col: Any) -> Any:
        if self.decimal is None:
            return col.cast("float64")
        kept = col.re_replace(_KEEP, "")
        thousands = "," if self.decimal == "." else "."
        kept = kept.replace(thousands, "").replace(self.decimal, ".")
        negative = kept.startswith("(") | kept.startswith("-") | kept.endswith("-")
        digits = kept.re_replace(r"[()\-]", "")
        value = digits.try_cast("float64")
        return negative.ifelse(-value, value)


def number_reader(t: Any, column: str, source: str, meaning: str = "amount") -> NumberReader:
    """How ``column`` of ``t`` is read as numbers (see the module).

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
    import ibis

    col = t[column]
    values = t.filter(col.notnull() & (col.strip() != "")).select(v=col.strip()).limit(SAMPLE)
    values = values.execute()["v"]
    if values.empty:
        return NumberReader(decimal="."), []
    kept = values.str.replace(_KEEP, "", regex=True)
    comma_decimals = kept.str.contains(r",\d{1,2}\)?-?$").sum()
    point_decimals = kept.str.contains(r"\.\d{1,2}\)?-?$").sum()
    decimal = "," if comma_decimals > point_decimals else "."
    reader = NumberReader(decimal=decimal)
    sample = ibis.memtable({"v": values.tolist()})
    n, read = len(values), int(reader(sample.v).count().execute())
    if read < 0.9 * n:
        return None, values.tolist()
    reader.note = (
        f"{column} holds numbers written as text (e.g. {values.iloc[0]!r}): read with "
        f"{'commas' if decimal == ',' else 'points'} as decimal marks"
        + (f"; {n - read} of {n} sampled values are not numbers (left empty)." if read < n else ".")
    )
    return reader, values.tolist()
