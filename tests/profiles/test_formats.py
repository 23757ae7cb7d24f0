"""Logs as real publishers write them: times as numbers or in local forms, ids glued to
their words, spaces between columns and no header, Excel workbooks, float ids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import personas
from personas.errors import DataError, FileFormatError, InputFileError, SchemaError
from personas.profiles._mapping import infer_mapping, words

AS_OF = "2024-03-01"
TIMES = pd.to_datetime(
    [
        "2024-01-02 10:00:00",
        "2024-01-13 08:30:00",
        "2024-01-13 09:00:00",
        "2024-02-20 23:15:00",
        "2024-02-28 12:00:00",
        "2024-01-25 07:00:00",
    ]
)
SECONDS = ((TIMES - pd.Timestamp(0)) // pd.Timedelta("1s")).to_numpy()
USERS = ["a", "a", "b", "b", "b", "c"]
AMOUNTS = [10.0, 5.5, 20.0, 7.25, 3.0, 12.0]
FEATURES = ["n_events", "frequency", "monetary", "recency_days", "tenure_days", "active_days"]


def _log(times) -> pd.DataFrame:
    return pd.DataFrame({"user_id": USERS, "timestamp": times, "amount": AMOUNTS})


@pytest.fixture(scope="module")
def expected():
    return personas.profile(_log(TIMES), as_of=AS_OF).data.set_index("user_id")[FEATURES]


def _same(p, expected):
    got = p.data.set_index("user_id")[FEATURES]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


@pytest.mark.parametrize(
    ("values", "note"),
    [
        (TIMES.strftime("%Y%m%d").astype(int), "yyyymmdd"),
        (SECONDS, "Unix times in seconds"),
        (SECONDS * 1000, "Unix times in milliseconds"),
        (SECONDS * 1_000_000, "Unix times in microseconds"),
        (SECONDS.astype(float) + 0.25, "Unix times in seconds"),
    ],
    ids=["yyyymmdd", "seconds", "ms", "us", "float-seconds"],
)
def test_times_written_as_numbers(values, note, expected):
    p = personas.profile(_log(values), as_of=AS_OF)
    assert any(note in n for n in p.notes), p.notes
    if note == "yyyymmdd":  # whole days: the features that depend on days only
        got = p.data.set_index("user_id")
        assert got["active_days"].tolist() == expected["active_days"].tolist()
        assert got["monetary"].tolist() == expected["monetary"].tolist()
        assert got["recency_days"].tolist() == [48.0, 2.0, 36.0]
    else:
        if note.endswith("seconds") and values.dtype == float:
            expected = expected.assign(
                recency_days=expected["recency_days"] - 0.25 / 86_400,
                tenure_days=expected["tenure_days"] - 0.25 / 86_400,
            )
        _same(p, expected)


@pytest.mark.parametrize(
    ("fmt", "note"),
    [
        ("%m/%d/%Y %H:%M", "01/31/2024 13:45"),
        ("%d/%m/%Y %H:%M:%S", "31/01/2024 13:45:00"),
        ("%d.%m.%Y %H:%M", "31.01.2024 13:45"),
        ("%Y-%m-%d %H:%M:%S UTC", None),
    ],
)
def test_times_written_as_text_in_local_forms(fmt, note, expected, tmp_path):
    log = _log(TIMES.strftime(fmt))
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    for source in (log, path):  # text in a DataFrame, and a CSV (DuckDB may type it)
        p = personas.profile(source, as_of=AS_OF)
        _same(p, expected)
    p = personas.profile(log, as_of=AS_OF)
    if note:
        assert any(note in n for n in p.notes), p.notes


@pytest.mark.parametrize(
    ("fmt", "note"),
    [
        ("%d-%b-%y", "31-Jan-24"),  # "Retail Data Transactions": 11-Feb-13
        ("%d-%b-%Y %H:%M:%S", "31-Jan-2024 13:45:00"),
        ("%m/%d/%Y %I:%M:%S %p", "01/31/2024 01:45:00 PM"),
        ("%B %d, %Y", "January 31, 2024"),
        ("%d/%m/%y", "31/01/24"),
    ],
)
def test_more_local_forms_and_two_digit_years(fmt, note):
    log = _log(TIMES.strftime(fmt))
    p = personas.profile(log, as_of=AS_OF)
    assert any(note in n for n in p.notes), p.notes
    got = p.data.set_index("user_id")
    days_only = "%H" not in fmt and "%I" not in fmt
    if days_only:
        assert got["recency_days"].tolist() == [48.0, 2.0, 36.0]
        assert got["monetary"].tolist() == [15.5, 30.25, 12.0]
    else:
        _same(
            p,
            expected=personas.profile(_log(TIMES), as_of=AS_OF).data.set_index("user_id")[FEATURES],
        )


def test_a_two_digit_year_is_not_read_as_a_year_before_1900():
    # "2/8/16" fits %m/%d/%Y as the year 16: a reading before 1900 does not count, so
    # the two-digit form is chosen (2016), not a year-16 timestamp.
    times = pd.to_datetime(["2016-08-02", "2016-08-25", "2016-09-13"])
    log = pd.DataFrame(
        {"user": ["a", "b", "c"], "date": [f"{t.day}/{t.month}/{t:%y}" for t in times]}
    )
    p = personas.profile(log, as_of="2016-10-01")
    got = p.data.set_index("user_id")["tenure_days"]
    assert got.tolist() == [60.0, 37.0, 18.0], p.notes


def test_ambiguous_dashes_are_read_day_first_and_said():
    times = pd.to_datetime(["2024-01-02", "2024-02-03", "2024-03-04"])
    log = pd.DataFrame({"user": ["a", "b", "c"], "date": times.strftime("%d-%m-%Y")})
    p = personas.profile(log, as_of="2024-12-31")
    assert any("read day first" in n for n in p.notes), p.notes
    assert p.data.set_index("user_id").loc["a", "tenure_days"] == 364


def test_ambiguous_day_month_order_is_one_policy_and_said(tmp_path):
    """Dates that read both ways (02/01/2024) are read day first — by validate and by
    profile, of a file and of a DataFrame —, a note says so, and date_order="month"
    (--date-order month) reads them month first."""
    times = pd.to_datetime(["2024-01-02", "2024-02-03", "2024-03-04"])
    log = pd.DataFrame({"user": ["a", "b", "c"], "date": times.strftime("%d/%m/%Y")})
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    for given in (log, path):
        p = personas.profile(given, as_of="2024-12-31")
        assert any("reads both as" in n and "read day first" in n for n in p.notes), p.notes
        # 02/01/2024 read as January 2nd: 364 days before December 31st
        assert p.data.set_index("user_id").loc["a", "tenure_days"] == 364
        p = personas.profile(given, as_of="2024-12-31", date_order="month")
        assert p.data.set_index("user_id").loc["a", "tenure_days"] == 334  # February 1st
    # a user table's dates: the same policy, the same note
    users = pd.DataFrame({"user_id": ["a", "b", "c"], "signup": times.strftime("%d/%m/%Y")})
    users.to_csv(tmp_path / "users.csv", index=False)
    for given in (users, tmp_path / "users.csv"):
        report = personas.validate(given)
        assert report.data["signup"].tolist() == list(times)
        assert any("read day first" in n for n in report.source.notes)
        assert "read day first" in report.schema["signup"].reason
        month = personas.validate(given, date_order="month")
        assert month.data["signup"].iloc[0] == pd.Timestamp("2024-02-01")
    with pytest.raises(personas.errors.PersonasError, match="date_order must be 'day' or"):
        personas.profile(log, date_order="mdy")


def test_the_one_date_that_reads_one_way_decides_however_far_down_it_comes(tmp_path):
    """Every date reads both ways but one, far down — past a log's sample of lines, past
    a table's sample of distinct values: that one decides (month first here), for a log
    and a user table, a file and a DataFrame alike, as every line of a CSV log does."""
    ambiguous = [f"{m:02d}/{d:02d}/{y}" for y in range(2000, 2024) for m in range(1, 13)
                 for d in range(1, 13)]  # fmt: skip
    lines = (ambiguous * 2)[:6_000] + ["04/25/2024"]
    log = pd.DataFrame({"user": [f"u{i % 50}" for i in range(len(lines))], "date": lines})
    log.to_csv(tmp_path / "log.csv", index=False)
    for given in (log, tmp_path / "log.csv"):
        p = personas.profile(given, as_of="2024-12-31")
        assert p.cleaning["unreadable_timestamp"] == 0, given
        assert p.builder.time_reader_["format"] in ("%m/%d/%Y", None), given
        assert not any("read day first" in n for n in p.notes), p.notes
    users = pd.DataFrame({"user_id": [f"u{i}" for i in range(2 * len(ambiguous) + 1)],
                          "signup": ambiguous * 2 + ["04/25/2024"]})  # fmt: skip
    users.to_csv(tmp_path / "users.csv", index=False)
    for given in (users, tmp_path / "users.csv"):
        report = personas.validate(given)
        assert report.data["signup"].iloc[-1] == pd.Timestamp("2024-04-25"), given
        assert report.data["signup"].iloc[1] == pd.Timestamp("2000-01-02"), given


def test_a_fitted_builder_reads_a_files_dates_as_its_log_was_read(tmp_path):
    """A builder fitted on month-first dates reads another file's as it reads a
    DataFrame's: month first, even where a value reads only day first (25/01/2024, then
    no time, counted), not by that one value; a file plainly written day first (most
    values read only so) is read day first, with a note, from a file as from a DataFrame."""
    dates = ["01/25/2024", "02/13/2024", "03/04/2024"]
    fitted = pd.DataFrame({"user": ["a", "b", "c"], "date": dates, "amount": 1.0})
    fitted.to_csv(tmp_path / "fit.csv", index=False)
    builder = personas.ProfileBuilder().fit(tmp_path / "fit.csv", as_of="2024-12-31")
    users = [f"u{i}" for i in range(30)] + ["odd"]
    new = pd.DataFrame({"user": users, "date": ["03/04/2024"] * 30 + ["25/01/2024"]})
    new["amount"] = 1.0
    new.to_csv(tmp_path / "new.csv", index=False)
    from_file = builder.profile(tmp_path / "new.csv", as_of="2024-12-31")
    from_frame = builder.profile(new, as_of="2024-12-31")
    pd.testing.assert_frame_equal(from_file.data, from_frame.data)
    by_user = from_file.data.set_index("user_id")
    assert by_user.loc["u0", "tenure_days"] == 302  # March 4th, month first (not April 3rd)
    assert "odd" not in by_user.index  # (its one date reads only day first: no time)
    assert from_file.cleaning["unreadable_timestamp"] == 1
    written = ["13/04/2024", "25/01/2024", "03/04/2024", "28/02/2024"]
    days = pd.DataFrame({"user": ["a", "b", "c", "d"], "amount": 1.0, "date": written})
    days.to_csv(tmp_path / "days.csv", index=False)
    from_file = builder.profile(tmp_path / "days.csv", as_of="2024-12-31")
    from_frame = builder.profile(days, as_of="2024-12-31")
    pd.testing.assert_frame_equal(from_file.data, from_frame.data)
    assert from_file.data.set_index("user_id").loc["c", "tenure_days"] == 272  # April 3rd
    for run in (from_file, from_frame):
        assert any("read day first, not as the fitted log" in n for n in run.notes), run.notes


def test_a_money_column_with_no_value_is_named_not_silently_empty(tmp_path):
    """A price column that is "n/a" on every line: named by the caller, an error naming
    it; inferred, left out with a note (lines are then items bought without a value); in
    a log a fitted builder reads, a note that no line has an amount."""
    lines = "InvoiceNo,InvoiceDate,Quantity,UnitPrice,CustomerID\n" + "".join(
        f"{i},2024-01-{i + 1:02d},{i % 3 + 1},n/a,c{i % 4}\n" for i in range(12)
    )
    (tmp_path / "empty.csv").write_text(lines)
    with pytest.raises(personas.errors.DataError, match="price column 'UnitPrice'.*no value"):
        personas.profile(tmp_path / "empty.csv", price="UnitPrice", as_of=AS_OF)
    p = personas.profile(tmp_path / "empty.csv", as_of=AS_OF)
    assert "price" not in p.mapping
    assert any("UnitPrice (taken for the price) holds no value" in n for n in p.notes)
    assert p.cleaning["purchase_lines"] == 12  # (items bought, each line)
    valued = lines.replace("n/a", "2.5")
    (tmp_path / "valued.csv").write_text(valued)
    builder = personas.ProfileBuilder().fit(tmp_path / "valued.csv", as_of=AS_OF)
    assert builder.mapping_["price"] == "UnitPrice"
    scored = builder.profile(tmp_path / "empty.csv", as_of=AS_OF)
    assert any("No line of empty.csv has an amount" in n for n in scored.notes), scored.notes
    # with event types an empty revenue column is a window without purchases: kept
    n = 40
    ga = pd.DataFrame({"user_pseudo_id": [f"u{i % 5}" for i in range(n)],
                       "event_timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(
                           range(n), unit="h"),
                       "event_name": ["page_view", "scroll"] * (n // 2),
                       "purchase_revenue": [None] * n})  # fmt: skip
    for named in ({}, {"amount": "purchase_revenue"}):
        p = personas.profile(ga, as_of=AS_OF, **named)
        assert p.mapping["amount"] == "purchase_revenue"
        assert not any("has an amount" in n for n in p.notes)  # (no purchase to value)
    later = ga.assign(event_name=["purchase"] + ["page_view"] * (n - 1))
    later["purchase_revenue"] = [25.0] + [None] * (n - 1)
    fitted = personas.ProfileBuilder().fit(ga, as_of=AS_OF)
    assert fitted.transform(later, as_of=AS_OF)["monetary"].sum() == 25.0


def test_unreadable_times_are_counted_not_fatal():
    times = list(TIMES.strftime("%Y-%m-%d %H:%M:%S")) * 20 + ["n/a"]
    log = pd.DataFrame({"user_id": USERS * 20 + ["z"], "timestamp": times, "amount": 1.0})
    p = personas.profile(log, as_of=AS_OF)
    assert p.cleaning["unreadable_timestamp"] == 1
    assert p.cleaning["missing_timestamp"] == 0
    assert "z" not in set(p.data["user_id"])
    assert any("not times" in n for n in p.notes)


def test_columns_that_are_not_times_get_a_clear_error():
    # (a column named day holds day numbers: test_day_numbers_with_a_time_of_day…)
    log = pd.DataFrame({"user_id": ["a", "b"], "period": [1, 710], "amount": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"'period'.*from 1 to 710.*yyyymmdd.*--timestamp"):
        personas.profile(log, timestamp="period")
    log = pd.DataFrame({"user_id": ["a", "b"], "when": ["soon", "later"]})
    with pytest.raises(DataError, match=r"'when'.*not a date or time.*'soon'"):
        personas.profile(log)


def test_names_glued_or_shared_between_meanings():
    kinds = {
        "timestamp": "number",
        "visitorid": "number",
        "event": "text",
        "itemid": "number",
        "transactionid": "text",
    }
    m = infer_mapping(kinds)
    assert (m.user_id, m.timestamp, m.event_type, m.product, m.order_id) == (
        "visitorid",
        "timestamp",
        "event",
        "itemid",
        "transactionid",
    )
    assert {"visitor", "id"} <= words("visitorid") and "eventtype" in words("eventtype")
    # a name that says "id" wins over an earlier one that does not; a date is no id
    m = infer_mapping(
        {
            "customer_type": "text",
            "order_date": "time",
            "customer_id": "number",
            "order_id": "text",
        }
    )
    assert (m.user_id, m.order_id, m.timestamp) == ("customer_id", "order_id", "order_date")
    m = infer_mapping({"TRANSACTION_DT": "time", "CUSTOMER_ID": "number", "household": "text"})
    assert (m.user_id, m.timestamp, m.order_id) == ("CUSTOMER_ID", "TRANSACTION_DT", None)
    assert infer_mapping({"household_key": "number", "DAY": "number", "ts": "time"}).user_id == (
        "household_key"
    )
    # numbers named for a time come last: a real time column wins
    m = infer_mapping({"user": "text", "event_time": "number", "created": "time"})
    assert m.timestamp == "created"


def test_a_csv_without_a_header_keeps_its_first_line_and_is_read_by_its_contents(tmp_path):
    # Taobao's UserBehavior.csv: user, item, category, behaviour, Unix time; no header
    rows = [
        (1, 2268318, 2520377, "pv", 1511544070),
        (1, 2333346, 2520771, "buy", 1511561733),
        (2, 2576651, 149192, "pv", 1511572885),
        (2, 3830808, 4181361, "cart", 1511593493),
        (2, 4365585, 2520377, "buy", 1511596146),
        (3, 4606018, 2735466, "fav", 1511616481),
    ]
    path = tmp_path / "UserBehavior.csv"
    path.write_text("".join(",".join(map(str, r)) + "\n" for r in rows))
    p = personas.profile(path)
    assert p.mapping == {"user_id": "column0", "timestamp": "column4", "event_type": "column3"}
    assert p.cleaning["rows_read"] == 6 and p.cleaning["purchase_lines"] == 2
    assert p.data.set_index("user_id")["n_events"].to_dict() == {"1": 2, "2": 3, "3": 1}
    assert any("no header: took column0 as the user id" in n for n in p.notes), p.notes
    # a first line of data whose fields DuckDB would take for names: a date is no name
    dated = tmp_path / "dated.csv"
    dated.write_text("alice,3.5,2024-01-01\nbob,4.25,2024-01-02\n")
    p = personas.profile(dated, as_of=AS_OF)
    assert p.cleaning["rows_read"] == 2 and sorted(p.data["user_id"]) == ["alice", "bob"]
    # a header stays a header
    named = tmp_path / "named.csv"
    named.write_text("user_id,amount,date\nalice,3.5,2024-01-01\nbob,4.25,2024-01-02\n")
    assert personas.profile(named, as_of=AS_OF).mapping["user_id"] == "user_id"


def test_float_ids_lose_their_point_zero_and_a_lone_price_is_the_amount():
    log = pd.DataFrame(
        {
            "CustomerID": [17850.0, 17850.0, None, 12.5],
            "InvoiceDate": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]),
            "price": [3.0, 4.0, 5.0, 6.0],
        }
    )
    p = personas.profile(log, as_of=AS_OF)
    assert sorted(p.data["user_id"]) == ["12.5", "17850"]
    assert p.data.set_index("user_id").loc["17850", "monetary"] == 7.0
    assert p.cleaning["missing_user_id"] == 1


def test_columns_separated_by_spaces_with_or_without_a_header(tmp_path, expected):
    ids = {"a": "00017", "b": "00018", "c": "00020"}
    lines = [
        f"{ids[u]:>6} {t:%Y%m%d} {i % 3 + 1:>2} {a:>8.2f}"
        for i, (u, t, a) in enumerate(zip(USERS, TIMES, AMOUNTS, strict=True))
    ]
    path = tmp_path / "CDNOW_like.txt"
    path.write_text("\n".join(lines) + "\n\n")
    p = personas.profile(path, as_of=AS_OF)
    assert p.mapping == {"user_id": "column0", "timestamp": "column1", "amount": "column3"}
    assert sorted(p.data["user_id"]) == sorted(ids.values())  # zeros kept: ids are text
    monetary = p.data.set_index("user_id")["monetary"]
    assert monetary.to_dict() == {ids[u]: v for u, v in expected["monetary"].items()}
    assert any("no header" in n for n in p.notes)
    # a header names the columns; the caller's names win over the contents
    named = tmp_path / "named.txt"
    named.write_text("cust day cds spent\n" + "\n".join(lines) + "\n")
    p = personas.profile(named, as_of=AS_OF, timestamp="day", amount="spent")
    assert p.mapping["user_id"] == "cust" and p.mapping["amount"] == "spent"
    p = personas.profile(path, as_of=AS_OF, amount="column2")
    assert p.mapping["amount"] == "column2"
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("\n".join(lines) + "\n   1 20240105 2\n")
    with pytest.raises(FileFormatError, match=r"ragged.txt: 1 row\(s\).*separated by spaces"):
        personas.profile(ragged, as_of=AS_OF)


def test_excel_workbooks_with_a_log_split_over_sheets(tmp_path):
    pytest.importorskip("openpyxl")
    log = pd.DataFrame(
        {
            "Invoice": ["489434", "C489449", "489435", "489436"],
            "InvoiceDate": pd.to_datetime(
                ["2024-01-02 10:00", "2024-01-03 11:00", "2024-02-01 09:00", "2024-02-02 09:00"]
            ),
            "Quantity": [2, -1, 3, 1],
            "Price": [2.5, 2.5, 1.0, 4.0],
            "Customer ID": [13085.0, 13085.0, 13078.0, None],
        }
    )
    path = tmp_path / "online_retail.xlsx"
    with pd.ExcelWriter(path) as book:
        log.iloc[:2].assign(Invoice=[489434, "C489449"]).to_excel(
            book, sheet_name="Year 1", index=False
        )
        log.iloc[2:].to_excel(book, sheet_name="Year 2", index=False)
        pd.DataFrame({"note": ["x"]}).to_excel(book, sheet_name="About", index=False)
    p = personas.profile(path, as_of=AS_OF)
    assert p.cleaning["rows_read"] == 4 and p.cleaning["cancelled_invoices"] == 1
    assert sorted(p.data["user_id"]) == ["13078", "13085"]
    assert any("'Year 1', 'Year 2'" in n for n in p.notes)
    assert any("left out: 'About'" in n for n in p.notes)


def test_tracker_exports_in_json_lines_with_nested_properties(tmp_path):
    import json

    lines = [
        {"type": "track", "event": "Order Completed", "userId": "u1", "timestamp":
         "2024-01-02T10:00:00.000Z", "properties": {"order_id": "o1", "revenue": 12.5},
         "context": {"device": {"type": "ios"}, "campaign": {"source": "google"}}},
        {"type": "track", "event": "Order Completed", "userId": "u1", "timestamp":
         "2024-02-02T10:00:00.000Z", "properties": {"order_id": "o2", "revenue": 7.5},
         "context": {"device": {"type": "ios"}}},
        {"type": "track", "event": "order_refunded", "userId": "u1", "timestamp":
         "2024-02-03T10:00:00.000Z", "properties": {"order_id": "o2", "revenue": 7.5}},
        {"type": "page", "userId": None, "anonymousId": "a2", "timestamp":
         "2024-01-03T10:00:00.000Z", "properties": {"path": "/"}},
        {"type": "page", "userId": "u2", "timestamp": "2024-01-04T10:00:00+01:00",
         "properties": {"path": "/shop"}},
    ]  # fmt: skip
    path = tmp_path / "segment.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    p = personas.profile(path, as_of=AS_OF)
    assert p.mapping["amount"] == "properties_revenue"
    assert p.mapping["order_id"] == "properties_order_id"
    assert p.mapping["device"] == "context_device_type"
    assert p.mapping["channel"] == "context_campaign_source"
    assert p.cleaning["missing_user_id"] == 1
    u1 = p.data.set_index("user_id").loc["u1"]
    assert (u1["frequency"], u1["monetary"], u1["returns"]) == (2, 20.0, 1)
    assert any("properties.*, context.*" in n for n in p.notes)


def test_amounts_written_as_text_are_read_as_numbers(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id,order_date,order_total,order_status\n"
        '1,2024-01-01,"$1,234.50",shipped\n2,2024-01-02,$12.00,shipped\n'
        "1,2024-01-05,($3.10),returned\n"
    )
    p = personas.profile(path, as_of=AS_OF)
    assert p.mapping["amount"] == "order_total" and "order_id" not in p.mapping
    got = p.data.set_index("user_id")
    assert got.loc["1", "monetary"] == 1234.5 and got.loc["1", "returns_value"] == 3.1
    assert any("points as decimal marks" in n for n in p.notes)
    de = tmp_path / "de.csv"
    de.write_text('kunde;datum;betrag\n1;01.02.2024;"12,50 €"\n2;02.02.2024;"1.234,00 €"\n')
    p = personas.profile(de, user_id="kunde", amount="betrag", as_of=AS_OF)
    assert p.data.set_index("user_id")["monetary"].to_dict() == {"1": 12.5, "2": 1234.0}
    assert any("commas as decimal marks" in n for n in p.notes)
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,order_date,order_total\n1,2024-01-01,high\n2,2024-01-02,low\n")
    assert "amount" not in personas.profile(bad, as_of=AS_OF).mapping  # not taken
    with pytest.raises(DataError, match=r"'order_total'.*should hold numbers.*'high'.*--amount"):
        personas.profile(bad, amount="order_total", as_of=AS_OF)
    with pytest.raises(DataError, match=r"quantity column 'order_total'.*--quantity"):
        personas.profile(bad, quantity="order_total", as_of=AS_OF)
    # a few values that are not numbers: read as empty, and the note says how many
    rows = "".join(f"{i % 3},2024-01-0{i % 9 + 1},${i}.50\n" for i in range(19))
    some = tmp_path / "some.csv"
    some.write_text("customer_id,order_date,order_total\n" + rows + "1,2024-01-02,unknown\n")
    p = personas.profile(some, as_of=AS_OF)
    assert any("1 of 20 sampled values are not numbers" in n for n in p.notes), p.notes


def test_float_ids_match_between_the_log_and_the_users_table():
    log = pd.DataFrame(
        {
            "customer_id": [17850, 17850, 13047],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02"] * 2)[:3],
        }
    )
    users = pd.DataFrame({"customer_id": [17850.0, 13047.0, 99.0, None], "age": [30, 40, 50, 60]})
    p = personas.profile(log, users, as_of=AS_OF)
    d = p.data.set_index("user_id")
    assert d.loc["17850", "n_events"] == 2 and d.loc["99", "n_events"] == 0
    assert p.cleaning["users_without_events"] == 2


def test_no_columns_of_zeros_for_what_the_log_does_not_have(tmp_path):
    times = pd.date_range("2024-01-01", periods=12, freq="5D")
    log = pd.DataFrame(
        {
            "visitorid": ["a", "a", "b", "c", "a", "b", "c", "a", "c", "c", "b", "a"],
            "timestamp": times,
            "event": ["view", "addtocart", "view", "view", "transaction", "view"] * 2,
        }
    )
    p = personas.profile(log, as_of="2024-03-01")
    assert not {"sessions", "renewals", "cancellations"} & set(p.data.columns)
    assert p.basis() == ["last_seen_days", "n_events", "active_weeks", "tenure_days"]
    # a column with a single value is no basis column, even where it exists
    p.data["sessions"] = 0
    assert "sessions" not in p.basis()


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_csv_files_that_are_not_utf8(encoding, tmp_path, expected):
    log = _log(TIMES.strftime("%m/%d/%Y %H:%M")).assign(Description="CAFÉ POSTER £5")
    path = tmp_path / "data.csv"
    log.to_csv(path, index=False, encoding=encoding, sep="," if encoding == "latin-1" else "\t")
    p = personas.profile(path, as_of=AS_OF)
    _same(p, expected)
    if encoding == "latin-1":
        assert any("not UTF-8: read as cp1252" in n for n in p.notes), p.notes


def test_a_folder_of_csv_files(tmp_path, expected):
    from personas.errors import InputFileError

    log = _log(TIMES)
    (tmp_path / "2024" / "02").mkdir(parents=True)
    log.iloc[:3].to_csv(tmp_path / "2024" / "jan.csv", index=False)
    log.iloc[3:].to_csv(tmp_path / "2024" / "02" / "feb.csv", index=False)
    _same(personas.profile(tmp_path, as_of=AS_OF), expected)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("nothing")
    with pytest.raises(InputFileError, match=r"folder empty holds no Parquet, CSV or JSON.*\.txt"):
        personas.profile(empty)


def test_a_date_and_a_time_of_day_in_two_columns(tmp_path):
    log = pd.DataFrame(
        {
            "Customer_ID": [1, 1, 2, 2],
            "Date": ["2024-01-01", "2024-01-01", "01/02/2024", "2024-01-03"],
            "Time": ["08:26", "17:05:33", "09:00", "10:00"],
            "Total": [5.0, 6.0, 7.0, 8.0],
        }
    )
    log["Date"] = pd.to_datetime(log["Date"], format="mixed").dt.date
    for source in (log, tmp_path / "pos.csv"):
        if not isinstance(source, pd.DataFrame):
            log.to_csv(source, index=False)
        p = personas.profile(source, as_of="2024-01-05")
        assert any("Date and Time are read together" in n for n in p.notes)
        d = p.data.set_index("user_id")
        assert d.loc["1", "frequency"] == 2  # two orders on one day, told apart by the time
        assert d.loc["1", "recency_days"] == pytest.approx(3 + (6 * 3600 + 54 * 60 + 27) / 86400)
    timed = log.assign(Date=pd.to_datetime(log["Date"]) + pd.Timedelta(hours=1))
    assert not personas.profile(timed, as_of="2024-01-05").notes  # times already: no clock
    # dates parsed by pandas (timestamps all at midnight) are whole days too
    parsed = personas.profile(log.assign(Date=pd.to_datetime(log["Date"])), as_of="2024-01-05")
    assert any("Date and Time are read together" in n for n in parsed.notes)
    pd.testing.assert_frame_equal(parsed.data, p.data)


@pytest.mark.parametrize(
    ("clock", "seconds"),
    [
        ([143207, 90000, 235959], [14 * 3600 + 32 * 60 + 7, 9 * 3600, 86399]),  # hhmmss
        ([1631, 900, 2359], [16 * 3600 + 31 * 60, 9 * 3600, 23 * 3600 + 59 * 60]),  # hhmm
        ([14, 9, 23], [14 * 3600, 9 * 3600, 23 * 3600]),  # hours
    ],
    ids=["hhmmss", "hhmm", "hours"],
)
def test_a_time_of_day_written_as_a_number(clock, seconds):
    # a bank's transactions: TransactionDate 2/8/16, TransactionTime 143207
    log = pd.DataFrame(
        {
            "CustomerID": ["C1", "C2", "C3"],
            "TransactionDate": pd.to_datetime(["2016-08-02", "2016-08-02", "2016-08-03"]).date,
            "TransactionTime": clock,
            "TransactionAmount (INR)": [25.0, 27999.0, 459.0],
        }
    )
    p = personas.profile(log, as_of="2016-08-04")
    assert any("TransactionDate and TransactionTime are read together" in n for n in p.notes)
    got = p.data.set_index("user_id")["last_seen_days"]
    expected = [2 - seconds[0] / 86400, 2 - seconds[1] / 86400, 1 - seconds[2] / 86400]
    assert got.tolist() == pytest.approx(expected)
    # numbers that are not all times of day (minute 75) are not a clock
    odd = log.assign(TransactionTime=[143207, 147500, 10])
    p = personas.profile(odd, as_of="2016-08-04")
    assert not p.notes and p.data["last_seen_days"].tolist() == [2.0, 2.0, 1.0]


def test_a_shop_export_keyed_by_email_with_offsets_without_a_colon():
    log = pd.DataFrame(
        {
            "Name": ["#1001", "#1001", "#1002"],
            "Email": ["a@x.com", "a@x.com", "b@y.com"],
            "Paid at": ["2024-01-05 10:00:00 -0500"] * 3,
            "Total": [22.0, None, 6.0],
            "Created at": ["2024-01-05 10:00:00 -0500"] * 2 + ["2024-01-07 23:00:00 -0500"],
            "Lineitem quantity": [1, 2, 1],
            "Lineitem price": [10.0, 5.0, 5.0],
            "Accepts Marketing": ["yes", "yes", "no"],
        }
    )
    p = personas.profile(log, as_of="2024-02-01")
    assert p.mapping["user_id"] == "Email" and p.mapping["timestamp"] == "Created at"
    assert "event_type" not in p.mapping  # "Name" holds order numbers, not event names
    assert any("Email (e-mail addresses) is the user id" in n for n in p.notes)
    d = p.data.set_index("user_id")
    assert (d.loc["a@x.com", "frequency"], d.loc["a@x.com", "monetary"]) == (1, 22.0)
    # 23:00 at -05:00 is 04:00 UTC on the 8th: 23 days and 20 hours before as_of
    assert d.loc["b@y.com", "last_seen_days"] == pytest.approx(23 + 20 / 24)
    # look-alike endings are not words: "accepts" holds no "ts", "paid" no "id"
    assert "ts" not in words("accepts") and "id" not in words("paid")
    assert infer_mapping({"customer": "text", "email": "text", "ts": "time"}).user_id == (
        "customer"
    )
    with pytest.raises(SchemaError, match="user_id"):  # a flag about e-mails is no user id
        infer_mapping({"email_opt_in": "text", "ts": "time"})


def test_a_type_column_that_names_no_event_is_not_the_event_type():
    times = pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-07"])
    log = pd.DataFrame(
        {"customer_id": [1, 1, 2], "date": times, "amount": [5.0, 6.0, 7.0],
         "customer_type": ["B2B", "B2B", "B2C"]}
    )  # fmt: skip
    p = personas.profile(log, as_of="2024-02-01")
    assert "event_type" not in p.mapping
    assert any("customer_type ('B2B', 'B2C'…) names no event" in n for n in p.notes)
    assert p.data.set_index("user_id")["frequency"].to_dict() == {"1": 2, "2": 1}
    # one that does name events is taken; a column named by the caller always is
    typed = log.rename(columns={"customer_type": "type"}).assign(
        type=["purchase", "refund"] * 1 + ["purchase"]
    )
    p = personas.profile(typed, as_of="2024-02-01")
    assert p.mapping["event_type"] == "type" and p.data["returns"].sum() == 1
    p = personas.profile(log, as_of="2024-02-01", event_type="customer_type")
    assert p.mapping["event_type"] == "customer_type" and p.data["frequency"].sum() == 0


def test_a_basket_log_without_amounts_counts_its_lines_as_purchases():
    # The Groceries data set: member, date, item; no event type, no money
    log = pd.DataFrame(
        {
            "Member_number": [1000, 1000, 1000, 1001, 1002],
            "Date": ["21-07-2015", "21-07-2015", "05-01-2015", "19-09-2015", "30-12-2015"],
            "itemDescription": ["whole milk", "pastry", "salty snack", "whole milk", "soda"],
        }
    )
    p = personas.profile(log, as_of="2016-01-01")
    assert p.mapping["product"] == "itemDescription"
    assert p.cleaning["purchase_lines"] == 5
    assert any(
        "naming a product (itemDescription), is taken as an item bought" in n for n in p.notes
    )
    d = p.data.set_index("user_id")
    # an order per member and day (no order id, whole days): 1000 bought on two days
    assert d["frequency"].to_dict() == {"1000": 2, "1001": 1, "1002": 1}
    assert d.loc["1000", "recency_days"] == 164 and d["monetary"].eq(0).all()
    assert d.loc["1000", "rfm_segment"] != "No purchase"
    # a log of visits only (no product, no order, no money) has no purchases
    visits = log.drop(columns="itemDescription")
    p = personas.profile(visits, as_of="2016-01-01")
    assert p.cleaning["purchase_lines"] == 0 and p.data["frequency"].eq(0).all()


def test_a_sales_export_keyed_by_customer_name():
    # Kaggle's "Sample Sales Data": no customer number; ORDERNUMBER glued
    log = pd.DataFrame(
        {
            "ORDERNUMBER": [10107, 10107, 10121, 10134],
            "ORDERDATE": ["2/24/2003 0:00", "2/24/2003 0:00", "5/7/2003 0:00", "7/1/2003 0:00"],
            "SALES": [2871.0, 2765.9, 3884.34, 3746.7],
            "CUSTOMERNAME": ["Land of Toys Inc.", "Land of Toys Inc.", "Reims Collectables",
                             "Land of Toys Inc."],
            "CONTACTLASTNAME": ["Yu", "Yu", "Henriot", "Yu"],
            "CONTACTFIRSTNAME": ["Kwai", "Kwai", "Paul", "Kwai"],
        }
    )  # fmt: skip
    p = personas.profile(log, as_of="2003-12-31")
    assert p.mapping["user_id"] == "CUSTOMERNAME" and p.mapping["order_id"] == "ORDERNUMBER"
    assert any("CUSTOMERNAME (names) is the user id" in n for n in p.notes)
    d = p.data.set_index("user_id")
    assert d.loc["Land of Toys Inc.", "frequency"] == 2
    assert d.loc["Land of Toys Inc.", "monetary"] == pytest.approx(2871.0 + 2765.9 + 3746.7)
    # an id column wins over a name; a contact's first or last name is never the user
    kinds = {"Customer ID": "text", "Customer Name": "text", "Order Date": "time"}
    assert infer_mapping(kinds).user_id == "Customer ID"
    with pytest.raises(SchemaError, match="user_id"):
        infer_mapping({"contact_first_name": "text", "date": "time"})
    # a product's name is the product when no product id is there
    kinds = {"Product ID": "text", "Product Name": "text", "user": "text", "ts": "time"}
    assert infer_mapping(kinds).product == "Product ID"
    assert infer_mapping({"product_name": "text", "user": "text", "ts": "time"}).product == (
        "product_name"
    )


def test_a_date_in_year_month_day_columns_with_a_time_of_day():
    # IBM's card transactions: User, Card, Year, Month, Day, Time, Amount ("$134.09")
    log = pd.DataFrame(
        {
            "User": [0, 0, 1],
            "Card": [0, 1, 0],
            "Year": [2019, 2019, 2019],
            "Month": [12, 12, 11],
            "Day": [30, 31, 2],
            "Time": ["06:21", "22:30", "13:00"],
            "Amount": ["$134.09", "$38.48", "$-5.00"],
        }
    )
    p = personas.profile(log, as_of="2020-01-01")
    assert p.mapping["timestamp"] == "Year-Month-Day" and p.mapping["user_id"] == "User"
    assert any("Year, Month, Day are read together" in n for n in p.notes)
    assert any("Year-Month-Day and Time are read together" in n for n in p.notes)
    d = p.data.set_index("user_id")
    assert d.loc["0", "last_seen_days"] == pytest.approx(1.5 / 24)  # 22:30 on the 31st
    assert d.loc["0", "monetary"] == pytest.approx(134.09 + 38.48)
    assert d.loc["1", "returns"] == 1
    # the written mapping, passed back, builds the same date
    again = personas.profile(log, as_of="2020-01-01", mapping=p.mapping)
    pd.testing.assert_frame_equal(again.data, p.data)
    # a log with a column of dates keeps it; year/month columns alone make no date
    dated = log.assign(date=pd.to_datetime(["2019-12-01", "2019-12-02", "2019-11-03"]))
    assert personas.profile(dated, as_of="2020-01-01").mapping["timestamp"] == "date"
    with pytest.raises(DataError, match="Time"):  # "06:21" alone is no date
        personas.profile(log.drop(columns="Day"), as_of="2020-01-01")


def test_card_numbers_are_users_and_ids_hold_no_money():
    # a fraud-detection log: cc_num, amt; H&M: sales_channel_id is no amount
    m = infer_mapping({"trans_date_trans_time": "time", "cc_num": "number", "amt": "number"})
    assert (m.user_id, m.amount) == ("cc_num", "amt")
    m = infer_mapping({"card_id": "text", "purchase_date": "time", "purchase_amount": "number"})
    assert (m.user_id, m.amount) == ("card_id", "purchase_amount")
    kinds = {
        "t_dat": "time",
        "customer_id": "text",
        "article_id": "text",
        "price": "number",
        "sales_channel_id": "number",
    }
    m = infer_mapping(kinds)
    assert (m.user_id, m.amount, m.price) == ("customer_id", None, "price")
    assert m.product == "article_id"  # H&M's articles are its products
    # a customer beats a card, with or without an id word
    assert infer_mapping({"Card": "number", "User": "number", "ts": "time"}).user_id == "User"
    kinds = {"card_id": "text", "customer": "text", "ts": "time"}
    assert infer_mapping(kinds).user_id == "customer"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_files_of_a_folder_are_matched_by_column_name(suffix, tmp_path):
    # monthly exports: a column added in February, and the columns in another order
    jan = pd.DataFrame(
        {"user_id": ["a", "b"], "timestamp": pd.to_datetime(["2024-01-02", "2024-01-05"]),
         "amount": [10.0, 5.0]}
    )  # fmt: skip
    feb = pd.DataFrame(
        {"amount": [3.0, 4.0], "channel": ["web", "app"], "user_id": ["a", "c"],
         "timestamp": pd.to_datetime(["2024-02-02", "2024-02-05"])}
    )  # fmt: skip
    folder = tmp_path / "monthly"
    folder.mkdir()
    for name, part in (("2024-01", jan), ("2024-02", feb)):
        if suffix == ".csv":
            part.to_csv(folder / f"{name}.csv", index=False)
        else:
            part.to_parquet(folder / f"{name}.parquet")
    for source in (folder, str(folder / f"*{suffix}")):
        p = personas.profile(source, as_of="2024-03-01")
        assert p.mapping["channel"] == "channel"
        d = p.data.set_index("user_id")
        assert d["monetary"].to_dict() == {"a": 13.0, "b": 5.0, "c": 4.0}


def test_a_zip_download_with_one_data_file(tmp_path, expected):
    import zipfile

    log = _log(TIMES)
    log.to_csv(tmp_path / "events.csv", index=False)
    archive = tmp_path / "online-retail.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(tmp_path / "events.csv", "data/events.csv")
        z.writestr("__MACOSX/data/._events.csv", b"\x00\x05")  # macOS' resource forks
        z.writestr("LICENSE", "CC BY 4.0")
    p = personas.profile(archive, as_of=AS_OF)
    _same(p, expected)
    assert p.source == "online-retail.zip/data/events.csv"
    with zipfile.ZipFile(archive, "a") as z:
        z.write(tmp_path / "events.csv", "data/more.csv")
    with pytest.raises(InputFileError, match=r"several data files \(data/events.csv, data/more"):
        personas.profile(archive, as_of=AS_OF)
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputFileError, match="bad.zip is not a readable zip archive"):
        personas.profile(tmp_path / "bad.zip", as_of=AS_OF)


def test_a_ga4_export_in_json_lines(tmp_path):
    # GA4's BigQuery export as JSON lines: user_id empty but for signed-in users,
    # event_timestamp in microseconds beside a text event_date, nested device and
    # traffic source, fields that are always null (no type to DuckDB) and arrays
    import json

    def event(user, when, name, revenue=None, signed_in=None):
        t = pd.Timestamp(when, tz="UTC")
        return {
            "event_date": t.strftime("%Y%m%d"),
            "event_timestamp": int(t.timestamp() * 1_000_000),
            "event_name": name,
            "event_params": [{"key": "page_title", "value": {"string_value": "Home"}}],
            "event_previous_timestamp": None,
            "user_id": signed_in,
            "user_pseudo_id": user,
            "user_properties": [],
            "privacy_info": {"analytics_storage": None, "uses_transient_token": "No"},
            "device": {"category": "mobile" if user == "u1" else "desktop", "language": "en"},
            "traffic_source": {"medium": "organic", "source": "google"},
            "ecommerce": {"purchase_revenue": revenue, "transaction_id": "T1" if revenue else None},
        }

    events = [
        event("u1", "2021-01-05 10:00", "session_start"),
        event("u1", "2021-01-05 10:01", "page_view"),
        event("u1", "2021-01-05 10:07", "purchase", 40.0),
        event("u1", "2021-01-20 18:30", "session_start"),
        event("u2", "2021-01-09 08:00", "session_start", signed_in="alice"),
        event("u2", "2021-01-09 08:02", "page_view"),
    ]
    path = tmp_path / "ga4.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    p = personas.profile(path, as_of="2021-02-01")
    m = p.mapping
    assert (m["user_id"], m["timestamp"], m["event_type"]) == (
        "user_pseudo_id",
        "event_timestamp",
        "event_name",
    )
    assert m["device"] == "device_category" and m["channel"] == "traffic_source_medium"
    assert "category" not in m and m["amount"] == "ecommerce_purchase_revenue"
    assert any("user_id is empty in 83% of the first lines" in n for n in p.notes), p.notes
    d = p.data.set_index("user_id")
    assert d["sessions"].to_dict() == {"u1": 2, "u2": 1}  # session_start events
    assert (d.loc["u1", "frequency"], d.loc["u1", "monetary"]) == (1, 40.0)
    assert d.loc["u1", "last_seen_days"] == pytest.approx(11 + 5.5 / 24)  # 18:30, not 00:00
    # a user id the caller names is kept, however empty
    p = personas.profile(path, as_of="2021-02-01", user_id="user_id")
    assert p.cleaning["missing_user_id"] == 5


def test_a_name_belongs_to_the_meaning_it_names_first():
    kinds = {"user": "text", "ts": "time", "device_type": "text", "channel_type": "text",
             "product_category": "text", "event_time": "text"}  # fmt: skip
    m = infer_mapping(kinds)
    assert (m.device, m.channel, m.category) == ("device_type", "channel_type", "product_category")
    assert m.event_type is None  # "..._type" of a device or channel, "event_time" a time
    m = infer_mapping({"user": "text", "ts": "time", "event_category": "text"})
    assert m.category is None
    # an id names no device, but a plan's id names the plan
    m = infer_mapping({"user": "text", "ts": "time", "device_id": "text", "plan_id": "text"})
    assert (m.device, m.plan) == (None, "plan_id")


def test_product_analytics_exports_name_their_users_their_own_way():
    # Mixpanel: properties.distinct_id; Segment: anonymousId beside a mostly empty userId;
    # Amplitude: amplitude_id beside a mostly empty user_id, device_id is no device
    m = infer_mapping({"event": "text", "properties_time": "number",
                       "properties_distinct_id": "text", "properties_$os": "text"})  # fmt: skip
    assert (m.user_id, m.timestamp, m.device) == (
        "properties_distinct_id",
        "properties_time",
        "properties_$os",
    )
    times = pd.date_range("2021-04-01", periods=6, freq="D")
    log = pd.DataFrame(
        {
            "user_id": [None, None, None, None, "alice", None],
            "device_id": ["d1", "d1", "d2", "d2", "d2", "d3"],
            "amplitude_id": [11, 11, 12, 12, 12, 13],
            "event_time": times,
            "event_type": [
                "session_start",
                "purchase",
                "session_start",
                "view",
                "purchase",
                "view",
            ],
            "revenue": [None, 9.99, None, None, 5.0, None],
        }
    )
    p = personas.profile(log, as_of="2021-05-01")
    assert p.mapping["user_id"] == "amplitude_id" and "device" not in p.mapping
    assert any("user_id is empty in 83% of the first lines" in n for n in p.notes)
    assert p.data.set_index("user_id")["monetary"].to_dict() == {"11": 9.99, "12": 5.0, "13": 0}
    segment = log.rename(columns={"user_id": "userId", "device_id": "anonymousId"})
    p = personas.profile(segment.drop(columns="amplitude_id"), as_of="2021-05-01")
    assert p.mapping["user_id"] == "anonymousId" and len(p.data) == 3


def test_day_numbers_with_a_time_of_day_as_dunnhumby_writes_them():
    # The Complete Journey: DAY 1–711 (no dates), TRANS_TIME hhmm, baskets of lines
    log = pd.DataFrame(
        {
            "household_key": [1, 1, 1, 2],
            "BASKET_ID": [10, 10, 11, 12],
            "DAY": [1, 1, 30, 31],
            "PRODUCT_ID": [5, 6, 5, 7],
            "QUANTITY": [1, 2, 1, 1],
            "SALES_VALUE": [2.5, 3.0, 1.0, 4.0],
            "TRANS_TIME": [1631, 1631, 900, 2345],
            "WEEK_NO": [1, 1, 5, 5],
        }
    )
    p = personas.profile(log)
    assert p.mapping["timestamp"] == "DAY" and p.mapping["order_id"] == "BASKET_ID"
    assert any("DAY holds day numbers (1 to 31)" in n for n in p.notes), p.notes
    assert any("DAY and TRANS_TIME are read together" in n for n in p.notes), p.notes
    assert p.as_of.startswith("1970-02-02")  # midnight after day 31 (February 1st)
    d = p.data.set_index("user_id")
    assert d.loc["1", "frequency"] == 2 and d.loc["1", "monetary"] == 6.5
    # household 1's last basket: day 30 at 09:00, 1 day and 15 hours before as_of
    assert d.loc["1", "recency_days"] == pytest.approx(1 + 15 / 24)
    assert d.loc["1", "tenure_days"] == pytest.approx(30 + (24 - 16 - 31 / 60) / 24)
    # numbers named for a time that are no times stay an error that names them
    with pytest.raises(DataError, match="TRANS_TIME.*holds numbers from 900 to 2345"):
        personas.profile(log.drop(columns="DAY"))
    with pytest.raises(SchemaError, match="which column of DataFrame is the timestamp"):
        personas.profile(log.drop(columns="TRANS_TIME").rename(columns={"DAY": "day_of_week"}))


def test_an_order_status_that_cancels_or_refunds_undoes_the_order():
    # Olist's orders joined with their payments: order_status canceled; a shop's
    # financial status refunded
    log = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "customer_unique_id": ["a", "a", "a", "b", "b"],
            "order_status": ["delivered", "canceled", "shipped", "delivered", "refunded"],
            "order_purchase_timestamp": pd.to_datetime(
                ["2018-01-02", "2018-02-03", "2018-03-04", "2018-01-10", "2018-03-01"]
            ),
            "payment_value": [10.0, 99.0, 20.0, 5.0, 7.0],
        }
    )
    p = personas.profile(log, as_of="2018-04-01")
    assert p.mapping["status"] == "order_status"
    d = p.data.set_index("user_id")
    assert d["frequency"].to_dict() == {"a": 2, "b": 1}
    assert d["monetary"].to_dict() == {"a": 30.0, "b": 5.0}
    assert d["returns"].to_dict() == {"a": 1, "b": 1}  # the canceled and the refunded
    assert d.loc["b", "returns_value"] == 7.0 and p.cleaning["cancelled_invoices"] == 1
    # with event types: a purchase whose status is refunded is a return
    typed = log.assign(event=["purchase"] * 5)
    d = personas.profile(typed, as_of="2018-04-01").data.set_index("user_id")
    assert d["frequency"].to_dict() == {"a": 2, "b": 1} and d.loc["b", "returns"] == 1
    # a status that names no cancellation changes nothing
    calm = log.assign(order_status="delivered")
    d = personas.profile(calm, as_of="2018-04-01").data.set_index("user_id")
    assert d["frequency"].to_dict() == {"a": 3, "b": 2}


def test_the_unique_customer_id_is_the_user_and_one_order_each_is_noted():
    # Olist's orders merged with its customers: customer_id is one per order, the
    # person is customer_unique_id (whichever comes first in the file)
    rng = np.random.default_rng(3)
    n = 300
    log = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": [f"c{i}" for i in range(n)],
            "order_purchase_timestamp": pd.Timestamp("2018-01-01")
            + pd.to_timedelta(rng.integers(0, 300, n), "D"),
            "payment_value": rng.uniform(5, 50, n).round(2),
            "customer_unique_id": [f"u{i % 120}" for i in range(n)],
        }
    )
    p = personas.profile(log, as_of="2019-01-01")
    assert p.mapping["user_id"] == "customer_unique_id" and len(p.data) == 120
    assert p.data["frequency"].sum() == n
    assert not any("more than one order" in note for note in p.notes), p.notes
    # the orders file alone: every user one order, which the notes point out
    p = personas.profile(log.drop(columns="customer_unique_id"), as_of="2019-01-01")
    assert p.mapping["user_id"] == "customer_id" and len(p.data) == n
    said = [note for note in p.notes if "more than one order" in note]
    assert said and "300 buyers" in said[0] and "customer_id is one per order" in said[0]
    # a few buyers with one order each are no sign of it
    few = personas.profile(log.drop(columns="customer_unique_id").head(50), as_of="2019-01-01")
    assert not any("more than one order" in note for note in few.notes), few.notes


LANGUAGES = {
    # Spanish: a shop's orders with a status; the cancelled order is no purchase
    "es": (
        {
            "id_cliente": ["a", "a", "b", "b"],
            "fecha_pedido": ["2024-01-02", "2024-02-03", "2024-01-10", "2024-02-20"],
            "num_pedido": ["p1", "p2", "p3", "p4"],
            "importe_total": [10.0, 20.0, 5.0, 7.0],
            "categoría": ["hogar", "ropa", "hogar", "hogar"],
            "estado": ["entregado", "entregado", "cancelado", "entregado"],
        },
        {"user_id": "id_cliente", "timestamp": "fecha_pedido", "amount": "importe_total",
         "order_id": "num_pedido", "category": "categoría", "status": "estado"},
        {"frequency": {"a": 2, "b": 1}, "monetary": {"a": 30.0, "b": 7.0}},
    ),
    # German invoice lines: compound names, price × quantity
    "de": (
        {
            "Kundennummer": [1, 1, 2],
            "Rechnungsnummer": ["R1", "R1", "R2"],
            "Bestelldatum": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-05"]),
            "Artikel": ["x", "y", "x"],
            "Menge": [2, 1, 3],
            "Einzelpreis": [1.5, 4.0, 1.5],
        },
        {"user_id": "Kundennummer", "timestamp": "Bestelldatum", "price": "Einzelpreis",
         "quantity": "Menge", "order_id": "Rechnungsnummer", "product": "Artikel"},
        {"frequency": {"1": 1, "2": 1}, "monetary": {"1": 7.0, "2": 4.5}},
    ),
    # Portuguese events: purchases, a return and visits named in Portuguese
    "pt": (
        {
            "usuário": ["u1", "u1", "u1", "u2"],
            "data_hora": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]),
            "evento": ["Compra", "Devolução", "visita", "compra"],
            "valor": [30.0, 30.0, None, 12.0],
        },
        {"user_id": "usuário", "timestamp": "data_hora", "amount": "valor",
         "event_type": "evento"},
        {"frequency": {"u1": 1, "u2": 1}, "returns": {"u1": 1, "u2": 0},
         "sessions": {"u1": 1, "u2": 0}},
    ),
}  # fmt: skip


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_column_names_and_event_names_in_other_languages(language):
    log, mapping, features = LANGUAGES[language]
    p = personas.profile(pd.DataFrame(log), as_of=AS_OF)
    assert p.mapping == mapping
    d = p.data.set_index("user_id")
    for name, values in features.items():
        assert d[name].to_dict() == values, name


def test_mostly_negative_amounts_are_pointed_out(tmp_path):
    # Elo's purchase_amount is standardised: most values are below zero
    log = pd.DataFrame(
        {
            "card_id": ["C_1", "C_1", "C_2", "C_2", "C_3"],
            "purchase_date": pd.to_datetime(
                ["2018-01-02", "2018-01-05", "2018-01-03", "2018-02-01", "2018-02-02"]
            ),
            "purchase_amount": [-0.70, -0.73, 0.15, -0.72, -0.69],
        }
    )
    path = tmp_path / "historical_transactions.csv"
    log.to_csv(path, index=False)
    p = personas.profile(path)
    said = [n for n in p.notes if "are negative, read as returns" in n]
    assert said and said[0].startswith("4 of the 5 lines of historical_transactions.csv")
    assert "-purchase_amount AS spent FROM 'historical_transactions.csv'" in said[0]
    # the query it suggests turns the sign: debits are purchases, a credit a return
    query = f"SELECT *, -purchase_amount AS spent FROM '{path}'"
    fixed = personas.profile(None, query=query, amount="spent")
    assert fixed.data.set_index("user_id")["frequency"].to_dict() == {"C_1": 2, "C_2": 1, "C_3": 1}
    assert fixed.data.set_index("user_id").loc["C_2", "returns"] == 1
    assert not any("are negative" in n for n in fixed.notes)
    # a few returns among purchases are no sign of it; neither are dropped lines
    some = log.assign(purchase_amount=[0.70, 0.73, 0.15, -0.72, 0.69])
    assert not any("are negative" in n for n in personas.profile(some).notes)
    dropped = personas.profile(log, negative_quantities="drop")
    assert not any("are negative" in n for n in dropped.notes)


def test_money_that_is_not_the_sale_is_never_the_amount():
    def amount(kinds: dict[str, str]) -> tuple:
        m = infer_mapping({"order_id": "text", "customer_id": "text", "ts": "time"} | kinds)
        return m.amount, m.price

    # Olist's order items: the price, not the freight; a shop's order export
    assert amount({"freight_value": "number", "price": "number"}) == (None, "price")
    shop = {"discount_amount": "number", "tax_amount": "number", "total_amount": "number"}
    assert amount(shop) == ("total_amount", None)
    assert amount({"refund_amount": "number", "amount": "number"}) == ("amount", None)
    assert amount({"Cart Discount Amount": "number", "Order Shipping Amount": "number"}) == (
        None,
        None,
    )
    assert amount({"list_price": "number", "sale_price": "number"}) == (None, "sale_price")
    # a cost is the amount only when no other money is named
    assert amount({"total_cost": "number"}) == ("total_cost", None)
    assert amount({"shipping_cost": "number", "Sales": "number"}) == ("Sales", None)
    # a list price is the price when nothing else is
    assert amount({"list_price": "number"}) == (None, "list_price")


def test_a_flag_column_marks_cancelled_or_returned_lines():
    # KKBox's transactions: is_cancel 0/1; a shop's lines: is_returned true/false
    log = pd.DataFrame(
        {
            "member_id": ["a", "a", "a", "b"],
            "transaction_date": [20240102, 20240202, 20240210, 20240105],
            "amount_paid": [149.0, 149.0, 149.0, 99.0],
            "is_cancel": [0, 0, 1, 0],
            "return_reason": [None, None, "too dear", None],
        }
    )
    p = personas.profile(log, as_of=AS_OF)
    assert p.mapping["status"] == "is_cancel" and p.cleaning["cancelled_invoices"] == 1
    assert p.data.set_index("user_id")["frequency"].to_dict() == {"a": 2, "b": 1}
    shop = log.drop(columns="is_cancel").assign(is_returned=[False, True, False, False])
    p = personas.profile(shop, as_of=AS_OF)
    assert p.mapping["status"] == "is_returned"
    d = p.data.set_index("user_id")
    assert d.loc["a", "frequency"] == 2 and d.loc["a", "returns"] == 1
    # Y/N in a column named Cancelled; a column of other values changes nothing
    yn = log.drop(columns="is_cancel").assign(Cancelled=["N", "Y", "N", "N"])
    assert personas.profile(yn, as_of=AS_OF).cleaning["cancelled_invoices"] == 1
    # the yes and no of a user table's booleans, in the languages they are read in
    for no, yes in (("nein", "ja"), ("non", "oui"), ("não", "sim")):
        spelled = log.drop(columns="is_cancel").assign(Cancelled=[no, yes, no, no])
        assert personas.profile(spelled, as_of=AS_OF).cleaning["cancelled_invoices"] == 1
    other = log.drop(columns="is_cancel").assign(Cancelled=["x", "y", "z", "w"])
    assert personas.profile(other, as_of=AS_OF).cleaning["cancelled_invoices"] == 0
    # names that say more than a flag are none: the reason of a return, its amount
    m = infer_mapping({"user_id": "text", "ts": "time", "refund_amount": "number"})
    assert m.status is None


def test_no_user_column_by_name_gets_a_hint_from_the_values():
    # KKBox's transactions: its member id is named msno
    rng = np.random.default_rng(4)
    log = pd.DataFrame(
        {
            "msno": rng.choice([f"m{i:03d}+/=" for i in range(40)], 200),
            "payment_method_id": rng.integers(30, 41, 200),
            "transaction_date": 20240101 + rng.integers(0, 28, 200),
            "actual_amount_paid": rng.choice([99.0, 149.0], 200),
        }
    )
    with pytest.raises(SchemaError, match=r"msno repeats as a user id does \(40 values in the fi"):
        personas.profile(log)
    # a table of sales without customers gets no hint (unique invoices, few branches)
    sales = pd.DataFrame(
        {
            "Invoice ID": [f"750-67-{i:04d}" for i in range(200)],
            "Branch": rng.choice(list("ABC"), 200),
            "Date": pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 80, 200), "D"),
            "Total": rng.uniform(10, 900, 200).round(2),
        }
    )
    with pytest.raises(SchemaError) as info:
        personas.profile(sales)
    assert "repeats as a user id" not in str(info.value)


@pytest.mark.parametrize(
    ("column", "values", "minutes"),
    [("duration_sec", [600, 1200], 15.0), ("duration_ms", [600_000, 1_200_000], 15.0),
     ("duration_hours", [0.25, 0.25], 15.0), ("duration", [10, 20], 15.0)],
)  # fmt: skip
def test_a_duration_is_read_in_the_unit_its_name_gives(column, values, minutes):
    log = pd.DataFrame(
        {"user_id": ["a", "a"], "session_id": ["s1", "s2"],
         "timestamp": pd.to_datetime(["2024-01-02 10:00", "2024-01-05 10:00"]), column: values}
    )  # fmt: skip
    p = personas.profile(log, as_of=AS_OF)
    assert p.data.set_index("user_id").loc["a", "avg_session_minutes"] == pytest.approx(minutes)
    assert any(f"{column} is read in" in n for n in p.notes)


def test_whole_number_ids_written_with_a_point_zero_in_a_csv(tmp_path):
    """A spreadsheet or pandas writes a customer id column with gaps as 12000.0: the ids
    are 12000, as the same log's Parquet copy and a users table give them."""
    path = tmp_path / "lines.csv"
    path.write_text(
        "InvoiceNo,InvoiceDate,UnitPrice,Quantity,CustomerID\n"
        "1,2024-01-02,2.5,2,12000.0\n2,2024-01-09,1.0,5,12000.0\n3,2024-01-10,4.0,1,\n"
        "4,2024-01-12,3.0,1,12003.0\n"
    )
    p = personas.profile(path, as_of=AS_OF)
    assert sorted(p.data["user_id"]) == ["12000", "12003"]
    users = pd.DataFrame({"CustomerID": [12000, 12003, 12005]})
    assert len(personas.profile(path, users, as_of=AS_OF).data) == 3
    again = p.builder.transform(path, as_of=AS_OF)  # (a fitted builder reads them so too)
    assert sorted(again["user_id"]) == ["12000", "12003"]


def test_ids_with_zero_decimals_are_read_so_in_any_log_and_anywhere_in_it():
    """Ids are rewritten where a log holds such ids — whatever the fitted log held (a
    Parquet file's float ids, a CSV's text) and however far down they come (a glob of
    files, one written by pandas) — and left as stored otherwise (rewriting every id cost
    a third of profiling's time on a 10M-line log)."""
    log = pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u2"],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]),
            "amount": [1.0, 2.0, 3.0],
            "order_id": ["7", "8", "9"],
        }
    )
    builder = personas.ProfileBuilder().fit(log, as_of=AS_OF)
    zeros = log.assign(user_id=["5.0", "6", "6.00"], order_id=["7", "8", "8.0"])
    out = builder.transform(zeros, as_of=AS_OF).set_index("user_id")
    assert sorted(out.index) == ["5", "6"]
    assert out.loc["6", "frequency"] == 1  # (orders 8 and 8.0: one order of two lines)
    assert out.loc["6", "monetary"] == 5.0
    n = 100_010  # (the ids written so come after the first 100,000 lines)
    long = pd.DataFrame(
        {
            "user_id": [str(i % 1000) for i in range(n - 3)] + ["1.0", "2.00", "3.0"],
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(range(n), unit="s"),
            "amount": 1.0,
        }
    )
    p = personas.profile(long, as_of=AS_OF)
    assert len(p.data) == 1000 and "1.0" not in set(p.data["user_id"])


def test_invoices_never_paid_are_no_purchase():
    """A billing system's invoices: paid ones are purchases; uncollectible, unpaid or
    failed ones were never paid (cancelled, as void ones are), a refunded one a return
    (returns count both)."""
    log = pd.DataFrame(
        {"account": ["a"] * 5,
         "invoice_date": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15",
                                         "2024-01-22", "2024-01-29"]),
         "amount": [100.0] * 5,
         "status": ["paid", "uncollectible", "paid", "failed", "refunded"]}
    )  # fmt: skip
    p = personas.profile(log, as_of=AS_OF)
    a = p.data.set_index("user_id").loc["a"]
    assert (a["frequency"], a["monetary"], a["returns"]) == (2, 200.0, 3)
    assert p.cleaning["cancelled_invoices"] == 2


def test_a_till_receipt_and_a_department_are_an_order_and_a_category():
    kinds = {"id_client": "text", "date_achat": "time", "num_ticket": "text", "rayon": "text",
             "montant": "number", "Kassenbon": "text"}  # fmt: skip
    m = infer_mapping(kinds)
    assert (m.user_id, m.order_id, m.category) == ("id_client", "num_ticket", "rayon")
