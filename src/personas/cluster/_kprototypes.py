"""`KPrototypesSegmenter`: k-prototypes (Huang, 1998) for mixed tables, vectorised.

A segment's *prototype* holds the mean of each numeric column and the **mode** of each
categorical column; a user's distance to it is the squared Euclidean distance over the
numeric columns plus a fixed cost for every categorical column whose value differs from
the prototype's. Missing values are allowed in both: a missing number or category adds
nothing to any distance (the columns the two share are compared), and prototypes are
means and modes of the values present.

Categorical columns come one-hot coded, each group of columns one category (``groups``:
their column ranges), a row holding the category's weight in its level's column and
zeros elsewhere — all zeros when the category is missing. With a weight ``w`` a mismatch
costs ``2·w²`` (k-prototypes' γ), exactly the squared distance between two coded rows;
so one matrix product gives every user's distance to every prototype, and an iteration
costs what a K-Means iteration does. Huang's algorithm, as kmodes implements it, walks
the rows one by one in Python: :func:`encode_mixed` codes a kmodes-style mixed table for
this estimator (``benchmarks/bench_methods.py`` compares the two).

In ``personas segment --method kprototypes`` the basis' categorical columns (their
one-hot groups, with the weights that give every column an equal say) are the
categories: a segment's prototype then names one level of each, not a mix of shares.
k is chosen on a sample by the K-Means rule (:func:`personas.cluster.choose_k`), the
silhouette measured in the same distance; the final prototypes come from all rows,
started from the sample's.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from personas._sklearn_compat import validate_data
from personas.cluster._base import (
    BaseSegmenter,
    emptied,
    join,
    per_segment,
    score_candidates,
    size_order,
    used,
)
from personas.cluster._lloyd import _blocks, _map
from personas.cluster._select_k import (
    KScore,
    SampleSilhouette,
    agreement,
    choose_k,
    kmeans_plusplus,
    label_quality,
)

__all__ = ["KPrototypesSegmenter", "encode_mixed"]


class KPrototypesSegmenter(BaseSegmenter):
    """k-prototypes with ``k="auto"`` (the K-Means rule) or a fixed k.

    Parameters
    ----------
    k : "auto" or int, default "auto"
    groups : list of (start, stop), optional
        The column ranges of ``X`` that are one-hot coded categories (see the module's
        description); the other columns are numbers. None: every column is a number.
    k_min, k_max : int, default 2 and 12
    n_init : int, default 4
        Starts (k-means++ seeds) for each candidate k on the sample; the lowest cost wins.
    sample_size : int, default 10_000
    silhouette_size : int, default 5_000
    n_bootstrap : int, default 5
    max_iter : int, default 30
        Iterations on all rows, from the sample's prototypes.
    random_state : int, RandomState or None

    Attributes
    ----------
    labels_, cluster_centers_, n_clusters_, scores_, k_reason_, segment_stability_,
    timings_
        As :class:`~personas.Segmenter`; ``cluster_centers_`` are the prototypes (means
        of numbers, the mode's level of each category).
    cost_ : float
        Sum of every row's distance to its prototype (kmodes' ``cost_``).
    n_iter_ : int

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from personas.cluster import KPrototypesSegmenter, encode_mixed
    >>> rng = np.random.default_rng(0)
    >>> table = pd.DataFrame({"spend": np.r_[rng.normal(0, 1, 300), rng.normal(6, 1, 300)],
    ...                       "plan": ["basic"] * 300 + ["premium"] * 300})
    >>> X, groups = encode_mixed(table, categorical=["plan"], gamma=1.0)
    >>> KPrototypesSegmenter(groups=groups, random_state=0).fit(X).n_clusters_
    2
    """

    method = "kprototypes"

    def __init__(
        self,
        k: Any = "auto",
        *,
        groups: list[tuple[int, int]] | None = None,
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
        self.groups = groups
        self.k_min = k_min
        self.k_max = k_max
        self.n_init = n_init
        self.sample_size = sample_size
        self.silhouette_size = silhouette_size
        self.n_bootstrap = n_bootstrap
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: Any, y: Any = None) -> KPrototypesSegmenter:
        # Row blocks run on two threads, BLAS on one (small products on several BLAS
        # threads were 50 times slower on a busy two-core machine).
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(X)

    def _fit(self, X: Any) -> KPrototypesSegmenter:
        X, seed, rows = self._start(X, allow_nan=True)
        self._layout(X)
        n = len(X)
        data = _Coded(X, self.numeric_, self.groups_)
        S = data.take(rows)
        start = time.perf_counter()
        k, reason, prototypes, jaccard = self._choose(S, seed)
        timings = {"choose_k": time.perf_counter() - start}
        start = time.perf_counter()
        iters = self.max_iter if n > len(rows) else 300
        prototypes, labels, dist, n_iter = _lloyd(data, prototypes, iters)
        kept = used(labels, k)  # (a prototype nearest to no row: no empty segment)
        reason = emptied(reason, k, len(kept))
        if len(kept) < k:
            if jaccard is not None and len(jaccard) == k:
                jaccard = np.asarray(jaccard)[kept]
            prototypes, k = prototypes[kept], len(kept)
            labels, dist = _assign(data, prototypes)
        order = size_order(labels, k)  # segment 0 is the largest
        prototypes = prototypes[order]
        labels = np.argsort(order)[labels]
        timings["fit_all_rows"] = time.perf_counter() - start
        if not self.groups_:
            reason = join(reason, "There is no categorical column: k-prototypes is K-Means here.")
        self.labels_ = labels.astype(np.intp)
        self.cluster_centers_ = prototypes.astype(X.dtype)
        self.n_clusters_ = k
        self.cost_ = float(dist.sum(dtype=np.float64))
        self.n_iter_ = int(n_iter)
        self.k_reason_ = reason
        self.segment_stability_ = per_segment(jaccard, order, k)
        self.timings_ = timings
        return self

    def _layout(self, X: np.ndarray) -> None:
        """The numeric columns and the categorical groups, checked."""
        groups = [] if self.groups is None else [(int(a), int(b)) for a, b in self.groups]
        taken = np.zeros(X.shape[1], dtype=bool)
        for a, b in groups:
            if not 0 <= a < b <= X.shape[1] or taken[a:b].any():
                raise ValueError(
                    f"groups must be non-overlapping column ranges (start, stop) within the "
                    f"{X.shape[1]} columns of X; got {self.groups!r}."
                )
            taken[a:b] = True
        self.groups_ = groups
        self.numeric_ = np.flatnonzero(~taken)

    def _choose(self, S: _Coded, seed: int) -> tuple[int, str, np.ndarray, Any]:
        """k, why, the sample's prototypes and its segments' Jaccards."""
        eval_rows = self._eval_rows(S.n, seed)
        filled = S.filled()
        given = self.k != "auto"
        candidates = [int(self.k)] if given else self._candidates(filled)
        silhouette = None if given else SampleSilhouette(filled[eval_rows])

        def score(k: int) -> tuple[KScore, np.ndarray]:
            start = time.perf_counter()
            prototypes, labels, dist = _best_of(S, k, self.n_init, seed + k)
            sil, ch, db = label_quality(filled, labels, eval_rows, silhouette)
            rng = np.random.default_rng(seed + 7919 * k)
            preds = []
            for b in range(self.n_bootstrap):
                boot = rng.integers(0, S.n, S.n)
                refit, _, _ = _best_of(S.take(boot), k, self.n_init, seed + 1000 * (b + 1) + k)
                preds.append(_assign(S.take(eval_rows), refit)[0])
            stability, jaccard = agreement(labels[eval_rows], preds, k)
            cost = float(dist.sum(dtype=np.float64))
            found = KScore(k, sil, ch, db, cost, stability, time.perf_counter() - start)
            found.jaccard = jaccard
            return found, prototypes

        if given:
            k = int(self.k)
            if self.n_bootstrap and 1 < k < S.n:
                found, prototypes = score(k)
                self.scores_ = [found.to_dict()]
                return k, f"k={k} was given", prototypes, found.jaccard
            self.scores_ = []
            return k, f"k={k} was given", _best_of(S, k, self.n_init, seed + k)[0], None
        done = score_candidates(score, candidates)
        self.scores_ = [d[0].to_dict() for d in done]
        if not done:  # fewer than 3 distinct rows: one or two segments, no choice
            k = max(1, min(2, len(np.unique(filled, axis=0))))
            reason = f"k={k}: too few distinct rows to compare several k"
            return k, self._few(filled, reason), _best_of(S, k, self.n_init, seed + k)[0], None
        k, reason = choose_k([d[0] for d in done])
        found, prototypes = next(d for d in done if d[0].k == k)
        return k, self._few(filled, reason), prototypes, found.jaccard

    def _coded(self, X: Any) -> _Coded:
        check_is_fitted(self, "cluster_centers_")
        X = validate_data(
            self, X, dtype=[np.float32, np.float64], reset=False, ensure_all_finite="allow-nan"
        )
        X = np.ascontiguousarray(X, dtype=self.cluster_centers_.dtype)
        return _Coded(X, self.numeric_, self.groups_)

    def predict(self, X: Any) -> np.ndarray:
        """The segment of each row: its nearest prototype."""
        with threadpool_limits(limits=1, user_api="blas"):
            return _assign(self._coded(X), self.cluster_centers_)[0].astype(np.intp)

    def transform(self, X: Any) -> np.ndarray:
        """Each row's distance to each prototype (the square root of the k-prototypes
        distance over the values the row has)."""
        with threadpool_limits(limits=1, user_api="blas"):
            return np.sqrt(_all_distances(self._coded(X), self.cluster_centers_))


class _Coded:
    """A coded mixed matrix: values with missing ones as 0, and which are present (a
    category's columns all present or all missing, as the category is)."""

    def __init__(self, X: np.ndarray, numeric: np.ndarray, groups: list[tuple[int, int]]):
        self.numeric, self.groups = numeric, groups
        self.present = np.isfinite(X)
        for a, b in groups:
            self.present[:, a:b] = (X[:, a:b] != 0).any(axis=1, keepdims=True)
        self.values = np.where(self.present, X, 0).astype(X.dtype, copy=False)
        self.n = len(X)
        # each category's weight (the value its rows hold), the same for all its rows
        self.weights = {(a, b): np.abs(self.values[:, a:b]).max(initial=0.0) for a, b in groups}

    def take(self, rows: np.ndarray) -> _Coded:
        out = _Coded.__new__(_Coded)
        out.numeric, out.groups = self.numeric, self.groups
        out.values, out.present, out.n = self.values[rows], self.present[rows], len(rows)
        out.weights = self.weights
        return out

    def filled(self) -> np.ndarray:
        """The values with a missing number as its column's mean (for seeding and the
        silhouette; a missing category stays all zeros)."""
        out = self.values.copy()
        cols = self.numeric
        if len(cols) and not self.present[:, cols].all():
            counts = np.maximum(self.present[:, cols].sum(axis=0), 1)
            means = self.values[:, cols].sum(axis=0) / counts
            out[:, cols] = np.where(self.present[:, cols], out[:, cols], means)
        return out


def _distances(data: _Coded, prototypes: np.ndarray, rows: slice | None = None) -> np.ndarray:
    """Rows' k-prototypes distances to every prototype, over the values each row has."""
    rows = slice(None) if rows is None else rows
    V, present = data.values[rows], data.present[rows]
    own = np.einsum("ij,ij->i", V, V)
    d = own[:, None] - 2 * (V @ prototypes.T) + present.astype(V.dtype) @ (prototypes**2).T
    return np.maximum(d, 0, out=d)


def _all_distances(data: _Coded, prototypes: np.ndarray) -> np.ndarray:
    return np.vstack(_map(lambda rows: _distances(data, prototypes, rows), _blocks(data.n)))


def _assign(data: _Coded, prototypes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's nearest prototype and its distance (row blocks on two threads)."""

    def nearest(rows: slice) -> tuple[np.ndarray, np.ndarray]:
        d = _distances(data, prototypes, rows)
        labels = d.argmin(axis=1)
        return labels, d[np.arange(len(d)), labels]

    parts = _map(nearest, _blocks(data.n))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _update(data: _Coded, labels: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Means of the numbers present and modes of the categories present, per segment (a
    segment with no value of a column keeps its previous one). Row blocks' sums are added
    in block order: the result does not depend on the threads."""
    k, dtype = len(old), data.values.dtype

    def sums(rows: slice) -> tuple[np.ndarray, np.ndarray]:
        lab = labels[rows]
        onehot = np.zeros((k, len(lab)), dtype=dtype)
        onehot[lab, np.arange(len(lab))] = 1
        return onehot @ data.values[rows], onehot @ data.present[rows].astype(dtype)

    parts = _map(sums, _blocks(data.n))
    total = sum(p[0] for p in parts)
    counts = sum(p[1] for p in parts)
    new = np.where(counts > 0, total / np.maximum(counts, 1), old)
    for a, b in data.groups:
        block = total[:, a:b]
        seen = block.max(axis=1) > 0
        mode = np.zeros_like(block)
        mode[np.flatnonzero(seen), block[seen].argmax(axis=1)] = data.weights[(a, b)]
        new[:, a:b] = np.where(seen[:, None], mode, old[:, a:b])
    return new


def _lloyd(
    data: _Coded, prototypes: np.ndarray, max_iter: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Assign and update until no row moves (or ``max_iter``)."""
    labels, dist = _assign(data, prototypes)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007
        prototypes = _update(data, labels, prototypes)
        new, dist = _assign(data, prototypes)
        if np.array_equal(new, labels):
            break
        labels = new
    return prototypes, labels, dist, n_iter


def _best_of(data: _Coded, k: int, n_init: int, seed: int) -> tuple[np.ndarray, ...]:
    """The lowest-cost of ``n_init`` runs from k-means++ seeds (rows of the data)."""
    rng = np.random.default_rng(seed)
    filled = data.filled()
    best = None
    for _ in range(max(n_init, 1)):
        seeds = kmeans_plusplus(filled, k, rng)  # (rows: the first update gives them modes)
        prototypes, labels, dist, _ = _lloyd(data, seeds, 300)
        cost = float(dist.sum(dtype=np.float64))
        if best is None or cost < best[0]:
            best = (cost, prototypes, labels, dist)
    return best[1], best[2], best[3]


def encode_mixed(
    table: Any, *, categorical: list[Any], gamma: float | None = None
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Code a mixed table for :class:`KPrototypesSegmenter`: the numeric columns as they
    are (missing as NaN), then each categorical column one-hot with the weight
    ``sqrt(gamma / 2)`` (a mismatch costs ``gamma``; missing: all zeros).

    ``table``: a DataFrame or a 2-D array (kmodes' input); ``categorical``: its
    categorical columns (names or positions). ``gamma`` defaults to kmodes' choice, half
    the standard deviation of the numeric values. Returns the matrix and the groups.
    """
    df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(np.asarray(table))
    cats = [df.columns[c] if isinstance(c, (int, np.integer)) and c not in df.columns else c
            for c in categorical]  # fmt: skip
    unknown = [c for c in cats if c not in df.columns]
    if unknown:
        raise ValueError(f"categorical names columns the table lacks: {unknown}.")
    numbers = df.drop(columns=cats).apply(pd.to_numeric, errors="coerce")
    num = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    if gamma is None:
        gamma = 0.5 * float(np.nanstd(num)) if num.size else 1.0
    weight = np.sqrt(gamma / 2)
    blocks, groups, start = [num], [], num.shape[1]
    for c in cats:
        codes, levels = pd.factorize(df[c], use_na_sentinel=True)
        block = np.zeros((len(df), len(levels)))
        ok = codes >= 0
        block[np.flatnonzero(ok), codes[ok]] = weight
        blocks.append(block)
        groups.append((start, start + len(levels)))
        start += len(levels)
    return np.hstack(blocks), groups
