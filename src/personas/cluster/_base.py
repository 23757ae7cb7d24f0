"""What every segmentation method shares.

Each method (K-Means, Gaussian mixture, Ward, …) is an estimator with the same fitted
attributes — ``labels_``, ``n_clusters_``, ``cluster_centers_``, ``scores_`` (one dict per
k tried), ``k_reason_``, ``segment_stability_``, ``timings_`` — and the same methods:
``predict`` (the segment of each row, the rule the training labels come from, so that a
model scores its own training rows with their training segments), ``transform`` (the
Euclidean distance of each row to each segment's centre in the basis) and
``fit_predict``. k is chosen on a row sample of ``sample_size`` rows; the silhouette and
the stability are measured on ``silhouette_size`` of them. Segments are numbered by size:
segment 0 is the largest.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from personas._parallel import n_threads
from personas._sklearn_compat import validate_data
from personas.cluster._lloyd import assign, distances

__all__ = [
    "BaseSegmenter",
    "emptied",
    "join",
    "per_segment",
    "score_candidates",
    "size_order",
    "used",
]

FEW_USERS = 50  # fewer users than this: k is chosen, but the reason says to take care


class BaseSegmenter(ClusterMixin, TransformerMixin, BaseEstimator):
    """The shared parts of the segmentation methods (not used on its own)."""

    #: The method's name, as ``personas segment --method`` takes it.
    method = ""

    def _start(self, X: Any, allow_nan: bool = False) -> tuple[np.ndarray, int, np.ndarray]:
        """The checked matrix, the seed every random choice derives from, and the rows
        (sorted) that k is chosen on."""
        X = validate_data(
            self, X, dtype=[np.float32, np.float64], ensure_min_samples=2,
            ensure_all_finite="allow-nan" if allow_nan else True,
        )  # fmt: skip
        self._check_params(X)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        n = X.shape[0]
        rows = np.arange(n)
        if n > self.sample_size:
            rows = np.sort(np.random.default_rng(seed).choice(n, self.sample_size, replace=False))
        return X, seed, rows

    def _eval_rows(self, n: int, seed: int) -> np.ndarray:
        """Which of the sample's ``n`` rows the silhouette and the stability are measured on."""
        if n <= self.silhouette_size:
            return np.arange(n)
        return np.sort(
            np.random.default_rng(seed + 1).choice(n, self.silhouette_size, replace=False)
        )

    def _candidates(self, S: np.ndarray) -> list[int]:
        """The k tried by "auto" on the sample ``S``: ``[k_min, k_max]``, at most its
        distinct rows (and fewer than its rows)."""
        n_distinct = len(np.unique(S, axis=0))
        k_hi = min(self.k_max, n_distinct, len(S) - 1)
        k_lo = min(self.k_min, k_hi)
        return list(range(max(k_lo, 2), k_hi + 1))

    def _few(self, S: np.ndarray, reason: str) -> str:
        if len(S) < FEW_USERS:
            reason = join(reason, f"Only {len(S)} users: segments of so few are a sketch.")
        return reason

    def _check_params(self, X: np.ndarray) -> None:
        if self.k != "auto":
            if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 1:
                raise ValueError(f"k must be 'auto' or an integer ≥ 1, got {self.k!r}.")
            if not 1 <= self.k <= X.shape[0]:
                raise ValueError(
                    f"k={self.k} segments cannot be found in {X.shape[0]} rows; choose k "
                    f"between 1 and {X.shape[0]}."
                )
            if self.k > self.sample_size:
                raise ValueError(
                    f"k={self.k} is more than the {self.sample_size} rows of the sample the "
                    "segments are first found on; raise sample_size or choose a smaller k."
                )
        elif not (
            isinstance(self.k_min, (int, np.integer))
            and isinstance(self.k_max, (int, np.integer))
            and 2 <= self.k_min <= self.k_max
        ):
            raise ValueError(
                f"k_min and k_max must be integers with 2 ≤ k_min ≤ k_max; got {self.k_min} "
                f"and {self.k_max}."
            )

    def _checked(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "cluster_centers_")
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        return np.ascontiguousarray(X, dtype=self.cluster_centers_.dtype)

    def predict(self, X: Any) -> np.ndarray:
        """The segment of each row: its nearest centre."""
        return assign(self._checked(X), self.cluster_centers_)[0].astype(np.intp)

    def transform(self, X: Any) -> np.ndarray:
        """Distance of each row to each segment's centre (columns in segment order)."""
        return distances(self._checked(X), self.cluster_centers_)

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        return self.fit(X).labels_


def score_candidates(score: Callable[[int], Any], candidates: list[int]) -> list[Any]:
    """``score(k)`` for every candidate k on parallel threads, each numerical library on
    one thread: every k has its own seed, so the result does not depend on the number of
    threads. Results in the candidates' order."""
    # (a bootstrap resample of a few rows holds fewer distinct ones: no warning)
    with (
        threadpool_limits(limits=1),
        ThreadPoolExecutor(n_threads()) as pool,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        return list(pool.map(score, candidates[::-1]))[::-1]  # slow ones first


def join(reason: str, more: str) -> str:
    """Two sentences of a reason, with a full stop between them."""
    return reason.rstrip(". ") + ". " + more


def used(labels: np.ndarray, k: int) -> np.ndarray:
    """The segments (of ``k``) that hold at least one row, in order."""
    return np.flatnonzero(np.bincount(labels, minlength=k) > 0)


def emptied(reason: str, k: int, kept: int) -> str:
    """The reason, saying that only ``kept`` of ``k`` segments hold users (when fewer)."""
    if kept == k:
        return reason
    return join(
        reason,
        f"Only {kept} of the {k} segments hold users (the table has few distinct rows).",
    )


def per_segment(values: Any, order: np.ndarray, n_before: int) -> np.ndarray:
    """Per-segment values of the fit's clusters (``n_before`` of them: stability's
    Jaccards) in segment order ``order``; NaN for every segment when there are none."""
    if values is None or len(values) != n_before:
        return np.full(len(order), np.nan)
    return np.asarray(values, dtype=float)[order]


def size_order(labels: np.ndarray, k: int) -> np.ndarray:
    """The permutation that numbers segments by size (segment i is cluster ``order[i]``)."""
    return np.argsort(-np.bincount(labels, minlength=k), kind="stable")
