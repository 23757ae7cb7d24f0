"""Which K-Means engine: time and inertia of each on the same basis matrix, same run.

Usage::

    python benchmarks/bench_kmeans.py [--users 1000000] [--k 8]

Builds the personas basis matrix of ``make_users(N)`` (float32), saves it, then runs each
engine in its own subprocess (scikit-learn and faiss ship different OpenMP runtimes, so
they never share a process) and computes every engine's inertia the same way, in float64,
from the centres it returns. Engines that are not installed are reported as skipped:

- scikit-learn KMeans (Lloyd), float64 and float32, one k-means++ start;
- a 10,000-row sample (4 starts), then at most 30 Lloyd iterations of scikit-learn on all
  rows from the sample's centres (float32);
- ``personas.Segmenter(k)``: the same recipe with its own k-means++ seeding and a Lloyd
  pass over row blocks on all cores (no copy of the matrix);
- scikit-learn MiniBatchKMeans (3 starts, batches of 4,096);
- scikit-learn-intelex (oneDAL) KMeans, float32;
- faiss ``Kmeans`` on all rows (20 iterations), float32.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

ENGINES = {
    "sklearn float64": """
        from sklearn.cluster import KMeans
        X = X.astype(np.float64)
        t = time.perf_counter()
        C = KMeans(K, n_init=1, random_state=0).fit(X).cluster_centers_
    """,
    "sklearn float32": """
        from sklearn.cluster import KMeans
        t = time.perf_counter()
        C = KMeans(K, n_init=1, random_state=0).fit(X).cluster_centers_
    """,
    "sample + sklearn warm start": """
        from sklearn.cluster import KMeans
        t = time.perf_counter()
        rows = np.random.default_rng(0).choice(len(X), min(len(X), 10000), replace=False)
        C0 = KMeans(K, n_init=4, random_state=0).fit(X[rows]).cluster_centers_
        C = KMeans(K, n_init=1, init=C0, max_iter=30, random_state=0).fit(X).cluster_centers_
    """,
    "personas Segmenter": """
        from personas import Segmenter
        t = time.perf_counter()
        C = Segmenter(K, n_bootstrap=0, random_state=0).fit(X).cluster_centers_
    """,
    "sklearn MiniBatchKMeans": """
        from sklearn.cluster import MiniBatchKMeans
        t = time.perf_counter()
        C = MiniBatchKMeans(K, n_init=3, batch_size=4096, random_state=0).fit(X).cluster_centers_
    """,
    "scikit-learn-intelex": """
        from sklearnex.cluster import KMeans
        t = time.perf_counter()
        C = KMeans(K, n_init=1, random_state=0).fit(X).cluster_centers_
    """,
    "faiss": """
        import faiss
        t = time.perf_counter()
        km = faiss.Kmeans(X.shape[1], K, niter=20, seed=0, max_points_per_centroid=10**9)
        km.train(np.ascontiguousarray(X))
        C = km.centroids
    """,
}


def run_engine(code: str, x_path: Path, c_path: Path, k: int) -> dict[str, float] | str:
    script = (
        "import json, time, numpy as np\n"
        f"X = np.load({str(x_path)!r})\nK = {k}\n"
        + textwrap.dedent(code)
        + "\nwall = time.perf_counter() - t\n"
        f"np.save({str(c_path)!r}, np.asarray(C, dtype=np.float64))\n"
        "print(json.dumps({'seconds': wall}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return f"skipped ({last[:80]})"
    return json.loads(done.stdout.strip().splitlines()[-1])


def inertia(X: np.ndarray, C: np.ndarray, chunk: int = 200_000) -> float:
    total = 0.0
    c2 = (C**2).sum(axis=1)
    for start in range(0, len(X), chunk):
        x = X[start : start + chunk].astype(np.float64)
        d = (x**2).sum(axis=1)[:, None] - 2 * x @ C.T + c2[None, :]
        total += float(np.maximum(d.min(axis=1), 0).sum())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=8)
    args = parser.parse_args()

    import personas
    from personas.preprocess import BasisBuilder

    users, _ = personas.datasets.make_users(args.users, random_state=0)
    report = personas.validate(users)
    X = BasisBuilder(report.schema).fit_transform(report.data)
    del users, report
    print(f"basis matrix: {X.shape[0]:,} × {X.shape[1]} float32, k={args.k}")
    with tempfile.TemporaryDirectory() as tmp:
        x_path = Path(tmp) / "X.npy"
        np.save(x_path, X)
        results = {}
        for name, code in ENGINES.items():
            c_path = Path(tmp) / "C.npy"
            r = run_engine(code, x_path, c_path, args.k)
            if isinstance(r, dict):
                r["inertia"] = inertia(X, np.load(c_path))
            results[name] = r
    base = results["sklearn float64"]
    print(f"  {'engine':<32}{'seconds':>9}{'× time':>8}{'inertia':>14}{'vs float64':>11}")
    for name, r in results.items():
        if isinstance(r, str):
            print(f"  {name:<32}{r}")
            continue
        print(
            f"  {name:<32}{r['seconds']:>9.2f}{r['seconds'] / base['seconds']:>8.2f}"
            f"{r['inertia']:>14.0f}{100 * (r['inertia'] / base['inertia'] - 1):>+10.2f}%"
        )


if __name__ == "__main__":
    main()
