"""Per-user features from an event log, as Ibis expressions run by DuckDB.

Only the result (one row per user) reaches pandas. Every feature is defined in
``FEATURES`` (shown in the README and in ``summary.json``). Times are UTC; only events
strictly before ``as_of`` count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from personas.profiles._mapping import EventMapping

__all__ = ["FEATURES", "PURCHASE_TYPES", "build_features", "normalise"]

PURCHASE_TYPES = ("purchase", "order", "buy", "checkout", "transaction", "payment", "sale")
RETURN_TYPES = ("refund", "return", "chargeback")
CANCEL_TYPES = ("cancellation", "cancel", "unsubscribe", "churn")
RENEWAL_TYPES = ("renewal", "renew", "subscription_renewal")
SUBSCRIPTION_TYPES = RENEWAL_TYPES + CANCEL_TYPES + ("signup", "subscribe", "subscription")
WINDOWS = (7, 30, 90, 365)
DAY = 86_400.0

FEATURES: dict[str, str] = {
    "n_events": "events before as_of (after cleaning)",
    "frequency": "distinct orders (order/invoice id; each purchase event when there is none)",
    "monetary": "total spent on orders (amount, or price × quantity; returns not subtracted)",
    "avg_order_value": "monetary / frequency",
    "recency_days": "days from the last order to as_of (empty without orders)",
    "last_seen_days": "days from the last event of any kind to as_of",
    "tenure_days": "days from the first event to as_of",
    "active_days": "distinct calendar days with an event",
    "active_weeks": "distinct weeks (Monday-based) with an event",
    "inter_purchase_days": "mean days between orders: (last − first order) / (orders − 1)",
    "orders_{w}d": "orders in the w days before as_of (w = 7, 30, 90, 365)",
    "spend_{w}d": "spend in the w days before as_of",
    "events_{w}d": "events in the w days before as_of",
    "trend_30d": "(events in the last 30 days − in the 30 before) / (their sum); −1…1",
    "trend_90d": "the same over 90-day periods",
    "returns": "returned or refunded orders (refund events, negative quantities or amounts, "
    "invoices starting with C)",
    "returns_value": "value of those returns (positive)",
    "return_share": "returns / frequency",
    "sessions": "distinct session ids (or session events)",
    "avg_session_minutes": "mean duration of session events (when durations are logged)",
    "visits_per_active_week": "sessions / active_weeks",
    "renewals": "subscription renewal events",
    "cancellations": "subscription cancellation events",
    "plan": "the last plan seen",
    "churned": "the last subscription event is a cancellation",
    "share_{column}_{level}": "share of the user's events with that category / channel / "
    "device / event type (top levels; the rest in _other)",
}


def normalise(t: Any, m: EventMapping) -> Any:
    """Typed, renamed columns: uid, ts, amount, qty, order_id, etype, session, duration…"""
    import ibis
    import ibis.expr.datatypes as dt_

    cols: dict[str, Any] = {"uid": t[m.user_id].cast("string")}
    ts = t[m.timestamp]
    if ts.type().is_integer():  # dates written as numbers: 19970101 (yyyymmdd)
        ts = ts.cast("string").as_timestamp("%Y%m%d")
    elif ts.type().is_date():
        ts = ts.cast("timestamp")
    elif not ts.type().is_timestamp():  # text: offsets such as +02:00 are honoured
        ts = ts.cast(dt_.Timestamp(timezone="UTC"))
    # Aware times stay aware (the session time zone is UTC, so days and weeks are UTC
    # days); every comparison with as_of is on epoch seconds. (Casting them to naive
    # timestamps instead hit a DuckDB 2.0 bug that ignored offsets inside filters.)
    cols["ts"] = ts
    cols["sec"] = ts.epoch_seconds()
    if m.amount is not None:
        cols["amount"] = t[m.amount].cast("float64")
    elif m.price is not None and m.quantity is not None:
        cols["amount"] = t[m.price].cast("float64") * t[m.quantity].cast("float64")
    else:
        cols["amount"] = ibis.null("float64")
    cols["qty"] = t[m.quantity].cast("float64") if m.quantity else ibis.null("float64")
    cols["unit_price"] = t[m.price].cast("float64") if m.price else ibis.null("float64")
    cols["order_id"] = t[m.order_id].cast("string") if m.order_id else ibis.null("string")
    etype = t[m.event_type].cast("string").lower().strip() if m.event_type else None
    cols["etype"] = etype if etype is not None else ibis.null("string")
    cols["session"] = t[m.session_id].cast("string") if m.session_id else ibis.null("string")
    cols["duration"] = t[m.duration].cast("float64") if m.duration else ibis.null("float64")
    cols["plan"] = t[m.plan].cast("string") if m.plan else ibis.null("string")
    for key in ("category", "channel", "device", "product"):
        col = getattr(m, key)
        cols[key] = t[col].cast("string") if col else ibis.null("string")
    return t.select(**cols)


def flags(e: Any, m: EventMapping) -> Any:
    """is_purchase / is_return per row, by event type or, in a transaction log, by sign."""
    import ibis

    cancelled_invoice = (
        e.order_id.upper().startswith("C") if m.order_id else ibis.literal(False)
    ).fill_null(False)
    negative = ((e.qty < 0) | (e.amount < 0)).fill_null(False)
    if m.event_type:
        is_purchase = e.etype.isin(PURCHASE_TYPES).fill_null(False)
        is_return = (e.etype.isin(RETURN_TYPES) | (is_purchase & negative)).fill_null(False)
        is_purchase = is_purchase & ~negative & ~cancelled_invoice
    else:  # every line of a transaction log is a purchase line, unless it is a return
        is_return = negative | cancelled_invoice
        is_purchase = ~is_return & e.amount.notnull()
    return e.mutate(is_purchase=is_purchase, is_return=is_return)


def build_features(
    e: Any, m: EventMapping, as_of: dt.datetime, *, levels: dict[str, list[str]]
) -> Any:
    """One row per user (an Ibis expression); ``levels`` are the top levels to share."""
    import ibis

    as_of_s = as_of.replace(tzinfo=dt.UTC).timestamp()
    sec = e.sec
    buy = e.is_purchase & (e.amount.fill_null(0) > 0)
    order_key = e.order_id if m.order_id else e.ts.cast("string")
    n = e.count()
    agg: dict[str, Any] = {
        "n_events": n,
        "first_seen": sec.min(),
        "last_seen": sec.max(),
        "active_days": e.ts.date().nunique(),
        "active_weeks": e.ts.truncate("W").nunique(),
    }
    for w in WINDOWS:
        agg[f"events_{w}d"] = e.count(where=e.sec >= as_of_s - w * DAY)
    for w in (30, 90):
        last = e.sec >= as_of_s - w * DAY
        before = (e.sec >= as_of_s - 2 * w * DAY) & ~last
        agg[f"_now_{w}"] = e.count(where=last)
        agg[f"_before_{w}"] = e.count(where=before)
    if m.session_id:
        agg["sessions"] = e.session.nunique()
    elif m.event_type:
        agg["sessions"] = e.count(where=e.etype == "session")
    if m.duration:
        is_session = (e.etype == "session") if m.event_type and not m.session_id else None
        agg["avg_session_minutes"] = (
            e.duration.mean(where=is_session) if is_session is not None else e.duration.mean()
        )
    if m.event_type:
        agg["renewals"] = e.count(where=e.etype.isin(RENEWAL_TYPES))
        agg["cancellations"] = e.count(where=e.etype.isin(CANCEL_TYPES))
        subscription = e.etype.isin(SUBSCRIPTION_TYPES)
        agg["_last_sub"] = e.etype.argmax(e.ts, where=subscription)
    if m.plan:
        agg["plan"] = e.plan.argmax(e.ts, where=e.plan.notnull())
    for key, values in levels.items():
        col = e[key]
        for v in values:
            agg[_share_name(key, v)] = e.count(where=col == v)
        agg[_share_name(key, "_other")] = e.count(where=col.notnull() & ~col.isin(values))
    g = e.group_by("uid").aggregate(**agg)
    # Orders (and returns) first: the lines of one order become one row, so that counting
    # orders per window is a count, not a distinct count over every line.
    keyed = e.mutate(order_key=order_key)
    lines = keyed.filter(buy)
    orders = lines.group_by(["uid", "order_key"]).aggregate(
        osec=lines.sec.min(), value=lines.amount.sum()
    )
    per: dict[str, Any] = {
        "frequency": orders.count(),
        "monetary": orders.value.sum(),
        "first_order": orders.osec.min(),
        "last_order": orders.osec.max(),
    }
    for w in WINDOWS:
        recent = orders.osec >= as_of_s - w * DAY
        per[f"orders_{w}d"] = orders.count(where=recent)
        per[f"spend_{w}d"] = orders.value.sum(where=recent)
    bought = orders.group_by("uid").aggregate(**per)
    returned_lines = keyed.filter(e.is_return)
    returned = (
        returned_lines.group_by(["uid", "order_key"])
        .aggregate(value=returned_lines.amount.abs().sum())
        .group_by("uid")
        .aggregate(returns=lambda t: t.count(), returns_value=lambda t: t.value.sum())
    )
    g = g.left_join(bought, "uid").drop("uid_right").left_join(returned, "uid").drop("uid_right")
    g = g.mutate(
        frequency=g.frequency.fill_null(0),
        returns=g.returns.fill_null(0),
        **{f"orders_{w}d": g[f"orders_{w}d"].fill_null(0) for w in WINDOWS},
    )
    out: dict[str, Any] = {
        "recency_days": (ibis.literal(as_of_s) - g.last_order) / DAY,
        "last_seen_days": (ibis.literal(as_of_s) - g.last_seen) / DAY,
        "tenure_days": (ibis.literal(as_of_s) - g.first_seen) / DAY,
        "avg_order_value": g.monetary / g.frequency.nullif(0),
        "inter_purchase_days": ((g.last_order - g.first_order) / DAY) / (g.frequency - 1).nullif(0),
        "return_share": g.returns / g.frequency.nullif(0),
        "monetary": g.monetary.fill_null(0.0),
        "returns_value": g.returns_value.fill_null(0.0),
    }
    for w in WINDOWS:
        out[f"spend_{w}d"] = g[f"spend_{w}d"].fill_null(0.0)
    for w in (30, 90):
        now, before = g[f"_now_{w}"], g[f"_before_{w}"]
        out[f"trend_{w}d"] = ((now - before) / (now + before).nullif(0)).fill_null(0.0)
    if "sessions" in agg:
        out["visits_per_active_week"] = g.sessions / g.active_weeks.nullif(0)
    if "_last_sub" in agg:
        out["churned"] = g._last_sub.isin(CANCEL_TYPES).fill_null(False)
    for key, values in levels.items():
        for v in [*values, "_other"]:
            name = _share_name(key, v)
            out[name] = g[name] / g.n_events
    g = g.mutate(**out)
    drop = [
        c
        for c in g.columns
        if c.startswith("_") or c in ("first_order", "last_order", "first_seen", "last_seen")
    ]
    return g.drop(*drop)


def _share_name(column: str, level: str) -> str:
    column = "event_type" if column == "etype" else column
    safe = "".join(ch if ch.isalnum() else "_" for ch in str(level).lower()).strip("_")
    return f"share_{column}_{safe or 'blank'}"
