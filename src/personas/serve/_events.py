"""Events as the service receives them (JSON objects) read into the rows the model's
profile builder reads, one rule per field, each refusal naming the field, what was
expected and what came.

An event has ``event_id`` (made by the client, unique), ``user_id``, ``timestamp`` (ISO
8601 with an offset, or Unix time in seconds; milliseconds above 10^11) and the
fields the model's profile uses, under the canonical names (``event_type``, ``amount``…)
or the names the training log had (``InvoiceNo``, ``Price``…). Other fields are kept as
``properties``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from personas.profiles import read_id

__all__ = ["CANONICAL", "EventError", "EventReader", "MAX_DEPTH", "MAX_FUTURE_SECONDS", "NUMERIC",
           "depth", "identifier", "read_instant", "valid_text"]  # fmt: skip

#: The fields an event may carry for profiling, beside event_id, user_id and timestamp.
CANONICAL = ("event_type", "amount", "price", "quantity", "order_id", "product", "category",
             "channel", "device", "session_id", "duration", "plan", "status")  # fmt: skip
NUMERIC = {"amount", "price", "quantity", "duration"}
#: How far ahead of the server's clock an event's time may be (clocks differ a little).
MAX_FUTURE_SECONDS = 300.0
MAX_ID = 256
#: How deep an event's other fields may nest (objects in lists in objects…).
MAX_DEPTH = 32
#: The largest amount, price, quantity or duration taken (a quadrillion): sums of such
#: values stay exact enough and finite.
MAX_NUMBER = 1e15


class EventError(ValueError):
    """One event cannot be read; the message names the field."""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class EventReader:
    """Reads events for the fitted :class:`~personas.ProfileBuilder` ``builder``."""

    def __init__(self, builder: Any) -> None:
        self.mapping: dict[str, str] = dict(builder.mapping_)
        reader = builder.time_reader_
        # The column each meaning goes under in the frame the builder reads: the training
        # log's name (a duration's unit is in it: "duration_sec"), the time under
        # "timestamp" where the log built it from parts or a separate time of day.
        self.columns = dict(self.mapping)
        if reader.get("clock") or builder.date_parts_:
            self.columns["timestamp"] = "timestamp"
        self.aliases = {col: meaning for meaning, col in self.mapping.items()}

    # ------------------------------------------------------------------ one event
    def read(self, raw: Any, now: float) -> dict[str, Any]:
        """``raw`` as ``{"event_id", "user_id", "ts", "body"}`` (``ts`` in Unix seconds;
        ``body`` the event under canonical names, with ``properties``)."""
        if not isinstance(raw, dict):
            raise EventError(f"an event is a JSON object; got {type(raw).__name__} {_short(raw)}")
        fields: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        for key, value in raw.items():
            meaning = key if key in CANONICAL or key in ("user_id", "timestamp") else None
            meaning = meaning or self.aliases.get(key)
            if meaning is None or key in ("event_id", "properties"):
                if key not in ("event_id", "properties"):
                    properties[key] = value
                continue
            if meaning in fields and key != meaning:
                properties[key] = value  # (the canonical name wins; the other is kept)
                continue
            if meaning in fields:  # (the canonical name came after the log's: it wins)
                properties[self.mapping.get(meaning, meaning)] = fields[meaning]
            fields[meaning] = value
        valid_text(raw, "the event")
        if isinstance(raw.get("properties"), dict):
            properties = raw["properties"] | properties
        if properties and depth(properties) > MAX_DEPTH:
            raise EventError(
                f"properties: expected values nested at most {MAX_DEPTH} levels deep; got "
                "deeper ones"
            )
        event_id = identifier(raw.get("event_id"), "event_id")
        user_id = read_id(identifier(fields.pop("user_id", None), "user_id"))
        ts = _timestamp(fields.pop("timestamp", None), now)
        body: dict[str, Any] = {"event_id": event_id, "user_id": user_id,
                                "timestamp": _iso(ts)}  # fmt: skip
        for meaning, value in fields.items():
            if value is None:
                continue
            body[meaning] = _number(value, meaning) if meaning in NUMERIC else _text(value, meaning)
        if properties:
            body["properties"] = properties
        return {"event_id": event_id, "user_id": user_id, "ts": ts, "body": body}

    # ------------------------------------------------------------------ many events
    def _number(self, body: dict[str, Any], meaning: str) -> float:
        """The event's ``meaning``, or its equivalent where the model reads the value of
        a line another way. For a model of prices (and quantities), an ``amount`` is the
        line's value: its price when the log had no quantity; else the price of its
        quantity (1 unless given), or, beside a price, the quantity at that price. For a
        model of amounts, price × quantity (1 unless given) is the amount. Not a number
        (a quantity of 0 beside an amount, a value past float's range): missing."""
        value = body.get(meaning)
        if value is not None:
            return value
        m = self.mapping
        amount, price, quantity = (body.get(k) for k in ("amount", "price", "quantity"))
        derived = np.nan
        if "amount" not in m and "price" in m and amount is not None:
            if meaning == "price" and "quantity" not in m:
                derived = amount
            elif meaning == "price":
                derived = amount if quantity is None else _ratio(amount, quantity)
            elif meaning == "quantity":
                derived = 1.0 if price is None else _ratio(amount, price)
        elif meaning == "amount" and "price" not in m and price is not None:
            derived = price * (1.0 if quantity is None else quantity)
        return derived if np.isfinite(derived) else np.nan

    def fields(self, bodies: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        """The fields of :data:`CANONICAL` the events bring that this model reads (an
        amount, or a price and quantity, read as the other: see :meth:`_number`), and
        those it does not."""
        present = [k for k in CANONICAL if any(k in b for b in bodies)]
        m = set(self.mapping)
        read = set(m)
        if "amount" not in m and "price" in m:
            read.add("amount")
        if "amount" in m and "price" not in m:
            read |= {"price", "quantity"}
        return [k for k in present if k in read], [k for k in present if k not in read]

    def unread(self, bodies: list[dict[str, Any]]) -> list[str]:
        """Notes on the fields events brought that this model does not read."""
        notes = []
        for field in self.fields(bodies)[1]:
            why = (
                ": its log had no event types, so every line counts as that log's lines did"
                " (with a value, a purchase)"
                if field == "event_type"
                else ": its log had no such column"
            )
            notes.append(f"{field} is not read by this model{why}. The events are stored.")
        return notes

    def frame(self, bodies: list[dict[str, Any]]) -> pd.DataFrame:
        """The events as the builder reads them: one column per meaning of the fitted
        log, under its column name, typed (times as UTC instants, numbers as floats)."""
        out: dict[str, Any] = {}
        for meaning in self.mapping:
            col = self.columns[meaning]
            if meaning == "timestamp":
                stamps = pd.to_datetime(
                    [b["timestamp"] for b in bodies], utc=True, format="ISO8601"
                )
                out[col] = stamps.tz_localize(None).as_unit("us")
            elif meaning in NUMERIC:
                out[col] = np.array([self._number(b, meaning) for b in bodies], dtype=np.float64)
            else:
                out[col] = pd.Series([b.get(meaning) for b in bodies], dtype=object)
        return pd.DataFrame(out)


def _ratio(a: float, b: float) -> float:
    """``a / b``; not a number for a ``b`` of 0."""
    return a / b if b else np.nan


def identifier(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        got = "nothing" if value is None else f"{type(value).__name__} {_short(value)}"
        raise EventError(f"{field}: expected a non-empty string (or an integer); got {got}")
    text = str(value).strip()
    valid_text(text, field)
    if "\x00" in text:  # (no store keeps a NUL in text: PostgreSQL refuses it)
        raise EventError(f"{field}: expected text without NUL characters (\\x00); got one")
    if not text or len(text) > MAX_ID:
        raise EventError(
            f"{field}: expected a non-empty string of at most {MAX_ID} characters; got "
            f"{_short(value)}"
        )
    return text


_EXPECTED = (
    "expected an ISO 8601 instant with an offset (2024-06-30T18:00:00Z, "
    "2024-06-30T20:00:00+02:00) or Unix time in seconds"
)


def valid_text(value: Any, field: str) -> None:
    """An EventError naming ``field`` when ``value`` holds text that is not Unicode (a
    lone surrogate such as "\\ud800", which no store can write)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise EventError(
            f"{field}: expected valid Unicode text; got a lone surrogate (such as \\ud800)"
        ) from None
    except (TypeError, ValueError, RecursionError):
        pass


def read_instant(value: Any, field: str = "timestamp") -> float:
    """Unix seconds of an ISO 8601 instant with an offset, or of a Unix time (seconds;
    milliseconds above 10^11); an EventError naming ``field`` otherwise."""
    if isinstance(value, bool) or value is None:
        raise EventError(f"{field}: {_EXPECTED}; got {'nothing' if value is None else value}")
    if isinstance(value, int | float):
        number = _float(value)
        if not math.isfinite(number):
            raise EventError(f"{field}: {_EXPECTED}; got {str(value)[:40]}")
        seconds = number / 1000.0 if abs(number) > 1e11 else number
    elif isinstance(value, str):
        text = value.strip()
        try:
            stamp = dt.datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            hint = ""
            if re.search(r"\d \d\d:?\d\d$", text):  # ("…T00:00:00 02:00": a + in a URL)
                hint = " (a + in a URL's query is read as a space: write it %2B)"
            raise EventError(f"{field}: {_EXPECTED}; got {_short(value)}{hint}") from None
        if stamp.tzinfo is None:
            raise EventError(
                f"{field}: {_short(value)} has no offset, so the instant is unknown; add Z "
                "for UTC or the offset (+02:00)"
            )
        seconds = stamp.timestamp()
    else:
        raise EventError(f"{field}: {_EXPECTED}; got {type(value).__name__} {_short(value)}")
    if seconds < -2_208_988_800:  # (before 1900)
        raise EventError(f"{field}: {_short(value)} is before 1900; {_EXPECTED}")
    if seconds >= 9_214_646_400:  # (2262, beyond the instants pandas holds)
        raise EventError(f"{field}: {_short(value)} is after 2261; {_EXPECTED}")
    return seconds


def _timestamp(value: Any, now: float) -> float:
    """Unix seconds of an event's time, at most MAX_FUTURE_SECONDS ahead of ``now``."""
    seconds = read_instant(value)
    if seconds > now + MAX_FUTURE_SECONDS:
        raise EventError(
            f"timestamp: {_short(value)} is {seconds - now:,.0f} s ahead of the server's clock "
            f"(at most {MAX_FUTURE_SECONDS:.0f} s are taken); check the sender's clock, and "
            "give Unix time in seconds or milliseconds"
        )
    return seconds


def depth(value: Any) -> int:
    """How deep ``value`` nests (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            stack += [(v, level) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


def _float(value: int | float) -> float:
    """A JSON number as a float; infinite for an integer past the floats (10**400)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="microseconds")


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise EventError(f"{field}: expected a number; got {value!r} (true/false)")
    if isinstance(value, int | float):
        number = _float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise EventError(
                f"{field}: expected a number (a JSON number such as 1234.5, without currency "
                f"or thousands separators); got {_short(value)}"
            ) from None
    else:
        raise EventError(f"{field}: expected a number; got {type(value).__name__} {_short(value)}")
    if not math.isfinite(number) or abs(number) > MAX_NUMBER:
        raise EventError(
            f"{field}: expected a finite number of at most {MAX_NUMBER:.0e} in size; got "
            f"{_short(value)}"
        )
    return number


def _text(value: Any, field: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float) and not (
        isinstance(value, float) and not math.isfinite(value)
    ):
        return str(value)
    raise EventError(
        f"{field}: expected a string or a number; got {type(value).__name__} {_short(value)}"
    )
