"""Does K-Means stop too early? Its k rule against variants and against every k.

Usage::

    python benchmarks/bench_k_rule.py [--seed 0] [--users 3000] [--quick]

For each table of the grid of ``bench_methods.py`` (72 ``make_planted`` settings;
``--quick``: 6), the basis ``personas segment`` builds, then ``Segmenter`` with k chosen
(its scores for every k from 2 to 12: silhouette, Calinski–Harabasz, Davies–Bouldin,
inertia, stability) and K-Means refitted at every k from 2 to 12 for the adjusted Rand
index (ARI) each k would give against the planted segments. Printed: for the rule of
``personas.cluster.choose_k`` and variants of it (a wider silhouette tolerance, no elbow
cap, another stability floor, Calinski–Harabasz, Davies–Bouldin, the best silhouette),
the mean ARI (and on tables of uneven sizes), how often k is the planted count (exactly,
and within ±1), and the mean k − planted; then K-Means at the planted count and at the
best k of each table (both known only with the truth).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

import personas
from personas.cluster import KScore, Segmenter, elbow
from personas.datasets import make_planted

sys.path.insert(0, str(Path(__file__).parent))
from bench_methods import COLUMNS, OVERLAPS, grid

STABILITY = 0.75


def rule(scores: list[KScore], tolerance=0.10, cap=True, stability=STABILITY) -> int:
    """``choose_k``'s rule with its constants as parameters."""
    stable = [s for s in scores if s.stability >= stability]
    pool = stable or scores
    best = max(pool, key=lambda s: s.silhouette)
    floor = best.silhouette - tolerance * abs(best.silhouette)
    knee = elbow(scores) if cap else None
    limit = max(knee, best.k) if knee is not None else None
    near = [s for s in pool if s.silhouette >= floor and (limit is None or s.k <= limit)]
    return max(near, key=lambda s: s.k).k


RULES = {
    "the rule (10 %, elbow cap, stability 0.75)": rule,
    "tolerance 15 %": lambda s: rule(s, 0.15),
    "tolerance 20 %": lambda s: rule(s, 0.20),
    "no elbow cap": lambda s: rule(s, cap=False),
    "tolerance 15 %, no elbow cap": lambda s: rule(s, 0.15, cap=False),
    "stability 0.6, tolerance 15 %": lambda s: rule(s, 0.15, stability=0.6),
    "stability 0.9": lambda s: rule(s, stability=0.9),
    "best silhouette (stable k)": lambda s: rule(s, 0.0, cap=False),
    "best Calinski–Harabasz": lambda s: max(s, key=lambda x: x.calinski_harabasz).k,
    "best Davies–Bouldin": lambda s: min(s, key=lambda x: x.davies_bouldin).k,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="added to each table's seed")
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="6 settings of the grid")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)
    tables = []
    for s in grid(args.quick):
        n_numeric, n_categorical, n_noise = COLUMNS[s["columns"]]
        data, truth = make_planted(
            args.users, n_segments=s["n_segments"], sizes=s["sizes"],
            overlap=OVERLAPS[s["overlap"]], shape=s["shape"], n_numeric=n_numeric,
            n_categorical=n_categorical, n_noise=n_noise, random_state=s["setting"] + args.seed,
        )  # fmt: skip
        run = personas.segment(data, k=2, random_state=0)  # (its basis)
        typed, _ = run.model.pipeline.named_steps["types"].type_table(data)
        X = run.model.builder.transform(typed)
        y = truth.set_index("user_id").loc[run.labels["user_id"], "segment"].to_numpy()
        fitted = Segmenter(random_state=0).fit(X)
        scores = [KScore(**{k: v for k, v in d.items() if k != "seconds"}) for d in fitted.scores_]
        ari = {
            k: adjusted_rand_score(y, Segmenter(k=k, random_state=0, n_bootstrap=0).fit(X).labels_)
            for k in range(2, 13)
        }
        tables.append({"planted": s["n_segments"], "uneven": s["sizes"] == "uneven",
                       "scores": scores, "ari": ari})  # fmt: skip
    planted = np.array([t["planted"] for t in tables])
    uneven = np.array([t["uneven"] for t in tables])
    print(f"{len(tables)} tables (draw {args.seed}), {args.users:,} users each")
    head = f"{'k chosen by':<44}{'mean ARI':>9}{'uneven':>8}{'exact':>7}{'uneven':>8}{'±1':>6}"
    print(head + f"{'k − k*':>8}")
    for name, pick in RULES.items():
        k = np.array([pick(t["scores"]) for t in tables])
        ari = np.array([t["ari"][kk] for t, kk in zip(tables, k, strict=True)])
        exact = k == planted
        print(f"{name:<44}{ari.mean():>9.3f}{ari[uneven].mean():>8.3f}{exact.mean():>7.0%}"
              f"{exact[uneven].mean():>8.0%}{np.mean(np.abs(k - planted) <= 1):>6.0%}"
              f"{(k - planted).mean():>+8.2f}")  # fmt: skip
    at = np.array([t["ari"][t["planted"]] for t in tables])
    best = np.array([max(t["ari"].values()) for t in tables])
    print(f"{'the planted count (needs the truth)':<44}{at.mean():>9.3f}{at[uneven].mean():>8.3f}")
    print(f"{'the best k of each table (needs the truth)':<44}{best.mean():>9.3f}"
          f"{best[uneven].mean():>8.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
