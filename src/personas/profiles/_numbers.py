"""Amounts, prices and quantities written as text ("$1,234.50", "1.234,50 €", "(12.00)"),
as spreadsheets export them: read as numbers, the decimal mark told by a sample.

A column is read this way only when at least 90 % of a sample of its values do; a value
that still cannot be read is a missing amount for that line.
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


def number_reader(t: Any, column: str, source: str, *, strict: bool = True) -> NumberReader:
    """How ``column`` of ``t`` is read as numbers (see the module).

    With ``strict`` a text column whose values are not numbers is an error naming the
    column and examples; without, it gives a reader whose ``decimal`` is ``""`` (unusable:
    used to ask whether a column *could* be an amount).
    """
    import ibis

    col = t[column]
    typ = col.type()
    if typ.is_numeric() or typ.is_boolean():
        return NumberReader()
    if not typ.is_string():
        if strict:
            raise DataError(f"The column {column!r} of {source} holds {typ} values, not numbers.")
        return NumberReader(decimal="")
    values = t.filter(col.notnull() & (col.strip() != "")).select(v=col.strip()).limit(SAMPLE)
    values = values.execute()["v"]
    if values.empty:
        return NumberReader(decimal=".")
    kept = values.str.replace(_KEEP, "", regex=True)
    comma_decimals = kept.str.contains(r",\d{1,2}\)?-?$").sum()
    point_decimals = kept.str.contains(r"\.\d{1,2}\)?-?$").sum()
    decimal = "," if comma_decimals > point_decimals else "."
    reader = NumberReader(decimal=decimal)
    sample = ibis.memtable({"v": values.tolist()})
    read = int(reader(sample.v).count().execute())
    if read < 0.9 * len(values):
        if not strict:
            return NumberReader(decimal="")
        bad = [v for v in values if not any(ch.isdigit() for ch in v)][:3] or list(values[:3])
        raise DataError(
            f"The column {column!r} of {source} should hold numbers but holds text such as "
            f"{', '.join(repr(v) for v in bad)}. Name the right column (--amount, --price, "
            "--quantity), or convert it with --query."
        )
    example = values.iloc[0]
    reader.note = (
        f"{column} holds numbers written as text (e.g. {example!r}): read with "
        f"{'commas' if decimal == ',' else 'points'} as decimal marks."
    )
    return reader
