"""`personas serve` under load, beside the batch path over the same events, same run.

Usage::

    python benchmarks/bench_serve.py [--users 2000] [--clients 8] [--seconds 20]

Trains a model on generated events (``personas.datasets``), starts ``personas serve`` on
127.0.0.1 with a fresh SQLite store in a temporary folder, and replays the same events
under new ids:

1. **batched**: every event, in requests of 1,000, from ``--clients`` concurrent clients:
   sustained events/s;
2. **single**: one event per request from ``--clients`` clients for ``--seconds``:
   requests/s (the peak);
3. **latency**: single events sent at half that peak rate by an open-loop sender for
   ``--seconds``: p50/p95/p99 from sending an event to the answer, which comes only after
   the event, the user's profile and segment are committed (readable);

and reports the server's peak memory and the store's bytes per million events. The
baseline, the batch path over the same events in this process: ``model.predict(events)``
(read + profile + score every user once), as events/s. Every loop is bounded in time
and count; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pandas as pd

import personas

KEY = "bench-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _records(events: pd.DataFrame, prefix: str) -> list[dict]:
    out = []
    for i, row in enumerate(events.to_dict("records")):
        event = {k: v for k, v in row.items() if not (v is None or v != v)}
        event["timestamp"] = pd.Timestamp(event["timestamp"]).tz_localize("UTC").isoformat()
        event["event_id"] = f"{prefix}{i}"
        out.append(event)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _start(model: Path, folder: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, PERSONAS_API_KEYS=KEY)
    cmd = [sys.executable, "-m", "personas", "serve", str(model), "--port", str(port),
           "--store", f"sqlite:///{folder / 'store.db'}"]  # fmt: skip
    server = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start within 120 s")


def _closed_loop(url: str, bodies: list, clients: int, seconds: float) -> tuple[int, float]:
    """Send ``bodies`` from ``clients`` threads, each waiting for its answer, until all are
    sent or ``seconds`` pass; (requests answered, wall seconds)."""
    lock, done, failures = threading.Lock(), [0], []
    queue = iter(bodies)
    stop = time.monotonic() + seconds

    def work() -> None:
        with httpx.Client(base_url=url, headers=AUTH, timeout=120) as client:
            while time.monotonic() < stop:
                with lock:
                    body = next(queue, None)
                if body is None:
                    return
                answer = client.post("/v1/events", json=body)
                if answer.status_code != 200:
                    failures.append(answer.text[:200])
                    return
                with lock:
                    done[0] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"a request failed: {failures[0]}")
    return done[0], time.perf_counter() - start


def _open_loop(url: str, bodies: list, rate: float, seconds: float) -> list[float]:
    """Send one body every 1/``rate`` s (each from its own thread, not waiting for earlier
    answers) for ``seconds``; the latencies in ms."""
    latencies: list[float] = []
    lock = threading.Lock()
    client = httpx.Client(base_url=url, headers=AUTH, timeout=120,
                          limits=httpx.Limits(max_connections=256))  # fmt: skip

    def one(body: dict) -> None:
        t = time.perf_counter()
        answer = client.post("/v1/events", json=body)
        if answer.status_code == 200:
            with lock:
                latencies.append((time.perf_counter() - t) * 1000)

    threads = []
    start = time.perf_counter()
    for i, body in enumerate(bodies[: int(rate * seconds)]):
        wait = start + i / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        thread = threading.Thread(target=one, args=(body,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=120)
    client.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()

    users, _ = personas.datasets.make_users(args.users, random_state=0)
    events = personas.datasets.make_events(users, random_state=0)
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        folder = Path(tmp)
        model_path = folder / "model.personas"
        personas.segment(events, random_state=0).model.save(model_path)
        model = personas.load(model_path)
        t = time.perf_counter()
        model.predict(events)
        batch = len(events) / (time.perf_counter() - t)
        print(f"events: {len(events):,} of {events['user_id'].nunique():,} users")
        print(f"batch path (predict of the whole log): {batch:,.0f} events/s")

        server, url = _start(model_path, folder)
        try:
            records = _records(events, "b")
            bodies = [{"events": records[i : i + 1000]} for i in range(0, len(records), 1000)]
            n, wall = _closed_loop(url, bodies, args.clients, 600)
            batched = n * 1000 / wall
            print(f"batched (1,000 a request, {args.clients} clients): {batched:,.0f} events/s "
                  f"({batched / batch:.2f}x the batch path)")  # fmt: skip
            singles = _records(events, "s")
            n, wall = _closed_loop(url, singles, args.clients, args.seconds)
            peak = n / wall
            print(f"single events ({args.clients} clients): {peak:,.1f} requests/s")
            rest = _records(events, "l")
            ms = sorted(_open_loop(url, rest, max(peak / 2, 0.5), args.seconds))
            if ms:
                q = statistics.quantiles(ms, n=100)
                print(f"latency at {peak / 2:,.1f} requests/s ({len(ms)} requests): "
                      f"p50 {q[49]:,.0f} ms, p95 {q[94]:,.0f} ms, p99 {q[98]:,.0f} ms")  # fmt: skip
            stored = httpx.get(f"{url}/readyz", headers=AUTH).json()["events"]
            size = sum(p.stat().st_size for p in folder.glob("store.db*"))
            print(f"server peak memory: {_peak_mb(server.pid):,.0f} MB")
            print(f"store: {size / 2**20:,.1f} MiB for {stored:,} events "
                  f"({size / stored * 1e6 / 2**20:,.0f} MiB per million events)")  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
