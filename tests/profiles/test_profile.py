"""Every feature against values computed by hand on a small event log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import personas
from personas.errors import DataError, FileFormatError, InputFileError, PersonasError, SchemaError

AS_OF = "2024-02-01"
ROWS = [
    # user, time, event, order, amount, minutes
    ("a", "2024-01-01 10:00:00", "purchase", "o1", 4.0, None),
    ("a", "2024-01-01 10:00:00", "purchase", "o1", 6.0, None),  # second line of o1
    ("a", "2024-01-05 12:00:00", "session", None, None, 5.0),
    ("a", "2024-01-11 00:00:00", "purchase", "o2", 30.0, None),
    ("a", "2024-01-20 00:00:00", "session", None, None, 15.0),
    ("a", "2024-01-21 00:00:00", "refund", "o2", 6.0, None),
    ("b", "2024-01-31 23:59:59", "purchase", "o3", 100.0, None),  # one event, 1 s before
    ("c", "2024-02-01 00:00:00", "purchase", "o4", 50.0, None),  # exactly at as_of: out
    ("c", "2024-01-31 20:00:00-05:00", "purchase", "o5", 70.0, None),  # 01:00 UTC: out
    ("c", "2024-01-15 12:00:00+02:00", "session", None, None, 10.0),  # 10:00 UTC: in
    ("d", "2024-01-10 08:00:00", "purchase", "o6", 20.0, None),
    ("d", "2024-01-10 08:00:00", "purchase", "o6", 20.0, None),  # exact duplicate
    (None, "2024-01-10 09:00:00", "purchase", "o7", 5.0, None),  # no user
]
DAY = 86_400


@pytest.fixture(scope="module")
def log():
    return pd.DataFrame(
        ROWS, columns=["user_id", "timestamp", "event_type", "order_id", "amount", "minutes"]
    )


@pytest.fixture(scope="module")
def prof(log):
    p = personas.profile(log, as_of=AS_OF)
    return p, p.data.set_index("user_id")


def test_cleaning_is_counted(prof):
    p, _ = prof
    c = p.cleaning
    assert c["rows_read"] == 13
    assert c["missing_user_id"] == 1
    assert c["at_or_after_as_of"] == 2  # the event at as_of and the one at 01:00 UTC
    assert c["duplicate_lines"] == 1
    assert c["rows_used"] == 9
    assert p.as_of.startswith("2024-02-01T00:00:00")
    assert p.mapping == {
        "user_id": "user_id",
        "timestamp": "timestamp",
        "event_type": "event_type",
        "order_id": "order_id",
        "amount": "amount",
        "duration": "minutes",
    }


def test_rfm_features_by_hand(prof):
    _, d = prof
    a = d.loc["a"]
    assert a["n_events"] == 6
    assert a["frequency"] == 2  # o1 (two lines) and o2; the refund is not an order
    assert a["monetary"] == pytest.approx(40.0)
    assert a["avg_order_value"] == pytest.approx(20.0)
    assert a["recency_days"] == pytest.approx(21.0)
    assert a["last_seen_days"] == pytest.approx(11.0)
    assert a["tenure_days"] == pytest.approx(30 + 14 / 24)
    assert a["inter_purchase_days"] == pytest.approx(9 + 14 / 24)
    assert a["active_days"] == 5
    assert a["active_weeks"] == 3  # weeks of Jan 1, Jan 8 and Jan 15 (Jan 20-21)
    assert a["returns"] == 1 and a["returns_value"] == pytest.approx(6.0)
    assert a["return_share"] == pytest.approx(0.5)


def test_windows_and_trends_by_hand(prof):
    _, d = prof
    a = d.loc["a"]
    assert (a["orders_7d"], a["orders_30d"], a["orders_90d"]) == (0, 1, 2)
    assert a["spend_30d"] == pytest.approx(30.0) and a["spend_365d"] == pytest.approx(40.0)
    assert (a["events_7d"], a["events_30d"]) == (0, 4)
    assert a["trend_30d"] == pytest.approx((4 - 2) / 6)  # 4 events since Jan 2, 2 before
    assert a["trend_90d"] == pytest.approx(1.0)  # nothing in the 90 days before


def test_sessions_and_engagement(prof):
    _, d = prof
    a = d.loc["a"]
    assert a["sessions"] == 2
    assert a["avg_session_minutes"] == pytest.approx(10.0)
    assert a["visits_per_active_week"] == pytest.approx(2 / 3)
    assert a["share_event_type_purchase"] == pytest.approx(3 / 6)
    assert a["share_event_type_session"] == pytest.approx(2 / 6)
    assert "share_event_type_other" not in d  # every type has its column: no rest


def test_share_of_the_rest(log):
    d = personas.profile(log, as_of=AS_OF, top_levels=1).data.set_index("user_id")
    assert [c for c in d if c.startswith("share_")] == [
        "share_event_type_purchase",  # the most frequent type (9 of the 13 lines read)
        "share_event_type_other",
    ]
    assert d.loc["a", "share_event_type_other"] == pytest.approx(3 / 6)  # sessions, refund
    assert d.loc["b", "share_event_type_other"] == 0.0


def test_single_event_users_edges_and_time_zones(prof):
    _, d = prof
    b = d.loc["b"]
    assert b["frequency"] == 1 and b["monetary"] == 100.0
    assert b["recency_days"] == pytest.approx(1 / DAY)
    assert np.isnan(b["inter_purchase_days"])
    c = d.loc["c"]  # only the +02:00 session counts
    assert c["n_events"] == 1 and c["frequency"] == 0
    assert c["tenure_days"] == pytest.approx(16 + 14 / 24)
    assert np.isnan(c["recency_days"]) and c["rfm_segment"] == "No purchase"
    assert d.loc["d", "n_events"] == 1 and d.loc["d", "monetary"] == 20.0  # duplicate dropped
    assert len(d) == 4


def test_rfm_scores_and_segments(prof):
    _, d = prof
    assert d.loc["b", ["r_score", "f_score", "m_score"]].tolist() == [5, 3, 5]
    assert d.loc["a", ["r_score", "f_score", "m_score"]].tolist() == [4, 5, 4]
    assert d.loc["d", ["r_score", "f_score", "m_score"]].tolist() == [2, 3, 2]
    assert d.loc["b", "f_score"] == d.loc["d", "f_score"]  # same frequency, same score
    assert d.loc["a", "rfm_segment"] == "Loyal customers"
    assert d.loc["b", "rfm_segment"] == "Potential loyalists"
    assert d.loc["d", "rfm_segment"] == "At risk"
    assert d.loc["b", "rfm"] == "535"


def test_rfm_quintiles_are_those_of_average_ranks():
    """Scores are quintiles of pandas' average ranks, ties and missing values included."""
    from personas.profiles._rfm import rfm_scores

    rng = np.random.default_rng(3)
    n = 2_000
    df = pd.DataFrame(
        {
            "frequency": rng.poisson(1.2, n),  # many zeros (no score) and many ties
            "recency_days": np.round(rng.random(n) * 90),
            "monetary": np.round(rng.random(n) * 40),
        }
    )
    df.loc[df["frequency"] == 0, "recency_days"] = np.nan
    df.loc[rng.random(n) < 0.02, "monetary"] = np.nan  # a buyer without a value: no M
    out = rfm_scores(df)
    buyers = df["frequency"] > 0
    for col, src, higher in (
        ("r_score", "recency_days", False),
        ("f_score", "frequency", True),
        ("m_score", "monetary", True),
    ):
        ranks = df.loc[buyers, src].rank(method="average", ascending=higher)
        expected = np.ceil(5 * ranks / ranks.notna().sum()).clip(1, 5)
        got = out.loc[buyers, col].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        np.testing.assert_array_equal(got, expected.to_numpy())
        assert out.loc[~buyers, col].isna().all()
    scored = out[["r_score", "f_score", "m_score"]].notna().all(axis=1)
    assert out.loc[~scored, "rfm"].isna().all()
    first = out.loc[scored].iloc[0]
    assert first["rfm"] == f"{first['r_score']}{first['f_score']}{first['m_score']}"
    assert (out.loc[~buyers, "rfm_segment"] == "No purchase").all()
    # By hand: ten buyers, recency 1..10 days (recent is better), spend 10, 20, 20, 40…
    small = pd.DataFrame(
        {
            "frequency": [1] * 10,
            "recency_days": np.arange(1.0, 11.0),
            "monetary": [10.0, 20, 20, 40, 50, 60, 70, 80, 90, 100],
        }
    )
    out = rfm_scores(small)
    assert out["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert out["m_score"].tolist() == [1, 2, 2, 2, 3, 3, 4, 4, 5, 5]  # 20s: rank 2.5
    assert out["f_score"].tolist() == [3] * 10  # all tied: rank 5.5 of 10


def test_keeping_duplicates_and_a_csv_file(log, tmp_path):
    path = tmp_path / "events.csv"
    log.to_csv(path, index=False)
    p = personas.profile(path, as_of=AS_OF, drop_duplicates=False)
    d = p.data.set_index("user_id")
    assert p.cleaning["at_or_after_as_of"] == 2  # offsets in the file are honoured too
    assert d.loc["d", "n_events"] == 2 and d.loc["a", "monetary"] == pytest.approx(40.0)


def test_duplicate_lines_count_once_in_every_feature():
    """Lines repeated two and three times give the profile of the log without them."""
    users, _ = personas.datasets.make_users(150, random_state=3)
    events = personas.datasets.make_events(users, random_state=3)
    twice = events.sample(frac=0.10, random_state=1)
    thrice = twice.sample(frac=0.3, random_state=2)
    noisy = pd.concat([events, twice, thrice, thrice]).sample(frac=1.0, random_state=4)
    assert len(noisy) > len(events)
    clean = personas.profile(events.drop_duplicates(), as_of="2025-06-30")
    dirty = personas.profile(noisy, as_of="2025-06-30")
    assert dirty.cleaning["duplicate_lines"] == len(noisy) - len(events.drop_duplicates())
    for rule in ("rows_used", "purchase_lines", "return_lines", "zero_prices"):
        assert dirty.cleaning[rule] == clean.cleaning[rule], rule
    # (Share columns may come in another order: levels are ranked by the lines read.)
    assert set(dirty.data.columns) == set(clean.data.columns)
    pd.testing.assert_frame_equal(
        dirty.data[clean.data.columns], clean.data, check_exact=False, rtol=1e-9
    )
    # Active days and weeks (bit masks over eight-week blocks) against pandas.
    before = events[events["timestamp"] < "2025-06-30"]
    by_user = before.groupby("user_id")["timestamp"]
    expected_days = by_user.agg(lambda t: t.dt.floor("D").nunique())
    expected_weeks = by_user.agg(lambda t: t.dt.to_period("W-SUN").nunique())
    got = clean.data.set_index("user_id")
    assert (got["active_days"] == expected_days.reindex(got.index)).all()
    assert (got["active_weeks"] == expected_weeks.reindex(got.index)).all()
    kept = personas.profile(noisy, as_of="2025-06-30", drop_duplicates=False)
    assert kept.data["n_events"].sum() == len(noisy)


@pytest.mark.parametrize("inline", [16, 0], ids=["with-the-events", "grouped-by-block"])
def test_active_days_and_weeks_both_ways(inline, monkeypatch):
    """Active days and weeks, counted with the events (few blocks of days) or by their own
    grouping by user × block, against pandas; times before 1970 too."""
    import personas.profiles._features as F

    monkeypatch.setattr(F, "MAX_INLINE_BLOCKS", inline)  # (where build_features reads it)
    users, _ = personas.datasets.make_users(120, random_state=5)
    events = personas.datasets.make_events(users, random_state=5)
    old = pd.DataFrame(
        {
            "user_id": "x",
            "timestamp": pd.to_datetime(
                ["1969-12-25 10:00", "1969-12-31 23:59", "1970-01-05 00:00", "1970-03-01 12:00"]
            ),
            "event_type": "session",
        }
    )
    before = events[events["timestamp"] < "2025-06-30"]
    by_user = before.groupby("user_id")["timestamp"]
    days = by_user.agg(lambda t: t.dt.floor("D").nunique())
    weeks = by_user.agg(lambda t: t.dt.to_period("W-SUN").nunique())
    grouped = inline == 0
    # The first line on the last day of a block (Sunday 1970-02-22: days 0-55 from Monday
    # 1969-12-29), then the first day of the next
    edge = pd.DataFrame(
        {
            "user_id": "x",
            "timestamp": pd.to_datetime(["1970-02-22 23:00", "1970-02-23 01:00"]),
            "event_type": "session",
        }
    )
    cases = ((old, False), (edge, False), (events, False), (pd.concat([events, old]), True))
    for log, long_span in cases:
        p = personas.profile(log, as_of="2025-06-30")
        # 56 years of days are too many blocks to count with the events
        assert ("features_active" in p.timings) == (grouped or long_span)
        got = p.data.set_index("user_id")
        cols = list(got.columns)  # in the same place either way
        assert cols.index("active_days") + 2 == cols.index("frequency")
        if "x" in got.index:
            n = 2 if log is edge else 4  # weeks: Mondays Dec 22, 29, Jan 5, Feb 23
            assert got.loc["x", ["active_days", "active_weeks"]].tolist() == [n, n]
            got = got.drop("x")
        if len(got):
            assert (got["active_days"] == days.reindex(got.index)).all()
            assert (got["active_weeks"] == weeks.reindex(got.index)).all()


@pytest.mark.parametrize("top", [2, 20])
def test_counts_by_subtraction_match_pandas(top):
    """Shares (some derived as the rest), windows, trends and event kinds against pandas."""
    from personas.profiles._features import _share_name

    users, _ = personas.datasets.make_users(200, random_state=5)
    events = personas.datasets.make_events(users, random_state=5)
    as_of = pd.Timestamp("2025-06-30")
    d = personas.profile(events, as_of=str(as_of.date()), top_levels=top).data
    d = d.set_index("user_id")
    ev = events[events["timestamp"] < as_of].drop_duplicates()
    n = ev.groupby("user_id").size().reindex(d.index)
    assert (d["n_events"] == n).all()
    for column, key in [
        ("category", "category"),
        ("platform", "channel"),
        ("device", "device"),
        ("event_type", "etype"),
    ]:
        per_level = pd.crosstab(ev["user_id"], ev[column]).reindex(d.index, fill_value=0)
        names = {level: _share_name(key, level) for level in per_level.columns}
        named = [level for level, name in names.items() if name in d]
        assert 0 < len(named) <= top
        for level in named:
            expected = per_level[level] / n
            assert np.allclose(d[names[level]], expected), (column, level)
        other = _share_name(key, "_other")
        rest = [level for level in per_level.columns if level not in named]
        if rest:
            assert np.allclose(d[other], per_level[rest].sum(axis=1) / n), column
        else:
            assert other not in d
    days_ago = (as_of - ev["timestamp"]).dt.total_seconds() / 86_400
    for w in (7, 30, 90, 365):
        expected = ev[days_ago <= w].groupby("user_id").size().reindex(d.index, fill_value=0)
        assert (d[f"events_{w}d"] == expected).all(), w
    before = ev[(days_ago > 30) & (days_ago <= 60)].groupby("user_id").size()
    before = before.reindex(d.index, fill_value=0)
    now = d["events_30d"]
    trend = ((now - before) / (now + before).replace(0, np.nan)).fillna(0.0)
    assert np.allclose(d["trend_30d"], trend)
    for kind, column in (("session", "sessions"), ("renewal", "renewals")):
        expected = ev[ev["event_type"] == kind].groupby("user_id").size()
        assert (d[column] == expected.reindex(d.index, fill_value=0)).all(), kind


def test_a_duckdb_database_table_or_query(log, prof, tmp_path):
    import duckdb

    path = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(path))
    con.register("log_df", log)
    con.execute("CREATE TABLE events AS SELECT * FROM log_df")
    con.execute("CREATE TABLE stores AS SELECT 1 AS store_id")
    con.close()
    _, expected = prof
    p = personas.profile(path, table="events", as_of=AS_OF)
    assert p.cleaning["rows_read"] == 13 and p.cleaning["duplicate_lines"] == 1
    got = p.data.set_index("user_id")
    assert got.loc["a", "monetary"] == expected.loc["a", "monetary"] == pytest.approx(40.0)
    q = personas.profile(path, query="SELECT * FROM events WHERE user_id <> 'b'", as_of=AS_OF)
    assert sorted(q.data["user_id"]) == ["a", "c", "d"]
    with pytest.raises(SchemaError, match="holds 2 tables .*'events', 'stores'.*--table"):
        personas.profile(path, as_of=AS_OF)
    with pytest.raises(SchemaError, match="no table 'orders'; its tables are"):
        personas.profile(path, table="orders", as_of=AS_OF)
    with pytest.raises(FileFormatError, match="could not run the query on shop.duckdb"):
        personas.profile(path, query="SELECT * FROM nowhere", as_of=AS_OF)
    log.to_csv(tmp_path / "events.csv", index=False)
    with pytest.raises(InputFileError, match="--table and --query go with a DuckDB database"):
        personas.profile(tmp_path / "events.csv", table="events")
    with pytest.raises(InputFileError, match="needs the DuckDB file that holds it"):
        personas.profile(None, table="events")


def test_share_levels_pool_spellings_and_break_ties_by_name():
    from personas.profiles._features import share_levels

    counts = [("Purchase", 5), ("purchase ", 3), ("view", 8), ("cart", 8), (None, 9), ("x", 1)]
    levels = share_levels("etype", counts, 2)
    assert levels.named == {
        "share_event_type_cart": ["cart"],
        "share_event_type_purchase": ["Purchase", "purchase "],
    }
    assert levels.lines == {"share_event_type_cart": 8, "share_event_type_purchase": 8}
    assert (levels.rest, levels.missing) == (9, 9)  # view and x; None
    assert levels.more  # view and x: pooled in share_event_type_other
    assert share_levels("etype", counts, 4).more is False  # every level has its column
    assert share_levels("device", [("web", 4)], 5) is None  # one level: no shares


@pytest.mark.filterwarnings("ignore::Warning:ibis")  # Ibis 12 on pandas 3 / DuckDB 2
def test_one_pass_counts_and_hashes_across_batches(log):
    """Tests counted, and usable lines' hashes kept, as the log streams in small batches."""
    import ibis

    from personas.profiles._cleaning import scan, without_duplicates
    from personas.profiles._features import EventKinds, flags, normalise
    from personas.profiles._mapping import infer_mapping
    from personas.profiles._source import connect, kind

    con = connect()
    table = ibis.memtable(log)
    kinds = {name: kind(dtype) for name, dtype in table.schema().items()}
    mapping = infer_mapping(kinds, {}, source_name="log")
    e = normalise(table, mapping, row_hash=True)
    e = flags(e, mapping, EventKinds(["purchase", "session", "refund"]))
    cutoff = pd.Timestamp(AS_OF, tz="UTC").timestamp()
    checks = {"no_user": e.uid.isnull(), "no_time": e.ts.isnull(), "late": e.sec >= cutoff}
    facts = {"purchase": e.is_purchase & e.uid.notnull() & (e.sec < cutoff)}
    tally, hashes = scan(e, checks, facts, with_hash=True, chunk_size=4)  # 13 lines: 4 batches
    assert tally.total == 13
    assert [tally.count(tally.bits[name]) for name in checks | facts] == [1, 0, 2, 6]
    assert tally.count(tally.usable) == 10
    assert tally.count(tally.bits["purchase"] & ~tally.bits["late"]) == 6  # a 3, b, d 2
    assert tally.count(tally.bits["late"] | tally.bits["no_user"]) == 3
    assert len(hashes) == 10
    _, extra, by_rule = without_duplicates(con, e, hashes)
    assert extra == 1 and by_rule["purchase_lines"] == 1  # user d's repeated purchase
    tally, hashes = scan(e, checks, facts, with_hash=False, chunk_size=5)
    assert tally.count(tally.usable) == 10 and hashes is None


SUBSCRIPTIONS = [
    # user, time, event, plan
    ("x", "2024-01-01 00:00:00", "signup", "basic"),
    ("x", "2024-01-10 00:00:00", "Renewal", "premium"),  # spellings are matched loosely
    ("x", "2024-01-20 00:00:00", "cancellation", "premium"),
    ("x", "2024-01-25 00:00:00", "session", None),  # not a subscription event
    ("y", "2024-01-01 00:00:00", "signup", "premium"),
    ("y", "2024-01-05 00:00:00", "cancellation", "premium"),
    ("y", "2024-01-10 00:00:00", "signup", "basic"),  # came back: not churned
    ("y", "2024-02-10 00:00:00", "cancellation", "basic"),  # after as_of: not counted
    ("z", "2024-01-03 00:00:00", "renewal", "gold"),  # the same instant: the cancellation
    ("z", "2024-01-03 00:00:00", "cancellation", "basic"),  # and the plan sorting last
    ("w", "1969-12-30 00:00:00", "signup", "gold"),  # before 1970: negative epochs
    ("w", "1969-12-31 06:00:00", "cancellation", "basic"),
    ("v", "2024-01-02 00:00:00", "session", None),  # no subscription at all
]


@pytest.mark.parametrize("coded", [True, False])
def test_subscription_state_by_hand(coded, monkeypatch):
    import personas.profiles._features as features

    if not coded:  # more plans than are coded as integers: the ordered aggregate
        monkeypatch.setattr(features, "MAX_CODED", 1)
    log = pd.DataFrame(SUBSCRIPTIONS, columns=["user_id", "timestamp", "event_type", "plan"])
    d = personas.profile(log, as_of=AS_OF).data.set_index("user_id")
    assert d["churned"].to_dict() == {"v": False, "w": True, "x": True, "y": False, "z": True}
    assert (d.loc["x", "renewals"], d.loc["x", "cancellations"]) == (1, 1)
    assert (d.loc["y", "renewals"], d.loc["y", "cancellations"]) == (0, 1)
    plans = d["plan"].to_dict()
    assert plans["x"] == "premium" and plans["y"] == "basic" and plans["w"] == "basic"
    assert pd.isna(plans["v"])
    if coded:  # ties in time: the plan sorting last
        assert plans["z"] == "gold"


def test_days_to_renewal_by_hand():
    rows = [
        ("x", "2024-01-01", "signup"),  # billed every 10 days: due Jan 31, one day overdue
        ("x", "2024-01-11", "renewal"),
        ("x", "2024-01-21", "Renewal"),
        ("q", "2024-01-01", "signup"),  # every 30 days: due March 1st, 29 days ahead
        ("q", "2024-01-31", "renewal"),
        ("y", "2024-01-20", "signup"),  # one billing: the median period, 20 days: Feb 9
        ("z", "2024-01-05", "signup"),  # churned: none due
        ("z", "2024-01-06", "cancellation"),
        ("v", "2024-01-02", "session"),  # never billed
    ]
    log = pd.DataFrame(rows, columns=["user_id", "timestamp", "event_type"])
    p = personas.profile(log.assign(timestamp=pd.to_datetime(log["timestamp"])), as_of=AS_OF)
    due = p.data.set_index("user_id")["days_to_renewal"]
    assert due[["x", "q", "y"]].tolist() == [-1.0, 29.0, 8.0]
    assert due[["z", "v"]].isna().all()
    assert "days_to_renewal" in p.features
    # without renewals there is no period to go by: no column
    no_renewals = log[~log["event_type"].str.lower().eq("renewal")]
    assert "days_to_renewal" not in personas.profile(no_renewals, as_of=AS_OF).data


def test_users_without_events_appear_with_zero_activity(log):
    users = pd.DataFrame({"user_id": ["a", "b", "c", "d", "e"], "age": [30, 40, 50, 60, 70]})
    p = personas.profile(log, users, as_of=AS_OF)
    d = p.data.set_index("user_id")
    assert len(d) == 5 and p.cleaning["users_without_events"] == 1
    assert d.loc["e", "n_events"] == 0 and d.loc["e", "frequency"] == 0
    assert d.loc["e", "rfm_segment"] == "No purchase" and d.loc["e", "age"] == 70


def test_users_the_users_table_lacks_are_said_and_no_match_is_an_error(log):
    """--users keeps only its users: the log's others are counted in a note, a users
    table that shares no id with the log is an error, and a users' column with a
    feature's name is kept under another."""
    users = pd.DataFrame({"user_id": ["a", "b"], "frequency": ["weekly", "daily"]})
    p = personas.profile(log, users, as_of=AS_OF)
    assert set(p.data["user_id"]) == {"a", "b"}
    assert any("users are not in the users table" in n for n in p.notes)
    assert p.data.set_index("user_id").loc["a", "frequency_users"] == "weekly"
    assert any("kept as frequency_users" in n for n in p.notes)
    strangers = pd.DataFrame({"user_id": ["K1", "K2"], "age": [30, 40]})
    with pytest.raises(DataError, match="None of the .* users of the log is in the users table"):
        personas.profile(log, strangers, as_of=AS_OF)


def test_transaction_logs_price_times_quantity_and_cancelled_invoices():
    lines = pd.DataFrame(
        {
            "Invoice": ["1", "1", "2", "C3", "4"],
            "StockCode": ["x", "y", "x", "x", "z"],
            "Quantity": [2, 1, 5, -1, 3],
            "InvoiceDate": pd.to_datetime(
                ["2024-01-02", "2024-01-02", "2024-01-10", "2024-01-12", "2024-01-15"]
            ),
            "Price": [2.5, 10.0, 1.0, 2.5, 0.0],
            "Customer ID": [7, 7, 7, 7, 7],
        }
    )
    p = personas.profile(lines, as_of="2024-02-01")
    assert p.mapping["order_id"] == "Invoice" and p.mapping["user_id"] == "Customer ID"
    assert p.mapping["price"] == "Price" and p.mapping["quantity"] == "Quantity"
    row = p.data.iloc[0]
    assert row["user_id"] == "7"
    assert row["frequency"] == 2  # invoices 1 and 2; C3 is a return, 4 has a zero price
    assert row["monetary"] == pytest.approx(2 * 2.5 + 10.0 + 5.0)
    assert row["returns"] == 1 and row["returns_value"] == pytest.approx(2.5)
    assert p.cleaning["cancelled_invoices"] == 1 and p.cleaning["zero_prices"] == 1


def test_cleaning_switches_for_cancelled_invoices_and_zero_value_orders(tmp_path):
    lines = pd.DataFrame(
        {
            "Invoice": ["1", "C3", "4"],
            "InvoiceDate": pd.to_datetime(["2024-01-02", "2024-01-12", "2024-01-15"]),
            "Quantity": [2, 1, 3],  # C3 with a positive quantity: only its id says cancelled
            "Price": [2.5, 2.5, 0.0],
            "Customer ID": [7, 7, 7],
        }
    )
    row = personas.profile(lines, as_of="2024-02-01").data.iloc[0]
    assert (row["frequency"], row["returns"]) == (1, 1)  # the defaults
    p = personas.profile(lines, as_of="2024-02-01", cancelled_invoices=False)
    row = p.data.iloc[0]
    assert (row["frequency"], row["returns"], row["monetary"]) == (2, 0, 7.5)
    assert p.cleaning["cancelled_invoices"] == 0
    p = personas.profile(lines, as_of="2024-02-01", zero_value_orders=True)
    assert p.data.iloc[0]["frequency"] == 2 and p.cleaning["zero_prices"] == 1  # 1 and 4
    # on the command line
    result, out = _profile_cli(tmp_path, lines, "--no-cancelled-invoices", "--zero-value-orders")
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(out / "profiles.parquet")["frequency"].tolist() == [3]


def _profile_cli(tmp_path, lines: pd.DataFrame, *flags: str):
    """``personas profile`` on ``lines`` (as a CSV, as of 2024-02-01) with ``flags``: the
    CliRunner's result and the output folder."""
    from typer.testing import CliRunner

    from personas.cli import app

    path = tmp_path / "lines.csv"
    lines.to_csv(path, index=False)
    out = tmp_path / "out"
    args = ["profile", str(path), "-o", str(out), "--as-of", "2024-02-01", *flags]
    return CliRunner().invoke(app, args), out


def test_negative_quantities_are_returns_or_left_out(tmp_path):
    lines = pd.DataFrame(
        {
            "Invoice": ["1", "1", "2", "3", "4"],
            "InvoiceDate": pd.to_datetime(
                ["2024-01-02", "2024-01-02", "2024-01-10", "2024-01-20", "2024-01-25"]
            ),
            "Quantity": [2, 1, -1, 4, -2],
            "Price": [2.5, 4.0, 2.5, 1.0, 3.0],
            "Customer ID": [7, 7, 7, 8, 8],
        }
    )
    p = personas.profile(lines, as_of="2024-02-01")  # the default: returns
    d = p.data.set_index("user_id")
    assert d["returns"].tolist() == [1, 1] and d["returns_value"].tolist() == [2.5, 6.0]
    assert d["n_events"].tolist() == [3, 2] and p.cleaning["negative_quantities"] == 2
    assert "negative_lines_left_out" not in p.cleaning
    p = personas.profile(lines, as_of="2024-02-01", negative_quantities="drop")
    d = p.data.set_index("user_id")
    assert p.cleaning["negative_lines_left_out"] == 2 and p.cleaning["rows_used"] == 3
    assert d["returns"].tolist() == [0, 0] and d["n_events"].tolist() == [2, 1]
    assert d["frequency"].tolist() == [1, 1] and d["monetary"].tolist() == [9.0, 4.0]
    assert d.loc["8", "last_seen_days"] == 12  # the dropped line of the 25th is not seen
    with pytest.raises(
        DataError, match=r"2 have a negative quantity or amount \(left out\).*quantities returns"
    ):
        personas.profile(lines.iloc[[2, 4]], as_of="2024-02-01", negative_quantities="drop")
    with pytest.raises(PersonasError, match="'returns' or 'drop', not 'keep'"):
        personas.profile(lines, as_of="2024-02-01", negative_quantities="keep")
    # on the command line
    result, out = _profile_cli(tmp_path, lines, "--negative-quantities", "drop")
    assert result.exit_code == 0, result.output
    assert "negative lines left out" in result.output
    assert pd.read_parquet(out / "profiles.parquet")["n_events"].tolist() == [2, 1]
    result, _ = _profile_cli(tmp_path, lines, "--negative-quantities", "maybe")
    assert result.exit_code != 0 and "'returns' or 'drop'" in result.output


def test_order_ids_starting_with_c_are_cancellations_only_when_few():
    lines = pd.DataFrame(
        {
            "Invoice": ["C100", "C101", "C102", "c103", "ch_9", "C104"],
            "Quantity": [1, 2, 1, 1, 3, -1],
            "InvoiceDate": pd.date_range("2024-01-02", periods=6, freq="D"),
            "Price": [10.0, 5.0, 2.0, 1.0, 4.0, 10.0],
            "Customer ID": [1, 1, 2, 2, 2, 1],
        }
    )
    p = personas.profile(lines, as_of="2024-02-01")  # a shop numbering its orders C…
    assert p.cleaning["cancelled_invoices"] == 0
    assert p.notes and "5 of 6 order ids start with C" in p.notes[0]
    d = p.data.set_index("user_id")
    assert (d.loc["1", "frequency"], d.loc["1", "returns"]) == (2, 1)  # C104: quantity < 0
    assert d.loc["2", "frequency"] == 3  # ch_9 never was a cancellation
    assert p.summary()["notes"] == p.notes
    retail = pd.concat([lines.assign(Invoice=[f"{i}" for i in range(100, 106)])] * 3)
    retail["Invoice"] = [f"{i}" for i in range(len(retail))]
    retail.iloc[0, 0] = "C5000"  # one cancelled invoice among 18
    retail.iloc[1, 0] = "ch_7"  # C and no digit: an order, even while the rule is on
    retail.iloc[2, 0] = "CA-9"
    q = personas.profile(retail, as_of="2024-02-01")
    assert q.cleaning["cancelled_invoices"] == 1 and q.notes == []
    assert q.cleaning["purchase_lines"] == 14  # 18 less C5000 and 3 negative quantities


def test_purchases_in_a_log_without_money_are_orders(log):
    clicks = log.drop(columns=["amount"])
    d = personas.profile(clicks, as_of=AS_OF).data.set_index("user_id")
    assert d.loc["a", "frequency"] == 2  # o1 (two lines) and o2
    assert d.loc["b", "frequency"] == 1 and d.loc["b", "monetary"] == 0.0
    assert d.loc["a", "recency_days"] == pytest.approx(21.0)
    assert d.loc["b", "rfm_segment"] != "No purchase"
    ids = clicks.drop(columns=["order_id"])  # no order ids either: each purchase event
    assert personas.profile(ids, as_of=AS_OF).data.set_index("user_id").loc["a", "frequency"] == 2


def test_a_mapping_file_or_dict_names_the_columns(log, prof, tmp_path):
    renamed = log.rename(columns={"user_id": "who", "timestamp": "when", "minutes": "length"})
    path = tmp_path / "events.toml"
    path.write_text('[events]\nuser_id = "who"\ntimestamp = "when"\nduration = "length"\n')
    d = personas.profile(renamed, as_of=AS_OF, mapping=path).data.set_index("user_id")
    _, expected = prof
    assert d.loc["a", "avg_session_minutes"] == expected.loc["a", "avg_session_minutes"]
    # keyword arguments win over the file
    p = personas.profile(renamed, as_of=AS_OF, mapping={"user_id": "who"}, timestamp="when")
    assert p.mapping["timestamp"] == "when" and "duration" not in p.mapping
    p.write_mapping(tmp_path / "used.toml")
    assert personas.profile(renamed, as_of=AS_OF, mapping=tmp_path / "used.toml").mapping == (
        p.mapping
    )
    for text, message in [
        ("user_id = 'who'", "has no \\[events\\] table"),
        ("[events]\nuser = 'who'", "unknown meaning 'user'"),
        ("[events]\nuser_id = 3", "user_id must be a column name in quotes"),
        ("[events\n", "not valid TOML"),
    ]:
        path.write_text(text)
        with pytest.raises(SchemaError, match=message):
            personas.profile(renamed, as_of=AS_OF, mapping=path)
    with pytest.raises(SchemaError, match="does not exist"):
        personas.profile(renamed, as_of=AS_OF, mapping=tmp_path / "nope.toml")


def test_clear_errors(log, tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        personas.profile(tmp_path / "nope.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(FileFormatError, match="broken.parquet is named like a parquet file"):
        personas.profile(tmp_path / "broken.parquet")
    with pytest.raises(SchemaError, match="which column .* is the user_id"):
        personas.profile(pd.DataFrame({"when": pd.to_datetime(["2024-01-01"]), "x": [1]}))
    with pytest.raises(SchemaError, match="'buyer' is not in"):
        personas.profile(log, user_id="buyer")
    with pytest.raises(DataError, match="No event .* is usable"):
        personas.profile(log, as_of="2020-01-01")
    with pytest.raises(DataError, match="not a date"):
        personas.profile(log, as_of="soon")


def test_summary_documents_every_feature(prof, tmp_path):
    p, _ = prof
    doc = p.summary()
    for col in p.data.columns:
        if col != "user_id":
            assert col in doc["features"], col
    assert doc["rfm_segments"]["No purchase"] == 1
    p.to_parquet(tmp_path / "profiles.parquet")
    assert len(pd.read_parquet(tmp_path / "profiles.parquet")) == 4


@pytest.mark.realdata
def test_online_retail_profiles_match_an_independent_computation(datasets_dir):
    path = datasets_dir / "online_retail_ii" / "online_retail_ii_2009_2010.csv.gz"
    p = personas.profile(path)
    assert len(p.data) == 4_383  # customers with an id (the publisher's count)
    assert p.cleaning["missing_user_id"] == 107_927
    assert p.as_of.startswith("2010-12-10")
    raw = pd.read_csv(path, dtype={"Invoice": str, "StockCode": str})
    raw = raw.dropna(subset=["Customer ID"]).drop_duplicates()
    for customer in (13085, 12346, 17850):
        lines = raw[raw["Customer ID"] == customer]
        bought = lines[
            ~lines["Invoice"].str.startswith("C") & (lines["Quantity"] > 0) & (lines["Price"] > 0)
        ]
        row = p.data.set_index("user_id").loc[str(customer)]
        assert row["frequency"] == bought["Invoice"].nunique(), customer
        assert row["monetary"] == pytest.approx((bought["Quantity"] * bought["Price"]).sum())
        returned = lines[lines["Invoice"].str.startswith("C") | (lines["Quantity"] < 0)]
        assert row["returns"] == returned["Invoice"].nunique()
        last = pd.to_datetime(bought["InvoiceDate"]).max()
        expected = (pd.Timestamp("2010-12-10") - last).total_seconds() / 86_400
        assert row["recency_days"] == pytest.approx(expected, abs=1e-6)


def test_profiles_file_carries_its_schema_and_segments_on_rfm(tmp_path):
    users, _ = personas.datasets.make_users(2000, random_state=3)
    events = personas.datasets.make_events(users, random_state=3)
    p = personas.profile(events, users[["user_id", "age"]], as_of="2025-06-30")
    assert p.basis() == ["recency_days", "frequency", "monetary", "tenure_days"]
    path = p.to_parquet(tmp_path / "profiles.parquet")
    report = personas.validate(path)
    assert report.schema.basis == p.basis()
    assert report.schema["rfm"].role == "ignore" and report.schema["user_id"].role == "id"
    assert any("personas profile" in note for note in report.source.notes)
    run = personas.segment(path, random_state=0)
    assert run.model.basis == p.basis()
    names = " ".join(s.name for s in run.segments)
    assert "buyers" in names or "spend" in names  # profile features get readable words
    # a plain copy of the table (no stored schema) is inferred as any other table
    plain = tmp_path / "plain.parquet"
    p.data.to_parquet(plain)
    assert personas.validate(plain).schema.basis is None


def test_segments_of_event_profiles_get_value_and_risk(tmp_path):
    users, _ = personas.datasets.make_users(2500, random_state=8)
    events = personas.datasets.make_events(users, random_state=8)
    p = personas.profile(events, as_of="2025-06-30", clv=True, time_unit="week")
    path = p.to_parquet(tmp_path / "profiles.parquet")
    run = personas.segment(path, random_state=0)
    worth = [s.value for s in run.segments]
    assert sum(w["revenue_share"] for w in worth) == pytest.approx(1.0)
    assert all(0 <= w.get("mean_p_alive", 0) <= 1 and w.get("mean_clv", 0) >= 0 for w in worth)
    assert sum("mean_p_alive" in w for w in worth) >= 2  # segments of non-buyers have none
    assert all(0 <= w["churn_share"] <= 1 for w in worth)  # the `churned` feature
    # the segment holding most revenue is worth most per user in CLV too
    top = max(worth, key=lambda w: w["revenue_share"])
    assert top["mean_clv"] == max(w.get("mean_clv", 0.0) for w in worth)
    page = run.html()
    assert "mean CLV" in page and "P(alive)" in page
    assert "mean CLV" in run.to_markdown()


def test_duckdb_memory_limit(monkeypatch):
    """Half the machine's memory by default; PERSONAS_DUCKDB_MEMORY wins."""
    import os

    from personas.errors import PersonasError
    from personas.profiles._source import connect

    def limit() -> float:
        con = connect()
        text = con.raw_sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
        number, unit = text.split()
        return float(number) * {"MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit]

    monkeypatch.setenv("PERSONAS_DUCKDB_MEMORY", "1GB")
    assert limit() == pytest.approx(1e9, rel=0.01)
    monkeypatch.setenv("PERSONAS_DUCKDB_MEMORY", "lots")
    with pytest.raises(PersonasError, match=r"PERSONAS_DUCKDB_MEMORY is 'lots'.*like 4GB"):
        connect()
    monkeypatch.delenv("PERSONAS_DUCKDB_MEMORY")
    if not hasattr(os, "sysconf"):
        pytest.skip("no os.sysconf here to read the machine's memory")
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert limit() == pytest.approx(total / 2, rel=0.01)
