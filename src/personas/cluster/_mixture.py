"""`MixtureSegmenter`: Gaussian mixtures, k chosen by BIC with the stability check.

Where K-Means draws straight borders halfway between centres and favours segments of
equal size and spread, a Gaussian mixture gives each segment its own size, spread and
correlations (``covariance_type="full"``), and says how surely each user belongs to each
segment (:meth:`MixtureSegmenter.predict_proba`).

A full covariance matrix has d(d+1)/2 parameters per segment; on a wide basis (more than
``max_dims`` columns, as one-hot categories make it) the mixture is fitted on the basis'
first ``max_dims`` principal components, found on the sample. k is chosen on the sample
(see :func:`personas.cluster.choose_k_bic`); the final mixture is fitted on all rows from
the sample's (``max_iter`` EM iterations). A user's segment is the one of highest
posterior probability.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import (
    _compute_precision_cholesky,
    _estimate_gaussian_parameters,
)

from personas.cluster._base import (
    BaseSegmenter,
    emptied,
    per_segment,
    score_candidates,
    size_order,
    used,
)
from personas.cluster._select_k import (
    KScore,
    SampleSilhouette,
    agreement,
    choose_k_bic,
    fit_kmeans,
    label_quality,
)

__all__ = ["MixtureSegmenter"]


class MixtureSegmenter(BaseSegmenter):
    """Gaussian-mixture segmentation with ``k="auto"`` (BIC and stability) or a fixed k.

    Parameters
    ----------
    k : "auto" or int, default "auto"
    k_min, k_max : int, default 2 and 12
    covariance_type : {"full", "diag", "tied", "spherical"}, default "full"
        As :class:`sklearn.mixture.GaussianMixture`.
    max_dims : int, default 16
        A wider basis is fitted on this many principal components.
    n_init : int, default 4
        K-Means starts (k-means++) for each candidate k on the sample; EM starts from
        the best one's centres.
    sample_size : int, default 10_000
    silhouette_size : int, default 5_000
    n_bootstrap : int, default 3
        Bootstrap refits per k for the stability score.
    max_iter : int, default 30
        EM iterations on all rows, from the sample's mixture.
    reg_covar : float, default 0.01
        Added to the covariances' diagonals: 1 % of a standardised column's variance, a
        floor for the one-hot columns of categories, which are constant within many
        segments (on 72 generated tables, 1e-4 gave a mean adjusted Rand index of 0.37 on
        those with categories, 0.01 gave 0.46, numeric ones unchanged: 0.79;
        ``benchmarks/bench_methods.py``).
    random_state : int, RandomState or None

    Attributes
    ----------
    labels_, cluster_centers_, n_clusters_, scores_, k_reason_, segment_stability_,
    timings_
        As :class:`~personas.Segmenter`; ``cluster_centers_`` are the segments' mean rows
        in the basis, ``scores_`` add each k's ``bic`` (lower is better).
    mixture_ : sklearn.mixture.GaussianMixture
        The fitted mixture (its components in the mixture's own order, see ``order_``).
    n_iter_ : int
        EM iterations of the final fit.
    order_ : ndarray of int
        Segment i is the mixture's component ``order_[i]``.
    projection_ : ndarray or None
        ``(max_dims, n_features)`` principal axes the mixture is fitted on, or None when
        it is fitted on the basis itself; ``projection_mean_`` is subtracted first.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from personas.cluster import MixtureSegmenter
    >>> X, _ = make_blobs(600, centers=4, random_state=0)
    >>> MixtureSegmenter(random_state=0).fit(X).n_clusters_
    4
    """

    method = "gmm"

    def __init__(
        self,
        k: Any = "auto",
        *,
        k_min: int = 2,
        k_max: int = 12,
        covariance_type: str = "full",
        max_dims: int = 16,
        n_init: int = 4,
        sample_size: int = 10_000,
        silhouette_size: int = 5_000,
        n_bootstrap: int = 3,
        max_iter: int = 30,
        reg_covar: float = 0.01,
        random_state: Any = None,
    ) -> None:
        self.k = k
        self.k_min = k_min
        self.k_max = k_max
        self.covariance_type = covariance_type
        self.max_dims = max_dims
        self.n_init = n_init
        self.sample_size = sample_size
        self.silhouette_size = silhouette_size
        self.n_bootstrap = n_bootstrap
        self.max_iter = max_iter
        self.reg_covar = reg_covar
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> MixtureSegmenter:
        X, seed, sample_rows = self._start(X)
        S = X[sample_rows]
        start = time.perf_counter()
        self._fit_projection(S)
        ZS = self._project(S)
        k, reason, sample_model, jaccard = self._choose(S, ZS, seed)
        timings = {"choose_k": time.perf_counter() - start}
        start = time.perf_counter()
        mixture = sample_model
        if len(S) < len(X) and k > 1:  # all rows, from the sample's mixture
            mixture = self._mixture(
                k,
                seed,
                max_iter=self.max_iter,
                weights_init=sample_model.weights_,
                means_init=sample_model.means_,
                precisions_init=sample_model.precisions_,
            ).fit(self._project(X))
        self.mixture_ = mixture
        self.n_iter_ = int(mixture.n_iter_)
        self.order_ = np.arange(k)
        labels = self._labels(X)
        kept = used(labels, k)  # (a component that is no row's likeliest: no segment)
        reason = emptied(reason, k, len(kept))
        self.order_ = kept[size_order(np.searchsorted(kept, labels), len(kept))]
        k = len(kept)
        labels = self._labels(X)  # segment 0 is the largest
        timings["fit_all_rows"] = time.perf_counter() - start
        self.labels_ = labels.astype(np.intp)
        self.n_clusters_ = k
        self.cluster_centers_ = self._centres(X, labels, k)
        self.k_reason_ = reason
        self.segment_stability_ = per_segment(jaccard, self.order_, self.mixture_.n_components)
        self.timings_ = timings
        return self

    # ------------------------------------------------------------------ fitting
    def _mixture(self, k: int, seed: int, **options: Any) -> GaussianMixture:
        return GaussianMixture(
            k,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            init_params="random_from_data",  # (cheap: every start is given)
            random_state=seed % (2**31),
            **options,
        )

    def _fit_projection(self, S: np.ndarray) -> None:
        self.projection_mean_ = S.mean(axis=0, dtype=np.float64)
        self.projection_ = None
        if S.shape[1] > self.max_dims:
            centred = S.astype(np.float64) - self.projection_mean_
            _, _, vt = np.linalg.svd(centred, full_matrices=False)
            vt *= np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])[:, None]
            self.projection_ = vt[: self.max_dims]

    def _project(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if self.projection_ is None:
            return X
        return (X - self.projection_mean_) @ self.projection_.T

    def _fit(self, Z: np.ndarray, k: int, seed: int) -> GaussianMixture:
        """A mixture of ``k`` components of ``Z``, started from K-Means' best of
        ``n_init`` k-means++ starts: its segments' shares, means and covariances (EM from
        there: steadier than EM's own starts)."""
        labels = fit_kmeans(Z, k, n_init=self.n_init, seed=seed, max_iter=100).labels_
        resp = np.zeros((len(Z), k))
        resp[np.arange(len(Z)), labels] = 1.0
        weights, means, covariances = _estimate_gaussian_parameters(
            Z, resp, self.reg_covar, self.covariance_type
        )
        chol = _compute_precision_cholesky(covariances, self.covariance_type)
        if self.covariance_type == "full":
            precisions = chol @ chol.transpose(0, 2, 1)
        elif self.covariance_type == "tied":
            precisions = chol @ chol.T
        else:
            precisions = chol**2
        return self._mixture(
            k,
            seed,
            weights_init=np.maximum(weights, 1e-12) / np.maximum(weights, 1e-12).sum(),
            means_init=means,
            precisions_init=precisions,
        ).fit(Z)

    def _score(self, S, ZS, k, seed, eval_rows, silhouette) -> tuple[KScore, GaussianMixture]:
        start = time.perf_counter()
        model = self._fit(ZS, k, seed + k)
        labels = model.predict(ZS)
        sil, ch, db = label_quality(S, labels, eval_rows, silhouette)
        rng = np.random.default_rng(seed + 7919 * k)
        preds = []
        for b in range(self.n_bootstrap):
            boot = rng.integers(0, len(ZS), len(ZS))
            refit = self._fit(ZS[boot], k, seed + 1000 * (b + 1) + k)
            preds.append(refit.predict(ZS[eval_rows]))
        stability, jaccard = agreement(labels[eval_rows], preds, k)
        inertia = _inertia(S, labels, k)
        score = KScore(
            k,
            sil,
            ch,
            db,
            inertia,
            stability,
            time.perf_counter() - start,
            jaccard,
            bic=float(model.bic(ZS)),
        )
        return score, model

    def _choose(self, S, ZS, seed) -> tuple[int, str, GaussianMixture, Any]:
        eval_rows = self._eval_rows(len(S), seed)
        self.scores_ = []
        if self.k != "auto":
            k = int(self.k)
            if self.n_bootstrap and 1 < k < len(S):
                score, model = self._score(S, ZS, k, seed, eval_rows, None)
                self.scores_ = [score.to_dict()]
                return k, f"k={k} was given", model, score.jaccard
            return k, f"k={k} was given", self._fit(ZS, k, seed + k), None
        silhouette = SampleSilhouette(S[eval_rows])
        candidates = self._candidates(S)
        done = score_candidates(
            lambda k: self._score(S, ZS, k, seed, eval_rows, silhouette), candidates
        )
        if not done:  # fewer than 3 distinct rows: one or two segments, no choice
            k = max(1, min(2, len(np.unique(S, axis=0))))
            model = self._fit(ZS, k, seed + k)
            return (
                k,
                self._few(S, f"k={k}: too few distinct rows to compare several k"),
                model,
                None,
            )
        scores = [d[0] for d in done]
        self.scores_ = [s.to_dict() for s in scores]
        k, reason = choose_k_bic(scores)
        chosen = next(d for d in done if d[0].k == k)
        return k, self._few(S, reason), chosen[1], chosen[0].jaccard

    # ------------------------------------------------------------------ scoring
    def _labels(self, X: np.ndarray) -> np.ndarray:
        return self._proba(X).argmax(axis=1)

    def _proba(self, X: np.ndarray) -> np.ndarray:
        """The mixture's posterior probabilities of the segments (its components in
        ``order_``; renormalised when a component holds no user and was left out)."""
        p = self.mixture_.predict_proba(self._project(X))[:, self.order_]
        if len(self.order_) < self.mixture_.n_components:
            p /= np.maximum(p.sum(axis=1, keepdims=True), 1e-300)
        return p

    def _centres(self, X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
        """Each segment's mean row in the basis (an empty segment: its component's mean)."""
        counts = np.bincount(labels, minlength=k)
        sums = np.zeros((k, X.shape[1]), dtype=np.float64)
        np.add.at(sums, labels, X)
        means = self.mixture_.means_[self.order_]
        if self.projection_ is not None:
            means = means @ self.projection_ + self.projection_mean_
        centres = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], means)
        return centres.astype(X.dtype)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Each row's probability of belonging to each segment (columns in segment order)."""
        return self._proba(self._checked(X))

    def predict(self, X: Any) -> np.ndarray:
        """The segment of each row: the one of highest posterior probability."""
        return self.predict_proba(X).argmax(axis=1).astype(np.intp)


def _inertia(X: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Sum of squared distances of the rows to their segment's mean row."""
    total = 0.0
    for j in range(k):
        rows = X[labels == j]
        if len(rows):
            total += float(((rows - rows.mean(axis=0)) ** 2).sum())
    return total
