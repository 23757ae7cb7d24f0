"""`DensitySegmenter`: HDBSCAN — segments where users are dense, the rest "unassigned".

HDBSCAN (scikit-learn's) finds groups of users that are denser than their surroundings
and leaves the users between them out: the number of segments is its own (no k), and the
users left out form one explicit last segment, **Unassigned**. It suits data with
well-separated dense groups; on overlapping customer data it leaves many users out (see
the methods table of the user guide for what was measured).

How it is fitted:

1. the basis of a row sample (``sample_size``) is projected on its first
   ``n_components`` principal components (density is hard to estimate in many
   dimensions: on the benchmark grid of generated tables, 3 components found the planted
   segments best among 2 to 8);
2. HDBSCAN runs on that sample with ``min_cluster_size`` = ``min_cluster_share`` of it
   (at least 10 users) and ``min_samples``;
3. the sample's users are the **exemplars**: each keeps its segment (or none) and its core
   distance (the distance to its ``min_samples``-th nearest exemplar, itself counted).
   A segment's reach is the largest core distance of its exemplars.

Every user — the sample's, the others and new ones alike — is then placed by one
documented rule (scikit-learn's HDBSCAN cannot score new points): among the user's
nearest exemplars, the one at the smallest *mutual reachability distance*
(max(core(user), core(exemplar), distance), HDBSCAN's own distance; ties to the nearest)
gives its segment — unless that exemplar is unassigned, or the mutual reachability
distance is beyond its segment's reach: then the user is unassigned. An exemplar finds
itself (distance 0), so the sample keeps HDBSCAN's labels exactly, and a model scores its
training users with their training segments. When no training user is unassigned, the
model has no Unassigned segment and places every new user in a dense one (the reaches are
then unbounded). ``confidence`` is the share of the user's
``min_samples`` nearest exemplars in the same segment (unassigned ones for an unassigned
user).

Stability: HDBSCAN refitted on ``n_resamples`` subsamples of 80 % of the sample, each
placing the evaluation rows by the same rule; the mean adjusted Rand index against the
fit (the unassigned users as one more group) and each segment's best Jaccard index.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.cluster import HDBSCAN
from sklearn.neighbors import NearestNeighbors

from personas.cluster._base import BaseSegmenter, join, per_segment, score_candidates
from personas.cluster._select_k import KScore, SampleSilhouette, agreement, label_quality

__all__ = ["UNASSIGNED", "DensitySegmenter"]

#: The name of the segment of users in no dense segment.
UNASSIGNED = "Unassigned"
MIN_CLUSTER = 10  # the smallest min_cluster_size (users) whatever the sample
NEIGHBOURS = 32  # exemplars looked at per user (at least min_samples)
BLOCK = 50_000  # users placed per block (memory: BLOCK × NEIGHBOURS distances)


class DensitySegmenter(BaseSegmenter):
    """HDBSCAN segmentation: dense segments and an explicit "Unassigned" one.

    Parameters
    ----------
    k : "auto", default "auto"
        HDBSCAN chooses the number of segments from the data's density; a number is refused.
    k_min, k_max : int, default 2 and 12
        Accepted as every method's; when HDBSCAN finds more than ``k_max`` dense segments,
        the reason says so (they are kept).
    min_cluster_share : float, default 0.01
        The smallest segment, as a share of the sample (at least 10 users).
    min_samples : int, default 5
        Neighbours that make a user's core distance: larger, more users unassigned.
    n_components : int, default 3
        Principal components of the basis that density is measured in.
    sample_size : int, default 10_000
    silhouette_size : int, default 5_000
    n_resamples : int, default 3
        Refits on 80 % subsamples, for the stability score.
    random_state : int, RandomState or None

    Attributes
    ----------
    labels_, cluster_centers_, n_clusters_, scores_, k_reason_, segment_stability_,
    timings_
        As :class:`~personas.Segmenter` (the centres are each segment's mean row, the
        unassigned users' included: ``transform`` measures distances to them).
    noise_segment_ : int or None
        The segment of unassigned users (the last one), or None when every user is in a
        dense segment.
    components_, mean_ : ndarray
        The projection the density is measured in.
    exemplars_, exemplar_labels_, core_distances_, reach_ : ndarray
        The sample in that projection, its segments, core distances, and each segment's
        reach (see the module's description), in HDBSCAN's numbering of the segments
        (the unassigned as the last number).
    segment_rank_ : ndarray
        HDBSCAN's numbering to the segments' (by size, "Unassigned" last).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from personas.cluster import DensitySegmenter
    >>> X, _ = make_blobs(900, centers=3, cluster_std=0.5, random_state=0)
    >>> DensitySegmenter(random_state=0).fit(X).n_clusters_ - 1  # (+ "Unassigned")
    3
    """

    method = "hdbscan"

    def __init__(
        self,
        k: Any = "auto",
        *,
        k_min: int = 2,
        k_max: int = 12,
        min_cluster_share: float = 0.01,
        min_samples: int = 5,
        n_components: int = 3,
        sample_size: int = 10_000,
        silhouette_size: int = 5_000,
        n_resamples: int = 3,
        random_state: Any = None,
    ) -> None:
        self.k = k
        self.k_min = k_min
        self.k_max = k_max
        self.min_cluster_share = min_cluster_share
        self.min_samples = min_samples
        self.n_components = n_components
        self.sample_size = sample_size
        self.silhouette_size = silhouette_size
        self.n_resamples = n_resamples
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> DensitySegmenter:
        if self.k != "auto":
            raise ValueError(
                f"k={self.k!r}: HDBSCAN finds the number of segments from the data's density; "
                "leave k at 'auto' (or choose another method to give k)."
            )
        ms = self.min_samples
        if isinstance(ms, bool) or not (isinstance(ms, int | np.integer) and ms >= 1):
            raise ValueError(f"min_samples must be an integer ≥ 1, got {self.min_samples!r}.")
        if not 0 < self.min_cluster_share < 1:
            raise ValueError(
                f"min_cluster_share must be between 0 and 1, got {self.min_cluster_share!r}."
            )
        X, seed, sample_rows = self._start(X)
        S = X[sample_rows].astype(np.float64)
        start = time.perf_counter()
        self._project(S)
        Z = self._z(S)
        size = max(MIN_CLUSTER, int(round(self.min_cluster_share * len(S))))
        size = min(size, max(2, len(S) // 2))
        found = _hdbscan(Z, size, self._ms(len(S)))
        self._remember(Z, found)
        timings = {"hdbscan": time.perf_counter() - start}

        start = time.perf_counter()
        raw = self._place(self._z(X))[0]
        n_dense = int(found.max()) + 1
        counts = np.bincount(raw, minlength=n_dense + 1)
        order = np.argsort(-counts[:n_dense], kind="stable")  # dense segments by size
        if counts[n_dense] > 0:
            order = np.append(order, n_dense)  # the unassigned users last
        rank = np.full(n_dense + 1, -1)
        rank[order] = np.arange(len(order))
        self.segment_rank_ = rank
        labels = rank[raw]
        k = len(order)
        self.noise_segment_ = k - 1 if counts[n_dense] > 0 else None
        if self.noise_segment_ is None:  # (no Unassigned segment: nor for new users)
            self.reach_ = np.full(n_dense, np.inf)
        self.cluster_centers_ = _means(X, labels, k).astype(X.dtype)
        self.labels_ = labels.astype(np.intp)
        self.n_clusters_ = k
        timings["place_all_rows"] = time.perf_counter() - start

        start = time.perf_counter()
        sample_labels = labels[sample_rows]
        eval_rows = self._eval_rows(len(S), seed)
        silhouette = SampleSilhouette(S[eval_rows]) if k > 1 else None
        sil, ch, db = label_quality(S, sample_labels, eval_rows, silhouette)
        stability, jaccard = self._stability(S, Z, sample_labels, eval_rows, size, seed, k)
        inertia = float(((S - self.cluster_centers_[sample_labels]) ** 2).sum())
        score = KScore(k, sil, ch, db, inertia, stability, time.perf_counter() - start)
        self.scores_ = [score.to_dict()]
        self.segment_stability_ = per_segment(jaccard, np.arange(k), k)
        self.k_reason_ = self._reason(n_dense, int(counts[n_dense]), len(X), size, S)
        timings["stability"] = time.perf_counter() - start
        self.timings_ = timings
        return self

    # ------------------------------------------------------------------ the rule
    def predict(self, X: Any) -> np.ndarray:
        """The segment of each row, by the nearest-exemplar rule (the module's text)."""
        return self._ranked(self._place(self._z(self._checked(X)))[0])

    def confidence(self, X: Any) -> np.ndarray:
        """The share of each row's ``min_samples`` nearest exemplars in its segment."""
        return self.predict_confidence(X)[1]

    def predict_confidence(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` and :meth:`confidence` from one search of the exemplars."""
        raw, votes = self._place(self._z(self._checked(X)))
        return self._ranked(raw), votes

    def _ranked(self, raw: np.ndarray) -> np.ndarray:
        return self.segment_rank_[raw].astype(np.intp)

    def _place(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The raw segment (HDBSCAN's, the unassigned as the last number) of each row of
        ``Z`` and the share of its nearest exemplars that agree."""
        ms = self._ms(len(self.exemplars_))
        n_noise = len(self.reach_)
        tree = self._tree()
        k = min(len(self.exemplars_), max(NEIGHBOURS, ms))
        labels = np.empty(len(Z), dtype=np.intp)
        votes = np.empty(len(Z))
        for lo in range(0, len(Z), BLOCK):
            dist, idx = tree.kneighbors(Z[lo : lo + BLOCK], n_neighbors=k)
            core = dist[:, ms - 1 : ms]
            mutual = np.maximum(np.maximum(dist, core), self.core_distances_[idx])
            best = np.argmin(mutual, axis=1)  # (the first minimum: the nearest of ties)
            rows = np.arange(len(idx))
            j = idx[rows, best]
            lab = self.exemplar_labels_[j]
            dense = lab < n_noise
            reach = np.where(dense, self.reach_[np.minimum(lab, n_noise - 1)], -np.inf)
            lab = np.where(dense & (mutual[rows, best] <= reach), lab, n_noise)
            labels[lo : lo + BLOCK] = lab
            near = self.exemplar_labels_[idx[:, :ms]]
            near = np.where(near < n_noise, near, n_noise)
            votes[lo : lo + BLOCK] = (near == lab[:, None]).mean(axis=1)
        return labels, votes

    def _tree(self) -> NearestNeighbors:
        tree = getattr(self, "_nn", None)
        if tree is None:  # (built on first use: a loaded model has only the arrays)
            tree = NearestNeighbors().fit(self.exemplars_)
            self._nn = tree
        return tree

    # ------------------------------------------------------------------ fitting
    def _ms(self, n: int) -> int:
        return max(1, min(int(self.min_samples), n - 1))

    def _project(self, S: np.ndarray) -> None:
        self.mean_ = S.mean(axis=0)
        n = max(1, min(int(self.n_components), S.shape[1], len(S) - 1))
        _, _, vt = np.linalg.svd(S - self.mean_, full_matrices=False)
        self.components_ = vt[:n]

    def _z(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) - self.mean_) @ self.components_.T

    def _remember(self, Z: np.ndarray, found: np.ndarray) -> None:
        """The exemplars of a fit on ``Z`` (labels -1: unassigned)."""
        n_dense = int(found.max()) + 1
        ms = self._ms(len(Z))
        dist, _ = NearestNeighbors(n_neighbors=ms).fit(Z).kneighbors(Z)
        core = dist[:, ms - 1]
        labels = np.where(found < 0, n_dense, found)
        reach = np.zeros(n_dense)
        np.maximum.at(reach, labels[labels < n_dense], core[labels < n_dense])
        self.exemplars_ = np.ascontiguousarray(Z)
        self.exemplar_labels_ = labels.astype(np.intp)
        self.core_distances_ = core
        self.reach_ = reach
        self.segment_rank_ = np.arange(n_dense + 1)  # (HDBSCAN's numbering → segments')
        self._nn = None

    def _stability(self, S, Z, labels, eval_rows, size, seed, k):
        if self.n_resamples < 1 or len(S) < 20:
            return float("nan"), None
        rng = np.random.default_rng(seed + 7919)
        subsets = [
            np.sort(rng.choice(len(S), int(0.8 * len(S)), replace=False))
            for _ in range(self.n_resamples)
        ]

        def refit(rows: np.ndarray) -> np.ndarray:
            other = DensitySegmenter(min_samples=self.min_samples)
            other.mean_, other.components_ = self.mean_, self.components_
            other._remember(Z[rows], _hdbscan(Z[rows], size, self._ms(len(rows))))
            return other._place(Z[eval_rows])[0]

        preds = score_candidates(refit, subsets)
        return agreement(labels[eval_rows], preds, k)

    def _reason(self, n_dense: int, unassigned: int, n_all: int, size: int, S) -> str:
        n = len(S)
        what = (
            f"HDBSCAN found {n_dense} dense segment{'s' if n_dense != 1 else ''} (the "
            f"smallest at least {size:,} of the {n:,}-user sample, min_samples "
            f"{self._ms(n)}, in the first {self.components_.shape[0]} principal components)"
        )
        if unassigned:
            share = unassigned / n_all
            what = join(
                what,
                f"{unassigned:,} users ({share:.1%}) lie in none: they are the last segment, "
                "Unassigned",
            )
        if n_dense > self.k_max:
            what = join(what, f"That is more than k_max={self.k_max}; all are kept")
        return self._few(S, what + ".")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # (a copy: the model keeps its index)
        state.pop("_nn", None)  # (the neighbour index is rebuilt from the exemplars)
        return state


def _hdbscan(Z: np.ndarray, size: int, min_samples: int) -> np.ndarray:
    """HDBSCAN's labels of ``Z`` (-1: none); when it finds no dense segment, the one it
    allows itself when asked (at most one), so that some users are in a segment."""
    size = max(2, min(size, len(Z)))
    found = HDBSCAN(min_cluster_size=size, min_samples=min_samples, copy=True).fit(Z).labels_
    if found.max() < 0:
        found = (
            HDBSCAN(
                min_cluster_size=size, min_samples=min_samples, allow_single_cluster=True, copy=True
            )
            .fit(Z)
            .labels_
        )
    if found.max() < 0:  # (no density at all: every user in one segment)
        found = np.zeros(len(Z), dtype=np.intp)
    return found


def _means(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X)
    return sums / np.maximum(np.bincount(labels, minlength=k), 1)[:, None]
