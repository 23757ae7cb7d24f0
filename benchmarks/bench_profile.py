"""`personas profile` (DuckDB through Ibis) against the same features in pandas, same run.

Usage::

    python benchmarks/bench_profile.py [--events 10000000] [--events 100000000] [--no-pandas]

For each size: generate users and their events with ``personas.datasets`` (in chunks of
users, written as a folder of Parquet files), then run, each in a fresh subprocess (its own
peak memory):

- personas: ``personas.profile(folder, as_of=...)`` — cleaning, every feature, RFM;
- pandas (20M events at most): ``read_parquet`` + ``groupby`` computing every feature
  personas gives for this log, by the same definitions (the cleaning counts, the shares of
  the 5 most frequent levels, sessions, subscription state, orders and returns, windows,
  trends, RFM scores and segments), the user id factorised once so that every grouping is
  on integers.

Both results are then compared column by column (numbers to 1e-9): the pandas script is
the same features only if they agree. Printed: wall time, peak memory (max RSS), users,
the columns compared and any that differ, and the speed-up.
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
KEEP_PERSONAS = USERS + "\np.data.to_parquet(OUT)"
KEEP_PANDAS = USERS + "\nout.to_parquet(OUT)"
EVENTS_PER_USER = 31  # make_events gives about 31 events per user over a year

PERSONAS = """
import personas
p = personas.profile(FOLDER, as_of=AS_OF)
n_users = len(p.data)
"""

PANDAS = """
import numpy as np, pandas as pd
DAY = 86400.0
e = pd.read_parquet(FOLDER)
as_of = pd.Timestamp(AS_OF)
cut = (as_of - pd.Timestamp("1970-01-01")).total_seconds()
# Cleaning, counted: blank/missing users and times, lines at or after as_of, duplicates
clean = {"rows_read": len(e)}
no_user = e["user_id"].isna() | (e["user_id"].str.strip() == "")
clean["missing_user_id"] = int(no_user.sum())
clean["missing_timestamp"] = int(e["timestamp"].isna().sum())
late = e["timestamp"] >= as_of
clean["at_or_after_as_of"] = int(late.sum())
e = e[~no_user & e["timestamp"].notna() & ~late]
n = len(e)
e = e.drop_duplicates()
clean["duplicate_lines"] = n - len(e)
# Levels of the share columns: the 5 most frequent of the log (ties by name), the rest pooled
def safe(v):
    return "".join(ch if ch.isalnum() else "_" for ch in str(v).lower()).strip("_")
SHARES = {"category": "category", "platform": "channel", "device": "device",
          "event_type": "event_type"}
kind = e["event_type"]
sec = e["timestamp"].to_numpy().astype("datetime64[ms]").astype("int64") / 1000.0
amount = e["amount"]
negative = amount < 0
is_purchase = (kind == "purchase") & ~negative
is_return = (kind == "refund") | ((kind == "purchase") & negative)
buy = is_purchase & (amount > 0)
clean["purchase_lines"] = int(is_purchase.sum())
clean["return_lines"] = int(is_return.sum())
clean["zero_prices"] = int(((amount == 0) & ~is_return).sum())
# The user id factorised once: every groupby below is on integer codes
codes, users = pd.factorize(e["user_id"], sort=True)
day = np.floor(sec / DAY)
e = e.assign(user_id=codes, sec=sec, day=day, week=(day + 3) // 7)
uid = e["user_id"]
# Events: counts per user in one groupby of indicator columns
ind = {"n_events": np.ones(len(e), dtype=np.int64)}
for w in (7, 30, 90, 365):
    ind[f"events_{w}d"] = sec >= cut - w * DAY
for w in (30, 90):
    ind[f"_before_{w}"] = (sec >= cut - 2 * w * DAY) & (sec < cut - w * DAY)
ind["sessions"] = (kind == "session").to_numpy()
ind["renewals"] = (kind == "renewal").to_numpy()
ind["cancellations"] = (kind == "cancellation").to_numpy()
out = pd.DataFrame(ind, index=e.index).groupby(uid).sum()
g = e.groupby("user_id")
out["first_seen"], out["last_seen"] = g["sec"].min(), g["sec"].max()
out["active_days"] = g["day"].nunique()
out["active_weeks"] = g["week"].nunique()
out["avg_session_minutes"] = e["duration_min"].where(kind == "session").groupby(uid).mean()
for col, name in SHARES.items():
    counts = e[col].value_counts()
    counts = counts[counts > 0]
    if len(counts) < 2:
        continue
    top = sorted(counts.index, key=lambda v: (-counts[v], f"share_{name}_{safe(v)}"))[:5]
    tab = e.groupby(["user_id", col], observed=True).size().unstack(fill_value=0)
    tab = tab.reindex(out.index, fill_value=0)
    for v in top:
        out[f"share_{name}_{safe(v)}"] = tab[v] / out["n_events"]
    if len(counts) > 5:
        out[f"share_{name}_other"] = (tab.sum(axis=1) - tab[top].sum(axis=1)) / out["n_events"]
# Subscription: the last subscription event (a cancellation at a tie), billing periods
sub = e[kind.isin(["signup", "renewal", "cancellation"])]
sub = sub.assign(c=sub["event_type"] == "cancellation").sort_values(["sec", "c"])
churned = sub.groupby("user_id")["c"].last().reindex(out.index, fill_value=False)
out["churned"] = churned.astype(bool)
bill = e[kind.isin(["signup", "renewal"])].groupby("user_id")["sec"].agg(["count", "min", "max"])
own = (bill["max"] - bill["min"]) / (bill["count"] - 1).replace(0, np.nan)
typical = own[bill["count"] >= 2].median()
due = (bill["max"] + own.fillna(typical)).reindex(out.index)
out["days_to_renewal"] = ((due - cut) / DAY).where(~out["churned"])
plans = e[e["plan"].notna()][["user_id", "sec", "plan"]]
plans = plans.assign(plan=plans["plan"].astype(str)).sort_values(["sec", "plan"])
out["plan"] = plans.groupby("user_id")["plan"].last()
# Orders: one row per order (purchases and returns), then per user
lines = e[buy | is_return]
lb, lr = buy[lines.index], is_return[lines.index]
per_order = lines.assign(
    osec=lines["sec"].where(lb), value=lines["amount"].where(lb),
    returned=lines["amount"].abs().where(lr), has_return=lr & lines["amount"].notna(),
).groupby(["user_id", "order_id"]).agg(
    osec=("osec", "min"), value=("value", "sum"), returned=("returned", "sum"),
    has_return=("has_return", "max"),
).reset_index()
per_user = per_order.groupby("user_id")
out["returns"] = per_user["has_return"].sum()
out["returns_value"] = per_user["returned"].sum()
bought = per_order[per_order["osec"].notna()]
b = bought.groupby("user_id")
out["frequency"] = b.size()
out["monetary"] = b["value"].sum()
first_order, last_order = b["osec"].min(), b["osec"].max()
for w in (7, 30, 90, 365):
    recent = bought[bought["osec"] >= cut - w * DAY].groupby("user_id")
    out[f"orders_{w}d"] = recent.size()
    out[f"spend_{w}d"] = recent["value"].sum()
zero = ["frequency", "monetary", "returns", "returns_value"]
zero += [f"{k}_{w}d" for k in ("orders", "spend") for w in (7, 30, 90, 365)]
out[zero] = out[zero].fillna(0)
out["recency_days"] = (cut - last_order) / DAY
out["last_seen_days"] = (cut - out["last_seen"]) / DAY
out["tenure_days"] = (cut - out["first_seen"]) / DAY
orders = out["frequency"].replace(0, np.nan)
out["avg_order_value"] = out["monetary"] / orders
out["inter_purchase_days"] = (last_order - first_order) / DAY / (orders - 1).replace(0, np.nan)
out["return_share"] = out["returns"] / orders
for w in (30, 90):
    now, before = out[f"events_{w}d"], out[f"_before_{w}"]
    out[f"trend_{w}d"] = ((now - before) / (now + before).replace(0, np.nan)).fillna(0.0)
out["visits_per_active_week"] = out["sessions"] / out["active_weeks"].replace(0, np.nan)
# RFM: quintiles of average ranks among buyers, and the named R x F segments
buyers = out["frequency"] > 0
for col, src, asc in (("r_score", "recency_days", False), ("f_score", "frequency", True),
                      ("m_score", "monetary", True)):
    ranks = out.loc[buyers, src].rank(method="average", ascending=asc)
    out[col] = np.clip(np.ceil(5 * ranks / buyers.sum()), 1, 5).astype("Int64")
GRID = {5: "New customers|Potential loyalists|Potential loyalists|Champions|Champions",
        4: "Promising|Potential loyalists|Potential loyalists|Loyal customers|Loyal customers",
        3: "About to sleep|About to sleep|Need attention|Loyal customers|Loyal customers",
        2: "Hibernating|Hibernating|At risk|At risk|Can't lose them",
        1: "Hibernating|Hibernating|At risk|At risk|Can't lose them"}
names = {(r, f): name for r, row in GRID.items() for f, name in enumerate(row.split("|"), 1)}
rf = out["r_score"].fillna(0).astype(int) * 10 + out["f_score"].fillna(0).astype(int)
out["rfm_segment"] = rf.map({r * 10 + f: v for (r, f), v in names.items()}).fillna("No purchase")
out["rfm"] = (out["r_score"].astype("string") + out["f_score"].astype("string")
              + out["m_score"].astype("string"))
out = out.drop(columns=[c for c in out.columns if c.startswith("_")]
               + ["first_seen", "last_seen"])
out.index = users[out.index]
out = out.rename_axis("user_id").reset_index()
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


def compare(ours: Path, theirs: Path) -> str:
    """Which columns of the two profiles differ (numbers beyond 1e-9, relative or absolute)."""
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(ours).set_index("user_id")
    b = pd.read_parquet(theirs).set_index("user_id").reindex(a.index)
    common = a.columns.intersection(b.columns)
    differ = []
    for col in common:
        x, y = a[col], b[col]
        if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            xv, yv = x.astype("float64").to_numpy(), y.astype("float64").to_numpy()
            bad = ~np.isclose(xv, yv, rtol=1e-9, atol=1e-9, equal_nan=True)
        else:
            bad = ~((x.astype(object) == y.astype(object)) | (x.isna() & y.isna())).to_numpy()
        if bad.any():
            differ.append(f"{col} ({int(bad.sum()):,} users)")
    only = sorted(set(a.columns) ^ set(b.columns))
    return (
        f"{len(common)} feature columns compared over {len(a):,} users: "
        + (f"differ: {', '.join(differ)}" if differ else "all equal")
        + (f"; in one result only: {', '.join(only)}" if only else "")
    )


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
            ours, theirs = Path(tmp) / "personas.parquet", Path(tmp) / "pandas.parquet"
            results = {
                "personas profile (DuckDB)": measure(
                    PERSONAS, env | {"OUT": str(ours)}, KEEP_PERSONAS
                )
            }
            if not args.no_pandas and written <= 20_000_000:
                results["pandas groupby"] = measure(PANDAS, env | {"OUT": str(theirs)}, KEEP_PANDAS)
            print(f"  {'run':<28}{'seconds':>9}{'peak MB':>9}{'users':>11}")
            for name, r in results.items():
                print(f"  {name:<28}{r['seconds']:>9.1f}{r['peak_mb']:>9.0f}{r['users']:>11,}")
            if len(results) == 2:
                print("  " + compare(ours, theirs))
                mine, base = results.values()
                print(f"  speed-up {base['seconds'] / mine['seconds']:.1f}× over pandas")


if __name__ == "__main__":
    main()
