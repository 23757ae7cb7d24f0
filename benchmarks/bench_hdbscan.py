"""HDBSCAN's settings over the grid of ``bench_methods.py``: which defaults find the
planted segments best.

Usage::

    python benchmarks/bench_hdbscan.py [--users 3000] [--quick]

For each ``make_planted`` setting of the grid (72; ``--quick``: 6), the basis that
``personas segment`` builds, then ``DensitySegmenter`` at several settings (principal
components 2, 3, 5; ``min_samples`` 5 or 10; ``min_cluster_share`` 1 % or 2 %): the
adjusted Rand index against the planted segments (the Unassigned users as one more
group) by overlap, and the share of settings whose number of dense segments is within
±1 of the planted count. The defaults are the best row (3 components, 5, 1 %).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

import personas
from personas.cluster import DensitySegmenter
from personas.datasets import make_planted

sys.path.insert(0, str(Path(__file__).parent))
from bench_methods import COLUMNS, OVERLAPS, grid

VARIANTS = {
    "2 components": {"n_components": 2},
    "3 components (default)": {"n_components": 3},
    "5 components": {"n_components": 5},
    "3 components, min_samples 10": {"n_components": 3, "min_samples": 10},
    "3 components, min_cluster_share 2 %": {"n_components": 3, "min_cluster_share": 0.02},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="6 settings of the grid")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)
    found: dict[str, list[tuple[float, bool, str]]] = {v: [] for v in VARIANTS}
    for s in grid(args.quick):
        n_numeric, n_categorical, n_noise = COLUMNS[s["columns"]]
        users, truth = make_planted(
            args.users, n_segments=s["n_segments"], sizes=s["sizes"],
            overlap=OVERLAPS[s["overlap"]], shape=s["shape"], n_numeric=n_numeric,
            n_categorical=n_categorical, n_noise=n_noise, random_state=s["setting"],
        )  # fmt: skip
        run = personas.segment(users, k=2, random_state=0)  # (its basis)
        typed, _ = run.model.pipeline.named_steps["types"].type_table(users)
        X = run.model.builder.transform(typed)
        y = truth.set_index("user_id").loc[run.labels["user_id"], "segment"].to_numpy()
        for name, params in VARIANTS.items():
            seg = DensitySegmenter(random_state=0, n_resamples=0, **params).fit(X)
            dense = seg.n_clusters_ - (seg.noise_segment_ is not None)
            near = abs(dense - s["n_segments"]) <= 1
            found[name].append((adjusted_rand_score(y, seg.labels_), near, s["overlap"]))
    print(f"{len(grid(args.quick))} settings, {args.users:,} users each")
    print(f"{'setting':<38}{'mean ARI':>9}{'low':>7}{'medium':>8}{'high':>7}{'k ±1':>7}")
    for name, rows in found.items():
        ari = np.array([r[0] for r in rows])
        near = np.array([r[1] for r in rows])
        level = np.array([r[2] for r in rows])
        by = [ari[level == o].mean() if (level == o).any() else np.nan for o in OVERLAPS]
        print(f"{name:<38}{ari.mean():>9.3f}" + "".join(f"{v:>7.3f}" for v in by[:1])
              + f"{by[1]:>8.3f}{by[2]:>7.3f}{near.mean():>7.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
