from __future__ import annotations

import gzip
import json

import duckdb
import numpy as np
import pandas as pd
import pytest

import personas
from personas.errors import EmptyDataError, FileFormatError, InputFileError, SchemaError
from personas.io import load_table, read_table
from tests.conftest import write

ROWS = [("u1", 31, "Paris"), ("u2", 45, "Lyon"), ("u3", 27, "Nice")]


def _frame():
    return pd.DataFrame(ROWS, columns=["user_id", "age", "city"])


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_delimiter_is_sniffed(tmp_path, sep):
    text = sep.join(["user_id", "age", "city"]) + "\n"
    text += "".join(sep.join(map(str, r)) + "\n" for r in ROWS)
    df, info = load_table(write(tmp_path / "u.csv", text))
    assert info.options["delimiter"] == sep
    assert list(df.columns) == ["user_id", "age", "city"]
    assert df["age"].tolist() == [31, 45, 27]


def test_csv_quoted_fields_with_delimiters_and_newlines(tmp_path):
    text = 'id;name;note\n1;"Smith; John";"line one\nline two"\n2;"Doe";"plain"\n'
    df = read_table(write(tmp_path / "q.csv", text))
    assert df.shape == (2, 3)
    assert df.loc[0, "name"] == "Smith; John"
    assert df.loc[0, "note"] == "line one\nline two"


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""), ("utf-16", b"")],
)
def test_csv_encodings_are_detected(tmp_path, encoding, prefix):
    text = "user_id,city\nu1,Zürich\nu2,Besançon\n"
    path = tmp_path / "enc.csv"
    path.write_bytes(prefix + text.encode(encoding))
    df = read_table(path)
    assert list(df.columns) == ["user_id", "city"]
    assert df["city"].tolist() == ["Zürich", "Besançon"]


def test_csv_not_utf8_after_the_sniffed_head_falls_back_and_says_so(tmp_path):
    head = "user_id,city\n" + "".join(f"u{i},Paris\n" for i in range(200_000))
    path = tmp_path / "late.csv"
    path.write_bytes(head.encode() + "u_last,Besançon\n".encode("cp1252"))
    df, info = load_table(path)
    assert df["city"].iloc[-1] == "Besançon"
    assert info.options["encoding"] == "cp1252"
    assert any("cp1252" in note for note in info.notes)


def test_gzip_csv_is_read_by_content_not_name(tmp_path):
    text = "user_id,age\nu1,31\nu2,45\n"
    path = tmp_path / "users.data"
    path.write_bytes(gzip.compress(text.encode()))
    df, info = load_table(path)
    assert info.options["compression"] == "gzip"
    assert df["age"].tolist() == [31, 45]


def test_id_and_leading_zero_columns_keep_their_text(tmp_path):
    text = "customer_id,zip,amount\n007,01234,5\n010,02000,6\n123,75001,7\n"
    df = read_table(write(tmp_path / "z.csv", text))
    assert df["customer_id"].tolist() == ["007", "010", "123"]
    assert df["zip"].tolist() == ["01234", "02000", "75001"]
    assert df["amount"].tolist() == [5, 6, 7]


def test_parquet_file_and_folder(tmp_path):
    _frame().to_parquet(tmp_path / "a.parquet")
    assert read_table(tmp_path / "a.parquet").equals(_frame())
    folder = tmp_path / "parts"
    folder.mkdir()
    _frame().iloc[:2].to_parquet(folder / "p1.parquet")
    _frame().iloc[2:].to_parquet(folder / "p2.parquet")
    assert len(read_table(folder)) == 3


def test_json_lines_nested_and_lists(tmp_path):
    lines = [
        {"user_id": "u1", "profile": {"age": 31, "city": "Paris"}, "tags": ["a", "b"]},
        {"user_id": "u2", "profile": {"age": 45, "city": "Lyon"}, "tags": ["c"]},
    ]
    path = write(tmp_path / "u.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    df = read_table(path)
    assert set(df.columns) == {"user_id", "profile.age", "profile.city", "tags"}
    assert df["tags"].tolist() == ["a;b", "c"]


def test_json_array_of_records(tmp_path):
    path = write(tmp_path / "u.json", json.dumps([{"user_id": "u1", "age": 3}] * 2))
    df, info = load_table(path)
    assert info.options["layout"] == "array"
    assert df.shape == (2, 2)


def test_a_line_that_is_not_json_is_named_by_its_number(tmp_path):
    """DuckDB's message counts one line too many: the line is found and named."""
    good = '{"user_id": "u1", "amount": 1.5}\n'
    path = tmp_path / "lines.jsonl"
    path.write_text(good * 3 + "oops\n" + good)
    for read in (personas.read_table, personas.profile):
        with pytest.raises(FileFormatError, match=r"lines.jsonl, line 4: not a JSON object"):
            read(path)
    odd = tmp_path / "lines[1].jsonl"  # (a name read through a link, a byte-order mark)
    odd.write_text("\ufeff" + good * 3 + "oops\n" + good, encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"lines\[1\].jsonl, line 4: not a JSON"):
        personas.read_table(odd)
    cut = tmp_path / "cut.jsonl.gz"  # (a download cut short: DuckDB's message, no traceback)
    cut.write_bytes(gzip.compress((good * 2000).encode())[:-40])
    with pytest.raises(FileFormatError, match="cut.jsonl.gz"):
        personas.read_table(cut)


def test_excel(tmp_path):
    pytest.importorskip("openpyxl")
    path = tmp_path / "u.xlsx"
    with pd.ExcelWriter(path) as xw:
        _frame().to_excel(xw, sheet_name="users", index=False)
        _frame().iloc[:1].to_excel(xw, sheet_name="other", index=False)
    assert len(read_table(path)) == 3  # ("other" repeats a row of "users": a view of it)
    assert any("left out as views" in n for n in load_table(path)[1].notes)
    assert len(read_table(path, sheet="other")) == 1
    with pytest.raises(SchemaError, match="no sheet 'nope'.*'users', 'other'"):
        read_table(path, sheet="nope")


def test_duckdb_file_table_and_query(tmp_path):
    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE users AS SELECT * FROM (VALUES ('u1', 31), ('u2', 45)) t(id, age)")
    con.close()
    assert read_table(path)["age"].tolist() == [31, 45]  # the only table
    assert len(read_table(path, query="SELECT * FROM users WHERE age > 40")) == 1
    assert len(read_table(f"duckdb:///{path}", table="users")) == 2
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE events AS SELECT 1 AS x")
    con.close()
    with pytest.raises(SchemaError, match="holds 2 tables.*--table"):
        read_table(path)
    with pytest.raises(SchemaError, match="no table 'nope'"):
        read_table(path, table="nope")
    with pytest.raises(FileFormatError, match="could not run the query"):
        read_table(path, query="SELECT nope FROM users")


def test_query_on_a_connection_and_on_files(tmp_path):
    con = duckdb.connect()
    df = read_table(con, query="SELECT 'u1' AS user_id, 3 AS visits")
    assert df.to_dict("records") == [{"user_id": "u1", "visits": 3}]
    _frame().to_parquet(tmp_path / "a.parquet")
    df = read_table(None, query=f"SELECT * FROM '{tmp_path / 'a.parquet'}' WHERE age < 40")
    assert len(df) == 2


def test_dataframe_passes_through():
    df = _frame()
    assert read_table(df) is df


# ---------------------------------------------------------------- clear errors


def test_missing_file_suggests_close_names(tmp_path):
    write(tmp_path / "users.csv", "a\n1\n")
    with pytest.raises(InputFileError, match=r"does not exist.*Did you mean .*users\.csv"):
        read_table(tmp_path / "user.csv")


def test_missing_folder(tmp_path):
    with pytest.raises(InputFileError, match="folder .* does not exist either"):
        read_table(tmp_path / "nowhere" / "users.csv")


def test_directory_without_parquet(tmp_path):
    with pytest.raises(InputFileError, match="holds no Parquet, CSV or JSON files"):
        read_table(tmp_path)


def test_binary_file(tmp_path):
    path = tmp_path / "blob.csv"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(FileFormatError, match="binary file.*NUL bytes"):
        read_table(path)


def test_misnamed_parquet(tmp_path):
    with pytest.raises(FileFormatError, match="named like a parquet file but its content"):
        read_table(write(tmp_path / "x.parquet", "user_id,age\nu1,3\n"))


def test_damaged_parquet(tmp_path):
    path = tmp_path / "x.parquet"
    _frame().to_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="could not be read as Parquet"):
        read_table(path)


def test_sqlite_is_refused_with_a_way_out(tmp_path):
    import sqlite3

    path = tmp_path / "crm.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x INT)").connection.commit()
    with pytest.raises(FileFormatError, match="SQLite database.*Export"):
        read_table(path)


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_file(tmp_path, content):
    with pytest.raises(EmptyDataError, match="is empty: it has no header and no rows"):
        read_table(write(tmp_path / "e.csv", content))


def test_header_only(tmp_path):
    with pytest.raises(EmptyDataError, match=r"has a header \(3 columns: 'a', 'b', 'c'\)"):
        read_table(write(tmp_path / "h.csv", "a,b,c\n"))


def test_empty_parquet(tmp_path):
    _frame().iloc[:0].to_parquet(tmp_path / "e.parquet")
    with pytest.raises(EmptyDataError, match="but no rows"):
        read_table(tmp_path / "e.parquet")


def test_rows_with_the_wrong_number_of_fields(tmp_path):
    text = "a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n11,12\n"
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(FileFormatError, match=r"2 row\(s\).*line 3: 4 fields, expected 3"):
        read_table(path)
    df, info = load_table(path, skip_bad_lines=True)
    assert len(df) == 2
    assert info.rows_skipped == 2
    assert "2 malformed row(s)" in info.notes[0]


def test_duplicate_header_names(tmp_path):
    with pytest.raises(FileFormatError, match=r"names column 'age' twice \(positions 2 and 3\)"):
        read_table(write(tmp_path / "d.csv", "id,age,age\n1,2,3\n"))


def test_blank_header_name_is_named(tmp_path):
    df = read_table(write(tmp_path / "b.csv", ",age\n0,31\n1,45\n"))
    assert list(df.columns) == ["unnamed_0", "age"]


def test_numbers_stay_exact(tmp_path):
    values = np.round(np.linspace(0, 1000, 50), 2)
    text = "x\n" + "\n".join(f"{v:.2f}" for v in values) + "\n"
    df = read_table(write(tmp_path / "n.csv", text))
    np.testing.assert_array_equal(df["x"].to_numpy(), values)


def test_iso_dates_in_csv_become_datetimes_not_phone_numbers(tmp_path):
    import personas

    text = "id,joined\n" + "".join(f"u{i},2020-01-{i % 28 + 1:02d}\n" for i in range(60))
    report = personas.validate(write(tmp_path / "d.csv", text))
    assert report.schema["joined"].role == "datetime"
    assert pd.api.types.is_datetime64_any_dtype(report.data["joined"])


@pytest.mark.parametrize("codec", ["gzip", "bz2", "xz", "zstd"])
def test_compressed_csv_by_content(tmp_path, codec):
    import bz2 as bz2_
    import lzma

    import pyarrow as pa

    text = b"user_id;age\nu1;31\nu2;45\n"
    path = tmp_path / "users.bin"
    if codec == "zstd":
        with pa.output_stream(str(path), compression="zstd") as out:
            out.write(text)
    else:
        packed = {"gzip": gzip.compress, "bz2": bz2_.compress, "xz": lzma.compress}[codec](text)
        write(path, packed)
    df, info = load_table(path)
    assert info.options["compression"] == codec
    assert df["age"].tolist() == [31, 45]


def test_a_zip_download_is_read_by_the_table_reader_too(tmp_path):
    """The user-table reader and the event-log reader read the same sources: a zip of one
    data file (as the UCI and Kaggle publish tables) is unpacked and read; an Excel
    workbook (a zip too) is still a workbook."""
    import zipfile

    import personas

    users = _frame()
    users.to_csv(tmp_path / "users.csv", index=False, sep=";")
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(tmp_path / "users.csv", "bank/users.csv")
        z.writestr("__MACOSX/bank/._users.csv", b"\x00\x05")
    df, info = load_table(archive)
    pd.testing.assert_frame_equal(df, read_table(tmp_path / "users.csv"))
    assert info.name == "download.zip/bank/users.csv" and info.options["delimiter"] == ";"
    report = personas.validate(archive)
    assert report.source.name == "download.zip/bank/users.csv" and report.n_rows == len(users)
    with zipfile.ZipFile(archive, "a") as z:
        z.write(tmp_path / "users.csv", "bank/more.csv")
    with pytest.raises(InputFileError, match=r"several data files \(bank/users.csv, bank/more"):
        load_table(archive)
    users.to_excel(tmp_path / "users.xlsx", index=False)
    assert load_table(tmp_path / "users.xlsx")[1].format == "excel"


def test_one_reader_for_tables_and_logs(tmp_path):
    """User tables and event logs are read by the same reader: a folder or a glob of CSV
    files (matched by column name), a value unlike the sniffed lines' far down a column
    (read as text, no line lost), a Windows (cp1252) export with a euro sign, bz2."""
    import bz2 as bz2_

    import personas

    folder = tmp_path / "parts"
    folder.mkdir()
    write(folder / "a.csv", "user_id,age\nu1,31\nu2,45\n")
    write(folder / "b.csv", "age,user_id\n27,u3\n")  # another column order
    for given in (folder, str(folder / "*.csv")):
        df = read_table(given)
        assert sorted(df["user_id"]) == ["u1", "u2", "u3"]
        assert df.set_index("user_id")["age"].to_dict() == {"u1": 31, "u2": 45, "u3": 27}
    late = "x,y\n" + "".join(f"{i},{i}\n" for i in range(30_000)) + "abc,1\n"
    df = read_table(write(tmp_path / "late.csv", late))
    assert len(df) == 30_001 and df["x"].iloc[-1] == "abc" and df["y"].iloc[-1] == 1
    log = "customer,date,amount,note\n" + "".join(
        f"c{i % 3},2024-01-{i % 28 + 1:02d},{i}.50,caf\u00e9 \u20ac\n" for i in range(30)
    )
    (tmp_path / "log.csv").write_bytes(log.encode("cp1252"))
    table, info = load_table(tmp_path / "log.csv")
    assert table["note"].iloc[0] == "caf\u00e9 \u20ac" and info.options["encoding"] == "cp1252"
    p = personas.profile(tmp_path / "log.csv", as_of="2024-02-01")
    assert any("not UTF-8: read as cp1252" in n for n in p.notes)
    assert p.data.set_index("user_id")["frequency"].to_dict() == {"c0": 10, "c1": 10, "c2": 10}
    (tmp_path / "log.csv.bz2").write_bytes(bz2_.compress(log.encode("utf-8")))
    q = personas.profile(tmp_path / "log.csv.bz2", as_of="2024-02-01")
    pd.testing.assert_frame_equal(q.data, p.data)


def test_the_sniffer_does_not_drop_lines_silently(tmp_path):
    """DuckDB's sniffer takes a first line of another width for a preamble and skips it;
    personas reads every line, and says which have the wrong number of fields."""
    path = write(tmp_path / "r.csv", "a,b\n1,2\n3,4,5\n")
    with pytest.raises(FileFormatError, match=r"1 row\(s\).*line 3: 3 fields, expected 2"):
        read_table(path)
    df, info = load_table(path, skip_bad_lines=True)
    assert df.to_dict("list") == {"a": [1], "b": [2]} and info.rows_skipped == 1


def test_values_past_the_sniffed_lines_are_typed_by_every_value(tmp_path):
    """DuckDB's sniffer types columns on its first lines, and its cast rounds 3.5 to 4
    and reads 007 as 7: whole numbers are typed by all their values, for tables and logs;
    a quoted value further down is read as one value."""
    import personas

    rows = "".join(f"c{i % 50},2024-01-{i % 28 + 1:02d},{i},{i}\n" for i in range(30_000))
    path = write(tmp_path / "late.csv", "customer,date,amount,member\n" + rows
                 + 'c1,2024-01-02,1000000.75,007\nc2,2024-01-03,5,"8"\n')  # fmt: skip
    df = read_table(path)
    assert df["amount"].dtype == float and df["amount"].iloc[-2] == 1000000.75
    assert df["member"].iloc[-2] == "007" and df["member"].iloc[0] == "0"
    p = personas.profile(path, as_of="2024-02-01")
    spent = p.data.set_index("user_id").loc["c1", "monetary"]
    assert spent == sum(i for i in range(30_000) if i % 50 == 1) + 1000000.75
    quoted = "id,city,n\n" + "".join(f"{i},Paris,{i}\n" for i in range(30_000))
    quoted += '30001,"Paris, France",5\n30002,"two\nlines",6\n'
    df = read_table(write(tmp_path / "quoted.csv", quoted))
    assert len(df) == 30_002 and df["city"].iloc[-2:].tolist() == ["Paris, France", "two\nlines"]


def test_folders_are_read_whole_and_of_one_kind(tmp_path):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    write(mixed / "a.csv", "a,b\n1,2\n")
    (mixed / "b.csv.gz").write_bytes(gzip.compress(b"a,b\n3,4\n"))
    write(mixed / "README.txt", "not data")
    df, info = load_table(mixed)
    assert df["a"].tolist() == [1, 3] and "Read 2 file(s)" in info.notes[0]
    _frame().to_parquet(mixed / "c.parquet")
    with pytest.raises(InputFileError, match=r"several formats: 2 csv .*1 parquet"):
        read_table(mixed)
    (mixed / "c.parquet").unlink()
    write(mixed / "d.csv", "a;b\n5;6\n")
    with pytest.raises(FileFormatError, match=r"not delimited alike \(.*d.csv ';'"):
        read_table(mixed)


def test_dates_names_and_workbooks_read_as_written(tmp_path):
    """ISO times with fractions of a second (pandas' JSON) are dates; dates all distinct are
    dates, not keys; names that differ only in case are both read (a note says how); a
    workbook's text "007" stays text; JSON lines named .csv are JSON."""
    import personas

    times = pd.date_range("2024-01-01", periods=60, freq="37h")
    users = pd.DataFrame({"user_id": [f"u{i}" for i in range(60)], "signup": times})
    users.to_json(tmp_path / "u.jsonl", orient="records", lines=True, date_format="iso")
    report = personas.validate(tmp_path / "u.jsonl")
    assert report.schema["signup"].role == "datetime" and report.data["signup"].tolist() == list(
        times
    )
    users["day"] = times.strftime("%d/%m/%Y")  # unique
    assert personas.validate(users).schema["day"].role == "datetime"
    df, info = load_table(write(tmp_path / "case.csv", "Age,age\n1,2\n"))
    assert df.iloc[0].tolist() == [1, 2] and "differ only in case" in " ".join(info.notes)
    pytest.importorskip("openpyxl")
    pd.DataFrame({"code": ["007", "010"], "n": [1, 2]}).to_excel(tmp_path / "c.xlsx", index=False)
    assert read_table(tmp_path / "c.xlsx")["code"].tolist() == ["007", "010"]
    with pytest.raises(SchemaError, match="no sheet 5"):
        read_table(tmp_path / "c.xlsx", sheet=5)
    lines = "\n".join(json.dumps({"user_id": f"u{i}", "age": i}) for i in range(5))
    assert read_table(write(tmp_path / "named.csv", lines))["age"].tolist() == list(range(5))


def test_every_command_takes_the_reading_options(tmp_path):
    """profile, segment, predict and eda read as validate does: --delimiter, --encoding,
    --skip-bad-lines, --sheet (the messages that name them hold for every command)."""
    from typer.testing import CliRunner

    import personas
    from personas.cli import app

    users, _ = personas.datasets.make_users(200, random_state=0)
    events = personas.datasets.make_events(users, random_state=0)
    text = events.to_csv(index=False, sep="|") + "u_bad|x\n"
    path = write(tmp_path / "events.txt", text)
    with pytest.raises(FileFormatError, match="--skip-bad-lines"):
        personas.profile(path)
    p = personas.profile(path, delimiter="|", skip_bad_lines=True)
    assert any("1 malformed row" in n for n in p.notes)
    run = CliRunner().invoke(app, ["profile", str(path), "-o", str(tmp_path / "p"),
                                   "--skip-bad-lines", "--delimiter", "|"])  # fmt: skip
    assert run.exit_code == 0, run.output
    for command in ("eda", "segment", "predict"):
        run = CliRunner().invoke(app, [command, "--help"])
        assert all(o in run.output for o in ("--delimiter", "--encoding", "--skip-bad-lines"))


def test_a_maintainers_review_of_the_one_reader(tmp_path):
    """What a review of the one reader found: a folder's malformed lines (DuckDB keeps no
    rejected lines for a read of several files), wide files without a header, ./paths,
    names with brackets, a sheet by position, '-' in a number column, 19-digit numbers,
    files of two encodings in one folder, a bad --encoding spelling, a failed zip."""
    import os

    import personas

    folder = tmp_path / "fb"
    folder.mkdir()
    write(folder / "a.csv", "user_id,age\nu1,31\nu2,45\n")
    write(folder / "b.csv", "user_id,age\nu3,27\nu4,34,9\n")
    with pytest.raises(FileFormatError, match=r"b.csv: 1 row\(s\).*line 3: 3 fields"):
        read_table(folder)
    df, info = load_table(folder, skip_bad_lines=True)
    assert sorted(df["user_id"]) == ["u1", "u2", "u3"] and info.rows_skipped == 1
    wide = "".join(",".join(["00123", *[str(i * j) for j in range(11)]]) + "\n" for i in range(5))
    df = read_table(write(tmp_path / "wide.csv", wide))
    assert df.shape == (5, 12) and df.iloc[0, 0] == "00123"
    profiles = tmp_path / "p.parquet"
    _frame().to_parquet(profiles)
    here = os.getcwd()
    try:
        os.chdir(tmp_path)
        df, info = load_table("./p.parquet")
        assert info.name == "p.parquet" and not info.notes
    finally:
        os.chdir(here)
    write(tmp_path / "users[1].csv", "user_id,age\nu1,1\n")
    write(tmp_path / "users1.csv", "user_id,age\nu9,9\n")
    assert read_table(tmp_path / "users[1].csv")["user_id"].tolist() == ["u1"]
    rows = "".join(f"u{i},{i}\n" for i in range(25_000))
    df = read_table(write(tmp_path / "dash.csv", "user_id,n\n" + rows + "u_x,-\n"))
    assert len(df) == 25_001 and df["n"].iloc[-1] == "-"
    big = read_table(write(tmp_path / "big.csv", "k,v\n1234567890123456789,1\n5,2\n"))
    assert big["k"].tolist() == [1234567890123456789, 5]
    mixed = tmp_path / "enc"
    mixed.mkdir()
    (mixed / "a.csv").write_bytes("user_id,city\nu1,Zürich\n".encode())
    (mixed / "b.csv").write_bytes("user_id,city\nu2,Besançon\n".encode("cp1252"))
    assert sorted(read_table(mixed)["city"]) == ["Besançon", "Zürich"]
    (tmp_path / "l1.csv").write_bytes("user_id,city\nu1,Besançon\n".encode("latin-1"))
    assert read_table(tmp_path / "l1.csv", encoding="latin_1")["city"].tolist() == ["Besançon"]
    with pytest.raises(personas.errors.PersonasError):
        personas.segment(tmp_path / "wide.csv", format="nope")


def test_a_file_named_like_a_pattern_is_named_in_messages(tmp_path):
    path = write(tmp_path / "users[2].csv", "a,b\n1,2\n3,4,5\n")
    with pytest.raises(FileFormatError, match=r"users\(2\).csv: 1 row\(s\)"):
        read_table(path)


def test_a_workbook_s_sheets_with_the_same_columns_are_one_user_table(tmp_path):
    """Customers split by region over sheets of one workbook: read together, with a note;
    a sheet named is read alone."""
    path = tmp_path / "customers.xlsx"
    eu = pd.DataFrame({"customer_id": ["e1", "e2", "e3"], "spend": [1.5, 2.5, 3.5]})
    us = pd.DataFrame({"customer_id": ["u1", "u2"], "spend": [4.0, 5.0]})
    with pd.ExcelWriter(path) as book:
        eu.to_excel(book, sheet_name="EU", index=False)
        us.to_excel(book, sheet_name="US", index=False)
    table, info = load_table(path)
    assert len(table) == 5 and any("Read 2 sheets" in n for n in info.notes)
    assert len(load_table(path, sheet="US")[0]) == 2
