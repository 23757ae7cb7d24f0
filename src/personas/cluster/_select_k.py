"""Scoring every candidate k, and the documented rule that picks one.

For each k the sample is clustered (K-Means, several starts) and scored by:

- silhouette, on a fixed-size sub-sample (higher is better);
- Calinski–Harabasz (higher is better) and Davies–Bouldin (lower is better);
- inertia, whose elbow is found by kneedle (``kneed``);
- stability: the mean adjusted Rand index between the sample's labels and those of
  K-Means refitted on bootstrap resamples, with as many starts as the sample's own fit
  (1 = the same segments every time).

**The rule** (deterministic): among the *stable* k (stability ≥ 0.75; all k if none is),
take those whose silhouette is within 10 % of the best silhouette and that do not go
beyond the elbow of the inertia curve (or beyond the best-silhouette k, if that is
larger), and choose the **largest** of them — the most detailed segmentation that is
nearly as well separated as the best, reproducible, and not past the point where more
segments stop paying off. An integer ``k`` skips the rule.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)

__all__ = ["KScore", "agreement", "choose_k", "choose_k_bic", "label_quality", "score_k"]

STABILITY_MIN = 0.75
SILHOUETTE_TOLERANCE = 0.10


@dataclass
class KScore:
    k: int
    silhouette: float
    calinski_harabasz: float
    davies_bouldin: float
    inertia: float
    stability: float
    seconds: float = 0.0
    jaccard: np.ndarray | None = None  # per segment (sample labels), mean over bootstraps
    bic: float | None = None  # Gaussian mixtures: the Bayesian information criterion

    def to_dict(self) -> dict[str, Any]:
        bic = {} if self.bic is None else {"bic": round(self.bic, 2)}
        return {
            "k": self.k,
            "silhouette": round(self.silhouette, 4),
            "calinski_harabasz": round(self.calinski_harabasz, 2),
            "davies_bouldin": round(self.davies_bouldin, 4),
            "inertia": round(self.inertia, 2),
            "stability": round(self.stability, 4),
            "seconds": round(self.seconds, 3),
        } | bic


class SampleSilhouette:
    """Silhouette of any labelling of a fixed set of rows, from distances computed once.

    The pairwise distances of the evaluation rows do not depend on k, so they are computed
    once; each labelling then costs one matrix product (the same values as
    ``sklearn.metrics.silhouette_score``).
    """

    def __init__(self, X: np.ndarray) -> None:
        from sklearn.metrics import pairwise_distances

        self.D = pairwise_distances(X).astype(np.float32, copy=False)

    def __call__(self, labels: np.ndarray) -> float:
        n = len(labels)
        k = int(labels.max()) + 1
        if len(np.unique(labels)) < 2:
            return -1.0
        onehot = np.zeros((n, k), dtype=np.float32)
        onehot[np.arange(n), labels] = 1.0
        sums = (self.D @ onehot).astype(np.float64)
        counts = onehot.sum(axis=0).astype(np.float64)
        rows = np.arange(n)
        own = counts[labels]
        a = sums[rows, labels] / np.maximum(own - 1, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_other = sums / counts
        mean_other[rows, labels] = np.inf
        mean_other[:, counts == 0] = np.inf
        b = mean_other.min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(np.maximum(a, b) > 0, (b - a) / np.maximum(a, b), 0.0)
        s[own == 1] = 0.0
        return float(s.mean())


def kmeans_plusplus(
    X: np.ndarray, k: int, rng: np.random.Generator, sq_norms: np.ndarray | None = None
) -> np.ndarray:
    """Greedy k-means++ seeding (as scikit-learn's), in the data's own precision.

    scikit-learn's seeding up-casts float32 distances to float64 in small chunks, which
    made it most of the cost of choosing k; the distances here come from one matrix
    product per centre (``2 + ln k`` candidates tried, the best kept).
    """
    n = len(X)
    sq = np.einsum("ij,ij->i", X, X) if sq_norms is None else sq_norms
    trials = 2 + int(np.log(k))
    centers = np.empty((k, X.shape[1]), dtype=X.dtype)
    first = int(rng.integers(n))
    centers[0] = X[first]
    closest = np.maximum(sq - 2 * (X @ X[first]) + sq[first], 0)
    potential = float(closest.sum(dtype=np.float64))
    for c in range(1, k):
        if potential <= 0:  # fewer distinct rows than centres: repeat one
            centers[c:] = centers[0]
            break
        cumulative = np.cumsum(closest, dtype=np.float64)
        picks = np.searchsorted(cumulative, rng.random(trials) * cumulative[-1])
        picks = np.minimum(picks, n - 1)
        dist = sq[:, None] - 2 * (X @ X[picks].T) + sq[picks][None, :]
        np.maximum(dist, 0, out=dist)
        np.minimum(dist, closest[:, None], out=dist)
        potentials = dist.sum(axis=0, dtype=np.float64)
        best = int(np.argmin(potentials))
        centers[c] = X[picks[best]]
        closest = np.ascontiguousarray(dist[:, best])
        potential = float(potentials[best])
    return centers


def fit_kmeans(
    X: np.ndarray, k: int, *, n_init: int, seed: int, init: Any = "k-means++", max_iter: int = 300
) -> KMeans:
    """Lloyd's K-Means (scikit-learn), the best of ``n_init`` k-means++ starts by inertia."""
    if not isinstance(init, str):
        starts = [np.asarray(init, dtype=X.dtype)]
    else:
        rng = np.random.default_rng(seed)
        sq = np.einsum("ij,ij->i", X, X)
        starts = [kmeans_plusplus(X, k, rng, sq) for _ in range(n_init)]
    best = None
    for centers in starts:
        with warnings.catch_warnings():  # (fewer distinct rows than k: said in the reason)
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = KMeans(
                n_clusters=k, n_init=1, init=centers, max_iter=max_iter, algorithm="lloyd"
            ).fit(X)
        if best is None or model.inertia_ < best.inertia_:
            best = model
    return best


def score_k(
    X: np.ndarray,
    k: int,
    *,
    seed: int,
    n_init: int,
    n_bootstrap: int,
    silhouette_rows: np.ndarray,
    silhouette: SampleSilhouette | None = None,
) -> tuple[KScore, KMeans]:
    """Cluster ``X`` into ``k`` segments with K-Means and score the result."""
    import time

    start = time.perf_counter()
    model = fit_kmeans(X, k, n_init=n_init, seed=seed)
    labels = model.labels_
    sil, ch, db = label_quality(X, labels, silhouette_rows, silhouette)
    rng = np.random.default_rng(seed + 7919 * k)
    preds = []
    for b in range(n_bootstrap):
        boot = rng.integers(0, len(X), len(X))
        refit = fit_kmeans(X[boot], k, n_init=n_init, seed=seed + 1000 * (b + 1) + k)
        preds.append(refit.predict(X[silhouette_rows]))
    stability, jaccard = agreement(labels[silhouette_rows], preds, k)
    score = KScore(
        k, sil, ch, db, float(model.inertia_), stability, time.perf_counter() - start, jaccard
    )
    return score, model


def label_quality(
    X: np.ndarray,
    labels: np.ndarray,
    silhouette_rows: np.ndarray,
    silhouette: SampleSilhouette | None = None,
) -> tuple[float, float, float]:
    """Silhouette (on ``silhouette_rows``), Calinski–Harabasz and Davies–Bouldin of a
    labelling of ``X``; -1, 0 and inf when it has a single segment."""
    if len(np.unique(labels)) < 2:
        return -1.0, 0.0, float("inf")
    sub = labels[silhouette_rows]
    if len(np.unique(sub)) < 2:
        sil = -1.0
    elif silhouette is not None:
        sil = silhouette(sub)
    else:
        sil = float(silhouette_score(X[silhouette_rows], sub))
    return sil, float(calinski_harabasz_score(X, labels)), float(davies_bouldin_score(X, labels))


def agreement(ref: np.ndarray, preds: list[np.ndarray], k: int) -> tuple[float, np.ndarray | None]:
    """Stability of a labelling ``ref`` against refits' labels of the same rows: the mean
    adjusted Rand index, and per reference segment the mean best Jaccard index."""
    if not preds:
        return float("nan"), None
    aris = [adjusted_rand_score(ref, pred) for pred in preds]
    jaccards = [best_jaccard(ref, pred, k) for pred in preds]
    return float(np.mean(aris)), np.mean(jaccards, axis=0)


def best_jaccard(ref: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """For each reference segment, its Jaccard index with the best-matching other segment."""
    table = np.zeros((k, int(other.max()) + 1))
    np.add.at(table, (ref, other), 1)
    size_ref = table.sum(axis=1, keepdims=True)
    size_other = table.sum(axis=0, keepdims=True)
    union = size_ref + size_other - table
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = np.where(union > 0, table / union, 0.0)
    return jac.max(axis=1)


def elbow(scores: list[KScore]) -> int | None:
    """The elbow of the inertia curve (kneedle), or None when there is no clear knee."""
    if len(scores) < 3:
        return None
    KneeLocator = _knee_locator()

    ks = [s.k for s in scores]
    inertia = [s.inertia for s in scores]
    knee = KneeLocator(ks, inertia, curve="convex", direction="decreasing").knee
    return int(knee) if knee is not None else None


def _knee_locator():
    """``kneed.KneeLocator``, imported without ``matplotlib.pyplot``.

    kneed imports pyplot only for its optional plots; that import costs about half a
    second and is not needed here (the report draws its own figures). When pyplot is
    already loaded, it is used as it is.
    """
    import sys

    if "kneed" in sys.modules or "matplotlib.pyplot" in sys.modules:
        from kneed import KneeLocator

        return KneeLocator
    sys.modules["matplotlib.pyplot"] = None  # type: ignore[assignment]  # ImportError
    try:
        from kneed import KneeLocator
    finally:
        del sys.modules["matplotlib.pyplot"]
    return KneeLocator


def choose_k(scores: list[KScore]) -> tuple[int, str]:
    """Apply the rule; return the chosen k and a sentence explaining why."""
    stable = [s for s in scores if s.stability >= STABILITY_MIN]
    pool = stable or scores
    best = max(pool, key=lambda s: s.silhouette)
    floor = best.silhouette - SILHOUETTE_TOLERANCE * abs(best.silhouette)
    knee = elbow(scores)
    cap = max(knee, best.k) if knee is not None else None
    near = [s for s in pool if s.silhouette >= floor and (cap is None or s.k <= cap)]
    chosen = max(near, key=lambda s: s.k)
    by_ch = max(scores, key=lambda s: s.calinski_harabasz).k
    by_db = min(scores, key=lambda s: s.davies_bouldin).k
    parts = [
        f"k={chosen.k}: the largest k whose silhouette ({chosen.silhouette:.3f}) is within "
        f"{SILHOUETTE_TOLERANCE:.0%} of the best ({best.silhouette:.3f} at k={best.k})"
    ]
    if stable:
        parts.append(
            f"among the k with stability ≥ {STABILITY_MIN} (k={chosen.k}: {chosen.stability:.2f})"
        )
    else:
        parts.append(
            f"(no k reached stability {STABILITY_MIN}: the segments are not sharply defined; "
            f"k={chosen.k} has {chosen.stability:.2f})"
        )
    if cap is not None:
        parts.append(
            f"and not beyond the elbow of the inertia curve (k={knee})"
            if knee >= best.k
            else f"and not beyond k={best.k} (the inertia curve's elbow is at k={knee})"
        )
    others = [f"Calinski–Harabasz prefers k={by_ch}", f"Davies–Bouldin prefers k={by_db}"]
    return chosen.k, " ".join(parts) + ". For comparison: " + "; ".join(others) + "."


def choose_k_bic(scores: list[KScore]) -> tuple[int, str]:
    """The rule for Gaussian mixtures: among the *stable* k (stability ≥ 0.75; all k if
    none is), the lowest BIC. When that is the largest k tried, the sentence says that a
    larger range may find more segments. Return the k and a sentence explaining why.

    (An earlier rule took the elbow of the BIC curve when the BIC still fell at the
    largest k; on planted data it cut 12 stable, well-separated segments to 5 —
    ``benchmarks/bench_methods.py`` — and it never applied on the real tables.)"""
    stable = [s for s in scores if s.stability >= STABILITY_MIN]
    pool = stable or scores
    chosen = min(pool, key=lambda s: s.bic)
    why = f"the lowest BIC ({chosen.bic:,.0f})"
    by_sil = max(scores, key=lambda s: s.silhouette).k
    if stable:
        text = f"k={chosen.k}: among the k with stability ≥ {STABILITY_MIN} "
        text += f"(k={chosen.k}: {chosen.stability:.2f}), {why}."
    else:
        text = (
            f"k={chosen.k}: {why} (no k reached stability {STABILITY_MIN}: the segments are "
            f"not sharply defined; k={chosen.k} has {chosen.stability:.2f})."
        )
    if chosen.k == max(s.k for s in scores) and len(scores) > 1:
        text += (
            " The BIC still falls at the largest k tried: a larger --k-max may find more segments."
        )
    return chosen.k, text + f" For comparison: the silhouette prefers k={by_sil}."
