"""Rules for ``--method auto``, compared on several draws of the grid of ``bench_methods``.

Usage::

    python benchmarks/bench_auto.py [--seeds 0,1000,2000] [--users 3000] [--quick]

For every table of the grid (72 ``make_planted`` settings; ``--quick``: 6), drawn once per
seed (each table's seed + the draw's), the basis ``personas segment`` builds, then
K-Means, the Gaussian mixture, Ward and k-prototypes at their defaults
(``personas.cluster.fit_methods``, as ``compare-methods`` runs them): each one's adjusted
Rand index (ARI) against the planted segments, its k, its silhouette (one sample, in the
basis), its stability, and the agreement of every pair of methods.

Each rule picks one method per table from those figures alone (no truth): the highest
silhouette, stability, silhouette × stability, or **support** (the mean ARI between its
segments and the other three methods'), among K-Means and one to three other methods.
Printed per draw and rule: the mean ARI of the picks against K-Means', the worst
difference on a table, the tables where the pick is more than 0.02 below K-Means, and
the share of tables whose k is within ±1 of the planted count. ``auto`` is the rule
"support, K-Means or the mixture" (``personas.cluster.choose_method``): the only one of
these that never fell more than 0.02 below K-Means on a table of any draw measured.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

import personas
from personas.cluster import fit_methods
from personas.datasets import make_planted

sys.path.insert(0, str(Path(__file__).parent))
from bench_methods import COLUMNS, OVERLAPS, grid

PANEL = ["kmeans", "gmm", "ward", "kprototypes"]
CANDIDATES = {
    "K-Means or Ward": ["kmeans", "ward"],
    "K-Means or mixture": ["kmeans", "gmm"],
    "K-Means, mixture or Ward": ["kmeans", "gmm", "ward"],
    "any of the four": PANEL,
}


def measure(seed: int, users: int, quick: bool) -> list[dict]:
    """Every method's figures on every table of one draw."""
    tables = []
    for s in grid(quick):
        n_numeric, n_categorical, n_noise = COLUMNS[s["columns"]]
        data, truth = make_planted(
            users, n_segments=s["n_segments"], sizes=s["sizes"],
            overlap=OVERLAPS[s["overlap"]], shape=s["shape"], n_numeric=n_numeric,
            n_categorical=n_categorical, n_noise=n_noise, random_state=s["setting"] + seed,
        )  # fmt: skip
        run = personas.segment(data, k=2, random_state=0)  # (its basis)
        typed, _ = run.model.pipeline.named_steps["types"].type_table(data)
        X = run.model.builder.transform(typed)
        y = truth.set_index("user_id").loc[run.labels["user_id"], "segment"].to_numpy()
        found, agree = fit_methods(
            X, PANEL, random_state=0, groups=run.model.builder.category_groups()
        )
        tables.append(
            {
                "planted": s["n_segments"],
                "ari": [adjusted_rand_score(y, r.labels) for r in found],
                "k": [r.k for r in found],
                "silhouette": [r.silhouette if r.silhouette == r.silhouette else -1 for r in found],
                "stability": [r.stability or 0.0 for r in found],
                "support": [
                    float(np.mean([agree[i, j] for j in range(len(found)) if j != i]))
                    for i in range(len(found))
                ],
            }
        )
    return tables


def rules() -> dict[str, callable]:
    out = {"K-Means alone": lambda t: 0}
    figures = {
        "silhouette": lambda t, i: t["silhouette"][i],
        "stability": lambda t, i: t["stability"][i],
        "silhouette × stability": lambda t, i: t["silhouette"][i] * t["stability"][i],
        "support": lambda t, i: t["support"][i],
    }
    for what, among in CANDIDATES.items():
        idx = [PANEL.index(m) for m in among]
        for name, f in figures.items():
            # (the first of equals: K-Means)
            out[f"{name}, {what}"] = lambda t, f=f, idx=idx: max(idx, key=lambda i: f(t, i))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1000,2000")
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="6 settings of the grid")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)
    for seed in [int(s) for s in args.seeds.split(",")]:
        start = time.perf_counter()
        tables = measure(seed, args.users, args.quick)
        kmeans = np.array([t["ari"][0] for t in tables])
        planted = np.array([t["planted"] for t in tables])
        print(f"\nDraw {seed}: {len(tables)} tables ({time.perf_counter() - start:.0f} s); "
              f"K-Means mean ARI {kmeans.mean():.3f}")  # fmt: skip
        print(f"  {'rule':<50}{'mean ARI':>9}{'worst':>8}{'< −0.02':>9}{'k ±1':>7}")
        for name, rule in rules().items():
            pick = [rule(t) for t in tables]
            ari = np.array([t["ari"][i] for t, i in zip(tables, pick, strict=True)])
            k = np.array([t["k"][i] for t, i in zip(tables, pick, strict=True)])
            diff = ari - kmeans
            near = np.mean(np.abs(k - planted) <= 1)
            print(f"  {name:<50}{ari.mean():>9.3f}{diff.min():>+8.3f}"
                  f"{int((diff < -0.02).sum()):>9}{near:>7.0%}")  # fmt: skip
        best = np.array([max(t["ari"]) for t in tables])
        print(f"  {'(the best method of each table, known only with the truth)':<50}"
              f"{best.mean():>9.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
