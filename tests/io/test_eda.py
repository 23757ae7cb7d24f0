from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import personas
from personas.io._eda import _correlation_ratio, _cramers_v


@pytest.fixture(scope="module")
def users():
    users, _ = personas.datasets.make_users(4000, random_state=6)
    return users


def test_sample_is_bounded_and_said(users, tmp_path):
    report = personas.eda(users, sample_rows=1000)
    assert report.n_rows == 4000 and report.sample_rows == 1000 and report.sampled
    page = report.write_html(tmp_path / "eda.html").read_text()
    assert "random sample of 1,000 rows" in page
    full = personas.eda(users)
    assert not full.sampled and "Statistics use every row" in full.html()


def test_personal_data_is_never_shown(users):
    page = personas.eda(users, sample_rows=2000).html()
    for column in ("email", "full_name", "phone", "feedback"):
        values = users[column].dropna().astype(str).head(50)
        assert not any(v in page for v in values if len(v) > 6), column
    assert "personal data: not shown" in page


def test_associations_and_near_duplicate_alert():
    rng = np.random.default_rng(0)
    x = rng.normal(size=3000)
    plan = rng.choice(["free", "basic", "premium"], 3000)
    df = pd.DataFrame(
        {
            "spend": np.exp(x),
            "spend_eur": np.exp(x) * 0.92,  # the same information twice
            "visits": rng.poisson(5, 3000),
            "plan": plan,
            "tier": pd.Series(plan).map({"free": "A", "basic": "B", "premium": "C"}),
        }
    )
    report = personas.eda(df)
    top = report.associations.iloc[0]
    assert top["association"] == pytest.approx(1.0)
    assert {top["a"], top["b"]} in ({"spend", "spend_eur"}, {"plan", "tier"})
    pairs = {frozenset((r.a, r.b)): r.association for r in report.associations.itertuples()}
    assert pairs[frozenset(("plan", "tier"))] == pytest.approx(1.0)
    assert pairs[frozenset(("spend", "visits"))] < 0.1
    dup = [a for a in report.alerts if "nearly the same information" in a["message"]]
    assert {a["column"] for a in dup} >= {"spend, spend_eur", "plan, tier"}


def test_association_measures():
    a = np.array([0, 0, 1, 1, 2, 2] * 50)
    assert _cramers_v(a, a) == pytest.approx(1.0)
    rng = np.random.default_rng(1)
    assert _cramers_v(rng.integers(0, 3, 5000), rng.integers(0, 3, 5000)) < 0.05
    v = np.where(a == 0, 1.0, np.where(a == 1, 5.0, 9.0))
    assert _correlation_ratio(v, a) == pytest.approx(1.0)
    assert _correlation_ratio(rng.normal(size=300), a) < 0.2


def test_numeric_extras_and_views(users, tmp_path):
    report = personas.eda(users)
    spend = report.columns["total_spend"]
    assert spend["skew"] > 2 and spend["pct_zero"] > 0
    assert spend["p5"] <= spend["median"] <= spend["p95"]
    assert any("total_spend" in a["message"] and "skewed" in a["message"] for a in report.alerts)
    df = report.to_pandas()
    assert list(df.columns) == [
        "column",
        "role",
        "pct_missing",
        "n_unique",
        "median",
        "top",
        "skew",
    ]
    doc = json.loads(report.to_json(tmp_path / "eda.json"))
    assert doc["n_rows"] == 4000 and doc["columns"]["email"]["role"] == "pii"
    assert "EDA" in repr(report) and "<table>" in report._repr_html_()
    for kind in ("missing", "associations"):
        assert report.plot(kind).axes
        assert report.plot(kind, interactive=True).data


def test_a_validation_report_is_explored_as_it_is(users):
    checked = personas.validate(users)
    report = personas.eda(checked, sample_rows=500)
    assert report.n_rows == 4000 and report.sample_rows == 500
    # column counts come from validating every row
    assert report.columns["income"]["n_missing"] == checked.columns["income"]["n_missing"]


def test_a_one_row_table_is_refused_and_findings_name_the_file(tmp_path):
    import personas
    from personas.errors import DataError

    (tmp_path / "one.csv").write_text("user_id,age\nu1,30\n")
    with pytest.raises(DataError, match="one.csv has 1 row"):
        personas.eda(tmp_path / "one.csv")
    (tmp_path / "two.csv").write_text("user_id,age\nu1,30\nu2,30\n")
    alerts = personas.eda(tmp_path / "two.csv").alerts
    assert any(a["message"].startswith("two.csv has no column usable") for a in alerts)
