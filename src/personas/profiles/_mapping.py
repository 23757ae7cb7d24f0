"""Which event-log column is the user id, the time, the amount, the order…: inferred from
names and types, overridable by the caller (flags, keyword arguments)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from personas.errors import SchemaError
from personas.io._names import tokens

__all__ = ["EventMapping", "infer_mapping", "mapping_toml", "read_mapping"]


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

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @property
    def has_money(self) -> bool:
        return self.amount is not None or (self.price is not None and self.quantity is not None)


# name tokens per meaning, most telling first; a column is used for one meaning only
_RULES: list[tuple[str, list[set[str]], str]] = [
    ("session_id", [{"session"}], "any"),
    ("order_id", [{"order", "invoice", "transaction", "basket", "receipt"}], "any"),
    ("user_id", [{"user", "customer", "client", "member", "account", "visitor", "cust"}], "any"),
    ("timestamp", [{"timestamp", "datetime", "ts"}, {"time", "date", "created", "occurred"}],
     "time"),
    ("amount", [{"amount", "revenue", "spend", "sales", "total", "value", "gmv"}], "number"),
    ("price", [{"price", "unitprice"}], "number"),
    ("quantity", [{"quantity", "qty", "units"}], "number"),
    ("duration", [{"duration", "minutes", "seconds", "secs", "mins"}], "number"),
    ("event_type", [{"event", "action", "activity"}, {"type", "kind", "name"}], "text"),
    ("product", [{"product", "sku", "stockcode", "item"}, {"stock"}], "any"),
    ("category", [{"category", "department", "genre"}], "text"),
    ("channel", [{"channel", "source", "medium", "acquisition", "utm"}, {"platform"}], "text"),
    ("device", [{"device", "os", "browser"}, {"platform"}], "text"),
    ("plan", [{"plan", "tier", "subscription", "membership"}], "text"),
]  # fmt: skip


def infer_mapping(schema: dict[str, str], overrides: dict[str, str | None] | None = None,
                  *, source_name: str = "the events") -> EventMapping:  # fmt: skip
    """Map columns to meanings from their names and types.

    ``schema`` maps column name → kind (``"number"``, ``"time"``, ``"text"``, ``"other"``).
    ``overrides`` (meaning → column) win; naming a column the log lacks is an error.
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
    for meaning, tiers, kind in _RULES:
        if meaning in found:
            continue
        for tier in tiers:
            hit = next(
                (
                    c
                    for c in schema
                    if c not in used
                    and set(tokens(c)) & tier
                    and _kind_ok(schema[c], kind, meaning, c)
                ),
                None,
            )
            if hit is not None:
                found[meaning] = hit
                used.add(hit)
                break
    if "timestamp" not in found:  # any time column
        hit = next((c for c, k in schema.items() if k == "time" and c not in used), None)
        if hit:
            found["timestamp"] = hit
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


def _kind_ok(kind: str, wanted: str, meaning: str, name: str) -> bool:
    if wanted == "any":
        return meaning != "user_id" or not ({"name", "email"} & set(tokens(name)))
    if wanted == "time":
        return kind in ("time", "text")
    if wanted == "number":
        return kind == "number"
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
