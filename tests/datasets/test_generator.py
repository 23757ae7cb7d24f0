from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import personas
from personas.datasets import ARCHETYPES, make_events, make_users

N = 20_000


@pytest.fixture(scope="module")
def data():
    users, truth = make_users(N, random_state=1)
    events = make_events(users, random_state=2)
    return users, truth, events


def test_columns_cover_every_attribute_group(data):
    users, truth, _ = data
    expected = {
        "user_id",
        "full_name",
        "email",
        "phone",
        "age",
        "gender",
        "country",
        "city",
        "income",
        "signup_date",
        "membership_type",
        "renewal_status",
        "usage_frequency",
        "purchases",
        "total_spend",
        "avg_order_value",
        "website_visits",
        "sessions",
        "engagement_minutes",
        "last_active_date",
        "device_type",
        "interests",
        "preferred_channel",
        "marketing_opt_in",
        "feedback",
    }
    assert set(users.columns) == expected
    assert "segment" not in users.columns  # the truth is kept apart
    assert list(truth.columns) == ["user_id", "segment", "segment_name"]
    assert truth["user_id"].equals(users["user_id"])
    assert users["user_id"].is_unique


def test_same_seed_same_data_other_seed_other_data():
    a, ta = make_users(500, random_state=7)
    b, tb = make_users(500, random_state=7)
    c, _ = make_users(500, random_state=8)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ta, tb)
    assert not a["total_spend"].equals(c["total_spend"])
    pd.testing.assert_frame_equal(make_events(a, random_state=1), make_events(b, random_state=1))


def test_segment_shares_follow_the_weights(data):
    _, truth, _ = data
    w = np.array([a.weight for a in ARCHETYPES[:6]])
    expected = w / w.sum()
    observed = truth["segment"].value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(observed, expected, atol=0.015)
    assert truth["segment_name"].nunique() == 6


def test_custom_number_of_segments_and_weights():
    _, truth = make_users(3000, n_segments=3, weights=[1, 1, 2], random_state=0)
    shares = truth["segment"].value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(shares, [0.25, 0.25, 0.5], atol=0.03)
    _, truth = make_users(2000, n_segments=10, random_state=0)
    assert truth["segment"].nunique() == 10


def test_missing_rates(data):
    users, _, _ = data
    rate = users.isna().mean()
    for col in ["age", "city", "phone", "preferred_channel"]:
        assert 0.005 < rate[col] < 0.08, col
    assert rate["income"] > 2 * rate["age"]  # income is missing more often
    assert 0.08 < rate["income"] < 0.2
    for col in ["user_id", "purchases", "total_spend", "sessions", "last_active_date"]:
        assert rate[col] == 0, col
    assert (users["gender"] == "unknown").mean() > 0.005  # a spelled-out missing value
    # avg order value is missing exactly when there was no purchase
    assert (users["avg_order_value"].isna() == (users["purchases"] == 0)).all()


def test_realistic_shapes(data):
    users, _, _ = data
    assert users["city"].nunique() > 200  # a long tail
    top = users["city"].value_counts(normalize=True)
    assert top.iloc[0] > 10 * top.iloc[100]
    assert users["income"].skew() > 1  # skewed money
    assert users["total_spend"].skew() > 1
    assert ((users["age"] > 120) | (users["age"] == 0)).sum() > 0  # a few typos
    assert users["interests"].str.contains(";").mean() > 0.3
    assert set(users["marketing_opt_in"].dropna()) == {"yes", "no"}


def test_segments_drive_behaviour(data):
    users, truth, _ = data
    by = users.groupby(truth["segment_name"])
    spend = by["total_spend"].median()
    assert spend["Loyal premium"] > 5 * spend["Dormant casuals"]
    premium = by["membership_type"].apply(lambda s: (s == "premium").mean())
    assert premium["Loyal premium"] > 0.6
    recency = (
        (pd.Timestamp("2025-06-30") - users["last_active_date"])
        .dt.days.groupby(truth["segment_name"])
        .median()
    )
    assert recency["Lapsing high spenders"] > 5 * recency["Loyal premium"]


def test_events_match_the_users_table(data):
    users, _, events = data
    u = users.set_index("user_id")
    purchases = events[events["event_type"] == "purchase"].groupby("user_id", observed=True)
    counts = purchases.size().reindex(u.index, fill_value=0)
    assert (counts == u["purchases"]).all()
    spend = purchases["amount"].sum().reindex(u.index, fill_value=0.0)
    np.testing.assert_allclose(spend, u["total_spend"], atol=1e-6)
    sessions = events[events["event_type"] == "session"].groupby("user_id", observed=True)
    assert (sessions.size().reindex(u.index) == u["sessions"]).all()
    np.testing.assert_allclose(
        sessions["duration_min"].sum().reindex(u.index), u["engagement_minutes"], atol=1e-6
    )
    web = events[(events["event_type"] == "session") & (events["platform"] == "web")]
    visits = web.groupby("user_id", observed=True).size().reindex(u.index, fill_value=0)
    assert (visits == u["website_visits"]).all()
    active = events[events["event_type"].isin(["session", "purchase"])]
    last = active.groupby("user_id", observed=True)["timestamp"].max().dt.normalize()
    assert (last.reindex(u.index) == u["last_active_date"]).all()
    assert events["timestamp"].max() < pd.Timestamp("2025-06-30")
    assert events["timestamp"].min() >= pd.Timestamp("2024-06-30")
    assert events["timestamp"].is_monotonic_increasing


def test_subscription_events_match_plans(data):
    users, _, events = data
    u = users.set_index("user_id")
    cancels = events[events["event_type"] == "cancellation"]["user_id"]
    assert set(cancels) == set(u.index[u["renewal_status"] == "cancelled"])
    renewals = events[events["event_type"] == "renewal"]
    plans = u.loc[renewals["user_id"], "membership_type"].to_numpy()
    assert (plans != "free").all()
    assert (renewals["plan"].astype(str).to_numpy() == plans).all()
    refunds = events[events["event_type"] == "refund"]
    assert (refunds["amount"] < 0).all()
    assert set(refunds["order_id"]) <= set(events.loc[events.event_type == "purchase", "order_id"])


def test_generated_users_validate_cleanly(data):
    users, _, _ = data
    report = personas.validate(users)
    assert report.ok
    roles = report.schema.roles
    assert roles["user_id"] == "id"
    assert {roles[c] for c in ["full_name", "email", "phone"]} == {"pii"}
    assert roles["city"] == "high_cardinality"
    assert roles["interests"] == "multi_label"
    assert roles["marketing_opt_in"] == "boolean"
    assert roles["feedback"] == "text"
    assert roles["signup_date"] == "datetime"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_users": 0}, "n_users must be a positive integer"),
        ({"n_users": 10, "n_segments": 0}, "n_segments must be"),
        ({"n_users": 10, "missing_rate": 0.9}, "missing_rate"),
        ({"n_users": 10, "n_segments": 2, "weights": [1]}, "weights must be 2 positive"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_users(**kwargs)


def test_make_events_checks_its_input():
    users, _ = make_users(50, random_state=0)
    with pytest.raises(ValueError, match=r"missing: \['sessions'\]"):
        make_events(users.drop(columns="sessions"))
    with pytest.raises(ValueError, match="outside the window"):
        make_events(users, days=1)
