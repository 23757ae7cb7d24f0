"""`Segmenter`: K-Means with an automatic, explained choice of k, fast on many rows.

k is chosen on a row sample (scored for every candidate, see ``_select_k``); the final
model is then fitted on all rows, warm-started from the sample's centres, so that the
expensive part — many starts and bootstrap refits — never touches the full table.
Segments are numbered by size: segment 0 is the largest.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from personas.cluster._base import BaseSegmenter, emptied, per_segment, score_candidates, used
from personas.cluster._lloyd import assign, lloyd
from personas.cluster._select_k import (
    KScore,
    SampleSilhouette,
    choose_k,
    fit_kmeans,
    score_k,
)

__all__ = ["Segmenter"]


class Segmenter(BaseSegmenter):
    """K-Means segmentation with ``k="auto"`` (an explained choice) or a fixed k.

    Parameters
    ----------
    k : "auto" or int, default "auto"
        Number of segments; ``"auto"`` scores every k in ``[k_min, k_max]`` and applies the
        rule documented in :func:`personas.cluster.choose_k`.
    k_min, k_max : int, default 2 and 12
    n_init : int, default 4
        K-Means starts for each candidate k on the sample.
    sample_size : int, default 10_000
        Rows used to choose k and find the starting centres.
    silhouette_size : int, default 5_000
        Rows the silhouette (O(n²)) and the stability are measured on.
    n_bootstrap : int, default 5
        Bootstrap refits per k for the stability score.
    max_iter : int, default 30
        Lloyd iterations on all rows, from the sample's centres.
    random_state : int, RandomState or None

    Attributes
    ----------
    labels_ : ndarray of int, shape (n_samples,)
    cluster_centers_ : ndarray, shape (n_clusters_, n_features)
    n_clusters_ : int
    scores_ : list of dict
        For every k tried: silhouette, calinski_harabasz, davies_bouldin, inertia,
        stability (empty when k was given).
    k_reason_ : str
        Why this k.
    inertia_ : float
        Sum of squared distances of all rows to their centre.
    n_iter_ : int
        Lloyd iterations of the final fit.
    segment_stability_ : ndarray of float
        Per segment: mean Jaccard index with its best match in bootstrap refits.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from personas import Segmenter
    >>> X, _ = make_blobs(600, centers=4, random_state=0)
    >>> seg = Segmenter(random_state=0).fit(X)
    >>> seg.n_clusters_
    4
    """

    method = "kmeans"

    def __init__(
        self,
        k: Any = "auto",
        *,
        k_min: int = 2,
        k_max: int = 12,
        n_init: int = 4,
        sample_size: int = 10_000,
        silhouette_size: int = 5_000,
        n_bootstrap: int = 5,
        max_iter: int = 30,
        random_state: Any = None,
    ) -> None:
        self.k = k
        self.k_min = k_min
        self.k_max = k_max
        self.n_init = n_init
        self.sample_size = sample_size
        self.silhouette_size = silhouette_size
        self.n_bootstrap = n_bootstrap
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> Segmenter:
        X, seed, sample_rows = self._start(X)
        n = X.shape[0]
        S = X[sample_rows]
        timings: dict[str, float] = {}
        start = time.perf_counter()
        k, reason, sample_model, jaccard = self._choose(S, seed)
        timings["choose_k"] = time.perf_counter() - start
        start = time.perf_counter()
        # All rows, from the sample's centres (when the sample is all rows, this confirms
        # convergence); labels come from `assign`, the function `predict` uses too.
        centers, n_iter = lloyd(
            X, sample_model.cluster_centers_, max_iter=self.max_iter if n > len(S) else 300
        )
        labels, sq = assign(X, centers)
        kept = used(labels, k)  # (a centre nearest to no row: no empty segment)
        reason = emptied(reason, k, len(kept))
        if len(kept) < k:
            centers, jaccard = centers[kept], _take(jaccard, kept, k)
            k = len(kept)
            labels, sq = assign(X, centers)
        counts = np.bincount(labels, minlength=k)
        order = np.argsort(-counts, kind="stable")  # segment 0 is the largest
        if not np.array_equal(order, np.arange(k)):
            centers = centers[order]
            labels, sq = assign(X, centers)
        timings["fit_all_rows"] = time.perf_counter() - start
        self.order_ = order  # segment i is the sample model's cluster order_[i]
        self.labels_ = labels.astype(np.intp)
        self.cluster_centers_ = centers
        self.n_clusters_ = k
        self.inertia_ = float(sq.sum())
        self.n_iter_ = int(n_iter)
        self.k_reason_ = reason
        # Per-segment stability (bootstrap Jaccard), in segment order; sample labels follow
        # the sample model, whose numbering the warm-started full fit keeps.
        self.segment_stability_ = per_segment(jaccard, order, k)
        self.timings_ = timings
        return self

    def _choose(self, S: np.ndarray, seed: int) -> tuple[int, str, Any, Any]:
        """k (scored on the sample ``S`` when "auto"), why, the sample's model, Jaccards."""
        if self.k == "auto":
            eval_rows = self._eval_rows(len(S), seed)
            silhouette = SampleSilhouette(S[eval_rows])

            def score(k: int) -> tuple[KScore, Any]:
                return score_k(
                    S,
                    k,
                    seed=seed,
                    n_init=self.n_init,
                    n_bootstrap=self.n_bootstrap,
                    silhouette_rows=eval_rows,
                    silhouette=silhouette,
                )

            candidates = self._candidates(S)
            done = score_candidates(score, candidates)
            scores = [d[0] for d in done]
            models = {s.k: m for s, m in done}
            jaccard = None
            if not scores:  # fewer than 3 distinct rows: one or two segments, no choice
                k = max(1, min(2, len(np.unique(S, axis=0))))
                reason = f"k={k}: too few distinct rows to compare several k"
                sample_model = fit_kmeans(S, k, n_init=self.n_init, seed=seed)
            else:
                k, reason = choose_k(scores)
                sample_model = models[k]
                jaccard = next(s.jaccard for s in scores if s.k == k)
            reason = self._few(S, reason)
            self.scores_ = [s.to_dict() for s in scores]
        else:
            k = int(self.k)
            reason = f"k={k} was given"
            self.scores_ = []
            jaccard = None
            if self.n_bootstrap and 1 < k < len(S):
                eval_rows = self._eval_rows(len(S), seed)
                score, sample_model = score_k(
                    S,
                    k,
                    seed=seed,
                    n_init=self.n_init,
                    n_bootstrap=self.n_bootstrap,
                    silhouette_rows=eval_rows,
                )
                self.scores_ = [score.to_dict()]
                jaccard = score.jaccard
            else:
                sample_model = fit_kmeans(S, k, n_init=self.n_init, seed=seed)
        return k, reason, sample_model, jaccard


def _take(jaccard: Any, kept: np.ndarray, k: int) -> Any:
    """Per-segment values of the segments kept (None stays None)."""
    return None if jaccard is None or len(jaccard) != k else np.asarray(jaccard)[kept]
