"""Per-user features from an event log, as Ibis expressions run by DuckDB.

Only the result (one row per user) reaches pandas. Every feature is defined in
``FEATURES`` (shown in the user guide, docs/guide/profiles.md, and in ``summary.json``).
Times are UTC; only events strictly before ``as_of`` count.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from personas.profiles._active import (
    MAX_INLINE_BLOCKS,
    active_blocks,
    active_days,
    block_range,
    day_bits,
)
from personas.profiles._mapping import EventMapping, duration_minutes
from personas.profiles._times import epoch_seconds
from personas.profiles._vocabulary import (
    CANCEL_TYPES,
    FLAG_FALSE,
    FLAG_TRUE,
    PURCHASE_TYPES,
    RENEWAL_TYPES,
    RETURN_TYPES,
    SESSION_TYPES,
    STATUS_CANCELLED,
    STATUS_RETURNED,
    SUBSCRIPTION_TYPES,
    event_name,
)

__all__ = ["FEATURES", "PURCHASE_TYPES", "build_features", "normalise"]

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
    "invoice numbers of C and digits)",
    "returns_value": "value of those returns (positive)",
    "return_share": "returns / frequency",
    "sessions": "distinct session ids (or session events)",
    "avg_session_minutes": "mean duration of session events (when durations are logged)",
    "visits_per_active_week": "sessions / active_weeks",
    "renewals": "subscription renewal events",
    "cancellations": "subscription cancellation events",
    "plan": "the last plan seen",
    "churned": "the last subscription event is a cancellation",
    "days_to_renewal": (
        "days from as_of to the next renewal: the last signup or renewal plus the user's "
        "mean period between them (with one, the median period of the log); negative when "
        "overdue, empty when churned or never billed"
    ),
    "share_{column}_{level}": "share of the user's events with that category / channel / "
    "device / event type (the levels most frequent in the log; the rest, if any, in _other)",
}


def normalise(
    t: Any,
    m: EventMapping,
    *,
    row_hash: bool = False,
    time: Any = None,
    numbers: Any = None,
    zero_ids: bool = True,
) -> Any:
    """Typed, renamed columns: uid, ts, amount, qty, order_id, etype, session, duration…

    ``time`` (a :class:`~personas.profiles._times.TimeReader`) says how the time column
    is read (by default, as :func:`~personas.profiles._times.time_reader` chooses);
    ``ts_unread`` is then true where a time is present but could not be read.
    ``numbers`` maps amount, price, quantity, duration to how their column is read
    (:class:`~personas.io._numbers.NumberReader`; default: a cast).
    ``zero_ids``: text ids written as whole numbers with zero decimals ("17850.0") are
    read without them (False: left as written, for :func:`zero_decimals` to rewrite only
    where a log has such ids).
    ``row_hash`` adds ``h``, a 64-bit hash (unsigned) of every column of the line as
    read: identical lines share it (lines sharing it are then compared on every column).
    """
    import ibis

    from personas.profiles._times import time_reader

    cols: dict[str, Any] = {"uid": _as_id(t[m.user_id], zero_ids)}
    raw = t[m.timestamp]
    time = time or time_reader(t, m.timestamp, "the events")
    # Aware times stay aware (the session time zone is UTC, so days and weeks are UTC
    # days); every comparison with as_of is on epoch seconds. (Casting them to naive
    # timestamps instead hit a DuckDB 2.0 bug that ignored offsets inside filters.)
    ts = time(raw, t)
    cols["ts"] = ts
    cols["sec"] = epoch_seconds(ts)
    cols["ts_unread"] = (ts.isnull() & raw.notnull()) if time.may_fail else ibis.literal(False)
    numbers = numbers or {}

    def number(meaning: str) -> Any:
        col = t[getattr(m, meaning)]
        return numbers[meaning](col) if meaning in numbers else col.cast("float64")

    if m.amount is not None:
        cols["amount"] = number("amount")
    elif m.price is not None and m.quantity is not None:
        cols["amount"] = number("price") * number("quantity")
    elif m.price is not None:  # a price and no quantity: each line is one unit
        cols["amount"] = number("price")
    else:
        cols["amount"] = ibis.null("float64")
    cols["qty"] = number("quantity") if m.quantity else ibis.null("float64")
    cols["unit_price"] = number("price") if m.price else ibis.null("float64")
    cols["order_id"] = _as_id(t[m.order_id], zero_ids) if m.order_id else ibis.null("string")
    # Event types stay as written; EventKinds maps their few distinct values to meanings,
    # so no line is lower-cased or stripped.
    cols["etype"] = t[m.event_type].cast("string") if m.event_type else ibis.null("string")
    cols["session"] = t[m.session_id].cast("string") if m.session_id else ibis.null("string")
    cols["duration"] = number("duration") if m.duration else ibis.null("float64")
    cols["plan"] = t[m.plan].cast("string") if m.plan else ibis.null("string")
    cols["status"] = t[m.status].cast("string") if m.status else ibis.null("string")
    for key in ("category", "channel", "device", "product"):
        col = getattr(m, key)
        cols[key] = t[col].cast("string") if col else ibis.null("string")
    if row_hash:
        cols["h"] = _hash_udf(tuple(t.schema().values()))(*(t[c] for c in t.columns))
    return t.select(**cols)


_ZERO_DECIMALS = r"^([0-9]+)\.0+$"  # (for DuckDB's expressions and Python's alike)
ZERO_DECIMAL_TESTS = {"zero_decimal_uid": "uid", "zero_decimal_order_id": "order_id"}


def zero_decimal_tests(e: Any, m: EventMapping) -> dict[str, Any]:
    """Per line, whether its user id and its order id (of :func:`normalise` with
    ``zero_ids=False``) are whole numbers written with zero decimals ("17850.0", in a file
    a spreadsheet or pandas wrote): counted in the scan every line goes through, so that
    only a log holding such ids has them rewritten (:func:`zero_decimals`; rewriting
    every id of a 10M-line log cost a third of profiling's time)."""
    import ibis

    return {
        test: ibis.cases(
            (e[c].like("%.%0"), e[c].re_search(_ZERO_DECIMALS)), else_=False
        ).fill_null(False)
        for test, c in ZERO_DECIMAL_TESTS.items()
        if c == "uid" or m.order_id
    }


def read_id(text: str) -> str:
    """One id as profiles read it: a whole number written with zero decimals ("17850.0")
    is the whole number ("17850"); any other id is as written."""
    whole = re.fullmatch(_ZERO_DECIMALS, text)
    return whole.group(1) if whole else text


def zero_decimals(e: Any, columns: list[str]) -> Any:
    """``e`` with the ids of ``columns`` (uid, order_id) written without zero decimals."""
    return (
        e.mutate(**{c: e[c].re_replace(_ZERO_DECIMALS, r"\1") for c in columns}) if columns else e
    )


def _as_id(col: Any, zero_ids: bool = True) -> Any:
    """An id column as text; whole numbers stored as floats (a column with missing
    values read by pandas: 17850.0), or written so in text (with ``zero_ids``), are
    written without the ".0"."""
    import ibis

    if col.type().is_string():  # ("17850.0" in a file a spreadsheet or pandas wrote)
        return col.re_replace(_ZERO_DECIMALS, r"\1") if zero_ids else col
    if not col.type().is_floating():
        return col.cast("string")
    whole = (col == col.floor()) & (col.abs() < 2**53)
    return ibis.cases((whole, col.cast("int64").cast("string")), else_=col.cast("string"))


class EventKinds:
    """Which of the log's event-type values (as written) mean a purchase, a return…

    Built from the column's distinct values, matched case- and space-insensitively
    against ``PURCHASE_TYPES``, ``RETURN_TYPES``, ``CANCEL_TYPES``, ``RENEWAL_TYPES``,
    ``SUBSCRIPTION_TYPES`` and ``SESSION_TYPES`` (as :func:`event_name` writes them): a
    value's meaning never depends on the other values, so a few users' events are read
    as the whole log's. What does depend on the log is fixed by a fitted profile builder:
    the kinds counted (``present``) and whether the status column is a flag.
    """

    NAMES: dict[str, tuple[str, ...]] = {
        "purchase": PURCHASE_TYPES,
        "return": RETURN_TYPES,
        "cancel": CANCEL_TYPES,
        "renewal": RENEWAL_TYPES,
        "subscription": SUBSCRIPTION_TYPES,
        "session": SESSION_TYPES,
    }

    def __init__(
        self,
        values: list[str] | None = None,
        statuses: list[str] | None = None,
        flag: str | None = None,
        *,
        present: list[str] | None = None,
        status_flag: bool | None = None,
    ):
        values = [str(v) for v in values or []]
        self.values = {
            kind: [v for v in values if event_name(v) in names]
            for kind, names in self.NAMES.items()
        }
        statuses = [str(v) for v in statuses or []]
        self.status = {  # the status column's values that cancel or return an order
            kind: [v for v in statuses if event_name(v) in names]
            for kind, names in (("cancelled", STATUS_CANCELLED), ("returned", STATUS_RETURNED))
        }
        said = {event_name(v) for v in statuses}
        if status_flag is None:  # a column named as a flag holding only flag values
            status_flag = bool(flag and said and said <= FLAG_TRUE | FLAG_FALSE)
        self.status_flag = bool(flag and status_flag)
        if self.status_flag:
            # a flag column (is_cancel, is_returned): its true values mark the lines
            self.status = {"cancelled": [], "returned": []}
            self.status[flag] = [v for v in statuses if event_name(v) in FLAG_TRUE]
        # The kinds the profiles count (renewals, sessions…): those of the values, unless
        # the kinds of another log are given (a model's, scoring a few users' events).
        self.present = sorted(
            present if present is not None else (k for k, v in self.values.items() if v)
        )

    def has(self, kind: str) -> bool:
        """Whether the profiles count ``kind`` (a column per kind; 0 for a user without)."""
        return kind in self.present

    def test(self, column: Any, kind: str, *, in_filter: bool = False) -> Any:
        """A boolean expression: the line's event type means ``kind``.

        Never null, unless ``in_filter`` (an aggregate's filter, where null is false).
        """
        return any_of(column, self.values[kind], in_filter=in_filter)


def any_of(column: Any, values: list[str], *, in_filter: bool = False) -> Any:
    """``column`` equals one of ``values``: equalities, no per-line join or string copy.

    Never null unless ``in_filter``; there the plain comparisons are cheaper.
    """
    import ibis

    if not values:
        return ibis.literal(False)
    test = column == values[0]
    for v in values[1:]:
        test = test | (column == v)
    return test if in_filter else test.fill_null(False)


def primitives(e: Any, m: EventMapping, kinds: EventKinds) -> dict[str, Any]:
    """The simple per-line facts the purchase/return rules combine (never null).

    Facts the log cannot have (no event type, no order id…) are left out: they are false.
    """
    p: dict[str, Any] = {}
    if m.event_type:
        p["kind_purchase"] = kinds.test(e.etype, "purchase")
        p["kind_return"] = kinds.test(e.etype, "return")
    if m.quantity or m.amount or m.price:
        p["negative"] = ((e.qty < 0) | (e.amount < 0)).fill_null(False)
        p["zero_amount"] = (e.amount == 0).fill_null(False)
        p["has_amount"] = e.amount.notnull()
    if m.quantity:
        p["negative_qty"] = (e.qty < 0).fill_null(False)
    if m.order_id:
        p["c_prefix"] = cancel_prefixed(e.order_id).fill_null(False)
    if m.status and kinds.status["cancelled"]:
        p["status_cancelled"] = any_of(e.status, kinds.status["cancelled"])
    if m.status and kinds.status["returned"]:
        p["status_returned"] = any_of(e.status, kinds.status["returned"])
    return p


def items_bought(m: EventMapping) -> bool:
    """Whether each line of the log is an item bought though it has no amount: a log of
    products or orders without event types or money (a basket log such as the Groceries
    data set's member, date, item; an orders table)."""
    return not m.event_type and not m.has_money and bool(m.product or m.order_id)


def rules(
    p: dict[str, Any], *, event_type: bool, cancel_prefix: bool, false: Any, unpriced: bool = False
) -> dict:
    """is_purchase / is_return / cancelled from :func:`primitives`, by event type or, in a
    transaction log, by sign; with ``cancel_prefix``, order ids made of "C" and digits
    ("C489449", the Online Retail convention) are cancelled invoices. With ``unpriced``
    (see :func:`items_bought`) a line of a log without event types is a purchase without
    an amount.

    Only ``&``, ``|`` and ``~``: the same rules run on Ibis columns (the lines) and on
    NumPy arrays (the tallies of :func:`personas.profiles._cleaning.scan`); ``false`` is
    the false value of either kind, for facts left out.
    """

    def fact(name: str) -> Any:
        return p.get(name, false)

    cancelled = (fact("c_prefix") if cancel_prefix else false) | fact("status_cancelled")
    negative = fact("negative") | fact("status_returned")
    if event_type:
        is_purchase = fact("kind_purchase") & ~negative & ~cancelled
        is_return = fact("kind_return") | (fact("kind_purchase") & negative)
    else:  # every line of a transaction log is a purchase line, unless it is a return
        is_return = negative | cancelled
        is_purchase = ~is_return & (~false if unpriced else fact("has_amount"))
    return {
        "is_purchase": is_purchase,
        "is_return": is_return,
        "cancelled": cancelled,
        "purchase_lines": is_purchase,
        "return_lines": is_return,
        "zero_prices": fact("zero_amount") & ~is_return,
        "cancelled_invoices": cancelled,
        "negative_quantities": fact("negative_qty"),
    }


RULES = ("purchase_lines", "return_lines", "zero_prices", "cancelled_invoices",
         "negative_quantities")  # fmt: skip


def flags(e: Any, m: EventMapping, kinds: EventKinds, *, cancel_prefix: bool = True) -> Any:
    """``e`` with is_purchase / is_return / cancelled per line (see :func:`rules`)."""
    import ibis

    found = rules(
        primitives(e, m, kinds),
        event_type=bool(m.event_type),
        cancel_prefix=cancel_prefix,
        false=ibis.literal(False),
        unpriced=items_bought(m),
    )
    return e.mutate(**{k: found[k] for k in ("is_purchase", "is_return", "cancelled")})


def cancel_prefixed(order_id: Any) -> Any:
    """The id is "C" or "c" and a digit, then anything ("C489449"; not "ch_3N…", "cart-12").

    As ranges of strings ("C0" ≤ id < "C:", the character after "9"): comparisons of the
    strings' first bytes (0.20 s per 10M lines, against 0.35 s for prefix tests and a
    substring).
    """
    return ((order_id >= "C0") & (order_id < "C:")) | ((order_id >= "c0") & (order_id < "c:"))


def build_features(
    e: Any,
    m: EventMapping,
    as_of: dt.datetime,
    *,
    kinds: EventKinds,
    levels: dict[str, ShareLevels],
    plans: list[str] | None = None,
    span: tuple[float, float] | None = None,
    zero_value_orders: bool = False,
    materialise: Callable[[str, Any], Any] | None = None,
    billing: dict[str, float | None] | None = None,
) -> Any:
    """One row per user (an Ibis expression).

    ``billing`` holds the population's median period between billing events (seconds,
    ``"period"``), which days_to_renewal uses for users with a single one; without that
    key it is measured on ``e`` (its users with two or more) and put there.

    ``kinds`` says which event types mean what; ``levels`` gives, per share column, the
    share columns to make (see :class:`ShareLevels`); ``plans`` the distinct values of
    the plan column, when known (the latest plan is then found by its code); ``span``
    the earliest and latest times (epoch seconds) a line may have, when known: over up to
    ``MAX_INLINE_BLOCKS`` blocks of days, active days and weeks are then counted with the
    events (see :func:`~personas.profiles._active.active_blocks`) rather than by a
    grouping of their own. The
    per-user aggregates (events, active days, orders) are passed through
    ``materialise(name, expr)`` when given — e.g. to store each as a table, so that one
    aggregation at a time holds memory — before they are joined.
    """
    import ibis

    blocks = block_range(*span) if span is not None else range(0)
    inline = 0 < len(blocks) <= MAX_INLINE_BLOCKS
    if inline:  # each line's block and day bit, worked out once (not once per block)
        block, bit = day_bits(e.sec)
        e = e.mutate(_block=block, _bit=bit)

    def count(where=None):
        return e.count() if where is None else count_where(e, where)

    as_of_s = as_of.replace(tzinfo=dt.UTC).timestamp()
    sec = e.sec
    # zero-value lines are not orders (unless zero_value_orders); without money (a
    # clickstream) every purchase event is
    priced = m.has_money and not zero_value_orders
    buy = e.is_purchase & (e.amount.fill_null(0) > 0) if priced else e.is_purchase
    order_key = e.order_id if m.order_id else e.ts  # without ids, an order per instant
    agg: dict[str, Any] = {
        "n_events": count(),
        "first_seen": sec.min(),
        "last_seen": sec.max(),
    }
    # Counts by subtraction, once the aggregates are joined: name → expression over them.
    # (Each count is a filtered aggregate DuckDB evaluates on every line; a derived one
    # costs nothing per line.)
    derived: dict[str, Callable[[Any], Any]] = {}
    # Events per age band, each line in one band at most; windows and the periods the
    # trends compare with are sums of bands.
    edges = sorted({0, *WINDOWS, *(2 * w for w in (30, 90))})
    bands = [(lo, hi) for lo, hi in zip(edges, edges[1:], strict=False) if hi <= max(WINDOWS)]
    for lo, hi in bands:
        recent = e.sec >= as_of_s - hi * DAY
        agg[f"_age_{lo}_{hi}"] = count(recent if lo == 0 else recent & (e.sec < as_of_s - lo * DAY))

    def band_sum(lo: int, hi: int) -> Callable[[Any], Any]:
        names = [f"_age_{a}_{b}" for a, b in bands if lo <= a and b <= hi]
        return lambda g: functools.reduce(operator.add, (g[n] for n in names))

    for w in WINDOWS:
        derived[f"events_{w}d"] = band_sum(0, w)
    for w in (30, 90):  # the trends compare events_{w}d with the w days before them
        derived[f"_before_{w}"] = band_sum(w, 2 * w)
    for key, share in levels.items():
        _share_counts(e, key, share, agg, derived)
    etype_counts = {}
    if "etype" in levels:  # an event kind that is a share level is counted once
        etype_counts = {frozenset(v): name for name, v in levels["etype"].named.items()}

    def kind_count(out_name: str, kind: str) -> None:
        shared = etype_counts.get(frozenset(kinds.values[kind]))
        if shared is not None:
            derived[out_name] = lambda g: g[shared]
        else:
            agg[out_name] = count(kinds.test(e.etype, kind, in_filter=True))

    # Sessions, renewals and cancellations only where the log has them (not columns of 0)
    if m.session_id:
        agg["sessions"] = e.session.nunique()
    elif m.event_type and kinds.has("session"):
        kind_count("sessions", "session")
    if m.duration:
        timed = e.duration.notnull()
        if m.event_type and not m.session_id:
            timed = timed & kinds.test(e.etype, "session")
        per, _ = duration_minutes(m.duration)  # (the unit the column's name gives)
        agg["avg_session_minutes"] = when(timed, e.duration).mean() * per
    if m.event_type:
        for name, kind in (("renewals", "renewal"), ("cancellations", "cancel")):
            if kinds.has(kind):
                kind_count(name, kind)
        if kinds.has("subscription"):
            subscription = kinds.test(e.etype, "subscription", in_filter=True)
            # Only "was the last one a cancellation" is kept (code 2; ties go to it)
            cancel = ibis.cases((kinds.test(e.etype, "cancel"), 2), else_=1)
            agg["_last_sub"] = when(subscription, _stamped(e.sec, cancel, 3)).max()
        billed = [v for v in kinds.values["subscription"] if v not in kinds.values["cancel"]]
        if kinds.has("renewal"):  # renewals give the billing period (days_to_renewal)
            bill = any_of(e.etype, billed, in_filter=True)
            agg["_bill_n"] = count(bill)
            agg["_bill_first"] = when(bill, e.sec).min()
            agg["_bill_last"] = when(bill, e.sec).max()
    if m.plan:
        if plans and len(plans) <= MAX_CODED:
            code = ibis.cases(*((e.plan == v, i + 1) for i, v in enumerate(plans)), else_=0)
            stamped = _stamped(e.sec, code, len(plans) + 1)
            agg["_last_plan"] = when(e.plan.notnull(), stamped).max()
        else:  # many plans: an ordered aggregate (slower: it keeps every value)
            agg["plan"] = e.plan.argmax(e.sec, where=e.plan.notnull())
    active = None
    if inline:
        active_blocks(e, blocks, agg, derived)
    else:
        active = active_days(e)
    g = e.group_by("uid").aggregate(**agg)
    # Order lines first become one row per order (purchases and returns together, keyed
    # by order id), so that counting orders per window is a count, not a distinct count
    # over every line.
    lines = e.mutate(buy=buy, order_key=order_key, value=e.amount).filter(
        lambda t: t.buy | t.is_return
    )
    per_order = lines.group_by(["uid", "order_key"]).aggregate(
        osec=when(lines.buy, lines.sec).min(),
        value=when(lines.buy, lines.value).sum(),
        returned=when(lines.is_return, lines.value.abs()).sum(),
    )
    per: dict[str, Any] = {
        "frequency": per_order.osec.count(),
        "monetary": per_order.value.sum(),
        "first_order": per_order.osec.min(),
        "last_order": per_order.osec.max(),
        "returns": per_order.returned.count(),
        "returns_value": per_order.returned.sum(),
    }
    for w in WINDOWS:
        recent = per_order.osec >= as_of_s - w * DAY
        per[f"orders_{w}d"] = count_where(per_order, recent)
        per[f"spend_{w}d"] = when(recent, per_order.value).sum()
    orders = per_order.group_by("uid").aggregate(**per)
    parts = {"events": g, "active": active, "orders": orders}
    parts = {name: part for name, part in parts.items() if part is not None}
    if materialise is not None:
        parts = {name: materialise(name, part) for name, part in parts.items()}
    g = parts.pop("events")
    typical = None
    if "_bill_n" in agg:  # the median period of the users with two billing events or more
        billing = {} if billing is None else billing
        if "period" not in billing:
            multi = g.filter(g._bill_n >= 2)
            gap = (multi._bill_last - multi._bill_first) / (multi._bill_n - 1)
            period = multi.aggregate(p=gap.median()).execute()["p"].iloc[0]
            billing["period"] = None if period is None or period != period else float(period)
        typical = ibis.literal(billing["period"], "float64")
    for part in parts.values():
        g = g.left_join(part, "uid").drop("uid_right")
    # In order: a derived count may use an earlier one, inlined (one projection: Ibis
    # compiled a projection per count in twice the time).
    made: dict[str, Any] = {}
    view = _Columns(g, made)
    for name, make in derived.items():
        made[name] = make(view)
    g = g.mutate(**made)
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
        now, before = g[f"events_{w}d"], g[f"_before_{w}"]
        out[f"trend_{w}d"] = ((now - before) / (now + before).nullif(0)).fill_null(0.0)
    if "sessions" in g.columns:
        out["visits_per_active_week"] = g.sessions / g.active_weeks.nullif(0)
    if "_last_sub" in agg:
        out["churned"] = (_code(g._last_sub, 3) == 2).fill_null(False)
    if typical is not None:
        own = (g._bill_last - g._bill_first) / (g._bill_n - 1).nullif(0)
        due = g._bill_last + ibis.coalesce(own, typical)
        lapsed = _code(g._last_sub, 3) == 2
        out["days_to_renewal"] = ibis.cases(
            (lapsed.fill_null(False), ibis.null("float64")), else_=(due - as_of_s) / DAY
        )
    if "_last_plan" in agg:
        code = _code(g._last_plan, len(plans) + 1)
        out["plan"] = ibis.cases(*((code == i + 1, v) for i, v in enumerate(plans)), else_=None)
    for key, share in levels.items():
        for name in share.named:
            out[name] = g[name] / g.n_events
        if share.more:
            out[_share_name(key, "_other")] = g[f"_rest_{key}"] / g.n_events
    g = g.mutate(**out)
    hidden = ("first_order", "last_order", "first_seen", "last_seen")
    keep = [c for c in g.columns if not c.startswith("_") and c not in hidden]
    # Active days and weeks after the events' columns, however they were counted
    active_cols = ["active_days", "active_weeks"]
    keep = [c for c in keep if c not in active_cols]
    at = keep.index("frequency")
    return g.select(*keep[:at], *active_cols, *keep[at:])


class _Columns:
    """The columns of ``table``, and the expressions of ``made`` under their names."""

    def __init__(self, table: Any, made: dict[str, Any]):
        self._table, self._made = table, made

    def __getitem__(self, name: str) -> Any:
        return self._made[name] if name in self._made else self._table[name]

    def __getattr__(self, name: str) -> Any:
        return self[name]


def _share_counts(e: Any, key: str, share: ShareLevels, agg: dict, derived: dict) -> None:
    """Lines per named level (and ``_rest_{key}``) of one column, counting the fewest lines.

    The lines with a value are all lines less the missing ones (or counted, when most
    are missing); the largest group — a level or the rest — is then those less the other
    groups. So the most frequent event type, say, is never counted line by line.
    """
    col = e[key]
    known = f"_known_{key}"
    if share.missing == 0:
        derived[known] = lambda g: g.n_events
    elif 2 * share.missing < sum(share.lines.values()) + share.rest + share.missing:
        agg[f"_missing_{key}"] = count_where(e, col.isnull())
        derived[known] = lambda g: g.n_events - g[f"_missing_{key}"]
    else:
        agg[known] = col.count()
    groups = dict(share.lines)
    if share.more:
        groups[f"_rest_{key}"] = share.rest
    largest = max(groups, key=lambda name: (groups[name], name))
    values = [v for vs in share.named.values() for v in vs]
    for name in groups:
        if name == largest:
            continue
        if name in share.named:
            agg[name] = count_where(e, any_of(col, share.named[name], in_filter=True))
        else:
            agg[name] = count_where(e, col.notnull() & ~any_of(col, values))
    others = [name for name in groups if name != largest]
    derived[largest] = lambda g: functools.reduce(
        operator.sub, (g[name] for name in others), g[known]
    )


def when(test: Any, value: Any) -> Any:
    """``value`` where ``test`` holds, else null: aggregated, the same as the aggregate
    with ``where=test``, and cheaper in DuckDB (see :func:`count_where`).
    """
    import ibis

    return ibis.cases((test, value))


def count_where(t: Any, test: Any) -> Any:
    """The rows of ``t`` where ``test`` holds, as ``COUNT(CASE WHEN test THEN 1 END)``:
    DuckDB runs ``COUNT(*) FILTER (WHERE test)`` as a filter per aggregate (10 counts of
    lines in time windows over 10M events cost 0.1 s more than one count as CASEs,
    0.9–1.0 s more as FILTERs)."""
    import ibis.expr.types as ir

    if isinstance(test, ir.Scalar):  # a constant test (e.g. no value to compare with)
        return t.count(where=test)
    return when(test, 1).count()


MAX_CODED = 64  # plans coded as small integers in _stamped; more: an ordered aggregate


def _stamped(sec: Any, code: Any, k: int) -> Any:
    """A line's time (ms) and a code below ``k`` in one integer, ordered by time then code.

    Its maximum over a user's lines gives the latest line's code: a plain ``max``, where
    an "arg max" keeps every value of the group (11 s of 55 s at 100M events).
    """
    return (sec * 1000).round().cast("int64") * k + code


def _code(stamped: Any, k: int) -> Any:
    """The code of a ``_stamped`` value (times before 1970 are negative: floor modulo)."""
    return ((stamped % k) + k) % k


def rule_tests(t: Any) -> dict[str, Any]:
    """Per line of a table with :func:`flags`: which purchase/return rule applies to it."""
    return {
        "purchase_lines": t.is_purchase,
        "return_lines": t.is_return,
        "zero_prices": (t.amount == 0).fill_null(False) & ~t.is_return,
        "cancelled_invoices": t.cancelled,
        "negative_quantities": (t.qty < 0).fill_null(False),
    }


@functools.cache
def _hash_udf(types: tuple) -> Any:
    """DuckDB's ``hash`` of several columns (Ibis' own ``hash`` of a struct of them
    builds the struct first: 37 % slower at 100M lines)."""
    import inspect

    import ibis

    def row_hash(*columns):
        """A 64-bit hash of the columns together."""

    row_hash.__signature__ = inspect.Signature(
        [inspect.Parameter(f"c{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(len(types))]
    )
    return ibis.udf.scalar.builtin(row_hash, name="hash", signature=(types, "uint64"))


@dataclass
class ShareLevels:
    """The share columns made of one column of the log, with what the level counts say.

    ``named``: share column → the values (as written) it counts, most frequent first;
    ``lines``: share column → lines with those values; ``rest``: lines with any other
    value (pooled in ``_other`` when there are such levels); ``missing``: lines without a
    value. Counts are of the lines read; they choose which count is the cheapest to
    derive by subtraction.
    """

    named: dict[str, list[str]]
    lines: dict[str, int]
    rest: int
    missing: int
    more: bool  # levels beyond the named ones exist (an _other share)


def share_levels(
    key: str, counts: list[tuple[Any, int]], n: int, fitted: dict[str, Any] | None = None
) -> ShareLevels | None:
    """The top ``n`` levels of a share column (``None`` when it has fewer than two).

    ``counts`` are (value as written, lines) pairs. Values that give the same column name
    are pooled (event types also across case and spaces: "Purchase" and "purchase ").
    ``fitted`` (``{"names": [...], "other": bool}``, from :func:`fitted_levels` of another
    log) fixes the share columns: a value whose column is not among them is pooled in
    ``_other`` when there is one.
    """
    pooled: dict[str, list[str]] = {}
    totals: dict[str, int] = {}
    missing = 0
    for value, lines in counts:
        if value is None or (isinstance(value, float) and value != value):
            missing += int(lines)
            continue
        text = str(value)
        name = _share_name(key, text.strip().lower() if key == "etype" else text)
        pooled.setdefault(name, []).append(text)
        totals[name] = totals.get(name, 0) + int(lines)
    if fitted is not None:
        top, more = list(fitted["names"]), bool(fitted["other"])
    elif len(totals) < 2:  # one level: nothing to share
        return None
    else:
        top = sorted(totals, key=lambda name: (-totals[name], name))[:n]  # ties: by name
        more = len(totals) > n
    return ShareLevels(
        named={name: pooled.get(name, []) for name in top},
        lines={name: totals.get(name, 0) for name in top},
        rest=sum(totals.values()) - sum(totals.get(name, 0) for name in top),
        missing=missing,
        more=more,
    )


def fitted_levels(share: ShareLevels) -> dict[str, Any]:
    """What a fitted profile builder keeps of a share column (see :func:`share_levels`)."""
    return {"names": list(share.named), "other": bool(share.more)}


def _share_name(column: str, level: str) -> str:
    column = "event_type" if column == "etype" else column
    safe = "".join(ch if ch.isalnum() else "_" for ch in str(level).lower()).strip("_")
    return f"share_{column}_{safe or 'blank'}"


def definitions(columns) -> dict[str, str]:
    """The definition of each of ``columns`` that is a profile's (see ``FEATURES``)."""
    out = {}
    for c in columns:
        if c in FEATURES:
            out[c] = FEATURES[c]
        elif c.startswith(("orders_", "spend_", "events_")) and c.endswith("d"):
            out[c] = FEATURES[c.split("_")[0] + "_{w}d"].replace(
                "w days", c.split("_")[1][:-1] + " days"
            )
        elif c.startswith("share_"):
            out[c] = FEATURES["share_{column}_{level}"]
    out.update(
        {
            "r_score": "recency quintile, 5 = most recent buyers (no order: empty)",
            "f_score": "frequency quintile, 5 = most orders",
            "m_score": "monetary quintile, 5 = highest spend",
            "rfm": "the three scores, e.g. 545",
            "rfm_segment": "named RFM segment (see the RFM table of the user guide)",
            "cal_x": "repeat purchase days up to the calibration end (CLV models)",
            "cal_t_x": "time from the first to the last purchase day, in the time unit",
            "cal_T": "time from the first purchase day to the calibration end, in the time unit",
            "cal_m": "mean value of the repeat purchase days",
            "expected_purchases": "BG/NBD expected purchases over the horizon",
            "p_alive": "BG/NBD probability that the customer is still active",
            "expected_value": "Gamma-Gamma expected value of a purchase",
            "clv": "discounted expected value over the horizon (BG/NBD × Gamma-Gamma)",
        }
    )
    return out
