"""`make_events`: the event log behind a synthetic user table, consistent with it.

For every user the log holds exactly ``sessions`` session events (``website_visits`` of
them on the web, the rest in the app) whose durations add up to ``engagement_minutes``;
exactly ``purchases`` purchase events whose amounts add up to ``total_spend`` (to the
cent); refunds of some of those purchases (separate events with negative amounts, not
netted out of ``total_spend``); and subscription events (signup, monthly renewals of paid
plans, a cancellation where ``renewal_status`` is "cancelled"). The last session or
purchase falls on ``last_active_date``. Everything is vectorised over events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from personas.datasets import _vocab
from personas.datasets._users import DEVICES

__all__ = ["make_events"]

NEEDED = [
    "user_id",
    "signup_date",
    "last_active_date",
    "purchases",
    "total_spend",
    "sessions",
    "website_visits",
    "engagement_minutes",
    "membership_type",
    "renewal_status",
    "device_type",
    "interests",
]
DAY = 86_400  # seconds
EVENT_TYPES = ["session", "purchase", "refund", "signup", "renewal", "cancellation"]
PLATFORMS = ["web", "app"]
PLANS = list(_vocab.PLAN_PRICES)
CATEGORY_NAMES = [c[0] for c in _vocab.CATEGORIES]
REFUND_RATE = 0.04
RENEWAL_DAYS = 30


def _group_positions(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each group of size c, concatenated (position of an event in its user)."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def _split(total: np.ndarray, counts: np.ndarray, rng: np.random.Generator, *, cents: bool):
    """Split each user's total over their events (random shares that add up exactly)."""
    owner = np.repeat(np.arange(len(counts)), counts)
    share = rng.gamma(2.0, 1.0, owner.size)
    share /= np.bincount(owner, weights=share, minlength=len(counts))[owner]
    if not cents:
        return total[owner] * share
    total_cents = np.rint(total * 100).astype(np.int64)
    parts = np.floor(total_cents[owner] * share).astype(np.int64)
    rest = total_cents - np.bincount(owner, weights=parts, minlength=len(counts)).astype(np.int64)
    last = np.cumsum(counts) - 1
    has = counts > 0
    parts[last[has]] += rest[has]
    return parts / 100.0


def make_events(
    users: pd.DataFrame,
    *,
    days: int | None = None,
    as_of: str | pd.Timestamp | None = None,
    random_state: int | np.random.Generator | None = None,
    sort: bool = True,
) -> pd.DataFrame:
    """Generate the event log of a :func:`make_users` table, consistent with it.

    Parameters
    ----------
    users : pandas.DataFrame
        A table from :func:`make_users` (it needs the columns in ``NEEDED``).
    days : int, optional
        Length of the window the behaviour columns cover (default: the one ``make_users``
        used, recorded in ``users.attrs``, else 365).
    as_of : date-like, optional
        End of the window, exclusive (default: the one ``make_users`` used, else the day
        after the latest ``last_active_date``).
    random_state : int, Generator or None
    sort : bool, default True
        Sort events by time (as a real log would be).

    Returns
    -------
    pandas.DataFrame
        ``user_id``, ``timestamp``, ``event_type`` (session, purchase, refund, signup,
        renewal, cancellation), ``order_id``, ``amount``, ``duration_min``, ``platform``
        (web/app), ``device``, ``category``, ``plan``.

    Examples
    --------
    >>> from personas.datasets import make_users, make_events
    >>> users, _ = make_users(200, random_state=0)
    >>> events = make_events(users, random_state=0)
    >>> purchases = events[events.event_type == "purchase"]
    >>> int(len(purchases)) == int(users.purchases.sum())
    True
    """
    missing = [c for c in NEEDED if c not in users.columns]
    if missing:
        raise ValueError(
            f"make_events needs the columns of a make_users table; these are missing: {missing}."
        )
    rng = np.random.default_rng(random_state)
    meta = users.attrs.get("personas_synthetic", {})
    days = int(days if days is not None else meta.get("days", 365))
    if as_of is None:
        as_of = meta.get("as_of") or (
            pd.to_datetime(users["last_active_date"]).max() + pd.Timedelta(days=1)
        )
    as_of = pd.Timestamp(as_of).normalize()
    n = len(users)
    end_s = int(as_of.value // 10**9)
    window_start = end_s - days * DAY
    signup = pd.to_datetime(users["signup_date"]).to_numpy("datetime64[s]").astype(np.int64)
    last = pd.to_datetime(users["last_active_date"]).to_numpy("datetime64[s]").astype(np.int64)
    start = np.maximum(signup, window_start)
    bad = (last < start) | (last >= end_s)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"User {users['user_id'].iloc[i]!r} was last active on "
            f"{pd.Timestamp(last[i], unit='s').date()}, outside the window of {days} days before "
            f"{as_of.date()}; pass the days/as_of that make_users used."
        )
    ids = pa.array(users["user_id"].astype("str"))
    device = pd.Categorical(users["device_type"], categories=DEVICES).codes.astype(np.int64)
    device = np.where(device < 0, rng.integers(len(DEVICES), size=n), device)
    parts = [
        _sessions(users, rng, start, last, device),
        _purchases(users, rng, start, last, device, end_s),
        _subscriptions(users, rng, start, last, signup, window_start, end_s),
    ]
    owner = np.concatenate([p["owner"] for p in parts])
    ts = np.concatenate([p["ts"] for p in parts])
    order = np.argsort(ts) if sort else np.arange(ts.size)
    owner = owner[order]

    def cat(key: str, names: list[str]) -> pd.Categorical:
        codes = np.concatenate([p[key] for p in parts]).astype(np.int8)[order]
        return pd.Categorical.from_codes(codes, categories=names)

    def num(key: str) -> np.ndarray:
        return np.concatenate([p[key] for p in parts])[order]

    orders = pa.concat_arrays([p["order"] for p in parts]).take(pa.array(order))
    events = pd.DataFrame(
        {
            "user_id": pd.Series(ids.take(pa.array(owner)), dtype="str"),
            "timestamp": ts[order].astype("datetime64[s]"),
            "event_type": cat("type", EVENT_TYPES),
            "order_id": pd.Series(orders, dtype="str"),
            "amount": num("amount"),
            "duration_min": num("duration"),
            "platform": cat("platform", PLATFORMS),
            "device": cat("device", DEVICES),
            "category": cat("category", CATEGORY_NAMES),
            "plan": cat("plan", PLANS),
        }
    )
    return events


def _times(rng, owner, start, last) -> np.ndarray:
    lo, hi = start[owner], last[owner] + DAY
    return lo + np.floor(rng.random(owner.size) * (hi - lo)).astype(np.int64)


def _empty(k: int) -> np.ndarray:
    return np.full(k, -1, dtype=np.int8)


def _sessions(users, rng, start, last, device) -> dict:
    counts = users["sessions"].to_numpy(np.int64)
    owner = np.repeat(np.arange(len(users)), counts)
    ts = _times(rng, owner, start, last)
    pos = _group_positions(counts)
    first = pos == 0  # pin one session on the last active day
    ts[first] = last[owner[first]] + rng.integers(6 * 3600, 23 * 3600, first.sum())
    visits = users["website_visits"].to_numpy(np.int64)
    platform = np.where(pos < visits[owner], 0, 1)
    dev = device[owner].copy()
    other = rng.random(owner.size) < 0.15
    dev[other] = rng.integers(len(DEVICES), size=int(other.sum()))
    duration = _split(users["engagement_minutes"].to_numpy(np.float64), counts, rng, cents=True)
    k = owner.size
    return {
        "owner": owner,
        "ts": ts,
        "type": np.full(k, 0),
        "order": pa.nulls(k, pa.string()),
        "amount": np.full(k, np.nan),
        "duration": duration,
        "platform": platform,
        "device": dev,
        "category": _empty(k),
        "plan": _empty(k),
    }


def _purchases(users, rng, start, last, device, end_s) -> dict:
    counts = users["purchases"].to_numpy(np.int64)
    n = len(users)
    owner = np.repeat(np.arange(n), counts)
    ts = _times(rng, owner, start, last)
    amount = _split(users["total_spend"].to_numpy(np.float64), counts, rng, cents=True)
    k = owner.size
    order_no = pa.array(np.arange(1, k + 1)).cast(pa.string())
    order = pc.binary_join_element_wise("O", pc.utf8_lpad(order_no, 9, "0"), "")
    # Favourite category: the one matching the user's first interest, bought half the time.
    by_interest = {interest: i for i, (_, interest) in enumerate(_vocab.CATEGORIES) if interest}
    codes, uniques = pd.factorize(users["interests"].astype("str"))
    fav_u = np.asarray(
        [next((by_interest[t] for t in str(u).split(";") if t in by_interest), -1) for u in uniques]
        + [-1]
    )
    fav = fav_u[np.where(codes >= 0, codes, len(uniques))][owner]
    cat = rng.integers(len(CATEGORY_NAMES), size=k)
    use_fav = (fav >= 0) & (rng.random(k) < 0.5)
    cat[use_fav] = fav[use_fav]
    web_share = users["website_visits"].to_numpy(np.float64) / users["sessions"].to_numpy(
        np.float64
    )
    platform = np.where(rng.random(k) < web_share[owner], 0, 1)
    dev = device[owner]
    # Refunds: a few purchases come back 1-30 days later (if that is before as_of).
    refunded = rng.random(k) < REFUND_RATE
    r_ts = ts[refunded] + rng.integers(1, 31, refunded.sum()) * DAY
    keep = r_ts < end_s
    r_idx = np.flatnonzero(refunded)[keep]
    r_ts = r_ts[keep]
    m = r_idx.size
    return {
        "owner": np.concatenate([owner, owner[r_idx]]),
        "ts": np.concatenate([ts, r_ts]),
        "type": np.concatenate([np.full(k, 1), np.full(m, 2)]),
        "order": pa.concat_arrays([order, order.take(pa.array(r_idx))]),
        "amount": np.concatenate([amount, -amount[r_idx]]),
        "duration": np.full(k + m, np.nan),
        "platform": np.concatenate([platform, platform[r_idx]]),
        "device": np.concatenate([dev, dev[r_idx]]),
        "category": np.concatenate([cat, cat[r_idx]]),
        "plan": _empty(k + m),
    }


def _subscriptions(users, rng, start, last, signup, window_start, end_s) -> dict:
    plan = pd.Categorical(users["membership_type"], categories=PLANS).codes.astype(np.int64)
    status = users["renewal_status"].astype("str").to_numpy(dtype=object)
    price = np.append(np.asarray(list(_vocab.PLAN_PRICES.values())), 0.0)[plan]
    paid = price > 0
    cancelled = paid & (status == "cancelled")
    # Cancellation: some time between the window start and the last activity.
    cancel_ts = start + np.floor(rng.random(len(users)) * (last - start + DAY)).astype(np.int64)
    # Renewals every 30 days from signup, inside the window, until cancellation or as_of.
    end = np.where(cancelled, cancel_ts, end_s)
    step = RENEWAL_DAYS * DAY
    k0 = np.maximum(np.ceil((np.maximum(window_start, signup + step) - signup) / step), 1)
    first_renewal = signup + k0.astype(np.int64) * step
    n_renew = np.where(
        paid & (first_renewal < end), np.ceil((end - first_renewal) / step).astype(np.int64), 0
    )
    r_owner = np.repeat(np.arange(len(users)), n_renew)
    r_ts = first_renewal[r_owner] + _group_positions(n_renew) * step
    s_owner = np.flatnonzero(signup >= window_start)
    c_owner = np.flatnonzero(cancelled)
    owner = np.concatenate([s_owner, r_owner, c_owner])
    ts = np.concatenate([signup[s_owner] + 9 * 3600, r_ts + 2 * 3600, cancel_ts[c_owner]])
    kinds = np.concatenate(
        [np.full(s_owner.size, 3), np.full(r_owner.size, 4), np.full(c_owner.size, 5)]
    )
    amount = np.concatenate(
        [np.full(s_owner.size, np.nan), price[r_owner], np.full(c_owner.size, np.nan)]
    )
    k = owner.size
    return {
        "owner": owner,
        "ts": ts,
        "type": kinds,
        "order": pa.nulls(k, pa.string()),
        "amount": amount,
        "duration": np.full(k, np.nan),
        "platform": _empty(k),
        "device": _empty(k),
        "category": _empty(k),
        "plan": plan[owner],
    }
