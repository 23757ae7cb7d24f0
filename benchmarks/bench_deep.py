"""Deep segmentation at scale: ``DeepSegmenter`` against K-Means on the same basis, same run.

Usage::

    python benchmarks/bench_deep.py [--users 1000000]

Builds the basis matrix of ``make_users(N)`` (its planted segments kept apart), then fits
``personas.Segmenter()`` (K-Means, automatic k) and ``personas.cluster.DeepSegmenter()``
(an autoencoder trained on a 20,000-user sample, K-Means with automatic k in its
embedding, IDEC refinement, then every user embedded and assigned), one after the other,
both at their defaults with ``random_state=0``. Prints each one's seconds (the deep one's
by step), the k it chose and the adjusted Rand index against the planted segments.
Needs the ``deep`` extra (PyTorch).
"""

from __future__ import annotations

import argparse
import time

from sklearn.metrics import adjusted_rand_score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    args = parser.parse_args()

    import personas
    from personas.cluster import DeepSegmenter, Segmenter
    from personas.preprocess import BasisBuilder

    start = time.perf_counter()
    users, truth = personas.datasets.make_users(args.users, random_state=0)
    report = personas.validate(users)
    table = report.data.drop(columns=report.schema.columns_with("pii", "text", "ignore"))
    X = BasisBuilder(report.schema, random_state=0).fit_transform(table)
    print(f"basis matrix: {X.shape[0]:,} × {X.shape[1]} float32 "
          f"(built in {time.perf_counter() - start:.0f} s)")  # fmt: skip
    planted = truth["segment"].to_numpy()

    rows = []
    for name, estimator in [
        ("K-Means (personas.Segmenter)", Segmenter(random_state=0)),
        ("deep (personas.cluster.DeepSegmenter)", DeepSegmenter(random_state=0)),
    ]:
        start = time.perf_counter()
        estimator.fit(X)
        seconds = time.perf_counter() - start
        ari = adjusted_rand_score(planted, estimator.labels_)
        rows.append((name, seconds, estimator.n_clusters_, ari, estimator.timings_))
    print(f"{'method':<40}{'seconds':>10}{'k':>5}{'ARI vs planted':>16}")
    for name, seconds, k, ari, _ in rows:
        print(f"{name:<40}{seconds:>10.1f}{k:>5}{ari:>16.3f}")
    steps = ", ".join(f"{step} {s:.1f} s" for step, s in rows[1][4].items())
    print(f"deep, by step: {steps}")


if __name__ == "__main__":
    main()
