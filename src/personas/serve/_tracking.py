"""The Segment HTTP Tracking API, which RudderStack speaks too: the messages of ``track``,
``page``, ``screen`` and ``identify`` calls (alone or in a ``batch``) read as personas'
events, so that the trackers a team already runs can send to ``personas serve``.

Where each field comes from, following Segment's spec and its e-commerce events:

- ``event_id``: ``messageId``; ``user_id``: ``userId``, else ``anonymousId``;
- ``timestamp``: ``timestamp``, else ``originalTimestamp``;
- ``event_type``: ``event`` for a track call, else the call's type (``page``, ``screen``);
- ``amount``: ``properties.revenue``, else ``total``, else ``value``; ``price``,
  ``quantity``, ``category``, ``plan``, ``status``, ``duration`` and ``session_id`` from the
  properties of those names; ``order_id`` from ``order_id`` or ``orderId``; ``product``
  from ``product_id``, ``sku`` or ``name`` (a track call's);
- ``device``: ``context.device.type``; ``channel``: ``properties.channel``, else
  ``context.campaign.source``, else ``context.campaign.medium``.

Every other field is kept with the event (``properties``, ``context``, ``currency``).
An ``identify`` call's ``traits`` (``context.traits`` from RudderStack's client) are kept as
the user's attributes, not as an event.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CALLS", "TrackingError", "read_message"]

CALLS = ("track", "page", "screen", "identify")
_FROM_PROPERTIES = ("price", "quantity", "category", "plan", "status", "duration", "session_id")


class TrackingError(ValueError):
    """A message that cannot be read; the text names the field."""


def _first(mapping: Any, *keys: str) -> Any:
    if not isinstance(mapping, dict):
        return None
    return next((mapping[k] for k in keys if mapping.get(k) is not None), None)


def read_message(message: Any, call: str | None = None) -> tuple[str, dict[str, Any]]:
    """``("event", event)`` for a track, page or screen message (an event for
    ``POST /v1/events``), ``("traits", {"user_id", "traits", "event_id"})`` for an
    identify; ``call`` is the endpoint's call (``/v1/track``), else the message's
    ``type``."""
    if not isinstance(message, dict):
        raise TrackingError(f"a message is a JSON object; got {type(message).__name__}")
    kind = call or message.get("type")
    if kind not in CALLS:
        raise TrackingError(
            f"type: expected one of {', '.join(CALLS)}; got {message.get('type')!r} (alias and "
            "group calls are not read)"
        )
    user = _first(message, "userId", "anonymousId")
    if kind == "identify":  # (RudderStack's client puts the traits in the context)
        context = message.get("context") if isinstance(message.get("context"), dict) else {}
        traits = message.get("traits") or context.get("traits") or {}
        if not isinstance(traits, dict):
            raise TrackingError(f"traits: expected an object; got {type(traits).__name__}")
        if user is None:
            raise TrackingError("userId or anonymousId: expected one; got neither")
        return "traits", {"user_id": user, "traits": traits,
                          "event_id": message.get("messageId")}  # fmt: skip
    properties = message.get("properties") or {}
    if not isinstance(properties, dict):
        raise TrackingError(f"properties: expected an object; got {type(properties).__name__}")
    context = message.get("context") if isinstance(message.get("context"), dict) else {}
    campaign = context.get("campaign") if isinstance(context.get("campaign"), dict) else {}
    event: dict[str, Any] = {
        "event_id": message.get("messageId"),
        "user_id": user,
        "timestamp": _first(message, "timestamp", "originalTimestamp"),
        "event_type": message.get("event") if kind == "track" else kind,
        "amount": _first(properties, "revenue", "total", "value"),
        "order_id": _first(properties, "order_id", "orderId"),
        "product": _first(properties, "product_id", "sku", "name") if kind == "track" else None,
        "device": _first(context.get("device"), "type"),
        "channel": _first(properties, "channel") or _first(campaign, "source", "medium"),
    }
    for key in _FROM_PROPERTIES:
        event[key] = properties.get(key)
    event = {k: v for k, v in event.items() if v is not None}
    if event.get("event_id") is None:
        raise TrackingError("messageId: expected the message's unique id; got nothing")
    if event.get("user_id") is None:
        raise TrackingError("userId or anonymousId: expected one; got neither")
    event["properties"] = dict(properties) | {
        k: message[k] for k in ("context", "currency", "name") if k in message
    }
    return "event", event
