"""The real-time service: events in over HTTP, the same profiles and segments as the batch
path, duplicates and bad events, keys, the store across restarts."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import personas

pytest.importorskip("fastapi", reason="the serve extra (pip install 'personas[serve]')")
from fastapi.testclient import TestClient

from personas.serve import Engine, ServiceError, create_app
from personas.store import StoreError, open_store
from tests.serve._server import environment, free_port, running, trained_model

KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
JSON = AUTH | {"Content-Type": "application/json"}
AS_OF = "2024-07-01T00:00:00Z"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model, path, events, _ = trained_model(tmp_path_factory.mktemp("model"), 240, seed=3)
    events = events.reset_index(drop=True)
    events["event_id"] = [f"e{i}" for i in range(len(events))]
    return model, path, events


def _records(events: pd.DataFrame) -> list[dict]:
    out = []
    for row in events.to_dict("records"):
        event = {k: v for k, v in row.items() if not (v is None or v != v)}
        event["timestamp"] = pd.Timestamp(event["timestamp"]).tz_localize("UTC").isoformat()
        out.append(event)
    return out


def _client(model, tmp_path: Path, name: str = "store.db", url: str | None = None) -> TestClient:
    engine = Engine(model, open_store(url or f"sqlite:///{tmp_path / name}"))
    return TestClient(create_app(engine, api_keys=[KEY, "another-key"]))


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    """Each store: a SQLite file, a database on a throwaway PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


def test_profiles_and_segments_equal_the_batch_path(trained, tmp_path, store_url):
    model, _, events = trained
    client = _client(model, tmp_path, url=store_url)
    records = _records(events)
    order = np.random.default_rng(0).permutation(len(records))  # (late, out of order)
    for start in range(0, len(records), 1500):
        batch = [records[i] for i in order[start : start + 1500]]
        answer = client.post("/v1/events", json={"events": batch}, headers=AUTH)
        assert answer.status_code == 200, answer.text
        assert answer.json()["accepted"] == len(batch)
        assert answer.json()["rejected"] == []
    profiling, scored = model.score_events(events.drop(columns="event_id"), as_of=AS_OF)
    for i in range(0, len(profiling.data), 7):  # (every seventh user)
        expected = profiling.data.iloc[i]
        got = client.get(f"/v1/users/{expected['user_id']}", params={"as_of": AS_OF}, headers=AUTH)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["segment"] == int(scored.iloc[i]["segment"])
        for feature, value in expected.items():
            served = body["profile"][feature]
            if pd.isna(value):
                assert served is None, feature
            elif isinstance(value, int | float | np.number):
                assert served == pytest.approx(float(value), rel=1e-9, abs=1e-12), feature
            else:
                assert served == value, feature
    live = client.get(f"/v1/users/{events['user_id'][0]}", headers=AUTH).json()
    assert live["history"] and live["history"][0]["from"] is None
    sizes = client.get("/v1/segments", headers=AUTH).json()["segments"]
    assert sum(s["size"] for s in sizes) == events["user_id"].nunique()
    assert [s["name"] for s in sizes] == model.segment_names


def test_duplicates_count_once_even_after_a_restart(trained, tmp_path, store_url):
    model, _, events = trained
    records = _records(events.head(50))
    client = _client(model, tmp_path, url=store_url)
    first = client.post("/v1/events", json={"events": records + records[:5]}, headers=AUTH)
    assert first.json()["accepted"] == 50 and first.json()["duplicates"] == 5
    client.app.state.engine.store.close()
    client = _client(model, tmp_path, url=store_url)  # (the same store, a new engine)
    again = client.post("/v1/events", json=records[3], headers=AUTH)
    assert again.json() == {"accepted": 0, "duplicates": 1, "rejected": [], "changes": []}
    assert client.get("/readyz", headers=AUTH).json()["events"] == 50


def test_a_bad_event_rejects_only_itself_and_says_why(trained, tmp_path):
    model, _, events = trained
    good = _records(events.head(3))
    bad = [
        {"event_id": "b1", "timestamp": "2024-06-01T10:00:00Z"},
        {"event_id": "b2", "user_id": "U1", "timestamp": "2024-06-01 10:00"},
        {"event_id": "b3", "user_id": "U1", "timestamp": "yesterday"},
        {"event_id": "b4", "user_id": "U1", "timestamp": "2024-06-01T10:00:00Z", "amount": "$5"},
        {"event_id": "b5", "user_id": "U1", "timestamp": time.time() + 86_400},
        {"event_id": "b6", "user_id": {"a": 1}, "timestamp": 1717236000},
        "not an object",
    ]
    answer = (
        _client(model, tmp_path)
        .post("/v1/events", json={"events": good + bad}, headers=AUTH)
        .json()
    )
    assert answer["accepted"] == 3
    errors = {r["index"]: r["error"] for r in answer["rejected"]}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9]
    assert errors[3].startswith("user_id: expected") and "got nothing" in errors[3]
    assert "has no offset" in errors[4]
    assert errors[5].startswith("timestamp: expected an ISO 8601") and "'yesterday'" in errors[5]
    assert errors[6].startswith("amount: expected a number") and "'$5'" in errors[6]
    assert "ahead of the server's clock" in errors[7]
    assert errors[8].startswith("user_id:")
    assert "JSON object" in errors[9]


def test_training_log_names_are_read_as_their_meanings(trained, tmp_path):
    model, _, events = trained
    row = _records(events[events["event_type"] == "session"].head(1))[0]
    assert "duration_min" in row and "platform" in row  # (the training log's names)
    client = _client(model, tmp_path)
    assert client.post("/v1/events", json=row, headers=AUTH).json()["accepted"] == 1
    canonical = dict(row, event_id="other", user_id="someone else")
    canonical["duration"] = canonical.pop("duration_min")
    canonical["channel"] = canonical.pop("platform")
    canonical["note"] = "kept"
    assert client.post("/v1/events", json=canonical, headers=AUTH).json()["accepted"] == 1
    at = {"as_of": AS_OF}
    one = client.get(f"/v1/users/{row['user_id']}", params=at, headers=AUTH).json()["profile"]
    two = client.get("/v1/users/someone else", params=at, headers=AUTH).json()["profile"]
    assert one["sessions"] == 1 and one["avg_session_minutes"] == row["duration_min"]
    assert {k: v for k, v in one.items() if k != "user_id"} == {
        k: v for k, v in two.items() if k != "user_id"
    }


def test_keys_unknown_users_and_bad_requests(trained, tmp_path):
    model, _, events = trained
    client = _client(model, tmp_path)
    assert client.get("/healthz").json() == {"status": "ok"}
    for path in ("/readyz", "/v1/segments", "/v1/users/x", "/v1/changes"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post("/v1/events", json={"events": []}).status_code == 401
    assert client.get("/readyz", headers={"Authorization": "Bearer another-key"}).status_code == 200
    missing = client.get("/v1/users/nobody", headers=AUTH)
    assert missing.status_code == 404 and "nobody" in missing.json()["detail"]
    not_json = client.post("/v1/events", content=b"{oops", headers=JSON)
    assert not_json.status_code == 422 and "does not parse" in not_json.json()["detail"]
    not_list = client.post("/v1/events", json={"events": 3}, headers=AUTH)
    assert not_list.status_code == 422 and not_list.json()["detail"].startswith("events:")
    too_many = client.post("/v1/events", json={"events": [{}] * 10_001}, headers=AUTH)
    assert too_many.status_code == 413 and "10,000" in too_many.json()["detail"]
    client.post("/v1/events", json=_records(events.head(1))[0], headers=AUTH)
    user = events["user_id"][0]
    bad = client.get(f"/v1/users/{user}", params={"as_of": "soon"}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("as_of:")
    early = client.get(f"/v1/users/{user}", params={"as_of": "1990-01-01T00:00:00Z"}, headers=AUTH)
    assert early.status_code == 422 and "no event before it" in early.json()["detail"]
    paged = client.get("/v1/changes", params={"after": -1}, headers=AUTH)
    assert paged.status_code == 422 and "after" in paged.json()["detail"]
    assert client.get("/openapi.json").status_code == 401
    assert "Event" in client.get("/openapi.json", headers=AUTH).json()["components"]["schemas"]


def test_a_large_body_is_refused(trained, tmp_path):
    model, _, _ = trained
    engine = Engine(model, open_store(tmp_path / "s.db"))
    client = TestClient(create_app(engine, api_keys=[KEY], max_body=1000))
    answer = client.post("/v1/events", content=b"[" + b"1," * 1000 + b"1]", headers=AUTH)
    assert answer.status_code == 413 and "1,000 bytes" in answer.json()["detail"]


def test_changes_are_paged_in_commit_order(trained, tmp_path, store_url):
    model, _, events = trained
    client = _client(model, tmp_path, url=store_url)
    client.post("/v1/events", json={"events": _records(events.head(400))}, headers=AUTH)
    first = client.get("/v1/changes", params={"limit": 5}, headers=AUTH).json()
    assert len(first["changes"]) == 5
    rest = client.get(
        "/v1/changes", params={"after": first["next"], "limit": 10_000}, headers=AUTH
    ).json()
    ids = [c["change_id"] for c in first["changes"] + rest["changes"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    users = {c["user_id"] for c in first["changes"] + rest["changes"]}
    assert users == set(events.head(400)["user_id"])


def test_stores_that_cannot_be_used_are_refused(tmp_path):
    newer = tmp_path / "newer.db"
    open_store(newer).close()
    con = sqlite3.connect(newer)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer personas .*version 99"):
        open_store(f"sqlite:///{newer}")
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="something else"):
        open_store(other)
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a"):
        open_store(tmp_path / "junk.db")
    with pytest.raises(StoreError, match="is a folder"):
        open_store(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "nowhere" / "s.db")
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL") as refused:
        open_store("postgresql://u:secret@127.0.0.1:9/db")
    assert "secret" not in str(refused.value)


def test_a_model_of_a_user_table_and_no_keys_are_refused(trained, tmp_path):
    users, _ = personas.datasets.make_users(200, random_state=1)
    table_model = personas.segment(users, random_state=0).model
    with pytest.raises(ServiceError, match="trained on a user table"):
        Engine(table_model, open_store(tmp_path / "a.db"))
    engine = Engine(trained[0], open_store(tmp_path / "b.db"))
    with pytest.raises(ServiceError, match="PERSONAS_API_KEYS"):
        create_app(engine, api_keys=[])


def _stream_ids(url: str, headers: dict, params: dict, n: int) -> list[int]:
    """The ids of the first ``n`` server-sent changes (within 30 s)."""
    import httpx

    ids: list[int] = []
    deadline = time.monotonic() + 30
    with httpx.stream("GET", f"{url}/v1/stream", headers=AUTH | headers, params=params,
                      timeout=10) as answer:  # fmt: skip
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line.startswith("id: "):
                ids.append(int(line[4:]))
            if len(ids) == n or time.monotonic() > deadline:
                break
    return ids


def test_personas_serve_answers_on_loopback(trained, tmp_path):
    import httpx

    _, model_path, events = trained
    args = [str(model_path), "--store", f"sqlite:///{tmp_path / 'live.db'}"]
    env = environment(PERSONAS_API_KEYS=KEY)
    with running(args, env=env, log=tmp_path / "server.log") as url:
        event = _records(events.head(1))[0]
        answer = httpx.post(f"{url}/v1/events", json=event, headers=AUTH, timeout=30)
        assert answer.status_code == 200 and answer.json()["accepted"] == 1
        user = httpx.get(f"{url}/v1/users/{event['user_id']}", headers=AUTH, timeout=30).json()
        assert user["segment_name"] in trained[0].segment_names
        more = _records(events.iloc[1:40])
        httpx.post(f"{url}/v1/events", json={"events": more}, headers=AUTH, timeout=30)
        ids = _stream_ids(url, {}, {"after": 0}, 3)
        assert ids == sorted(ids) and len(ids) == 3 and ids[0] == 1
        resumed = _stream_ids(url, {"Last-Event-ID": str(ids[1])}, {}, 1)
        assert resumed == [ids[2]]
        bad = httpx.get(f"{url}/v1/stream", headers=AUTH | {"Last-Event-ID": "x"}, timeout=10)
        assert bad.status_code == 422 and "Last-Event-ID" in bad.json()["detail"]


def test_personas_serve_without_keys_says_how_to_make_one(trained, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PERSONAS_API_KEYS"}
    cmd = [sys.executable, "-m", "personas", "serve", str(trained[1]),
           "--store", str(tmp_path / "s.db")]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "PERSONAS_API_KEYS" in done.stderr and "Traceback" not in done.stderr


def test_a_deleted_user_leaves_no_trace_in_the_store_files(trained, tmp_path, store_url):
    model, _, events = trained
    client = _client(model, tmp_path, url=store_url)
    gone, kept = "forget-me-7f3a9c", "keep-me-2b8d41"
    rows = _records(events.head(60))
    for i, row in enumerate(rows):
        row["user_id"] = gone if i % 2 else kept
        row["event_id"] = f"{row['user_id']}-event-{i}"
    assert client.post("/v1/events", json={"events": rows}, headers=AUTH).json()["accepted"] == 60
    export = client.get(f"/v1/users/{gone}/export", headers=AUTH).json()
    assert len(export["events"]) == 30 and export["profile"]["n_events"] > 0
    assert export["history"] and export["segment_name"] in model.segment_names
    deleted = client.delete(f"/v1/users/{gone}", headers=AUTH)
    assert deleted.json() == {"user_id": gone, "deleted_events": 30}
    assert client.get(f"/v1/users/{gone}", headers=AUTH).status_code == 404
    assert client.get(f"/v1/users/{gone}/export", headers=AUTH).status_code == 404
    assert client.delete(f"/v1/users/{gone}", headers=AUTH).status_code == 404
    assert client.get(f"/v1/users/{kept}/export", headers=AUTH).json()["events"][0]["event_id"]
    files = list(tmp_path.glob("store.db*"))
    assert files or store_url.startswith("postgresql")
    for path in files:  # (SQLite's files; PostgreSQL does not zero freed space)
        data = path.read_bytes()
        assert gone.encode() not in data, path.name
        assert kept.encode() in data or not path.name.endswith(".db")
    audit = client.app.state.engine.store.audit()
    assert [a["events"] for a in audit] == [30]
    assert gone not in json.dumps(audit) and len(audit[0]["user_hash"]) == 64


def test_metrics_count_requests_and_events_without_user_ids(trained, tmp_path):
    model, _, events = trained
    client = _client(model, tmp_path)
    rows = _records(events.head(20))
    client.post("/v1/events", json={"events": rows + rows[:2] + [{"event_id": "x"}]}, headers=AUTH)
    client.get(f"/v1/users/{rows[0]['user_id']}", headers=AUTH)
    assert client.get("/metrics").status_code == 401
    text = client.get("/metrics", headers=AUTH).text
    assert 'personas_events_total{result="accepted"} 20' in text
    assert 'personas_events_total{result="duplicate"} 2' in text
    assert 'personas_events_total{result="rejected"} 1' in text
    assert 'route="/v1/users/{user_id:path}",status="200"' in text
    assert 'personas_request_seconds_bucket{route="/v1/events",le="+Inf"} 1' in text
    users = events.head(20)["user_id"].nunique()
    assert f"personas_users {users}" in text and "personas_stored_events 20" in text
    assert rows[0]["user_id"] not in text
    assert int(text.split("\npersonas_store_bytes ")[1].split()[0]) > 0


def test_score_without_storing(trained, tmp_path):
    model, _, events = trained
    client = _client(model, tmp_path)
    some = events[events["user_id"].isin(events["user_id"].unique()[:3])]
    answer = client.post("/v1/score", json={"events": _records(some), "as_of": AS_OF}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    profiling, scored = model.score_events(some.drop(columns="event_id"), as_of=AS_OF)
    got = answer.json()["scores"]
    assert [s["segment"] for s in got] == scored["segment"].tolist()
    assert [s["profile"]["monetary"] for s in got] == pytest.approx(
        profiling.data["monetary"].tolist()
    )
    assert client.get("/readyz", headers=AUTH).json()["events"] == 0  # (nothing stored)
    rows = json.loads(profiling.data[model.basis].to_json(orient="records"))
    by_rows = client.post("/v1/score", json={"users": rows}, headers=AUTH).json()["scores"]
    assert [s["segment"] for s in by_rows] == scored["segment"].tolist()
    for body, words in (
        ({}, 'expected {"events"'),
        ({"users": [{"x": 1}]}, "lacks column"),
        ({"users": []}, "non-empty list"),
        ({"events": [{"event_id": "a"}]}, "events[0].user_id"),
    ):
        refused = client.post("/v1/score", json=body, headers=AUTH)
        assert refused.status_code == 422 and words in refused.json()["detail"], refused.text


def test_a_rescore_moves_profiles_with_time_as_the_batch_path_does(trained, tmp_path):
    model, _, events = trained
    some = events[events["user_id"].isin(events["user_id"].unique()[:30])]
    engine = Engine(model, open_store(tmp_path / "s.db"))
    engine.ingest(_records(some))
    later = pd.Timestamp("2027-03-01T00:00:00Z")
    changes = engine.rescore(now=later.timestamp() - 1, chunk=7)  # (as_of: the next second)
    assert all(c["event_id"] is None for c in changes)
    profiling, scored = model.score_events(some.drop(columns="event_id"), as_of=later)
    for i, user in enumerate(profiling.data["user_id"]):
        stored = engine.store.user(user)
        assert stored["as_of"] == profiling.as_of
        assert stored["segment"] == int(scored["segment"].iloc[i])
        assert stored["profile"]["tenure_days"] == pytest.approx(
            float(profiling.data["tenure_days"].iloc[i])
        )
    app = create_app(engine, api_keys=[KEY], rescore_every=0.2)
    with TestClient(app):  # (the lifespan runs the re-scoring thread)
        deadline = time.monotonic() + 30
        while not hasattr(app.state, "rescored") and time.monotonic() < deadline:
            time.sleep(0.1)
    assert isinstance(app.state.rescored["changes"], int)
    assert engine.store.user(profiling.data["user_id"][0])["as_of"] != profiling.as_of


def test_a_log_loaded_at_batch_speed_gives_the_batch_profiles(trained, tmp_path):
    model, _, events = trained
    path = tmp_path / "log.csv"
    events.drop(columns="event_id").to_csv(path, index=False)
    engine = Engine(model, open_store(tmp_path / "s.db"))
    done = engine.load(str(path))
    assert done["added"] == len(events) and done["users"] == events["user_id"].nunique()
    assert engine.load(str(path))["added"] == 0  # (the same lines: nothing new)
    client = TestClient(create_app(engine, api_keys=[KEY]))
    profiling, scored = model.score_events(str(path), as_of=AS_OF)
    for i in range(0, len(profiling.data), 11):
        user = profiling.data["user_id"].iloc[i]
        got = client.get(f"/v1/users/{user}", params={"as_of": AS_OF}, headers=AUTH).json()
        assert got["segment"] == int(scored["segment"].iloc[i])
        expected = profiling.data.iloc[i]
        for feature, value in expected.items():
            if pd.isna(value):
                assert got["profile"][feature] is None, feature
            elif isinstance(value, int | float | np.number):
                assert got["profile"][feature] == pytest.approx(float(value), rel=1e-9), feature
            else:
                assert got["profile"][feature] == value, feature
    assert client.get(f"/v1/users/{user}", headers=AUTH).json()["history"]
    with pytest.raises(ServiceError, match="--load"):
        engine.load(str(tmp_path / "missing.csv"))


def test_what_a_new_user_trial_found(trained, tmp_path):
    model, _, events = trained
    client = _client(model, tmp_path)
    now = time.time()
    # an event stamped "now" counts at once, for a new user and for a known one
    for i in range(3):
        one = {"event_id": f"now-{i}", "user_id": "brand new", "timestamp": now,
               "event_type": "purchase", "amount": 10.0, "order_id": f"n{i}"}  # fmt: skip
        assert client.post("/v1/events", json=one, headers=AUTH).json()["accepted"] == 1
    assert client.get("/v1/users/brand new", headers=AUTH).json()["profile"]["frequency"] == 3
    # ids holding "/", "?" and "#" are read, exported and deleted
    odd = "team/alice smith?x=1#f"
    row = {"event_id": "odd-1", "user_id": odd, "timestamp": now, "event_type": "session"}
    assert client.post("/v1/events", json=row, headers=AUTH).json()["accepted"] == 1
    quoted = "team/alice%20smith%3Fx%3D1%23f"
    assert client.get(f"/v1/users/{quoted}", headers=AUTH).json()["user_id"] == odd
    assert client.get(f"/v1/users/{quoted}/export", headers=AUTH).json()["events"]
    assert client.delete(f"/v1/users/{quoted}", headers=AUTH).json()["deleted_events"] == 1
    # nesting, sizes and conflicting names
    deep: dict = {}
    for _ in range(40):
        deep = {"x": deep}
    nested = {"event_id": "deep", "user_id": "u", "timestamp": now, "blob": deep}
    huge = {"event_id": "huge", "user_id": "u", "timestamp": now, "amount": 1e308}
    both = {"event_id": "both", "user_id": "u2", "timestamp": now, "duration": 5,
            "duration_min": 7, "event_type": "session"}  # fmt: skip
    answer = client.post("/v1/events", json={"events": [nested, huge, both]}, headers=AUTH).json()
    errors = [r["error"] for r in answer["rejected"]]
    assert errors[0].startswith("properties: expected values nested at most 32")
    assert errors[1].startswith("amount: expected a finite number of at most 1e+15")
    kept = client.get("/v1/users/u2/export", headers=AUTH).json()["events"][0]
    assert kept["duration"] == 5 and kept["properties"]["duration_min"] == 7
    brackets = client.post("/v1/events", content=b"[" * 100_000, headers=JSON)
    assert brackets.status_code == 422 and "nested" in brackets.json()["detail"]
    brotli = client.post("/v1/events", content=b"{}", headers=JSON | {"Content-Encoding": "br"})
    plain = client.post("/v1/events", content=b"{}", headers=AUTH | {"Content-Type": "text/plain"})
    assert plain.status_code == 415 and "application/json" in plain.json()["detail"]
    assert brotli.status_code == 415 and "'br'" in brotli.json()["detail"]
    cell = {"users": [{c: [1] for c in model.basis}]}
    refused = client.post("/v1/score", json=cell, headers=AUTH)
    assert refused.status_code == 422 and refused.json()["detail"].startswith("users[0].")
    # as_of is read as event times are: an unencoded + is named, numbers are Unix seconds
    plus = client.get("/v1/users/u2?as_of=2026-03-01T00:00:00+02:00", headers=AUTH)
    assert plus.status_code == 422 and "%2B" in plus.json()["detail"]
    some = _records(events.head(5))
    at = pd.Timestamp(AS_OF).timestamp()
    scored = client.post("/v1/score", json={"events": some, "as_of": at}, headers=AUTH).json()
    assert scored["as_of"].startswith("2024-07-01T00:00:00")
    # the API's pages need the key too: a browser gives it as Basic auth's user name
    assert client.get("/docs").status_code == 401
    assert client.get("/docs").headers["www-authenticate"].startswith("Basic")
    basic = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert client.get("/docs", headers={"Authorization": basic}).status_code == 200


def test_a_store_of_another_model_is_scored_again_by_this_one(trained, tmp_path):
    model, _, events = trained
    engine = Engine(model, open_store(tmp_path / "s.db"))
    engine.ingest(_records(events.head(300)))
    engine.store.close()
    other_events = personas.datasets.make_events(
        personas.datasets.make_users(150, random_state=9)[0], random_state=9
    )
    other = personas.segment(other_events, k=2, random_state=0).model
    again = Engine(other, open_store(tmp_path / "s.db"))
    assert again.rescored_at_start
    names = {s["name"] for s in again.segments()}
    assert names == set(other.segment_names)
    user = events["user_id"][0]
    assert again.store.user(user)["segment_name"] in other.segment_names
    assert not Engine(other, open_store(tmp_path / "s.db")).rescored_at_start


def test_two_workers_from_a_settings_file_share_the_store(trained, tmp_path):
    import concurrent.futures

    import httpx

    _, model_path, events = trained
    port = free_port()
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# the service's keys\n{KEY}\n")
    config = tmp_path / "serve.toml"
    config.write_text(
        f'[serve]\nport = {port}\nworkers = 2\nstore = "sqlite:///{tmp_path / "w.db"}"\n'
        f'api_keys_file = "{keys}"\nrescore_every = 0\n'
    )
    args = [str(model_path), "--config", str(config)]
    with running(args, env=environment(), port=port, log=tmp_path / "server.log") as url:
        batches = [_records(events.iloc[i : i + 50]) for i in range(0, 800, 50)]

        def send(batch: list) -> int:
            answer = httpx.post(f"{url}/v1/events", json={"events": batch}, headers=AUTH,
                                timeout=60)  # fmt: skip
            return answer.json()["accepted"]

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            assert sum(pool.map(send, batches)) == 800
        assert httpx.get(f"{url}/readyz", headers=AUTH).json()["events"] == 800


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[serve]\nport = 'eight'\n", "[serve] port: input should be a valid integer"),
        ("[serve]\nthreads = 4\n", "unknown setting 'threads'"),
        ("port = 8000\n", "no [serve] table"),
        ("[serve\n", "not valid TOML"),
    ],
)
def test_a_bad_settings_file_is_named(trained, tmp_path, text, words):
    config = tmp_path / "serve.toml"
    config.write_text(text)
    env = dict(os.environ, PERSONAS_API_KEYS=KEY)
    cmd = [sys.executable, "-m", "personas", "serve", str(trained[1]), "--config", str(config),
           "--store", str(tmp_path / "s.db")]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and words in done.stderr and "Traceback" not in done.stderr


def test_what_a_maintainer_review_found(trained, tmp_path):
    model, _, events = trained
    client = _client(model, tmp_path)
    now = time.time()
    base = {"user_id": "u", "timestamp": now}
    bad = [
        base | {"event_id": "big-time", "timestamp": 10**400},
        base | {"event_id": "big-amount", "amount": 10**400},
        base | {"event_id": "surrogate", "user_id": "\ud800"},
        base | {"event_id": "surrogate-prop", "note": "a\udfffb"},
    ]
    body = json.dumps({"events": bad}).encode()  # (lone surrogates as JSON escapes)
    answer = client.post("/v1/events", content=body, headers=JSON)
    assert answer.status_code == 200, answer.text
    errors = [r["error"] for r in answer.json()["rejected"]]
    assert len(errors) == 4
    assert errors[0].startswith("timestamp:") and errors[1].startswith("amount:")
    assert "surrogate" in errors[2] and "surrogate" in errors[3]
    far = client.post("/v1/score", json={"events": _records(events.head(3)), "as_of": 1e20},
                      headers=AUTH)  # fmt: skip
    assert far.status_code == 422 and far.json()["detail"].startswith("as_of:")
    # a batch of more than 10,000 messages is refused before any identify is kept
    many = [{"type": "identify", "userId": "x", "traits": {"a": 1}}] * 10_001
    refused = client.post("/v1/batch", json={"batch": many}, headers=AUTH)
    assert refused.status_code == 413
    assert client.get("/v1/users/x/export", headers=AUTH).status_code == 404
    odd = client.post("/v1/identify", json={"type": "identify", "userId": {"a": [1]}},
                      headers=AUTH)  # fmt: skip
    assert odd.json()["rejected"][0]["error"].startswith("userId:")
    # rows that do not read are scored with a note saying so
    rows = [{c: "abc" for c in model.basis}]
    noted = client.post("/v1/score", json={"users": rows}, headers=AUTH).json()
    assert noted["notes"] and "not a number" in " ".join(noted["notes"])


def test_a_failing_batch_in_a_group_fails_only_itself(trained, tmp_path, monkeypatch):
    from personas.serve._engine import _Pending

    model, _, events = trained
    engine = Engine(model, open_store(tmp_path / "s.db"))
    now = time.time()
    good = _Pending([engine.reader.read(_records(events.head(1))[0], now)])
    poison = _Pending([engine.reader.read(_records(events.iloc[1:2])[0], now)])
    commit = engine._commit

    def failing(group):
        if poison in group:
            raise RuntimeError("a bug")
        commit(group)

    monkeypatch.setattr(engine, "_commit", failing)
    engine._commit_group([good, poison])
    assert good.done and good.error is None and good.accepted == 1
    assert poison.done and isinstance(poison.error, RuntimeError)
    assert engine.store.counts()["events"] == 1


def test_the_store_reads_users_past_one_query_of_500(tmp_path):
    store = open_store(tmp_path / "s.db")
    users = [f"user-{i:04d}" for i in range(1_201)]
    with store.transaction() as tx:
        events = [{"event_id": f"e-{u}-{j}", "user_id": u, "ts": 100.0 - j,
                   "body": {"user_id": u, "j": j}} for u in users for j in range(2)]  # fmt: skip
        assert all(store.add_events(tx, events, 0.0))
        row = {"profile": "{}", "segment_name": "s", "confidence": 1.0, "value": None,
               "as_of": "x", "updated_at": "x"}  # fmt: skip
        first = [row | {"user_id": u, "segment": i % 3} for i, u in enumerate(users)]
        assert store.put_users(tx, first) == {}  # (no user had a segment before)
    bodies = store.events_of(users)
    assert len(bodies) == 2 * len(users)
    assert [b["j"] for b in bodies if b["user_id"] == users[-1]] == [1, 0]  # (oldest first)
    with store.transaction() as tx:  # (again, plus a new user: the segments they had)
        again = store.put_users(tx, first + [row | {"user_id": "nobody", "segment": 0}])
    assert again == {u: i % 3 for i, u in enumerate(users)}
    latest, n = store.recent_events(users[-1], 1)
    assert n == 2 and [e["j"] for e in latest] == [0]  # (the newest only)


def test_logs_loaded_from_two_places_keep_their_own_ids(trained, tmp_path):
    model, _, events = trained
    log = events.drop(columns="event_id")
    first, second = log.iloc[:300], log.iloc[300:600]
    (tmp_path / "jan").mkdir()
    (tmp_path / "feb").mkdir()
    first.to_csv(tmp_path / "jan" / "events.csv", index=False)
    second.to_csv(tmp_path / "feb" / "events.csv", index=False)
    engine = Engine(model, open_store(tmp_path / "s.db"))
    assert engine.load(str(tmp_path / "jan" / "events.csv"))["added"] == 300
    assert engine.load(str(tmp_path / "feb" / "events.csv"))["added"] == 300
    tables = Engine(model, open_store(tmp_path / "t.db"))
    assert tables.load(first)["added"] == 300 and tables.load(second)["added"] == 300
    assert tables.load(first)["added"] == 0


def test_an_amount_counts_for_a_model_of_prices_and_quantities(tmp_path):
    users, _ = personas.datasets.make_users(150, random_state=11)
    events = personas.datasets.make_events(users, random_state=11)
    log = events.dropna(subset=["order_id", "amount"])
    log = log[log["amount"] > 0][["user_id", "timestamp", "order_id", "amount"]]
    log = log.rename(columns={"amount": "price"}).assign(quantity=2.0, price=log["amount"] / 2)
    model = personas.segment(log, random_state=0).model
    assert "amount" not in model.profile_builder.mapping_
    client = _client(model, tmp_path)
    records = _records(log)
    for i, r in enumerate(records):
        r["event_id"] = f"p{i}"
    assert client.post("/v1/events", json={"events": records}, headers=AUTH).status_code == 200
    user = str(log["user_id"].iloc[0])
    new = {"event_id": "amount-1", "user_id": user, "timestamp": "2025-06-29T10:00:00Z",
           "order_id": "NEW-1", "amount": 59.9, "event_type": "purchase"}  # fmt: skip
    answer = client.post("/v1/events", json=new, headers=AUTH).json()
    assert answer["accepted"] == 1
    assert answer["notes"] == [
        "event_type is not read by this model: its log had no event types, so every line "
        "counts as that log's lines did (with a value, a purchase). The events are stored."
    ]
    served = client.get(f"/v1/users/{user}", params={"as_of": AS_OF}, headers=AUTH).json()
    line = pd.DataFrame([{"user_id": user, "timestamp": pd.Timestamp("2025-06-29 10:00"),
                          "order_id": "NEW-1", "price": 59.9, "quantity": 1.0}])  # fmt: skip
    expected = model.score_events(pd.concat([log, line]), as_of=AS_OF)[0].data
    mine = expected[expected["user_id"] == user].iloc[0]
    assert served["profile"]["monetary"] == pytest.approx(mine["monetary"], rel=1e-9)
    assert served["profile"]["frequency"] == mine["frequency"]


@pytest.mark.parametrize(
    ("mapping", "body", "expected", "unread"),
    [  # (a model of prices and quantities, of prices only, of amounts)
        (("price", "quantity"), {"amount": 60.0}, {"price": 60.0, "quantity": 1.0}, []),
        (("price", "quantity"), {"amount": 60.0, "quantity": 3.0},
         {"price": 20.0, "quantity": 3.0}, []),
        (("price", "quantity"), {"amount": 60.0, "price": 20.0},
         {"price": 20.0, "quantity": 3.0}, []),
        (("price", "quantity"), {"amount": 60.0, "quantity": 0.0},
         {"price": None, "quantity": 0.0}, []),
        (("price", "quantity"), {"amount": 1e300, "quantity": 1e-300},
         {"price": None, "quantity": 1e-300}, []),
        (("price",), {"amount": 20.0, "quantity": 2.0}, {"price": 20.0}, ["quantity"]),
        (("amount",), {"price": 20.0, "quantity": 3.0}, {"amount": 60.0}, []),
        (("amount",), {"price": 20.0}, {"amount": 20.0}, []),
        (("amount", "event_type"), {"amount": 5.0, "plan": "pro"}, {"amount": 5.0}, ["plan"]),
    ],
)  # fmt: skip
def test_a_lines_value_is_read_the_way_the_model_reads_it(mapping, body, expected, unread):
    from types import SimpleNamespace

    from personas.serve._events import EventReader

    meanings = {"user_id": "uid", "timestamp": "ts"} | {m: f"col_{m}" for m in mapping}
    builder = SimpleNamespace(mapping_=meanings, time_reader_={}, date_parts_=None)
    reader = EventReader(builder)
    event = {"user_id": "u", "timestamp": "2025-01-01T00:00:00+00:00"} | body
    frame = reader.frame([event])
    for meaning, value in expected.items():
        got = frame[f"col_{meaning}"].iloc[0]
        assert np.isnan(got) if value is None else got == pytest.approx(value), meaning
    assert reader.fields([event])[1] == unread


def test_ids_written_with_zero_decimals_are_one_user_as_in_profiles(trained, tmp_path):
    """A user id written 17850.0 (a spreadsheet's export) is the user 17850, in the
    service as in the batch profiles: its events are stored, profiled and found under
    one id, whichever way a request writes it."""
    model, _, events = trained
    client = _client(model, tmp_path)
    one = events[events["user_id"] == events["user_id"].iloc[0]].copy()
    one["user_id"] = ["17850.0" if i % 2 else "17850" for i in range(len(one))]
    answer = client.post("/v1/events", json={"events": _records(one)}, headers=AUTH)
    assert answer.status_code == 200 and answer.json()["accepted"] == len(one), answer.text
    profiling, scored = model.score_events(one.drop(columns="event_id"), as_of=AS_OF)
    assert profiling.data["user_id"].tolist() == ["17850"]  # (the batch path: one user)
    for written in ("17850", "17850.0", "17850.00"):
        got = client.get(f"/v1/users/{written}", params={"as_of": AS_OF}, headers=AUTH)
        assert got.status_code == 200, got.text
        assert got.json()["user_id"] == "17850"
        assert got.json()["profile"]["frequency"] == profiling.data["frequency"].iloc[0]
        assert got.json()["segment"] == int(scored["segment"].iloc[0])
    assert client.get("/readyz", headers=AUTH).json()["users"] == 1


def test_a_user_stored_as_written_before_ids_were_read_so_is_still_reached(
    trained, tmp_path, monkeypatch
):
    """A store an earlier version wrote keeps "17850.0" as posted: reading, exporting and
    deleting (an erasure request) still reach that user."""
    import personas.serve._events as events_module

    model, _, events = trained
    client = _client(model, tmp_path)
    one = events[events["user_id"] == events["user_id"].iloc[0]].copy()
    one["user_id"] = "17850.0"
    with monkeypatch.context() as m:  # (ids kept as written, as before)
        m.setattr(events_module, "read_id", lambda text: text)
        answer = client.post("/v1/events", json={"events": _records(one)}, headers=AUTH)
        assert answer.status_code == 200, answer.text
    for path in ("/v1/users/17850.0", "/v1/users/17850.0/export"):
        assert client.get(path, headers=AUTH).status_code == 200, path
    exported = client.get("/v1/users/17850.0/export", headers=AUTH).json()
    assert len(exported["events"]) == len(one)  # (stored under the id as written)
    assert client.delete("/v1/users/17850.0", headers=AUTH).status_code == 200
    for written in ("17850.0", "17850"):
        assert client.get(f"/v1/users/{written}", headers=AUTH).status_code == 404
        assert client.get(f"/v1/users/{written}/export", headers=AUTH).status_code == 404
