from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import personas
from personas.errors import DataError, SchemaError
from personas.preprocess import BasisBuilder, skew_transform


@pytest.fixture(scope="module")
def typed():
    users, truth = personas.datasets.make_users(4000, random_state=0)
    report = personas.validate(users)
    return report.data, report.schema, truth


def test_contract(typed):
    data, schema, _ = typed
    builder = BasisBuilder(schema)
    assert clone(builder).get_params() == builder.get_params()
    assert not hasattr(builder, "columns_")  # nothing set in __init__
    assert builder.fit(data) is builder
    X1 = builder.transform(data)
    X2 = BasisBuilder(schema).fit_transform(data)
    np.testing.assert_array_equal(X1, X2)
    assert X1.dtype == np.float32
    assert X1.shape == (len(data), len(builder.get_feature_names_out()))
    with pytest.raises(DataError, match=r"lacks the basis column\(s\) \['age'\]"):
        builder.transform(data.drop(columns="age"))


def test_default_basis_excludes_ids_pii_text_and_high_cardinality(typed):
    data, schema, _ = typed
    builder = BasisBuilder(schema).fit(data)
    for col in ["user_id", "full_name", "email", "phone", "city", "feedback"]:
        assert col not in builder.basis_
    assert "signup_date_days_ago" in builder.get_feature_names_out()


def test_every_column_has_an_equal_say(typed):
    data, schema, _ = typed
    builder = BasisBuilder(schema).fit(data)
    X = builder.transform(data)
    start = 0
    for c in builder.columns_:
        width = len(c.features)
        total_var = X[:, start : start + width].var(axis=0).sum()
        assert total_var == pytest.approx(1.0, abs=0.05), c.column
        start += width


def test_skewed_money_is_log_transformed_and_recorded(typed):
    data, schema, _ = typed
    record = {g["column"]: g for g in BasisBuilder(schema).fit(data).describe()}
    assert any("log1p" in step for step in record["total_spend"]["steps"])
    assert not any("log1p" in step for step in record["age"]["steps"])
    assert any("one-hot" in step for step in record["membership_type"]["steps"])


def test_informative_missingness_gets_an_indicator(typed):
    data, schema, _ = typed
    builder = BasisBuilder(schema).fit(data)
    names = list(builder.get_feature_names_out())
    assert "avg_order_value_missing" in names  # missing exactly when there is no purchase
    assert "income_missing" not in names  # missing at random


def test_explicit_basis_and_bad_basis(typed):
    data, schema, _ = typed
    builder = BasisBuilder(schema, basis=["purchases", "device_type"]).fit(data)
    assert builder.basis_ == ["purchases", "device_type"]
    with pytest.raises(SchemaError, match="'email' cannot be in the basis: its role is 'pii'"):
        BasisBuilder(schema, basis=["email"]).fit(data)
    with pytest.raises(SchemaError, match=r"\['nope'\] are not in the table"):
        BasisBuilder(schema, basis=["nope"]).fit(data)


def test_unseen_categories_and_missing_values_at_transform(typed):
    data, schema, _ = typed
    builder = BasisBuilder(schema).fit(data)
    new = data.head(3).copy()
    new["device_type"] = pd.Categorical(["smartwatch", None, "mobile"])
    new["age"] = np.nan
    X = builder.transform(new)
    assert np.isfinite(X).all()


def test_the_fitted_state_is_typed_and_skew_is_decided_once(typed):
    from personas.interpret import numeric_view
    from personas.preprocess import BasisColumn

    data, schema, _ = typed
    builder = BasisBuilder(schema, basis=["total_spend", "membership_type", "interests"])
    builder.fit(data)
    spend = builder.column("total_spend")
    assert isinstance(spend, BasisColumn) and spend.kind == "numeric"
    assert spend.transform == "log1p" and spend.features == ["total_spend"]
    assert spend.weight > 0 and spend.low < spend.high and spend.scale > 0
    kind = builder.column("membership_type")
    assert kind.kind == "onehot" and kind.features == [f"membership_type={v}" for v in kind.levels]
    assert builder.column("interests").kind == "labels" and builder.column("interests").labels
    with pytest.raises(KeyError, match="'age' is not a basis column"):
        builder.column("age")
    # every number of the table, in the basis or describing it, has one transform, which
    # the segments' profiles read (and the charts)
    numbers = [c for c, spec in schema.columns.items() if spec.role == "numeric"]
    assert set(numbers) <= set(builder.transforms_)
    assert builder.transforms_["age"] == "none"
    for col in ("total_spend", "purchases"):  # in the basis, and describing
        raw, scaled = numeric_view(builder, col, "numeric", data[col])
        expected = np.log1p(raw) if builder.transforms_[col] == "log1p" else raw
        np.testing.assert_allclose(scaled, expected)
    assert builder.transforms_["purchases"] == "log1p"


def test_as_of_with_an_offset_is_its_utc_time(typed):
    data, schema, _ = typed
    builder = BasisBuilder(schema, as_of="2024-01-02T01:00:00+02:00").fit(data)
    assert builder.as_of_ == "2024-01-01T23:00:00"
    with pytest.raises(DataError, match="as_of 'soon' is not a date"):
        BasisBuilder(schema, as_of="soon").fit(data)


def _one_column(values: np.ndarray) -> tuple[BasisBuilder, pd.DataFrame]:
    df = pd.DataFrame({"user_id": [f"u{i}" for i in range(len(values))], "spend": values})
    report = personas.validate(df)
    return BasisBuilder(report.schema).fit(report.data), report


def test_a_distant_group_of_users_is_not_clipped():
    # 7.5 % of users far from the rest: beyond the far fences, but a group, not outliers
    rng = np.random.default_rng(0)
    values = np.r_[rng.normal(100, 10, 7400), rng.normal(200, 10, 600)]
    builder, report = _one_column(values)
    (column,) = builder.columns_
    assert any(step.startswith("not clipped: 599 of 8000") for step in column.steps)
    assert column.high == np.inf
    X = builder.transform(report.data)
    assert len(np.unique(np.round(X[values > 170, 0], 3))) > 100  # not squeezed onto a bound
    finding = next(f for f in report.findings if f.code == "outliers")
    assert "a group of users" in finding.message and "keeps them" in finding.message


def test_a_skew_the_log_would_worsen_is_left_alone():
    # eight Gaussian segments of uneven size: two of the columns are skewed by their
    # segments; the log lowers one's skewness and raises the other's
    rng = np.random.default_rng(0)
    counts = (np.array([0.25, 0.2, 0.15, 0.12, 0.1, 0.08, 0.06, 0.04]) * 8000).astype(int)
    centres = rng.normal(0, 4, size=(8, 6))
    X = np.vstack([rng.normal(c, rng.uniform(0.7, 1.3), size=(n, 6))
                   for c, n in zip(centres, counts, strict=True)])  # fmt: skip
    assert skew_transform(X[:, 4])[0] == "none"  # skewness 1.7, 2.0 after the log
    assert skew_transform(X[:, 5])[0] == "signed_log1p"  # skewness 1.3, -0.3 after


def test_a_long_tail_is_logged_and_its_rare_outliers_clipped():
    rng = np.random.default_rng(1)
    values = np.r_[rng.lognormal(3, 0.5, 9990), np.full(10, 1e9)]  # 0.1 % far values
    builder, report = _one_column(values)
    (column,) = builder.columns_
    assert column.transform == "log1p"
    assert any(step.startswith("clipped to [") for step in column.steps)
    assert np.isfinite(column.high) and builder.transform(report.data).max() < 10
    finding = next(f for f in report.findings if f.code == "outliers")
    assert "will be clipped" in finding.message
