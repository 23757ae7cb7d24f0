"""`WardSegmenter`: Ward's hierarchical clustering, k chosen by the K-Means rule.

Ward merges, step by step, the two groups whose merge adds least to the within-segment
sum of squares; cutting its tree gives a segmentation for every k at once. Its cost is
quadratic in rows, so the tree is grown on a row sample (``sample_size``, default 5,000);
each k's segments are then represented by their centres (the cut clusters' mean rows),
and every user — the sample's, all the others and new ones alike — belongs to the
segment of the nearest centre. That one rule gives the training labels and ``predict``,
so a model scores its training rows with their training segments. Unlike K-Means, the
centres are not moved afterwards: the segments are the cells of Ward's centres (a few
per cent of the sample's users fall in another segment than the tree's cut).

k is chosen by the rule of :func:`personas.cluster.choose_k` over the same criteria as
K-Means (silhouette, stability, the elbow of the within-segment sum of squares); the
stability refits are Ward trees grown on bootstrap resamples of the sample.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from personas.cluster._base import (
    BaseSegmenter,
    emptied,
    per_segment,
    score_candidates,
    size_order,
    used,
)
from personas.cluster._lloyd import assign
from personas.cluster._select_k import (
    KScore,
    SampleSilhouette,
    agreement,
    choose_k,
    label_quality,
)

__all__ = ["WardSegmenter"]


class WardSegmenter(BaseSegmenter):
    """Ward segmentation of a row sample, extended to every row by nearest centre.

    Parameters
    ----------
    k : "auto" or int, default "auto"
    k_min, k_max : int, default 2 and 12
    sample_size : int, default 5_000
        Rows the tree is grown on (memory and time grow with its square).
    silhouette_size : int, default 5_000
    n_bootstrap : int, default 5
        Trees grown on bootstrap resamples, for the stability score.
    random_state : int, RandomState or None

    Attributes
    ----------
    labels_, cluster_centers_, n_clusters_, scores_, k_reason_, segment_stability_,
    timings_
        As :class:`~personas.Segmenter`.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from personas.cluster import WardSegmenter
    >>> X, _ = make_blobs(600, centers=4, random_state=0)
    >>> WardSegmenter(random_state=0).fit(X).n_clusters_
    4
    """

    method = "ward"

    def __init__(
        self,
        k: Any = "auto",
        *,
        k_min: int = 2,
        k_max: int = 12,
        sample_size: int = 5_000,
        silhouette_size: int = 5_000,
        n_bootstrap: int = 5,
        random_state: Any = None,
    ) -> None:
        self.k = k
        self.k_min = k_min
        self.k_max = k_max
        self.sample_size = sample_size
        self.silhouette_size = silhouette_size
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> WardSegmenter:
        X, seed, sample_rows = self._start(X)
        S = X[sample_rows]
        start = time.perf_counter()
        k, reason, centres, jaccard = self._choose(S, seed)
        asked = k  # (a tree of few distinct rows may not cut in k)
        timings = {"choose_k": time.perf_counter() - start}
        start = time.perf_counter()
        labels, _ = assign(X, centres)
        kept = used(labels, len(centres))  # (a centre nearest to no row: no empty segment)
        reason = emptied(reason, asked, len(kept))
        if jaccard is not None and len(jaccard) == len(centres):
            jaccard = np.asarray(jaccard)[kept]
        if len(kept) < len(centres):
            centres = centres[kept]
            labels, _ = assign(X, centres)
        k = len(centres)
        order = size_order(labels, k)  # segment 0 is the largest
        centres = np.ascontiguousarray(centres[order])
        labels = np.argsort(order)[labels]
        timings["fit_all_rows"] = time.perf_counter() - start
        self.labels_ = labels.astype(np.intp)
        self.cluster_centers_ = centres
        self.n_clusters_ = k
        self.k_reason_ = reason
        self.segment_stability_ = per_segment(jaccard, order, k)
        self.timings_ = timings
        return self

    def _choose(self, S: np.ndarray, seed: int) -> tuple[int, str, np.ndarray, Any]:
        """k, why, its centres (from the sample's tree) and its segments' Jaccards."""
        tree = linkage(S.astype(np.float64), "ward")
        eval_rows = self._eval_rows(len(S), seed)
        rng = np.random.default_rng(seed + 7919)
        resamples = [rng.integers(0, len(S), len(S)) for _ in range(self.n_bootstrap)]
        boots = score_candidates(
            lambda rows: (rows, linkage(S[rows].astype(np.float64), "ward")), resamples
        )
        given = self.k != "auto"
        candidates = [int(self.k)] if given else self._candidates(S)
        silhouette = None if given else SampleSilhouette(S[eval_rows])
        scores, found = [], {}
        for k in candidates:
            if k < 2 or k >= len(S):
                break
            start = time.perf_counter()
            centres = _centres(S, tree, k)
            labels, sq = assign(S, centres)
            sil, ch, db = label_quality(S, labels, eval_rows, silhouette)
            preds = [assign(S[eval_rows], _centres(S[rows], t, k))[0] for rows, t in boots]
            stability, jaccard = agreement(labels[eval_rows], preds, k)
            scores.append(
                KScore(k, sil, ch, db, float(sq.sum()), stability, time.perf_counter() - start)
            )
            scores[-1].jaccard = jaccard
            found[k] = centres
        self.scores_ = [s.to_dict() for s in scores]
        if given:
            k = int(self.k)
            centres = found.get(k)
            if centres is None:
                centres = _centres(S, tree, k) if k > 1 else S.mean(axis=0, keepdims=True)
            return k, f"k={k} was given", centres, scores[0].jaccard if scores else None
        if not scores:  # fewer than 3 distinct rows: one or two segments, no choice
            k = max(1, min(2, len(np.unique(S, axis=0))))
            centres = _centres(S, tree, k) if k > 1 else S.mean(axis=0, keepdims=True)
            return (
                k,
                self._few(S, f"k={k}: too few distinct rows to compare several k"),
                centres,
                None,
            )
        k, reason = choose_k(scores)
        jaccard = next(s.jaccard for s in scores if s.k == k)
        return k, self._few(S, reason), found[k], jaccard


def _centres(S: np.ndarray, tree: np.ndarray, k: int) -> np.ndarray:
    """The mean rows of the ``k`` clusters of Ward's ``tree`` of ``S`` (fewer where the
    tree cannot be cut in ``k``)."""
    cut = fcluster(tree, k, criterion="maxclust") - 1
    n = int(cut.max()) + 1
    sums = np.zeros((n, S.shape[1]), dtype=np.float64)
    np.add.at(sums, cut, S)
    return (sums / np.bincount(cut, minlength=n)[:, None]).astype(S.dtype)
