"""The words personas reads in the values of an event log: which event names mean a
purchase, a return, a subscription's start, renewal or end, a session, which values
of an order's status undo the order, and which values of a flag column are true — from
``personas/words/event_names.toml`` and ``values.toml``.

Compared after :func:`event_name` (lower case, "_" and "-" read as spaces, accents
folded), in English and in Spanish, Portuguese, French, German, Italian and Dutch.
"""

from __future__ import annotations

from personas._words import load
from personas.io._infer import BOOLEAN_PAIRS
from personas.io._names import fold_accents

__all__ = ["CANCEL_TYPES", "FLAG_FALSE", "FLAG_TRUE", "PURCHASE_TYPES", "RENEWAL_TYPES",
           "RETURN_TYPES", "SESSION_TYPES", "STATUS_CANCELLED", "STATUS_RETURNED",
           "SUBSCRIPTION_TYPES", "event_name"]  # fmt: skip

_EVENTS = load("event_names")  # (personas/words/event_names.toml)
_VALUES = load("values")  # (personas/words/values.toml)
PURCHASE_TYPES = tuple(_EVENTS["purchase"])
RETURN_TYPES = tuple(_EVENTS["return"])
CANCEL_TYPES = tuple(_EVENTS["cancel"])
RENEWAL_TYPES = tuple(_EVENTS["renewal"])
# A subscription event is a renewal, a cancellation or one of its own words
SUBSCRIPTION_TYPES = RENEWAL_TYPES + CANCEL_TYPES + tuple(_EVENTS["subscription"])
SESSION_TYPES = tuple(_EVENTS["session"])
# Values of an order's status column that undo it
STATUS_CANCELLED = tuple(_VALUES["order_status"]["cancelled"])
STATUS_RETURNED = tuple(_VALUES["order_status"]["returned"])


def event_name(value: str) -> str:
    """An event type as the name lists write it: "Order_Completed " -> "order completed",
    "Devolución" -> "devolucion"."""
    return " ".join(fold_accents(value).replace("_", " ").replace("-", " ").lower().split())


# The values of a flag column (is_cancel, is_returned, Cancelled): the yes and no a user
# table's boolean columns are read by (Y/N, true/false, 1/0, ja/nein, oui/non, sí/no…)
FLAG_TRUE = {event_name(v) for trues, _ in BOOLEAN_PAIRS for v in trues}
FLAG_FALSE = {event_name(v) for _, falses in BOOLEAN_PAIRS for v in falses}
