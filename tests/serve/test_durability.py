"""An acknowledged event is never lost and never counted twice: the server is killed with
SIGKILL during a stream of batched and single requests, restarted, and every user's
stored events are checked against what was acknowledged and what was sent."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter

import pytest

import personas
from personas.store import open_store
from tests.serve._server import environment, start

pytest.importorskip("fastapi", reason="the serve extra (pip install 'personas[serve]')")
httpx = pytest.importorskip("httpx", reason="the test extra")

KEY = "durability-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
TRIALS = 20
USERS = [f"user-{i}" for i in range(12)]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    users, _ = personas.datasets.make_users(200, random_state=5)
    events = personas.datasets.make_events(users, random_state=5)
    path = tmp_path_factory.mktemp("model") / "model.personas"
    personas.segment(events, random_state=0).model.save(path)
    return path


def _start(model_path, url: str) -> tuple[subprocess.Popen, str]:
    return start([str(model_path), "--store", url], env=environment(PERSONAS_API_KEYS=KEY))


def _event(n: int, rng: random.Random) -> dict:
    return {
        "event_id": f"ev-{n}",
        "user_id": rng.choice(USERS),
        "timestamp": 1_717_200_000 + n,
        "event_type": rng.choice(["purchase", "session"]),
        "amount": round(rng.uniform(5, 80), 2),
        "order_id": f"o-{n}",
    }


def _stored(url: str) -> Counter:
    store = open_store(url)
    try:
        rows = store.con.execute("SELECT user_id, count(*) FROM events GROUP BY user_id")
        return Counter(dict(rows.fetchall()))
    finally:
        store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


def test_acknowledged_events_survive_sigkill(model_path, store):
    rng = random.Random(0)
    sent: list[dict] = []
    acknowledged: set[str] = set()
    failures: list[int] = []
    counter = 0
    for trial in range(TRIALS):
        server, url = _start(model_path, store)
        stop = threading.Event()

        def stream(url: str = url, stop: threading.Event = stop) -> None:
            nonlocal counter
            with httpx.Client(base_url=url, headers=AUTH, timeout=10) as client:
                while not stop.is_set():
                    size = rng.choice([1, 1, 5, 40])
                    batch = [_event(counter + i, rng) for i in range(size)]
                    counter += size
                    sent.extend(batch)
                    body = batch[0] if size == 1 else {"events": batch}
                    try:
                        answer = client.post("/v1/events", json=body)
                    except httpx.TransportError:
                        return  # (killed while answering: not acknowledged)
                    if answer.status_code == 200:
                        assert answer.json()["rejected"] == []
                        acknowledged.update(e["event_id"] for e in batch)
                    else:  # (never an error: a killed server answers nothing)
                        failures.append(answer.status_code)

        sender = threading.Thread(target=stream)
        before = len(acknowledged)
        sender.start()
        # Kill mid-stream: once this server has acknowledged something (a loaded machine
        # can take over a second for the first answer), at a random moment after.
        deadline = time.monotonic() + 60
        while len(acknowledged) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.9))
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        stop.set()
        sender.join(timeout=30)
        stored = _stored(store)
        sent_per_user = Counter(e["user_id"] for e in sent)
        acked_per_user = Counter(e["user_id"] for e in sent if e["event_id"] in acknowledged)
        for user in USERS:
            assert acked_per_user[user] <= stored[user] <= sent_per_user[user], (trial, user)
    assert failures == []
    assert len(acknowledged) > TRIALS  # (the stream was acknowledged between kills)
    server, url = _start(model_path, store)
    try:
        with httpx.Client(base_url=url, headers=AUTH, timeout=60) as client:
            for start in range(0, len(sent), 1000):
                answer = client.post("/v1/events", json={"events": sent[start : start + 1000]})
                assert answer.status_code == 200
            stored = _stored(store)
            assert stored == Counter(e["user_id"] for e in sent)
            for user in USERS:  # (each profile counts every stored event, once)
                profile = client.get(f"/v1/users/{user}", headers=AUTH).json()["profile"]
                assert profile["n_events"] == stored[user]
    finally:
        server.terminate()
        server.wait(timeout=30)
