"""The service's metrics in Prometheus' text format (``GET /metrics``): requests and their
latency per route, events accepted, duplicate and rejected, users, events and bytes in the
store. Routes are labelled by their template (``/v1/users/{user_id}``), never by a user
id: no personal data reaches the metrics."""

from __future__ import annotations

import statistics
import threading
import time
from bisect import bisect_left
from collections import defaultdict, deque
from typing import Any

__all__ = ["BUCKETS", "Metrics"]

#: The routes that bring events (their answers' latency is shown live).
INGESTING = ("/v1/events", "/v1/batch", "/v1/track", "/v1/identify", "/v1/page", "/v1/screen")

#: Upper bounds (seconds) of the latency histogram's buckets.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Counters and histograms, safe to update from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.events = {"accepted": 0, "duplicate": 0, "rejected": 0}
        # The latest answers to events (seconds) and events accepted (time, n), for the
        # dashboard's live figures; bounded.
        self._answers: deque[float] = deque(maxlen=2000)
        self._accepted: deque[tuple[float, int]] = deque(maxlen=20_000)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            counts = self.latency.setdefault(route, [0] * (len(BUCKETS) + 1))
            counts[bisect_left(BUCKETS, seconds)] += 1
            self.latency_sum[route] += seconds
            if method == "POST" and route in INGESTING and status == 200:
                self._answers.append(seconds)

    def ingested(self, answer: dict[str, Any]) -> None:
        with self._lock:
            self.events["accepted"] += answer["accepted"]
            self.events["duplicate"] += answer["duplicates"]
            self.events["rejected"] += len(answer["rejected"])
            if answer["accepted"]:
                self._accepted.append((time.monotonic(), answer["accepted"]))

    def live(self, window: float = 10.0) -> dict[str, Any]:
        """Events accepted per second over the last ``window`` seconds, and the p50, p95
        and p99 (ms) of the latest answers to requests bringing events (at most 2,000)."""
        now = time.monotonic()
        with self._lock:
            recent = sum(n for t, n in self._accepted if t >= now - window)
            answers = sorted(self._answers)
            events = dict(self.events)
        latency = []
        if len(answers) >= 2:
            cuts = statistics.quantiles(answers, n=100, method="inclusive")
            latency = [(f"p{q}", 1000 * cuts[q - 1]) for q in (50, 95, 99)]
        elif answers:
            latency = [("latest", 1000 * answers[0])]
        return {"rate": recent / window, "window": window, "latency": latency, **events}

    def text(self, counts: dict[str, int], size: int) -> str:
        """The exposition text, with the store's ``counts`` and ``size`` in bytes."""
        lines = [
            "# HELP personas_requests_total HTTP requests answered, by route and status.",
            "# TYPE personas_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                labels = f'method="{method}",route="{_escape(route)}",status="{status}"'
                lines.append(f"personas_requests_total{{{labels}}} {n}")
            lines += [
                "# HELP personas_request_seconds Time to answer an HTTP request.",
                "# TYPE personas_request_seconds histogram",
            ]
            for route, buckets in sorted(self.latency.items()):
                label = f'route="{_escape(route)}"'
                total = 0
                for bound, n in zip([*BUCKETS, float("inf")], buckets, strict=True):
                    total += n
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    lines.append(f'personas_request_seconds_bucket{{{label},le="{le}"}} {total}')
                lines.append(f"personas_request_seconds_sum{{{label}}} {self.latency_sum[route]}")
                lines.append(f"personas_request_seconds_count{{{label}}} {total}")
            lines += [
                "# HELP personas_events_total Events received, by what came of them.",
                "# TYPE personas_events_total counter",
            ]
            lines += [f'personas_events_total{{result="{k}"}} {v}' for k, v in self.events.items()]
        lines += [
            "# HELP personas_users Users in the store.",
            "# TYPE personas_users gauge",
            f"personas_users {counts['users']}",
            "# HELP personas_stored_events Events in the store.",
            "# TYPE personas_stored_events gauge",
            f"personas_stored_events {counts['events']}",
            "# HELP personas_store_bytes Bytes the store takes (its files, or its database).",
            "# TYPE personas_store_bytes gauge",
            f"personas_store_bytes {size}",
        ]
        return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
