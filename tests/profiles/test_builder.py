"""ProfileBuilder: the estimator contract, and a few users' events profiled as the whole
log profiles them (what the real-time service relies on)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import personas
from personas.errors import DataError
from personas.profiles import ProfileBuilder

AS_OF = "2025-06-30"


@pytest.fixture(scope="module")
def log():
    users, _ = personas.datasets.make_users(1500, random_state=3)
    return personas.datasets.make_events(users, random_state=3)


def _same_rows(whole: pd.DataFrame, part: pd.DataFrame) -> None:
    """Every user of ``part`` has the row ``whole`` gives them (numbers to 1e-9)."""
    assert list(part.columns) == list(whole.columns)
    expected = whole.set_index("user_id").loc[part["user_id"]]
    pd.testing.assert_frame_equal(expected, part.set_index("user_id"), check_dtype=False, rtol=1e-9)


def test_a_few_users_events_give_their_rows_of_the_whole_log(log):
    builder = ProfileBuilder()
    whole = builder.fit_transform(log, as_of=AS_OF)
    # the log has what depends on the population: subscriptions (the billing period of
    # days_to_renewal), shares, plans, RFM quintiles
    assert builder.billing_period_ is not None and "renewal" in builder.event_kinds_["present"]
    assert {"days_to_renewal", "plan", "share_category_other", "rfm"} <= set(whole.columns)
    rng = np.random.default_rng(0)
    for size in (1, 7, 60):
        chosen = rng.choice(whole["user_id"].to_numpy(), size, replace=False)
        part = builder.transform(log[log["user_id"].astype(str).isin(chosen)], as_of=AS_OF)
        assert sorted(part["user_id"]) == sorted(chosen)
        _same_rows(whole, part)
    # a user without a renewal, a purchase or a plan keeps every column (0 or empty)
    quiet = whole.loc[(whole["renewals"] == 0) & (whole["frequency"] == 0), "user_id"].iloc[0]
    part = builder.transform(log[log["user_id"].astype(str) == quiet], as_of=AS_OF)
    _same_rows(whole, part)


def test_events_may_come_under_the_meanings_own_names(log):
    shop = log.rename(columns={"user_id": "Kunde", "timestamp": "Zeit", "amount": "Betrag"})
    builder = ProfileBuilder({"user_id": "Kunde", "timestamp": "Zeit", "amount": "Betrag"})
    whole = builder.fit_transform(shop, as_of=AS_OF)
    assert builder.mapping_["user_id"] == "Kunde"
    few = log[log["user_id"].isin(log["user_id"].unique()[:20])]  # user_id, timestamp…
    _same_rows(whole, builder.transform(few, as_of=AS_OF))


def test_times_are_read_by_the_fitted_way_whatever_their_type(log, tmp_path):
    text = log.assign(timestamp=log["timestamp"].dt.strftime("%m/%d/%Y %H:%M:%S"))
    builder = ProfileBuilder()
    whole = builder.fit_transform(text, as_of=AS_OF)
    assert builder.time_reader_["how"] == "format"
    assert builder.time_reader_["format"].startswith("%m/%d")  # days above 12 say so
    # the same month-first text where every day is 12 or less: read alone, day first
    # (the policy for dates that fit both orders, said in a note)...
    ids = log["user_id"].unique()[:40]
    few = text[text["user_id"].isin(ids)]
    early = few[pd.to_datetime(few["timestamp"], format="%m/%d/%Y %H:%M:%S").dt.day <= 12]
    alone = ProfileBuilder().fit_profile(early, as_of=AS_OF)
    assert alone.builder.time_reader_["format"].startswith("%d/%m")
    assert any("reads both as" in note and "read day first" in note for note in alone.notes)
    # ... but as the whole log was by its builder, as a DataFrame or a CSV file
    expected = ProfileBuilder().fit_transform(log.loc[early.index], as_of=AS_OF)
    early.to_csv(tmp_path / "early.csv", index=False)
    for given in (early, tmp_path / "early.csv"):
        part = builder.transform(given, as_of=AS_OF).set_index("user_id")
        for col in ("tenure_days", "recency_days", "active_days"):
            pd.testing.assert_series_equal(part[col], expected.set_index("user_id")[col])
    # and real timestamps, as they are
    _same_rows(whole, builder.transform(log[log["user_id"].isin(ids)], as_of=AS_OF))


def test_new_events_are_scored_against_the_fitted_population(log):
    builder = ProfileBuilder().fit(log[log["timestamp"] < "2025-01-01"], as_of="2025-01-01")
    later = log.astype({"category": "string"})
    later.loc[later.index[:50], "category"] = "a category never seen"
    profiles = builder.transform(later, as_of=AS_OF)
    assert list(profiles.columns) == builder.columns_  # the fitted columns, in their order
    # quintile edges of the fitted log: a buyer above the top edge scores 5
    top = builder.rfm_thresholds_["m_score"][-1]
    richer = profiles[(profiles["frequency"] > 0) & (profiles["monetary"] >= top)]
    assert len(richer) and (richer["m_score"] == 5).all()
    # the unseen category is pooled with the rarer ones
    new = later.iloc[:50]
    new = new[new["timestamp"] < AS_OF].groupby("user_id").size()
    got = profiles.set_index("user_id").loc[new.index]
    assert (got["share_category_other"] * got["n_events"] >= new - 1e-9).all()


def test_the_estimator_contract(log, tmp_path):
    builder = ProfileBuilder(top_levels=3, clv="auto")
    assert clone(builder).get_params() == builder.get_params()
    assert builder.set_params(top_levels=4).top_levels == 4
    with pytest.raises(NotFittedError):
        builder.transform(log)
    assert builder.fit(log, as_of=AS_OF) is builder
    once = builder.fit_transform(log, as_of=AS_OF)
    pd.testing.assert_frame_equal(builder.transform(log, as_of=AS_OF), once)
    assert list(builder.get_feature_names_out()) == list(once.columns)
    # nothing is learned in __init__, and bad options are refused in fit, before reading
    with pytest.raises(DataError, match="time_unit must be one of"):
        ProfileBuilder(clv=True, time_unit="fortnight").fit(tmp_path / "absent.csv")
    # the fitted log's columns are needed (under its names or the meanings')
    users, _ = personas.datasets.make_users(50, random_state=0)
    with pytest.raises(DataError, match=r"lacks the column\(s\) profiles are built from: "):
        builder.transform(users)
    with pytest.raises(DataError, match="'timestamp' \\(the timestamp, or 'timestamp'\\)"):
        builder.transform(log.drop(columns="timestamp"))


@pytest.mark.realdata
def test_a_few_customers_of_online_retail_as_in_the_whole_log(datasets_dir, tmp_path):
    """UCI's Online Retail II: 300 customers' invoice lines alone (as a DataFrame typed by
    pandas, and as a CSV whose columns DuckDB types again) give their rows of the whole
    log's profiles, lifetime values included."""
    path = datasets_dir / "online_retail_ii" / "online_retail_ii_2009_2010.csv.gz"
    builder = ProfileBuilder(clv="auto")
    profiles = builder.fit_profile(path)
    whole = profiles.data
    assert builder.clv_ is not None and "clv" in whole.columns
    chosen = whole["user_id"].sample(300, random_state=0).astype(int).tolist()
    lines = duckdb.sql(f"SELECT * FROM read_csv('{path}')").df()
    few = lines[lines["Customer ID"].isin(chosen)]
    part = builder.transform(few, as_of=profiles.as_of)
    assert len(part) == 300
    _same_rows(whole, part)
    few.to_csv(tmp_path / "few.csv", index=False)
    _same_rows(whole, builder.transform(tmp_path / "few.csv", as_of=profiles.as_of))


def test_profiling_and_validating_do_not_import_scikit_learn():
    """scikit-learn costs about a second to import (it loads SciPy's stats): profiling a
    log and validating a table do without it, though ProfileBuilder is an estimator."""
    import subprocess
    import sys

    code = (
        "import sys, personas\n"
        "users, _ = personas.datasets.make_users(50, random_state=0)\n"
        "events = personas.datasets.make_events(users, random_state=0)\n"
        "personas.validate(users); personas.profile(events)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _shop(n_users: int = 30) -> pd.DataFrame:
    """A small shop log: dates and times of day apart, a cancellation flag."""
    rng = np.random.default_rng(4)
    n = n_users * 6
    day = pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 150, n), unit="D")
    return pd.DataFrame(
        {
            "customer": [f"c{i % n_users}" for i in range(n)],
            "date": day.strftime("%d.%m.%Y"),
            "time": [
                f"{h:02d}:{m:02d}"
                for h, m in zip(rng.integers(0, 24, n), rng.integers(0, 60, n), strict=True)
            ],
            "amount": rng.gamma(2.0, 20.0, n).round(2),
            "is_cancelled": np.where(rng.random(n) < 0.2, "Y", "N"),
        }
    )


def test_what_the_fitted_log_said_holds_under_other_names():
    shop = _shop()
    builder = ProfileBuilder()
    whole = builder.fit_transform(shop, as_of=AS_OF)
    assert builder.mapping_["status"] == "is_cancelled"
    assert builder.time_reader_["clock"] == "time"
    assert builder.input_columns()["time_of_day"] == "time"
    # the flag under its meaning's name is still a flag (its cancelled lines buy nothing)
    renamed = shop.rename(columns={"is_cancelled": "status"})
    _same_rows(whole, builder.transform(renamed, as_of=AS_OF))
    # without the time of day every time would be midnight: refused, naming the column
    with pytest.raises(DataError, match="'time' \\(the time of day of 'date'\\)"):
        builder.transform(shop.drop(columns="time"), as_of=AS_OF)


def test_a_failed_fit_leaves_the_builder_as_it_was(log):
    builder = ProfileBuilder().fit(log, as_of=AS_OF)
    before = {k: v for k, v in vars(builder).items() if k.endswith("_")}
    with pytest.raises(personas.errors.NoUsableEventsError, match="No event of .* is usable"):
        builder.fit(_shop(), as_of="2001-01-01")  # every event after as_of
    after = {k: v for k, v in vars(builder).items() if k.endswith("_")}
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] or after[k] == before[k] for k in before)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"top_levels": "5"}, "top_levels must be a whole number of 1 or more, not '5'"),
        ({"top_levels": -2}, "top_levels must be a whole number of 1 or more, not -2"),
        ({"drop_duplicates": "no"}, "drop_duplicates must be True or False, not 'no'"),
        ({"horizon_days": "x"}, "horizon_days must be a number of days above 0"),
        ({"cancelled_invoices": "maybe"}, "cancelled_invoices must be True, False or None"),
        ({"date_order": "mdy"}, "date_order must be 'day' or 'month', not 'mdy'"),
    ],
)
def test_bad_options_are_named(options, match):
    with pytest.raises(personas.errors.PersonasError, match=match):
        ProfileBuilder(**options).fit(_shop())


def test_as_of_is_read_as_dates_are(log):
    builder = ProfileBuilder().fit(log, as_of="01/06/2025")  # 1 June, day first
    assert builder.as_of_.startswith("2025-06-01")
    month = ProfileBuilder(date_order="month").fit(log, as_of="01/06/2025")
    assert month.as_of_.startswith("2025-01-06")
    for bad in ("", "soon", "31/31/2025"):
        with pytest.raises(DataError, match=f"as_of {bad!r} is not a date"):
            builder.transform(log, as_of=bad)
    # without as_of, a few users' events are profiled as of their own last day: said
    few = builder.profile(log[log["user_id"].isin(log["user_id"].unique()[:3])])
    assert any(n.startswith("Profiled as of") and "fitted as of 2025-06-01" in n for n in few.notes)


def test_a_fitted_builders_errors_name_no_flag_of_a_fit():
    """Columns a fitted builder cannot read are named with what they hold, and the fix
    given is a log like the fitted one or a new fit — not --price or --timestamp, which
    choose the columns of a fit (predict has neither)."""
    dates = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-05"])
    log = pd.DataFrame({"user": ["a", "b", "a"], "date": dates, "price": [1.5, 2, 3]})
    builder = ProfileBuilder().fit(log, as_of="2024-12-31")
    for bad, words in (
        (log.assign(price=["gratis", "free", "nada"]), "price column 'price'"),
        (log.assign(date=["soon", "later", "never"]), "time column 'date'"),
        (log.assign(date=[1.5, 2.5, 3.5]), "numbers from 1.5 to 3.5"),
    ):
        with pytest.raises(personas.errors.DataError) as caught:
            builder.transform(bad, as_of="2024-12-31")
        assert words in str(caught.value) and "--" not in str(caught.value)
        assert "fit again on this log" in str(caught.value)


def test_a_log_of_mixed_id_kinds_and_times_of_another_form_are_read():
    """Ids of mixed kinds in a DataFrame (17850 beside "u2", as pandas reads a sheet) are
    text, not an Arrow error; a builder fitted on dates alone reads a log whose text has
    dates and times by what that text holds (with a note), not as all unreadable."""
    when = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05"])
    log = pd.DataFrame({"user_id": [1, "u2", 3.0, 1], "timestamp": when, "amount": 1.0})
    p = personas.profile(log, as_of="2024-12-31")
    assert sorted(p.data["user_id"]) == ["1", "3", "u2"]
    assert p.data.set_index("user_id").loc["1", "frequency"] == 2
    when = when[:3].append(pd.DatetimeIndex(["2024-01-15"]))  # (a day above 12: month first)
    dates = log.assign(user_id=["a", "b", "c", "a"], timestamp=when.strftime("%m/%d/%Y"))
    builder = ProfileBuilder().fit(dates, as_of="2024-12-31")
    assert builder.time_reader_["format"] == "%m/%d/%Y"
    stamped = dates.assign(timestamp=when.strftime("%d/%m/%Y %H:%M"))
    run = builder.profile(stamped, as_of="2024-12-31")
    assert run.cleaning["unreadable_timestamp"] == 0
    assert run.data.set_index("user_id").loc["c", "tenure_days"] == 363  # January 3rd
    assert any("holds times written like" in n for n in run.notes), run.notes
