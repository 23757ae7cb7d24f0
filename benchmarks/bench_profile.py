"""`personas profile` (DuckDB through Ibis) against the same features in pandas, same run.

Usage::

    python benchmarks/bench_profile.py [--events 10000000] [--events 100000000] [--no-pandas]

For each size: generate users and their events with ``personas.datasets`` (in chunks of
users, written as a folder of Parquet files), then run, each in a fresh subprocess (its own
peak memory):

- personas: ``personas.profile(folder, as_of=...)`` — cleaning, every feature, RFM;
- pandas (10M events at most): ``read_parquet`` + ``groupby`` computing the core features
  the same way (recency, frequency, monetary, AOV, tenure, active days and weeks,
  inter-purchase time, 7/30/90/365-day windows, 30/90-day trends, returns, sessions).

Printed: wall time, peak memory (max RSS), users, and the speed-up.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from _measure import measure

AS_OF = "2025-06-30"
USERS = 'extra = {"users": int(n_users)}'
EVENTS_PER_USER = 31  # make_events gives about 31 events per user over a year

PERSONAS = """
import personas
p = personas.profile(FOLDER, as_of=AS_OF)
n_users = len(p.data)
"""

PANDAS = """
import numpy as np, pandas as pd
e = pd.read_parquet(FOLDER)
e = e.dropna(subset=["user_id"]).drop_duplicates()
as_of = pd.Timestamp(AS_OF)
e = e[e["timestamp"] < as_of]
sec = (as_of - e["timestamp"]).dt.total_seconds() / 86400
e = e.assign(days_ago=sec, day=e["timestamp"].dt.floor("D"),
             week=e["timestamp"].dt.to_period("W").dt.start_time)
buy = (e["event_type"] == "purchase") & (e["amount"] > 0)
ret = e["event_type"].isin(["refund", "return"])
g = e.groupby("user_id")
out = pd.DataFrame({
    "n_events": g.size(),
    "tenure_days": g["days_ago"].max(),
    "last_seen_days": g["days_ago"].min(),
    "active_days": g["day"].nunique(),
    "active_weeks": g["week"].nunique(),
    "sessions": e[e["event_type"] == "session"].groupby("user_id").size(),
})
b = e[buy].groupby("user_id")
out["frequency"] = b["order_id"].nunique()
out["monetary"] = b["amount"].sum()
out["recency_days"] = b["days_ago"].min()
first = b["days_ago"].max()
out["avg_order_value"] = out["monetary"] / out["frequency"]
gaps = (out["frequency"] - 1).replace(0, np.nan)
out["inter_purchase_days"] = (first - out["recency_days"]) / gaps
out["returns"] = e[ret].groupby("user_id")["order_id"].nunique()
for w in (7, 30, 90, 365):
    recent = e["days_ago"] <= w
    out[f"orders_{w}d"] = e[buy & recent].groupby("user_id")["order_id"].nunique()
    out[f"spend_{w}d"] = e[buy & recent].groupby("user_id")["amount"].sum()
    out[f"events_{w}d"] = e[recent].groupby("user_id").size()
for w in (30, 90):
    now = e[e["days_ago"] <= w].groupby("user_id").size()
    before = e[(e["days_ago"] > w) & (e["days_ago"] <= 2 * w)].groupby("user_id").size()
    now, before = now.reindex(out.index, fill_value=0), before.reindex(out.index, fill_value=0)
    out[f"trend_{w}d"] = ((now - before) / (now + before).replace(0, np.nan)).fillna(0)
out = out.fillna({c: 0 for c in out.columns if c.startswith(("orders", "spend", "events"))})
n_users = len(out)
"""


def generate(n_events: int, folder: Path) -> int:
    """Users and their events, 500,000 users per Parquet file; return the events written."""
    n_users = max(1, n_events // EVENTS_PER_USER)
    code = textwrap.dedent(
        f"""
        import personas
        written = 0
        chunk = 500_000
        for i, start in enumerate(range(0, {n_users}, chunk)):
            users, _ = personas.datasets.make_users(min(chunk, {n_users} - start),
                                                    random_state=i, as_of={AS_OF!r})
            users["user_id"] = users["user_id"] + "-" + str(i)
            events = personas.datasets.make_events(users, random_state=i)
            events.to_parquet({str(folder)!r} + f"/part-{{i:04d}}.parquet", index=False)
            written += len(events)
        print(written)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return int(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, action="append")
    parser.add_argument("--no-pandas", action="store_true")
    args = parser.parse_args()
    for n in args.events or [10_000_000]:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "events"
            folder.mkdir()
            t = time.perf_counter()
            written = generate(n, folder)
            print(f"\n{written:,} events generated in {time.perf_counter() - t:.0f} s")
            env = {"FOLDER": str(folder), "AS_OF": AS_OF}
            results = {"personas profile (DuckDB)": measure(PERSONAS, env, USERS)}
            if not args.no_pandas and written <= 20_000_000:
                results["pandas groupby"] = measure(PANDAS, env, USERS)
            print(f"  {'run':<28}{'seconds':>9}{'peak MB':>9}{'users':>11}")
            for name, r in results.items():
                print(f"  {name:<28}{r['seconds']:>9.1f}{r['peak_mb']:>9.0f}{r['users']:>11,}")
            if len(results) == 2:
                ours, base = results.values()
                print(f"  speed-up {base['seconds'] / ours['seconds']:.1f}× over pandas")


if __name__ == "__main__":
    main()
