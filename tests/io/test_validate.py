from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import personas
from personas.errors import DataError
from tests.conftest import write

N = 200
rng = np.random.default_rng(0)


def _users(**extra):
    df = pd.DataFrame(
        {
            "user_id": [f"u{i:03d}" for i in range(N)],
            "age": rng.integers(18, 70, N).astype(float),
            "plan": rng.choice(["free", "basic", "premium"], N),
            "spend": np.round(rng.gamma(2, 40, N), 2),
        }
    )
    for k, v in extra.items():
        df[k] = v
    return df


def _codes(report, level=None):
    return [f.code for f in report.findings if level is None or f.level == level]


def test_clean_table_is_usable():
    report = personas.validate(_users())
    assert report.ok
    assert report.errors == []
    assert report.schema.id_column == "user_id"
    assert report.n_rows == N
    assert len(report.data) == N  # no row dropped


def test_typed_data():
    df = _users(
        churn=["Yes", "No"] * (N // 2),
        joined=["31-01-2024", "15-12-2023"] * (N // 2),
        total=[" ", "12.5", "7", "1,250.75"] * (N // 4),
    )
    report = personas.validate(df)
    data = report.data
    assert str(data["churn"].dtype) == "boolean"
    assert data["churn"].sum() == N // 2
    assert pd.api.types.is_datetime64_any_dtype(data["joined"])
    assert data["joined"].iloc[0] == pd.Timestamp("2024-01-31")
    assert data["total"].isna().sum() == N // 4
    assert data["total"].dtype == np.float64
    assert data["total"].iloc[3] == 1250.75
    assert isinstance(data["plan"].dtype, pd.CategoricalDtype)


def test_duplicate_ids_are_an_error_with_rows():
    df = _users()
    df.loc[10, "user_id"] = "u005"
    report = personas.validate(df)
    assert not report.ok
    err = report.errors[0]
    assert err.code == "duplicate_ids"
    assert "'u005' on rows 6, 11" in err.message
    with pytest.raises(DataError, match="user-id column 'user_id' should be unique"):
        report.raise_for_errors()


def test_event_log_is_recognised():
    df = pd.DataFrame({"user_id": ["a", "b", "c"] * 50, "amount": rng.gamma(2, 3, 150)})
    report = personas.validate(df)
    assert "looks like an event log" in report.errors[0].message


def test_missing_ids_are_an_error():
    df = _users()
    df.loc[[3, 7], "user_id"] = None
    report = personas.validate(df)
    err = next(f for f in report.errors if f.code == "missing_ids")
    assert err.count == 2
    assert err.rows == [4, 8]


def test_no_usable_feature_column():
    df = pd.DataFrame(
        {"user_id": [f"u{i}" for i in range(N)], "email": [f"x{i}@a.com" for i in range(N)]}
    )
    report = personas.validate(df)
    assert _codes(report, "error") == ["no_features"]
    assert "user_id (id), email (pii)" in report.errors[0].message


def test_all_missing_column_is_ignored_with_a_warning():
    report = personas.validate(_users(notes=[None] * N))
    assert report.schema["notes"].role == "ignore"
    finding = next(f for f in report.findings if f.column == "notes")
    assert finding.level == "warning"
    assert "all 200 values are missing" in finding.message
    assert report.ok


def test_infinite_values_are_counted_and_read_as_missing():
    spend = rng.gamma(2, 40, N)
    spend[[4, 9]] = np.inf
    spend[12] = -np.inf
    report = personas.validate(_users(spend=spend))
    finding = next(f for f in report.findings if f.code == "infinite")
    assert finding.count == 3
    assert finding.rows == [5, 10, 13]
    assert report.data["spend"].isna().sum() == 3


def test_mixed_types_are_counted_with_rows_and_values():
    visits = [str(i) for i in range(N)]
    visits[17] = "lots"
    visits[42] = "n.a"
    report = personas.validate(_users(visits=visits))
    assert report.schema["visits"].role == "numeric"
    finding = next(f for f in report.findings if f.code == "mixed_types")
    assert finding.count == 2
    assert finding.rows == [18, 43]
    assert "'lots'" in finding.message
    assert report.data["visits"].isna().sum() == 2


def test_missing_tokens_are_reported_not_silent():
    job = rng.choice(["admin", "tech", "unknown"], N)
    report = personas.validate(_users(job=job))
    finding = next(f for f in report.findings if f.code == "missing_token")
    assert finding.count == int((job == "unknown").sum())
    assert report.data["job"].isna().sum() == finding.count


def test_placeholder_and_negative_and_age_checks():
    pdays = rng.integers(1, 400, N).astype(float)
    pdays[:50] = -1
    spend = rng.gamma(2, 40, N)
    spend[7] = -30
    age = rng.integers(18, 70, N).astype(float)
    age[3] = 150
    report = personas.validate(_users(pdays=pdays, spend=spend, age=age))
    codes = _codes(report)
    assert "placeholder" in codes
    assert "negative_values" in codes
    assert "implausible_age" in codes
    assert next(f for f in report.findings if f.code == "implausible_age").rows == [4]


def test_future_dates_and_inconsistent_spelling():
    joined = pd.Series(pd.date_range("2020-01-01", periods=N, freq="D"))
    joined[5] = pd.Timestamp("2199-01-01")
    plan = rng.choice(["free", "basic"], N).astype(object)
    plan[:3] = "Free"
    report = personas.validate(_users(joined=joined, plan=plan))
    codes = _codes(report)
    assert "implausible_date" in codes
    assert "inconsistent_spelling" in codes


def test_duplicate_rows_without_id():
    df = _users().drop(columns="user_id")
    df = pd.concat([df, df.iloc[:5]], ignore_index=True)
    report = personas.validate(df)
    assert report.n_duplicate_rows == 5
    assert report.schema.id_column is None
    assert "no_id" in _codes(report)


def test_pii_values_never_appear_in_the_report():
    emails = [f"secret{i}@example.com" for i in range(N)]
    report = personas.validate(_users(email=emails))
    text = report.to_json() + report.html()
    assert "secret" not in text


def test_json_has_roles_under_columns():
    doc = json.loads(personas.validate(_users()).to_json())
    assert doc["columns"]["user_id"]["role"] == "id"
    assert doc["columns"]["spend"]["role"] == "numeric"
    assert doc["ok"] is True
    assert doc["n_rows"] == N


def test_schema_file_and_path_input(tmp_path):
    path = tmp_path / "users.csv"
    _users().to_csv(path, index=False)
    schema = write(tmp_path / "s.toml", '[columns.age]\nrole = "ignore"\n')
    report = personas.validate(path, schema=schema)
    assert report.schema["age"].role == "ignore"
    assert report.source.name == "users.csv"


def test_declared_boolean_with_unknown_spelling_is_a_clear_error(tmp_path):
    schema = write(tmp_path / "s.toml", '[columns.plan]\nrole = "boolean"\n')
    with pytest.raises(personas.errors.SchemaError, match="'plan' is declared boolean"):
        personas.validate(_users(), schema=schema)


def test_result_object_views():
    report = personas.validate(_users())
    assert repr(report).startswith("<ValidationReport: DataFrame, 200 rows × 4 columns")
    assert "<table>" in report._repr_html_()
    assert list(report.to_pandas()["column"]) == ["user_id", "age", "plan", "spend"]


def test_schema_declares_a_numeric_placeholder_as_missing(tmp_path):
    pdays = rng.integers(1, 400, N).astype(float)
    pdays[:30] = -1
    schema = write(
        tmp_path / "s.toml", '[columns.pdays]\nrole = "numeric"\nmissing_values = ["-1"]\n'
    )
    report = personas.validate(_users(pdays=pdays), schema=schema)
    assert report.data["pdays"].isna().sum() == 30
    finding = next(f for f in report.findings if f.code == "missing_token")
    assert finding.count == 30
    assert "placeholder" not in _codes(report)


def test_large_id_column_is_trimmed_and_tokens_counted():
    # above 50,000 rows ids and free text are typed in Arrow, not through factorize
    n = 60_000
    ids = np.array([f"u{i}" for i in range(n)], dtype=object)
    ids[[10, 20]] = [" u10", "u20 "]
    ids[30] = "unknown"
    df = pd.DataFrame({"user_id": ids, "spend": rng.gamma(2, 40, n)})
    report = personas.validate(df)
    data = report.data
    assert data["user_id"].iloc[10] == "u10" and data["user_id"].iloc[20] == "u20"
    trimmed = next(c for c in report.changes if c.code == "trimmed")
    assert (trimmed.count, trimmed.rows) == (2, [11, 21])
    token = next(c for c in report.changes if c.code == "missing_token")
    assert (token.count, token.rows) == (1, [31])
    assert next(f for f in report.errors if f.code == "missing_ids").rows == [31]


def test_roles_of_long_tables_are_decided_on_a_sample(monkeypatch):
    from personas.io import _schema

    monkeypatch.setattr(_schema, "INFER_SAMPLE_ROWS", 150)
    rare = np.full(N, np.nan)
    rare[-1] = 5.0  # absent from most samples: inferred from its non-missing values
    report = personas.validate(_users(rare=rare))
    assert report.schema["spend"].role == "numeric"
    assert "sample of 150 rows" in report.schema["spend"].reason
    assert report.data["rare"].notna().sum() == 1  # every value still typed
    assert report.schema["rare"].role == "ignore"  # one value: constant, not "all missing"
    assert "constant" in report.schema["rare"].reason
