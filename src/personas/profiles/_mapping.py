"""Which event-log column is the user id, the time, the amount, the order…: inferred from
names and types, overridable by the caller (flags, keyword arguments)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from personas._words import load, word_set
from personas.errors import SchemaError
from personas.io._names import tokens

__all__ = [
    "EventMapping",
    "flag_kind",
    "infer_mapping",
    "is_customer_name",
    "is_email_name",
    "mapping_toml",
    "read_mapping",
    "words",
]


@dataclass
class EventMapping:
    """The meaning of each event-log column (None where the log has no such column)."""

    user_id: str | None = None
    timestamp: str | None = None
    amount: str | None = None
    price: str | None = None
    quantity: str | None = None
    event_type: str | None = None
    order_id: str | None = None
    product: str | None = None
    category: str | None = None
    channel: str | None = None
    device: str | None = None
    session_id: str | None = None
    duration: str | None = None
    plan: str | None = None
    status: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @property
    def has_money(self) -> bool:
        """An amount, or a price (times the quantity where there is one)."""
        return self.amount is not None or self.price is not None


# The words of column names, per meaning, in seven languages: personas/words/column_names.toml
_WORDS = load("column_names")["events"]
USER_WORDS = set(_WORDS["users"])  # (Mixpanel's distinct_id and Segment's anonymousId too)
STATUS_WORDS = set(_WORDS["status"])
# A flag of a line undone: "is_cancel" (KKBox), "Cancelled", "is_returned", "return_flag"
_CANCEL_FLAGS = set(_WORDS["cancel_flags"])
FLAG_WORDS = _CANCEL_FLAGS | set(_WORDS["return_flags"])
_FLAG_CONTEXT = set(_WORDS["flag_context"])
# name tokens per meaning, most telling first; a column is used for one meaning only
_RULES: list[tuple[str, list[set[str]], str]] = [
    (m["name"], [word_set(tier, _WORDS) for tier in m["tiers"]], m["kind"])
    for m in _WORDS["meaning"]
]
# Words that make a name an id's ("customer_id", "InvoiceNo") or a time's ("order_date")
_ID_WORDS = set(_WORDS["id"])
_STRONG_ID_WORDS = set(_WORDS["strong_id"])  # never money
# Money that is not what the customer spent on the sale: never the amount or the price
_NOT_SALE = set(_WORDS["not_sale"])
# ... and money that may be it, taken only when no other name is there
_MAYBE_SALE = set(_WORDS["maybe_sale"])
_ID_VOCABULARY = {w for _, tiers, k in _RULES if k == "id" for t in tiers for w in t}
_ID_VOCABULARY |= _ID_WORDS
TIME_WORDS = set(_WORDS["time"])
_KNOWN_WORDS = {w for _, tiers, _ in _RULES for t in tiers for w in t} | _ID_WORDS
# Word endings split off a name written in one piece: "visitorid", "eventtype"
_GLUED = tuple(_WORDS["glued"])  # (also after a German joining s: "Rechnungsnummer")
# German compounds end in the noun they name, whatever comes before ("Bestelldatum",
# "Gesamtbetrag", "Einzelpreis", "Verkaufsmenge")
_HEAD_NOUNS = tuple(_WORDS["head_nouns"])


def words(name: str) -> set[str]:
    """The lower-case words of a column name, pieces glued together included: a word that
    is a known word followed by an ending ("visitorid", "eventtype", "invoicedate"),
    never a mere look-alike ("paid", "accepts", "lifetime")."""
    out = set(tokens(name))
    for tok in list(out):
        for end in _GLUED:
            if not tok.endswith(end):
                continue
            head = tok[: -len(end)]
            if head not in _KNOWN_WORDS and head[-1:] == "s" and head[:-1] in _KNOWN_WORDS:
                head = head[:-1]  # a German joining s: "Rechnungsnummer"
            if head in _KNOWN_WORDS:
                out |= {head, end}
        out |= {end for end in _HEAD_NOUNS if tok.endswith(end) and len(tok) > len(end) + 2}
    return out


EMAIL_WORDS = set(_WORDS["email"])


_UNITS = [(float(u["minutes"]), u["name"], set(u["words"])) for u in _WORDS["duration_units"]]


def duration_minutes(name: str | None) -> tuple[float, str | None]:
    """Minutes per unit of a duration column, from the unit its name gives ("duration_sec":
    1/60, "length_ms", "hours"), and the unit; (1.0, None) when it gives none."""
    for per, unit, words in _UNITS:
        if set(tokens(name or "")) & words:
            return per, unit
    return 1.0, None


def is_email_name(name: str | None) -> bool:
    """ "Email", "e-mail", "customer_email", "EmailAddress"; not "email_opt_in"."""
    w = words(name or "")
    whose = {"e", "address", "customer", "user", "client", "buyer", "contact"}
    return bool(w & EMAIL_WORDS) and w <= EMAIL_WORDS | whose


def flag_kind(name: str | None) -> str | None:
    """What a flag column marks, by its name: "cancelled" (``is_cancel``, ``Cancelled``)
    or "returned" (``is_returned``, ``return_flag``, ``refunded``); None for any other
    name (``return_reason``, ``refund_amount``, ``order_status``)."""
    w = words(name or "")
    if not w & FLAG_WORDS or not w <= FLAG_WORDS | _FLAG_CONTEXT:
        return None
    return "cancelled" if w & _CANCEL_FLAGS else "returned"


def is_customer_name(name: str | None) -> bool:
    """ "CUSTOMERNAME", "Customer Name", "client_full_name"; not "contact_first_name"."""
    w = words(name or "")
    w -= {t for t in w if t.endswith("name") and t[:-4] in w}  # ("customername" itself)
    return "name" in w and bool(w & USER_WORDS) and w <= USER_WORDS | {"name", "full"}


_TEXT_MEANINGS = {m: set().union(*tiers) for m, tiers, k in _RULES if k == "text"}


def _head_meanings(name: str) -> set[str]:
    """The text meanings (category, channel, device…) of the first word of ``name`` that
    names one: a name says what it belongs to first ("device_category" is a device's,
    "channel_type" a channel's, "product_category" a category)."""
    for tok in tokens(name):
        found = {m for m, vocabulary in _TEXT_MEANINGS.items() if tok in vocabulary}
        if found:
            return found
    return set()


def infer_mapping(schema: dict[str, str], overrides: dict[str, str | None] | None = None,
                  *, source_name: str = "the events",
                  numeric_text: Callable[[str], bool] | None = None,
                  numeric_time: Callable[[str], bool] | None = None) -> EventMapping:  # fmt: skip
    """Map columns to meanings from their names and types.

    ``schema`` maps column name → kind (``"number"``, ``"time"``, ``"text"``, ``"other"``).
    ``overrides`` (meaning → column) win; naming a column the log lacks is an error.
    An id (user, order, session) is a column named for it, one whose name also says
    "id" (or key, no…) first; never a time, nor a name saying date or time. The time is
    a time column named for it (else text named for it), else any time column, else a
    number named for it (dates written as numbers, Unix times, which
    :mod:`personas.profiles._times` checks). With no column named for a user, an e-mail
    column is the user id, else a customer's name.
    Amounts, prices, quantities and durations are numbers, or text for which
    ``numeric_text(column)`` says its values read as numbers ("$1,234.50").
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    known = {f.name for f in fields(EventMapping)}
    for meaning, col in overrides.items():
        if meaning not in known:
            raise SchemaError(
                f"Unknown event column meaning {meaning!r}; use one of {sorted(known)}."
            )
        if col not in schema:
            raise SchemaError(
                f"The {meaning} column {col!r} is not in {source_name}; its columns are "
                f"{list(schema)}. Fix the name (--{meaning.replace('_', '-')} COLUMN, or "
                f"{meaning} in the [events] table of --schema)."
            )
    found: dict[str, str] = dict(overrides)
    used = set(found.values())

    def first(tier: set[str], ok) -> str | None:
        return next(
            (c for c in schema if c not in used and words(c) & tier and ok(schema[c], c)), None
        )

    for meaning, tiers, kind in _RULES:
        if meaning in found:
            continue
        ok = functools.partial(_accepts, meaning, numeric_text=numeric_text)
        if kind == "id":  # per tier, a name that also says "id" (or key, no…) first
            passes = [(t, ok(s)) for t in tiers for s in (True, False)]  # customer, card_id
            if meaning == "user_id":  # the deduplicated person first: Olist's
                # customer_unique_id, where its customer_id is one per order
                passes.insert(0, (tiers[0], functools.partial(_unique, ok(True))))
        elif kind == "time":  # per tier, a column of dates or times before text
            passes = [(t, test) for t in tiers for test in (_is_time, ok(False))]
            if numeric_time is not None:  # then a number named timestamp that holds times
                # (GA4's event_timestamp, in µs, before its text event_date)
                passes.insert(2, (tiers[0], lambda k, c: k == "number" and numeric_time(c)))
        elif meaning in ("amount", "price"):  # no word of other money first ("cost" next)
            passes = [(t, ok(s)) for s in (True, False) for t in tiers]
        else:
            passes = [(t, ok(False)) for t in tiers]
        for tier, test in passes:
            hit = first(tier, test)
            if hit is not None:
                found[meaning] = hit
                used.add(hit)
                break
        if meaning == "timestamp" and "timestamp" not in found:
            # any time column, else a number named for a time that reads as times
            # (yyyymmdd, Unix times, day numbers), else one named for a time (its error)
            hit = next((c for c, k in schema.items() if k == "time" and c not in used), None)
            if numeric_time is not None:
                for tier in [*tiers, {"day"}]:
                    hit = hit or first(tier, lambda k, c: k == "number" and numeric_time(c))
            for tier in tiers:
                hit = hit or first(tier, lambda k, c: k == "number")
            if hit:
                found["timestamp"] = hit
                used.add(hit)
        if meaning == "user_id" and "user_id" not in found:
            # no column named for a user: an e-mail address is one (shop exports)
            hit = first(EMAIL_WORDS, lambda k, c: k == "text" and is_email_name(c))
            # else a customer's name (sales exports without customer numbers)
            hit = hit or first({"name"}, lambda k, c: k == "text" and is_customer_name(c))
            if hit:
                found["user_id"] = hit
                used.add(hit)
    mapping = EventMapping(**found)
    missing = [m for m in ("user_id", "timestamp") if getattr(mapping, m) is None]
    if missing:
        raise SchemaError(
            f"Cannot tell which column of {source_name} is the {' and the '.join(missing)}; "
            f"its columns are {list(schema)}. Name it: "
            + ", ".join(f"--{m.replace('_', '-')} COLUMN" for m in missing)
            + "."
        )
    return mapping


def _unique(test, kind: str, name: str) -> bool:
    """``test`` holds and the name says "unique" (``customer_unique_id``)."""
    return "unique" in words(name) and test(kind, name)


def _accepts(meaning: str, strict: bool, numeric_text: Any = None):
    """A test (kind, name) → bool of a column for ``meaning`` (see :func:`_kind_ok`)."""
    return lambda kind, name: _kind_ok(kind, name, meaning, strict, numeric_text)


def _is_time(kind: str, name: str) -> bool:
    return kind == "time"


def _kind_ok(
    kind: str, name: str, meaning: str, strict: bool = False, numeric_text: Any = None
) -> bool:
    """Whether a column of ``kind`` named ``name`` can hold ``meaning``. ``strict``: an id
    needs an id word in its name; an amount or price no word of other money (not strict:
    no word of money that is never the sale, ``_NOT_SALE``)."""
    wanted = next(k for m, _, k in _RULES if m == meaning)
    if wanted == "id":
        w = words(name)
        if kind == "time" or w & TIME_WORDS:
            return False
        if meaning == "user_id" and {"name", "email"} & w:
            return False
        if meaning == "product" and not strict:  # a product's name is one too
            return w <= _ID_VOCABULARY | {"name", "description", "desc", "title"}
        if strict:
            return bool(w & _ID_WORDS)
        # without an id word, only a name made of id words ("Invoice", "user_session"):
        # not "order_total", "customer_segment", "visitor_type"
        return w <= _ID_VOCABULARY
    if wanted == "any":
        return True
    if wanted == "time":
        return kind in ("time", "text")
    if wanted == "number":
        if words(name) & _STRONG_ID_WORDS:  # "sales_channel_id" holds no money
            return False
        other = _NOT_SALE | _MAYBE_SALE if strict else _NOT_SALE
        if meaning in ("amount", "price") and words(name) & other:
            return False
        return kind == "number" or (kind == "text" and numeric_text is not None
                                    and numeric_text(name))  # fmt: skip
    if meaning == "status" and not words(name) & STATUS_WORDS:
        # a flag (is_cancel: 0/1, true/false, Y/N) by a name saying only that
        return flag_kind(name) is not None and kind in ("text", "number", "other")
    head = _head_meanings(name)
    if head and meaning not in head:  # "device_category" is no category
        return False
    if words(name) & TIME_WORDS:  # "event_date" is no event type
        return False
    if meaning != "plan" and words(name) & {"id", "uuid", "guid"}:  # "device_id" (a plan_id
        return False  # names a plan, though)
    return kind in ("text", "other")


def describe(mapping: EventMapping) -> dict[str, Any]:
    return {k: v for k, v in mapping.to_dict().items() if v is not None}


def read_mapping(source: str | Path | dict[str, Any]) -> dict[str, str]:
    """Meaning → column from the ``[events]`` table of a TOML file (or such a dict).

    ``personas profile`` writes one (``events.toml``, the columns it used); edit it and
    pass it back with ``--schema``. Flags and keyword arguments win over it.
    """
    name = "The mapping"
    if isinstance(source, dict):
        doc: Any = source
    else:
        from personas.io._schema import read_toml

        path = Path(source)
        name = path.name
        doc = read_toml(path, "A profile run writes one (OUT/events.toml) to edit.")
        if "events" not in doc:
            raise SchemaError(
                f"{name} has no [events] table; write one line per column meaning, e.g. "
                '[events] then user_id = "customer" and timestamp = "date".'
            )
        doc = doc["events"]
    if not isinstance(doc, dict):
        raise SchemaError(f'{name}: [events] must be a table of meaning = "column" lines.')
    known = [f.name for f in fields(EventMapping)]
    out = {}
    for meaning, column in doc.items():
        if meaning not in known:
            raise SchemaError(f"{name}, [events]: unknown meaning {meaning!r}. Use one of {known}.")
        if not isinstance(column, str) or not column:
            raise SchemaError(
                f"{name}, [events]: {meaning} must be a column name in quotes, not {column!r}."
            )
        out[meaning] = column
    return out


def mapping_toml(mapping: dict[str, str], source: str) -> str:
    """The ``[events]`` table of a mapping (meaning → column), for :func:`read_mapping`."""
    import tomli_w

    header = (
        f"# Which column of {source} is which, as personas profile used them. Edit and\n"
        "# pass back with --schema; meanings left out are inferred.\n"
    )
    return header + tomli_w.dumps({"events": dict(mapping)})
