from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import personas
from personas import __version__
from personas.cli import app
from tests.conftest import write

runner = CliRunner()
N = 120


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def _users_csv(tmp_path: Path, **changes) -> Path:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "user_id": [f"u{i:03d}" for i in range(N)],
            "age": rng.integers(18, 70, N),
            "plan": rng.choice(["free", "basic", "premium"], N),
            "spend": np.round(rng.gamma(2, 40, N), 2),
        }
    )
    for k, v in changes.items():
        df[k] = v
    path = tmp_path / "users.csv"
    df.to_csv(path, index=False)
    return path


def _no_traceback(result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_version_and_help():
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"personas {__version__}"
    for command in ["validate", "eda", "profile", "segment", "predict", "generate", "demo"]:
        result = run(command, "--help")
        assert result.exit_code == 0, command
        assert "Usage" in result.output


def test_validate_prints_roles_and_summary(tmp_path):
    result = run("validate", _users_csv(tmp_path))
    assert result.exit_code == 0, result.output
    assert "users.csv" in result.output
    assert "120 rows × 4 columns" in result.output
    assert "user_id" in result.output and "numeric" in result.output
    assert "usable" in result.output


def test_validate_json(tmp_path):
    result = run("validate", _users_csv(tmp_path), "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["columns"]["user_id"]["role"] == "id"
    assert doc["columns"]["plan"]["role"] == "categorical"
    assert doc["ok"] is True


def test_write_schema_edit_and_reuse(tmp_path):
    data = _users_csv(tmp_path)
    schema = tmp_path / "schema.toml"
    assert run("validate", data, "--write-schema", schema).exit_code == 0
    text = schema.read_text().replace(
        '[columns.age]\nrole = "numeric"', '[columns.age]\nrole = "ignore"'
    )
    schema.write_text(text)
    result = run("validate", data, "--schema", schema, "--json")
    assert json.loads(result.stdout)["columns"]["age"]["role"] == "ignore"


def test_html_output(tmp_path):
    out = tmp_path / "check.html"
    assert run("validate", _users_csv(tmp_path), "--html", out).exit_code == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page and "https://" not in page  # self-contained


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "nope.csv", "does not exist"),
        (lambda p: write(p / "bin.csv", bytes(range(256)) * 4), "binary file"),
        (lambda p: write(p / "empty.csv", ""), "is empty"),
        (lambda p: write(p / "header.csv", "user_id,age\n"), "has a header"),
        (lambda p: write(p / "ragged.csv", "a,b\n1,2\n3,4,5\n"), "wrong number of fields"),
        (lambda p: p, "holds no Parquet, CSV or JSON"),
    ],
)
def test_unreadable_inputs_exit_2_with_a_message(tmp_path, make, expected):
    result = run("validate", make(tmp_path))
    assert result.exit_code == 2
    assert expected in result.output
    assert "Error:" in result.output
    _no_traceback(result)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"user_id": ["u1"] * N}, "should be unique"),
        ({"user_id": [None] + [f"u{i}" for i in range(1, N)]}, "is empty on 1 row"),
    ],
)
def test_unusable_tables_exit_2(tmp_path, changes, expected):
    result = run("validate", _users_csv(tmp_path, **changes))
    assert result.exit_code == 2
    assert expected in result.output
    _no_traceback(result)


def test_no_feature_column_exits_2(tmp_path):
    path = write(
        tmp_path / "ids.csv", "user_id,email\n" + "".join(f"u{i},p{i}@x.org\n" for i in range(30))
    )
    result = run("validate", path)
    assert result.exit_code == 2
    assert "no column usable as a feature" in result.output


def test_warnings_do_not_fail_unless_strict(tmp_path):
    spend = np.round(np.random.default_rng(1).gamma(2, 40, N), 2).astype(str).astype(object)
    spend[5] = "inf"
    path = _users_csv(tmp_path, spend=spend, notes=[""] * N)
    assert run("validate", path).exit_code == 0
    assert run("validate", path, "--strict").exit_code == 1


def test_schema_naming_missing_column_exits_2(tmp_path):
    schema = write(tmp_path / "s.toml", '[columns.income]\nrole = "numeric"\n')
    result = run("validate", _users_csv(tmp_path), "--schema", schema)
    assert result.exit_code == 2
    assert "names column(s) ['income']" in result.output
    _no_traceback(result)


def test_json_errors_are_json_too(tmp_path):
    result = run("validate", tmp_path / "nope.csv", "--json")
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    assert doc["error"]["type"] == "InputFileError"


def test_query_without_file(tmp_path):
    data = _users_csv(tmp_path)
    result = run("validate", "--query", f"SELECT * FROM '{data}' WHERE age > 30", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"]["format"] == "sql"


def test_generate_writes_users_events_and_truth(tmp_path):
    result = run("generate", "-o", tmp_path / "g", "-n", 300, "--seed", 3, "--format", "csv")
    assert result.exit_code == 0, result.output
    users = pd.read_csv(tmp_path / "g" / "users.csv")
    truth = pd.read_csv(tmp_path / "g" / "truth.csv")
    events = pd.read_csv(tmp_path / "g" / "events.csv")
    assert len(users) == len(truth) == 300
    assert (events.groupby("user_id").size() > 0).all()
    assert run("validate", tmp_path / "g" / "users.csv").exit_code == 0


def test_generate_rejects_bad_options(tmp_path):
    result = run("generate", "-o", tmp_path, "--as-of", "yesterday-ish")
    assert result.exit_code == 2
    assert "--as-of must be a date" in result.output
    result = run("generate", "-o", tmp_path, "--format", "xlsx")
    assert result.exit_code == 2


def test_demo(tmp_path):
    out = tmp_path / "demo"
    result = run("demo", "-o", out, "-n", 1000)
    assert result.exit_code == 0, result.output
    for name in [
        "data/users.parquet",
        "data/events.parquet",
        "data/truth.parquet",
        "validation.json",
        "report.html",
    ]:
        assert (out / name).is_file(), name
    assert str(out / "report.html") in result.output.replace("\n", "")
    assert json.loads((out / "validation.json").read_text())["ok"] is True


def test_console_script_end_to_end(tmp_path):
    """The installed entry point, in a real subprocess."""
    exe = Path(sys.executable).with_name("personas")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "personas"]
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run(
        cmd + ["demo", "-o", str(tmp_path / "d"), "-n", "500"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "d" / "report.html").is_file()
    done = subprocess.run(
        cmd + ["validate", str(tmp_path / "missing.csv")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gen")
    assert run("generate", "-o", folder, "-n", 2500, "--no-events").exit_code == 0
    return folder


def test_segment_and_predict(generated, tmp_path):
    out = tmp_path / "seg"
    result = run("segment", generated / "users.parquet", "-o", out, "--k", "4", "--no-report")
    assert result.exit_code == 0, result.output
    labels = pd.read_parquet(out / "segments.parquet")
    assert list(labels.columns) == ["user_id", "segment", "segment_name", "distance", "confidence"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] == 4
    scored = tmp_path / "scored.csv"
    result = run("predict", out / "model.personas", generated / "users.parquet", "-o", scored)
    assert result.exit_code == 0, result.output
    assert "Ignored" in result.output and "email" in result.output
    assert (pd.read_csv(scored)["segment"].to_numpy() == labels["segment"].to_numpy()).all()


def test_segment_basis_and_errors(generated, tmp_path):
    result = run(
        "segment",
        generated / "users.parquet",
        "-o",
        tmp_path / "b",
        "--k",
        "3",
        "--basis",
        "purchases,sessions",
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["basis"] == [
        "purchases",
        "sessions",
    ]
    result = run("segment", generated / "users.parquet", "--basis", "email")
    assert result.exit_code == 2
    assert "cannot be in the basis" in result.output
    result = run("segment", generated / "users.parquet", "--k", "many")
    assert result.exit_code == 2
    assert "--k must be 'auto'" in result.output
    _no_traceback(result)


def test_segment_with_a_playbook(generated, tmp_path):
    book = tmp_path / "book.toml"
    book.write_text(
        'replace = true\n[[rule]]\nid = "big"\ntitle = "Big segment"\naction = "Look."\n'
        'when = ["size_share >= 0"]\nbecause = "{size_share:.0%} of users"\n'
    )
    out = tmp_path / "seg"
    result = run("segment", generated / "users.parquet", "-o", out, "--k", "3", "--playbook", book)
    assert result.exit_code == 0, result.output
    assert "Big segment" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert [i["rule"] for i in summary["insights"]["insights"]] == ["big"] * 3
    assert "Big segment" in (out / "report.html").read_text()
    book.write_text('[[rule]]\nid = "x"\ntitle = "t"\naction = "a"\nwhen = ["spend > 1"]\n')
    result = run("segment", generated / "users.parquet", "--k", "3", "--playbook", book)
    assert result.exit_code == 2
    assert "book.toml, rule 'x'" in result.output
    _no_traceback(result)


def test_predict_with_missing_columns_exits_2(generated, tmp_path):
    out = tmp_path / "seg"
    assert (
        run("segment", generated / "users.parquet", "-o", out, "--k", "3", "--no-report").exit_code
        == 0
    )
    small = tmp_path / "small.csv"
    pd.read_parquet(generated / "users.parquet").drop(columns=["sessions"]).to_csv(small)
    result = run("predict", out / "model.personas", small, "-o", tmp_path / "s.parquet")
    assert result.exit_code == 2
    assert "lacks column(s) ['sessions']" in result.output
    _no_traceback(result)
    result = run("predict", out / "model.personas", generated / "users.parquet", "--as-of", "2025")
    assert result.exit_code == 2 and "--as-of is for a model trained on an event log" in " ".join(
        result.output.split()
    )
    swapped = run("predict", small, out / "model.personas")  # (the data first, the model last)
    said = " ".join(swapped.output.split())
    assert (
        swapped.exit_code == 2 and "The arguments look swapped: model.personas is a model" in said
    )
    _no_traceback(swapped)


def test_eda_command(generated, tmp_path):
    out = tmp_path / "eda.html"
    result = run(
        "eda",
        generated / "users.parquet",
        "-o",
        out,
        "--json",
        tmp_path / "eda.json",
        "--sample-rows",
        "500",
    )
    assert result.exit_code == 0, result.output
    assert "statistics on a random sample of 500 rows" in " ".join(result.output.split())
    assert out.exists() and json.loads((tmp_path / "eda.json").read_text())["sample_rows"] == 500
    result = run("eda", tmp_path / "nope.csv")
    assert result.exit_code == 2
    _no_traceback(result)
    # how the table was read (dates read day first) is said, in the terminal and the page
    (tmp_path / "d.csv").write_text("user_id,signup\nu1,03/04/2024\nu2,05/06/2024\n")
    result = run("eda", tmp_path / "d.csv", "-o", tmp_path / "d.html")
    assert result.exit_code == 0 and "read day first" in " ".join(result.output.split())
    assert "read day first" in (tmp_path / "d.html").read_text()


def test_profile_command(tmp_path):
    users, _ = personas.datasets.make_users(300, random_state=1)
    events = personas.datasets.make_events(users, random_state=1)
    events.to_parquet(tmp_path / "events.parquet")
    out = tmp_path / "prof"
    result = run("profile", tmp_path / "events.parquet", "-o", out, "--as-of", "2025-06-30")
    assert result.exit_code == 0, result.output
    assert "RFM segments" in result.output and "user_id=user_id" in result.output
    data = pd.read_parquet(out / "profiles.parquet")
    assert data["user_id"].nunique() == len(data) == events["user_id"].nunique()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["as_of"].startswith("2025-06-30") and "recency_days" in summary["features"]
    result = run("profile", tmp_path / "events.parquet", "--user-id", "buyer")
    assert result.exit_code == 2 and "'buyer' is not in" in result.output
    _no_traceback(result)
    # The columns used come back as events.toml: renamed columns, the edited file passed back
    written = (out / "events.toml").read_text()
    assert '[events]\nuser_id = "user_id"' in written
    renamed = events.rename(columns={"user_id": "who", "platform": "via", "device": "gadget"})
    renamed.to_parquet(tmp_path / "renamed.parquet")
    edited = written.replace('user_id = "user_id"', 'user_id = "who"')
    edited = edited.replace('channel = "platform"', 'channel = "via"')
    (tmp_path / "edited.toml").write_text(edited.replace('device = "device"', 'device = "gadget"'))
    again = tmp_path / "prof_renamed"
    result = run(
        "profile",
        tmp_path / "renamed.parquet",
        "-o",
        again,
        "--as-of",
        "2025-06-30",
        "--schema",
        tmp_path / "edited.toml",
    )
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(
        pd.read_parquet(again / "profiles.parquet"), data, check_exact=False, rtol=1e-9
    )
    (tmp_path / "bad.toml").write_text('[events]\nbuyer = "who"\n')
    result = run("profile", tmp_path / "renamed.parquet", "--schema", tmp_path / "bad.toml")
    assert result.exit_code == 2 and "unknown meaning 'buyer'" in result.output
    _no_traceback(result)
    import duckdb

    con = duckdb.connect(str(tmp_path / "shop.duckdb"))
    con.execute(f"CREATE TABLE events AS SELECT * FROM '{tmp_path / 'events.parquet'}'")
    con.execute("CREATE TABLE stores AS SELECT 1 AS store_id")
    con.close()
    db_out = tmp_path / "prof_db"
    result = run(
        "profile",
        tmp_path / "shop.duckdb",
        "--table",
        "events",
        "-o",
        db_out,
        "--as-of",
        "2025-06-30",
    )
    assert result.exit_code == 0, result.output
    from_db = pd.read_parquet(db_out / "profiles.parquet")
    pd.testing.assert_frame_equal(from_db, data, check_exact=False, rtol=1e-9)
    assert "timings" in json.loads((db_out / "summary.json").read_text())
    result = run("profile", tmp_path / "shop.duckdb", "-o", db_out)
    assert result.exit_code == 2 and "holds 2 tables" in " ".join(result.output.split())
    _no_traceback(result)


def test_segment_an_event_log_profiles_its_users_first(tmp_path):
    users, _ = personas.datasets.make_users(400, random_state=2)
    events = personas.datasets.make_events(users, random_state=2)
    log = tmp_path / "events.csv"
    events.to_csv(log, index=False)
    out = tmp_path / "seg"
    result = run("segment", log, "-o", out, "--k", "3", "--no-report")
    assert result.exit_code == 0, result.output
    assert "events.csv is an event log" in result.output and "profiled first" in result.output
    profiles = pd.read_parquet(out / "profiles.parquet")
    labels = pd.read_parquet(out / "segments.parquet")
    assert len(labels) == len(profiles) == events["user_id"].nunique()
    assert sorted(labels["user_id"]) == sorted(profiles["user_id"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["source"]["name"] == "events.csv"
    assert summary["basis"] == ["recency_days", "frequency", "monetary", "tenure_days"]
    # the model scores the log it was trained on (its users' training segments), and
    # the log as of another date
    scored = tmp_path / "scored.csv"
    result = run("predict", out / "model.personas", log, "-o", scored)
    assert result.exit_code == 0, result.output
    assert "from their events as of" in result.output
    both = labels.merge(pd.read_csv(scored, dtype={"user_id": str}), on="user_id")
    assert len(both) == len(labels) and (both["segment_x"] == both["segment_y"]).all()
    result = run("predict", out / "model.personas", log, "-o", scored, "--as-of", "2025-01-01")
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(scored)) < len(labels)
    nested = tmp_path / "new" / "folder" / "scored.parquet"  # (folders are made)
    result = run("predict", out / "model.personas", log, "-o", nested, "--as-of", "2025-01-01")
    assert result.exit_code == 0 and nested.is_file(), result.output
    assert "at or after it" in result.output
    result = run("predict", out / "model.personas", log, "-o", scored, "--as-of", "")
    assert result.exit_code == 2 and "as_of '' is not a date" in result.output
    result = run("predict", out / "model.personas", log, "-o", scored, "--as-of", "soon")
    assert result.exit_code == 2 and "as_of 'soon' is not a date" in result.output
    _no_traceback(result)
    # in Python: the profiles come with the segmentation
    run_ = personas.segment(events, k=3)
    assert run_.events is not None and len(run_.labels) == len(run_.events.data)
    # a user id named for the table is the log's user id too
    renamed = events.rename(columns={"user_id": "who"})
    run_ = personas.segment(renamed, k=3, id_column="who")
    assert run_.events.mapping["user_id"] == "who" and len(run_.labels) == len(run_.events.data)
    # a user table whose ids repeat now and then is still an error, not a log
    twice = pd.concat([users, users.head(20)])
    with pytest.raises(personas.errors.DataError, match="should be unique"):
        personas.segment(twice)
    # a log, but nothing before the as_of given: that is the error
    with pytest.raises(personas.errors.DataError, match="No event of DataFrame is usable"):
        personas.segment(events, as_of="1999-01-01")
    # a log personas cannot profile (no time) keeps the validation's error
    with pytest.raises(personas.errors.DataError, match="looks like an event log"):
        personas.segment(events.drop(columns="timestamp"))


def test_segment_says_what_reading_set_aside(generated, tmp_path):
    users = pd.read_parquet(generated / "users.parquet")
    users["sessions"] = users["sessions"].astype(object)
    users.loc[:29, "sessions"] = "?"
    data = tmp_path / "users.csv"
    users.to_csv(data, index=False)
    result = run("segment", data, "-o", tmp_path / "out", "--k", "3", "--no-report")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Data: Column 'sessions': 30 value(s) '?' read as missing." in said
