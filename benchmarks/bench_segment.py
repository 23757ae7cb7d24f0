"""`personas segment` (automatic k) against a naive fixed-k script, in the same run.

Usage::

    python benchmarks/bench_segment.py [--users 1000000] [--users 10000000]

For each size: generate ``make_users(N)`` (written as CSV for the naive script and as
Parquet for personas), then run, each in a fresh subprocess (its own peak memory):

- naive: ``pandas.read_csv → fillna → get_dummies → StandardScaler → KMeans(8)``
  (the usual notebook recipe, fixed k, float64), after dropping by hand the columns it
  cannot use (ids, PII, free text, dates, city, the multi-label interests);
- personas: ``personas.segment(parquet)`` — validation, basis matrix, k chosen among
  2..12, final fit on all rows, profiles and names (no report), then writing
  ``segments.parquet`` and ``summary.json``.

Printed: wall time, peak memory, adjusted Rand index against the planted segments, the
k used, and the ratios.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from _measure import measure

NAIVE = """
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler
df = pd.read_csv(PATH)
# what a notebook drops by hand: ids, PII, free text, dates, the 500-level city and the
# multi-label interests (one-hot of their combinations would not fit in memory)
df = df.drop(columns=["user_id", "full_name", "email", "phone", "feedback", "city",
                      "interests", "signup_date", "last_active_date"])
for c in df.columns:
    if df[c].dtype.kind in "if":
        df[c] = df[c].fillna(df[c].median())
    else:
        df[c] = df[c].fillna("missing")
X = pd.get_dummies(df, dtype=float)
X = StandardScaler().fit_transform(X)
labels = KMeans(n_clusters=8, random_state=0).fit_predict(X)
K = 8
"""

PERSONAS = """
import personas
run = personas.segment(PARQUET, random_state=0)
run.labels.to_parquet(OUT + "/segments.parquet", index=False)
run.to_json(OUT + "/summary.json")
labels = run.labels["segment"].to_numpy()
K = run.k
"""


ARI = """
import pandas as pd
from sklearn.metrics import adjusted_rand_score
truth = pd.read_parquet(TRUTH)["segment"].to_numpy()
extra = {"k": int(K), "ari": float(adjusted_rand_score(truth, labels))}
"""


def generate(n: int, folder: Path) -> None:
    code = (
        "from personas.datasets import make_users\n"
        f"users, truth = make_users({n}, random_state=0)\n"
        f"users.to_csv({str(folder / 'users.csv')!r}, index=False)\n"
        f"users.to_parquet({str(folder / 'users.parquet')!r}, index=False)\n"
        f"truth.to_parquet({str(folder / 'truth.parquet')!r}, index=False)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, action="append")
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    for n in args.users or [1_000_000]:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            generate(n, folder)
            env = {
                "PATH": str(folder / "users.csv"),
                "PARQUET": str(folder / "users.parquet"),
                "TRUTH": str(folder / "truth.parquet"),
                "OUT": str(folder),
            }
            results = {}
            if not args.skip_naive:
                results["naive (CSV, k=8)"] = measure(NAIVE, env, ARI)
            results["personas (Parquet, auto k)"] = measure(PERSONAS, env, ARI)
            print(f"\n{n:,} users")
            print(f"  {'run':<28}{'seconds':>9}{'peak MB':>9}{'k':>4}{'ARI':>7}")
            for name, r in results.items():
                print(
                    f"  {name:<28}{r['seconds']:>9.1f}{r['peak_mb']:>9.0f}{r['k']:>4}"
                    f"{r['ari']:>7.3f}"
                )
            if len(results) == 2:
                naive, ours = results.values()
                print(
                    f"  speed-up {naive['seconds'] / ours['seconds']:.2f}×, memory "
                    f"{ours['peak_mb'] / naive['peak_mb']:.2f}× of naive"
                )


if __name__ == "__main__":
    main()
