"""The dashboard's pages with a million users in the store, beside a store of 10,000.

Usage::

    python benchmarks/bench_dashboard.py [--users 1000000] [--repeat 5]

Trains a model on generated events (``personas.datasets``), profiles and scores 2,000
users, and writes ``--users`` users into a fresh SQLite store (each a copy of one of those
profiles under a new id, their segment changes spread over 30 days, the 2,000 users'
events stored), through the store's own writes, as the service makes them. Then it asks
every page of the dashboard ``--repeat`` times through the app (in this process, no
network) and reports the median and slowest time per page. The baseline, in the same run:
the same pages over a store of 10,000 users built the same way, and their ratio (how the
time grows with the users). The issue's target: every page under a second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

import personas
from personas.serve import Engine, create_app
from personas.store import open_store

KEY = "bench-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
SOURCE = 2_000


def _profiles(model, events):
    profiling, scored = model.score_events(events)
    rows = []
    for record, (_, s) in zip(profiling.data.to_dict("records"), scored.iterrows(), strict=True):
        profile = {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}
        rows.append((profile, int(s["segment"]), str(s["segment_name"]), float(s["confidence"])))
    return rows, profiling.as_of


def _fill(path: Path, model, events, rows, as_of: str, users: int) -> float:
    """Write ``users`` users (copies of ``rows``) into a new store; seconds taken."""
    start = time.perf_counter()
    store = open_store(f"sqlite:///{path}")
    engine = Engine(model, store)  # (records the model: the store is the service's)
    engine.load(events)  # the source users, with their events
    chunk = 20_000
    day0 = pd.Timestamp("2026-11-01", tz="UTC")
    for start_at in range(0, users, chunk):
        batch, changes = [], []
        for n in range(start_at, min(start_at + chunk, users)):
            profile, seg, name, confidence = rows[n % len(rows)]
            uid = f"B{n:07d}"
            batch.append({"user_id": uid, "profile": json.dumps(profile | {"user_id": uid},
                          default=str), "segment": seg, "segment_name": name,
                          "confidence": confidence, "value": profile.get("monetary"),
                          "as_of": as_of, "updated_at": as_of})  # fmt: skip
            at = (day0 + pd.Timedelta(days=n % 30)).isoformat()
            changes.append({"user_id": uid, "from": None, "to": seg, "at": at, "event_id": None})
        with store.transaction() as tx:
            store.put_users(tx, batch)
            store.add_changes(tx, changes)
    store.close()
    return time.perf_counter() - start


def _pages(model, path: Path, user: str, repeat: int) -> dict[str, list[float]]:
    from fastapi.testclient import TestClient

    engine = Engine(model, open_store(f"sqlite:///{path}"))
    client = TestClient(create_app(engine, api_keys=[KEY], rescore_every=0))
    largest = max(engine.segments(), key=lambda s: s["size"])["id"]
    pages = {
        "overview /": "/",
        "segment /segments/{id}": f"/segments/{largest}",
        "members, searched": f"/segments/{largest}/members?q=B05",
        "members, page 1,000": f"/segments/{largest}/members?after=B0500000",
        "compare": "/compare?a=0&b=1",
        "user /users/{id}": f"/users/{user}",
        "live": "/live",
        "live figures": "/live/stats",
        "model": "/model",
    }
    times: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(repeat):
        for name, url in pages.items():
            start = time.perf_counter()
            answer = client.get(url, headers=AUTH)
            times[name].append(time.perf_counter() - start)
            assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
    engine.store.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    users_table, _ = personas.datasets.make_users(SOURCE, random_state=0)
    events = personas.datasets.make_events(users_table, random_state=0)
    model = personas.segment(events, random_state=0).model
    rows, as_of = _profiles(model, events)
    user = str(events["user_id"].iloc[0])
    with tempfile.TemporaryDirectory(prefix="personas-bench-dash-") as folder:
        results = {}
        for n in (10_000, args.users):
            path = Path(folder) / f"store-{n}.db"
            seconds = _fill(path, model, events, rows, as_of, n)
            size = sum(p.stat().st_size for p in Path(folder).glob(f"store-{n}.db*"))
            print(f"{n:,} users written in {seconds:.0f} s; store {size / 2**20:,.0f} MiB")
            results[n] = _pages(model, path, user, args.repeat)
            path.unlink()
    small, big = results[10_000], results[args.users]
    print(f"\nmilliseconds per page, median (slowest) of {args.repeat}; target < 1,000 ms")
    print(f"{'page':28} {'10,000 users':>16} {f'{args.users:,} users':>18} {'ratio':>7}")
    for name in big:
        a, b = statistics.median(small[name]), statistics.median(big[name])
        print(f"{name:28} {1000 * a:8.0f} ({1000 * max(small[name]):5.0f}) "
              f"{1000 * b:10.0f} ({1000 * max(big[name]):5.0f}) {b / a:7.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
