"""Numbers written as text: one rule for a user table's column and an event log's amount."""

from __future__ import annotations

import pandas as pd
import pytest

import personas
from personas.io._numbers import decimal_mark, read_numbers

AS_OF = "2024-03-01"
POINTS = ["$1,234.50", "(12.00)", "12.00-", "7", "-3.5", "1e3", " 8.25 ", "1,234,567.5"]
COMMAS = ["1.234,50 €", "(12,00)", "12,00-", "7", "-3,5", "1 234,5", "€ 3,50", "1.234.567,5"]


@pytest.mark.parametrize(
    ("values", "mark", "expected"),
    [
        (POINTS, ".", [1234.5, -12.0, -12.0, 7.0, -3.5, 1000.0, 8.25, 1234567.5]),
        (COMMAS, ",", [1234.5, -12.0, -12.0, 7.0, -3.5, 1234.5, 3.5, 1234567.5]),
    ],
)
def test_written_numbers_read_as_their_writer_meant(values, mark, expected):
    assert decimal_mark(pd.Series(values)) == mark
    assert read_numbers(pd.Series(values), mark, strict=True).tolist() == expected


def test_strict_reading_leaves_what_is_not_a_number():
    got = read_numbers(pd.Series(["12 kg", "A-3", "n/a", "3", None]), ".", strict=True)
    assert got.isna().tolist() == [True, True, True, False, True]
    # a log's amount column is read leniently: "12 kg" is 12 there
    assert read_numbers(pd.Series(["12 kg"]), ".").tolist() == [12.0]


@pytest.mark.parametrize("values", [POINTS, COMMAS])
def test_a_table_and_a_log_read_the_same_text_the_same(tmp_path, values):
    n = len(values)
    users = pd.DataFrame({"user_id": [f"u{i}" for i in range(n)], "spend": values})
    table = personas.validate(users).data.set_index("user_id")["spend"]
    log = pd.DataFrame(
        {"customer_id": users["user_id"], "order_date": ["2024-01-02"] * n, "amount": values}
    )
    p = personas.profile(log, as_of=AS_OF)
    spent = p.data.set_index("user_id")
    for user, value in table.items():
        if value > 0:  # (a negative amount is a return: returns_value holds it)
            assert spent.loc[user, "monetary"] == pytest.approx(value)
        else:
            assert spent.loc[user, "returns_value"] == pytest.approx(-value)


def test_numbers_as_text_in_many_columns_of_a_large_table():
    """Columns are typed in threads from 100,000 rows: each reads its numbers on its own
    DuckDB connection (one connection runs one query at a time)."""
    n = 120_000
    spend = [f"{i % 9000 + 1000:,}.{i % 100:02d}" for i in range(n)]
    table = pd.DataFrame({"user_id": [f"u{i}" for i in range(n)], "spend": spend,
                          "balance": [f"({v})" if i % 7 == 0 else v for i, v in enumerate(spend)],
                          "fee": ["12,50\u00a0€"] * (n // 2) + ["3,75 €"] * (n // 2)})  # fmt: skip
    data = personas.validate(table).data
    assert data["spend"].iloc[1] == 1001.01 and data["balance"].iloc[7] == -1007.07
    assert data["fee"].tolist()[:: n // 2] == [12.5, 3.75]  # (a no-break space, as fr-FR Excel)


def test_infinities_written_as_text_are_counted_as_in_a_dataframe(tmp_path):
    values = ["inf" if i % 7 == 0 else f"{i * 0.37:.2f}" for i in range(200)]
    path = tmp_path / "v.csv"
    pd.DataFrame({"uid": [f"u{i}" for i in range(200)], "v": values}).to_csv(path, index=False)
    report = personas.validate(path)
    assert report.schema["v"].role == "numeric"
    assert report.data["v"].isna().sum() == 29
    assert any("29 infinite value(s)" in f.message for f in report.warnings)
