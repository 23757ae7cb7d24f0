"""Schema inference and validation on the real public data sets in ../shared/datasets."""

from __future__ import annotations

import pytest

import personas

pytestmark = pytest.mark.realdata


def test_telco(datasets_dir):
    report = personas.validate(datasets_dir / "telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv")
    roles = report.schema.roles
    assert report.ok
    assert report.n_rows == 7043
    assert report.schema.id_column == "customerID"
    assert roles["customerID"] == "id"
    # TotalCharges is a single space on the 11 rows with tenure 0: numbers stored as text.
    assert roles["TotalCharges"] == "numeric"
    assert report.data["TotalCharges"].isna().sum() == 11
    assert (report.data.loc[report.data["TotalCharges"].isna(), "tenure"] == 0).all()
    assert roles["Churn"] == "outcome"  # (issue 17: described per segment, not clustered on)
    assert int(report.data["Churn"].sum()) == 1869
    assert roles["SeniorCitizen"] == "boolean"
    assert roles["Contract"] == "categorical"
    assert roles["MonthlyCharges"] == "numeric"
    assert "pii" not in roles.values()
    assert "customerID" not in report.schema.feature_columns


def test_bank_marketing(datasets_dir):
    report = personas.validate(datasets_dir / "bank_marketing/bank-full.csv.gz")
    assert report.ok
    assert report.source.options["delimiter"] == ";"
    assert report.source.options["compression"] == "gzip"
    assert report.n_rows == 45211
    assert report.schema.id_column is None
    roles = report.schema.roles
    assert roles["y"] == "outcome"  # (the term deposit the campaign sought: issue 17)
    assert round(100 * report.data["y"].mean(), 2) == 11.70
    assert roles["job"] == "categorical"
    assert roles["balance"] == "numeric"
    # "unknown" means missing: read as missing, and counted.
    unknown_job = next(
        f for f in report.findings if f.code == "missing_token" and f.column == "job"
    )
    assert unknown_job.count == report.data["job"].isna().sum() == 288
    assert any(f.code == "placeholder" and f.column == "pdays" for f in report.findings)


def test_online_shoppers_without_id(datasets_dir):
    report = personas.validate(datasets_dir / "online_shoppers/online_shoppers_intention.csv")
    assert report.ok
    assert report.schema.id_column is None
    assert "id" not in report.schema.roles.values()
    assert report.n_duplicate_rows == 125
    roles = report.schema.roles
    assert roles["Revenue"] == "outcome"  # (the session bought: issue 17)
    assert int(report.data["Revenue"].sum()) == 1908
    assert roles["VisitorType"] == "categorical"
    for code_column in ["OperatingSystems", "Browser", "Region", "TrafficType"]:
        assert roles[code_column] == "categorical", code_column
    assert roles["ProductRelated_Duration"] == "numeric"


def test_online_retail_is_recognised_as_an_event_log(datasets_dir):
    report = personas.validate(datasets_dir / "online_retail_ii/online_retail_ii_2009_2010.csv.gz")
    assert report.n_rows == 525461
    assert report.schema.id_column == "Customer ID"
    codes = {f.code for f in report.errors}
    assert codes == {"duplicate_ids", "missing_ids"}
    missing = next(f for f in report.errors if f.code == "missing_ids")
    assert missing.count == 107927
    assert "event log" in next(f for f in report.errors if f.code == "duplicate_ids").message
    roles = report.schema.roles
    assert roles["Invoice"] in ("high_cardinality", "categorical")  # kept as text (C-prefix)
    assert roles["StockCode"] == "high_cardinality"
    assert roles["InvoiceDate"] == "datetime"
    assert report.data["Customer ID"].nunique() == 4383


def test_synthetic_clickstream(datasets_dir):
    report = personas.validate(datasets_dir / "synthetic_ecom_events/ecom.csv.gz")
    assert report.schema.id_column == "user_id"
    assert report.data["user_id"].nunique() == 600
    assert report.schema["timestamp"].role == "datetime"
    assert any(f.code == "duplicate_ids" for f in report.errors)
