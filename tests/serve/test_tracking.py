"""The Segment HTTP Tracking API (which RudderStack speaks too), driven by the official
Python clients of both pointed at a server on loopback: what they send lands once, with the
profile the same events sent to /v1/events get."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json

import pytest

import personas
from tests.serve._server import environment, running

pytest.importorskip("fastapi", reason="the serve extra (pip install 'personas[serve]')")
httpx = pytest.importorskip("httpx", reason="the test extra")

KEY = "tracking-key-5e1"
AUTH = {"Authorization": f"Bearer {KEY}"}
AS_OF = "2024-07-01T00:00:00Z"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tracking")
    users, _ = personas.datasets.make_users(200, random_state=2)
    events = personas.datasets.make_events(users, random_state=2)
    path = folder / "model.personas"
    personas.segment(events, random_state=0).model.save(path)
    args = [str(path), "--store", f"sqlite:///{folder / 'store.db'}"]
    with running(args, env=environment(PERSONAS_API_KEYS=KEY), log=folder / "server.log") as url:
        yield url


def _calls(user: str) -> list[tuple[str, dict]]:
    """A user's tracker calls: orders, page views, an identify."""
    start = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)
    calls = []
    for i in range(6):
        at = start + dt.timedelta(days=5 * i, hours=i)
        calls.append(("page", {"name": "Home", "timestamp": at, "message_id": f"{user}-p{i}"}))
        if i % 2 == 0:
            props = {"revenue": 20.0 + i, "order_id": f"{user}-o{i}", "currency": "EUR"}
            calls.append(("track", {"event": "Order Completed", "properties": props,
                                    "timestamp": at + dt.timedelta(minutes=3),
                                    "message_id": f"{user}-t{i}"}))  # fmt: skip
    calls.append(("identify", {"traits": {"plan_tier": "gold"}, "message_id": f"{user}-id"}))
    return calls


def _as_events(user: str) -> list[dict]:
    """The same calls as /v1/events events (what the reading of the tracking API gives)."""
    out = []
    for call, kw in _calls(user):
        if call == "identify":
            continue
        event = {"event_id": f"direct-{kw['message_id']}", "user_id": user,
                 "timestamp": kw["timestamp"].isoformat(),
                 "event_type": kw.get("event", call)}  # fmt: skip
        props = kw.get("properties", {})
        if "revenue" in props:
            event |= {"amount": props["revenue"], "order_id": props["order_id"]}
        out.append(event)
    return out


def _send(client, user: str) -> None:
    for call, kw in _calls(user):
        getattr(client, call)(user_id=user, **kw)
    client.flush()


def _profile(url: str, user: str) -> dict:
    answer = httpx.get(f"{url}/v1/users/{user}", params={"as_of": AS_OF}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    return {k: v for k, v in answer.json()["profile"].items() if k != "user_id"}


@pytest.mark.parametrize("sdk", ["segment", "rudderstack"])
def test_official_clients_land_once_with_the_same_profile(server, sdk):
    errors = []
    module = "segment.analytics" if sdk == "segment" else "rudderstack.analytics.client"
    Client = pytest.importorskip(module, reason=f"the {sdk} client (the test extra)").Client
    client = Client(write_key=KEY, host=server, sync_mode=False, max_retries=0,
                    on_error=lambda e, batch: errors.append(e))  # fmt: skip
    user = f"{sdk}-user"
    _send(client, user)
    _send(client, user)  # (sent twice: the message ids make the second a duplicate)
    client.shutdown()
    assert errors == []
    export = httpx.get(f"{server}/v1/users/{user}/export", headers=AUTH).json()
    assert len(export["events"]) == len(_as_events(user))
    assert export["traits"] == {"plan_tier": "gold"}
    order = next(e for e in export["events"] if e["event_type"] == "Order Completed")
    assert order["properties"]["currency"] == "EUR"
    direct = f"{sdk}-direct"
    events = [dict(e, user_id=direct) for e in _as_events(user)]
    assert (
        httpx.post(f"{server}/v1/events", json={"events": events}, headers=AUTH).status_code == 200
    )
    assert _profile(server, user) == _profile(server, direct)
    assert _profile(server, user)["monetary"] == pytest.approx(20 + 22 + 24)


def test_tracking_keys_gzip_and_bad_messages(server):
    basic = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    message = {"type": "track", "event": "Signed Up", "userId": "gz-user",
               "messageId": "gz-1", "timestamp": "2024-06-01T10:00:00Z"}  # fmt: skip
    body = gzip.compress(json.dumps({"batch": [message, {"type": "alias"}, {"type": "track"}]})
                         .encode())  # fmt: skip
    answer = httpx.post(f"{server}/v1/batch", content=body,
                        headers={"Authorization": basic, "Content-Encoding": "gzip",
                                 "Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["success"] is True and got["accepted"] == 1
    assert [r["index"] for r in got["rejected"]] == [1, 2]
    assert "alias" in got["rejected"][0]["error"]
    assert got["rejected"][1]["error"].startswith("messageId:")
    in_body = httpx.post(f"{server}/v1/track", json=message | {"writeKey": KEY})
    assert in_body.json()["duplicates"] == 1
    for headers, payload in (
        ({}, message),
        ({"Authorization": "Basic " + base64.b64encode(b"wrong:").decode()}, message),
        ({}, message | {"writeKey": "wrong"}),
    ):
        assert httpx.post(f"{server}/v1/track", json=payload, headers=headers).status_code == 401
    not_gzip = httpx.post(f"{server}/v1/batch", content=b"{}",
                          headers={"Authorization": basic, "Content-Encoding": "gzip",
                                   "Content-Type": "application/json"})  # fmt: skip
    assert not_gzip.status_code == 422 and "gzip" in not_gzip.json()["detail"]
    no_batch = httpx.post(f"{server}/v1/batch", json={"events": []}, headers=AUTH)
    assert no_batch.status_code == 422 and no_batch.json()["detail"].startswith("batch:")
