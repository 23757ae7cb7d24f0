"""What a log's columns hold, beyond what their names say: small queries on the contents.

Used by :func:`personas.profiles.profile` after the names have been read
(:func:`~personas.profiles._mapping.infer_mapping`): whether a column reads as numbers or
times, whether the inferred user id is filled, whether a "type" column names events, the
columns of a file without a header, the levels of the share columns, and whether the
user id looks like one per order.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from personas.errors import DataError, SchemaError
from personas.profiles._features import EventKinds
from personas.profiles._mapping import TIME_WORDS, EventMapping, words
from personas.profiles._times import time_reader

__all__ = ["FILL_SAMPLE", "SHARE_COLUMNS", "reads", "check_event_type", "headerless",
           "level_counts", "mostly_negative", "one_order_each", "user_hint",
           "user_with_values", "without_empty_money"]  # fmt: skip

FILL_SAMPLE = 100_000  # first lines in which an inferred user id must be mostly filled

SHARE_COLUMNS = ("category", "channel", "device", "etype")


def reads(read):
    """Whether a column reads in some way: ``read(column)``, or None where it raises a
    DataError; each column tried once."""

    @functools.cache
    def how(column: str) -> Any:
        try:
            return read(column)
        except DataError:
            return None

    return how


def user_with_values(table, kinds: dict[str, str], mapping: EventMapping, infer, notes):
    """``mapping``, or one with the next column named for users when the inferred user
    id is empty in most of the log's first lines — GA4's exports hold ``user_id`` (set
    for signed-in users only) before ``user_pseudo_id`` (always set)."""
    head = table.limit(FILL_SAMPLE)

    def filled(column: str) -> float:
        row = head.aggregate(n=head.count(), k=head[column].count()).execute().iloc[0]
        return int(row["k"]) / max(int(row["n"]), 1)

    first = filled(mapping.user_id)
    if first >= 0.5:
        return mapping
    best, share, kinds = mapping, first, dict(kinds)
    kinds.pop(mapping.user_id)
    while share < 0.5:  # the next candidate, until one is mostly filled (or none is left)
        try:
            other = infer(kinds)
        except SchemaError:
            break
        kinds.pop(other.user_id)
        if (now := filled(other.user_id)) > share:
            best, share = other, now
    if best is not mapping:
        notes.append(
            f"{mapping.user_id} is empty in {1 - first:.0%} of the first lines: "
            f"{best.user_id} is the user id. Name another with --user-id."
        )
    return best


MONEY = ("amount", "price", "quantity")


def empty_money(table, mapping: EventMapping) -> list[str]:
    """The meanings among amount, price and quantity whose column holds no value on any
    line (every value missing or blank: "n/a" throughout); a column with one value stops
    its query at that value."""
    out = []
    for meaning in MONEY:
        column = getattr(mapping, meaning)
        if column is None:
            continue
        col = table[column]
        present = col.notnull() & (col.strip() != "") if col.type().is_string() else col.notnull()
        if len(table.filter(present).select(column).limit(1).execute()) == 0:
            out.append(meaning)
    return out


def without_empty_money(table, mapping: EventMapping, named: dict, source: str, notes):
    """``mapping`` without an amount, price or quantity column that holds no value on any
    line (a note says so): the log is then read as one without it. Such a column the
    caller named is an error naming it. (For a log without event types, where money says
    what a purchase is; with them, an empty revenue column is a window without one.)"""
    empty = empty_money(table, mapping)
    for meaning in empty:
        column = getattr(mapping, meaning)
        if named.get(meaning):
            raise DataError(
                f"The {meaning} column {column!r} of {source} holds no value on any line "
                "(every value is missing or blank): no purchase could be valued by it. Name "
                f"the column that holds them with --{meaning}, or leave the flag out."
            )
        notes.append(
            f"{column} (taken for the {meaning}) holds no value on any line of {source}: "
            f"left out. Name another column with --{meaning}."
        )
    return dataclasses.replace(mapping, **dict.fromkeys(empty)) if empty else mapping


def check_event_type(table, mapping: EventMapping, notes: list[str]) -> None:
    """A column taken as the event type for its name saying type or kind only
    (``customer_type``) is left out when none of its values names an event personas
    knows (purchase, refund, session…): it is a label of the user, not of the event, and
    taking it would leave the log without purchases."""
    name = mapping.event_type
    if words(name) & {"event", "action", "activity"}:
        return
    known, values = _names_events(table, name, 10_000)
    if known:
        return
    mapping.event_type = None
    shown = ", ".join(repr(v) for v in sorted(values)[:4])
    notes.append(
        f"{name} ({shown}…) names no event personas knows (purchase, refund, session…): "
        "not taken as the event type. Name it with --event-type if it is one."
    )


def _names_events(table, name: str, most: int) -> tuple[bool, list[str]]:
    """Whether a value of the column ``name`` (among ``most`` of its distinct values) is
    an event personas knows; the values looked at."""
    col = table[name].cast("string")
    values = table.select(v=col).distinct().limit(most).execute()["v"].dropna()
    values = [str(v) for v in values]
    return any(EventKinds(values).values.values()), values


def headerless(table, column_kinds, columns, source, notes) -> dict[str, str]:
    """The user id, time, amount and event type of a file without a header, from the
    contents: the user id is the first column (that is not a time); the time the first
    other column read as times (dates written as yyyymmdd, Unix times…); the amount the
    one column of numbers with decimals; the event type the first text column naming
    events personas knows (purchase, buy, refund…). The caller's choices win."""
    names = list(column_kinds)
    given = {k: v for k, v in columns.items() if v}
    found: dict[str, str] = {}
    if "user_id" not in given:
        found["user_id"] = next((n for n in names if column_kinds[n] != "time"), names[0])
    user = given.get("user_id") or found["user_id"]
    if "timestamp" not in given:
        for name in names:
            if name == user or column_kinds[name] not in ("time", "number", "text"):
                continue
            try:
                time_reader(table, name, source)
            except DataError:
                continue
            found["timestamp"] = name
            break
    if "amount" not in given and "price" not in given:
        taken = {user, *found.values(), *given.values()}
        decimals = [n for n, t in table.schema().items() if t.is_floating() and n not in taken]
        if len(decimals) == 1:
            found["amount"] = decimals[0]
    if "event_type" not in given:  # a column of text naming events personas knows
        taken = {user, *found.values(), *given.values()}
        for name in names:
            if name in taken or column_kinds[name] != "text":
                continue
            # (in the first lines: a column of ids has as many values as lines)
            if _names_events(table.limit(FILL_SAMPLE), name, 1_000)[0]:
                found["event_type"] = name
                break
    if found:
        said = ", ".join(f"{v} as the {k.replace('_', ' ')}" for k, v in found.items())
        notes.append(
            f"{source} has no header: took {said}, from their contents. Name columns "
            "(--user-id, --timestamp, --amount…) to choose others."
        )
    return found


def level_counts(e, mapping: EventMapping) -> dict[str, list[tuple[Any, int]]]:
    """Lines per value of each share column, event type, plan and status, most frequent
    first."""
    out: dict[str, list[tuple[Any, int]]] = {}
    for key in (*SHARE_COLUMNS, "plan", "status"):
        if getattr(mapping, "event_type" if key == "etype" else key) is None:
            continue
        counts = e[key].value_counts().execute()  # (missing values too)
        counts = counts.sort_values(counts.columns[1], ascending=False, kind="stable")
        out[key] = list(zip(counts.iloc[:, 0], counts.iloc[:, 1].astype(int), strict=True))
    return out


def one_order_each(data, mapping: EventMapping, *, least: int = 100) -> str | None:
    """A note when no user of many buyers (``least`` or more) has a second order: the
    user id may be one per order (Olist's ``customer_id``; its customer is
    ``customer_unique_id``, in another table), which leaves frequency and RFM meaningless.
    """
    orders = data["frequency"]
    buyers = int((orders > 0).sum())
    if buyers < least or int(orders.max()) > 1:
        return None
    return (
        f"No user has more than one order ({buyers:,} buyers, one order each): if "
        f"{mapping.user_id} is one per order rather than per customer, profile by the "
        "customer's id instead (--user-id COLUMN, or a --query joining the customers "
        "table)."
    )


def mostly_negative(negative: int, priced: int, mapping: EventMapping, source: str) -> str | None:
    """A note when most lines with an amount are negative: read as returns, they leave
    most users without a purchase — the log writes spending negative (a bank account's
    debits) or its amounts are standardised (Elo's ``purchase_amount``)."""
    if not negative * 2 > priced > 0:
        return None
    column = mapping.amount or mapping.quantity or mapping.price
    share = f"{negative / priced:.0%}"
    example = ""
    if source.lower().endswith((".csv", ".parquet", ".gz", ".tsv", ".txt", ".json")):
        query = f"SELECT *, -{column} AS spent FROM '{source}'"  # (credits: returns)
        example = f' (e.g. --query "{query}" --amount spent)'
    return (
        f"{negative:,} of the {priced:,} lines of {source} with an amount ({share}) are "
        f"negative, read as returns: most users have no purchase. If {column} writes "
        f"spending as negative (debits), give it with the sign turned{example}, so that "
        "debits are purchases and credits returns; if it is standardised, give the amounts "
        "as spent; or leave those lines out: --negative-quantities drop."
    )


def user_hint(table, kinds: dict[str, str]) -> str | None:
    """When no column is named for a user: the first column of text or whole numbers whose
    values repeat as a user id's do in the log's first lines (at least 20 values, each
    seen twice or more on average; KKBox's ``msno``), as a hint for ``--user-id``."""
    schema = table.schema()
    names = [
        c
        for c, k in kinds.items()
        if (k == "text" or (k == "number" and schema[c].is_integer())) and not words(c) & TIME_WORDS
    ]
    if not names:
        return None
    head = table.limit(FILL_SAMPLE)
    counts = (
        head.aggregate(n=head.count(), **{f"c{i}": head[c].nunique() for i, c in enumerate(names)})
        .execute()
        .iloc[0]
    )
    n = int(counts["n"])
    for i, name in enumerate(names):
        distinct = int(counts[f"c{i}"])
        if distinct >= 20 and 2 * distinct <= n:
            return (
                f"{name} repeats as a user id does ({distinct:,} values in the first {n:,} "
                f"lines): if it is one, --user-id {name}."
            )
    return None
