"""k-prototypes: personas' vectorised ``KPrototypesSegmenter`` against kmodes' ``KPrototypes``.

Usage::

    python benchmarks/bench_kprototypes.py [--users 100000] [--k 8] [--kmodes-init 1]

A mixed table of ``--users`` rows with 10 numeric and 10 categorical columns (5 levels
each) driven by ``--k`` planted segments, no missing value (kmodes refuses them). Both
fit ``k`` segments with the same γ (kmodes' default: half the numbers' standard
deviation) in the same run, one after the other:

- kmodes ``KPrototypes(init="Cao", n_init=--kmodes-init)`` (its default is 10 starts;
  each costs as much as the first, so one start is the fastest kmodes can be);
- ``personas.cluster.KPrototypesSegmenter(k, n_bootstrap=0)`` at its defaults: 4
  k-means++ starts on a 10,000-row sample, then the prototypes refined on all rows.

Each one's cost is computed the same way from its own labels (the sum over rows of the
squared differences of the numbers plus γ per category differing from the segment's
mode); the script prints seconds, costs, their ratios and the agreement of the two
(adjusted Rand index) and of each with the planted segments.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score


def planted(n: int, k: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    centres = rng.normal(0, 2, size=(k, 10))
    table = {f"num_{j}": rng.normal(centres[truth, j], 1.5) for j in range(10)}
    for j in range(10):
        favourite = rng.integers(0, 5, k)  # each segment's usual level
        level = np.where(rng.random(n) < 0.6, favourite[truth], rng.integers(0, 5, n))
        table[f"cat_{j}"] = np.char.add(f"c{j}_", level.astype(str))
    return pd.DataFrame(table), truth


def cost(table: pd.DataFrame, labels: np.ndarray, gamma: float) -> float:
    """k-prototypes' cost of ``labels``: numbers to their segment's means, categories to
    their segment's modes (γ per mismatch)."""
    total = 0.0
    for s in np.unique(labels):
        part = table[labels == s]
        nums = part.filter(like="num_").to_numpy()
        total += float(((nums - nums.mean(axis=0)) ** 2).sum())
        for c in part.filter(like="cat_").columns:
            total += gamma * float((part[c] != part[c].mode().iloc[0]).sum())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--kmodes-init", type=int, default=1, help="kmodes' n_init")
    args = parser.parse_args()

    from personas.cluster import KPrototypesSegmenter, encode_mixed

    table, truth = planted(args.users, args.k)
    categorical = [c for c in table.columns if c.startswith("cat_")]
    gamma = 0.5 * float(table.filter(like="num_").to_numpy().std())
    print(f"{args.users:,} users × {table.shape[1]} columns (10 numeric, 10 categorical), "
          f"k = {args.k}, γ = {gamma:.3f}")  # fmt: skip

    start = time.perf_counter()
    X, groups = encode_mixed(table, categorical=categorical, gamma=gamma)
    ours = KPrototypesSegmenter(args.k, groups=groups, n_bootstrap=0, random_state=0).fit(X)
    ours_s = time.perf_counter() - start

    try:
        from kmodes.kprototypes import KPrototypes
    except ImportError:
        print("kmodes is not installed (pip install kmodes): only personas was timed.")
        print(f"personas KPrototypesSegmenter: {ours_s:.1f} s, cost {ours.cost_:,.0f}")
        return
    start = time.perf_counter()
    theirs = KPrototypes(
        n_clusters=args.k, init="Cao", n_init=args.kmodes_init, gamma=gamma, random_state=0
    ).fit(table.to_numpy(dtype=object), categorical=list(range(10, 20)))
    theirs_s = time.perf_counter() - start

    ours_cost = cost(table, ours.labels_, gamma)
    theirs_cost = cost(table, theirs.labels_, gamma)
    rows = [
        ("kmodes KPrototypes", theirs_s, theirs_cost, theirs.labels_),
        ("personas KPrototypesSegmenter", ours_s, ours_cost, ours.labels_),
    ]
    print(f"{'engine':<32}{'seconds':>10}{'cost':>16}{'ARI vs planted':>16}")
    for name, seconds, c, labels in rows:
        print(f"{name:<32}{seconds:>10.1f}{c:>16,.0f}{adjusted_rand_score(truth, labels):>16.3f}")
    print(f"speed-up (kmodes seconds / personas seconds): {theirs_s / ours_s:.1f}×")
    print(f"cost ratio (personas / kmodes): {ours_cost / theirs_cost:.4f}")
    print(f"agreement of the two (ARI): {adjusted_rand_score(theirs.labels_, ours.labels_):.3f}")
    print(f"(kmodes' own cost_: {theirs.cost_:,.0f}; personas' cost_: {ours.cost_:,.0f})")


if __name__ == "__main__":
    main()
