"""Lloyd iterations and nearest-centre assignment over row blocks, for tables of any length.

The final fit on all rows starts from centres that are already good (found on a sample),
so it needs few iterations; what matters is that each pass is one sweep over the matrix
without copies of it. Rows are processed in blocks of ``BLOCK_ROWS`` on two threads (NumPy
and BLAS release the GIL); every block's partial sums are kept apart and added up in block
order, so results do not depend on thread timing.

Assignment (:func:`assign`) is the one function both training and scoring use, so scoring
the training rows gives back exactly the training labels.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from personas._parallel import n_threads

__all__ = ["assign", "distances", "lloyd"]

BLOCK_ROWS = 65_536


def _blocks(n: int) -> list[slice]:
    return [slice(i, min(i + BLOCK_ROWS, n)) for i in range(0, n, BLOCK_ROWS)]


def _map(fn, blocks):
    """``fn`` over the blocks on two threads (BLAS single-threaded meanwhile), in order."""
    if len(blocks) == 1:
        return [fn(blocks[0])]
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_threads()) as pool:
        return list(pool.map(fn, blocks))


def _block_sqdist(Xb: np.ndarray, C: np.ndarray, c_sq: np.ndarray) -> np.ndarray:
    """Squared distances of a block's rows to every centre, without the rows' own norms."""
    d = Xb @ C.T
    d *= -2
    d += c_sq
    return d


def assign(X: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre of every row and the squared distance to it."""
    C = np.ascontiguousarray(C, dtype=X.dtype)
    c_sq = np.einsum("ij,ij->i", C, C)
    labels = np.empty(len(X), dtype=np.int32)
    sq = np.empty(len(X), dtype=np.float64)

    def run(b: slice) -> None:
        Xb = X[b]
        d = _block_sqdist(Xb, C, c_sq)
        lab = d.argmin(axis=1)
        labels[b] = lab
        own = d[np.arange(len(lab)), lab] + np.einsum("ij,ij->i", Xb, Xb)
        sq[b] = np.maximum(own, 0)

    _map(run, _blocks(len(X)))
    return labels, sq


def distances(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Euclidean distance of every row to every centre, shape (n_rows, n_centres)."""
    C = np.ascontiguousarray(C, dtype=X.dtype)
    c_sq = np.einsum("ij,ij->i", C, C)
    out = np.empty((len(X), len(C)), dtype=X.dtype)

    def run(b: slice) -> None:
        Xb = X[b]
        d = _block_sqdist(Xb, C, c_sq)
        d += np.einsum("ij,ij->i", Xb, Xb)[:, None]
        np.maximum(d, 0, out=d)
        out[b] = np.sqrt(d)

    _map(run, _blocks(len(X)))
    return out


def lloyd(
    X: np.ndarray, centers: np.ndarray, *, max_iter: int = 30, tol: float = 1e-4
) -> tuple[np.ndarray, int]:
    """Lloyd's algorithm from ``centers``; return the centres and the iterations run.

    Stops when the centres move (sum of squared shifts) by less than ``tol`` times the
    mean feature variance, as scikit-learn does. An emptied segment keeps its centre.
    Label the rows with :func:`assign` and the returned centres.
    """
    X = np.ascontiguousarray(X)
    C = np.array(centers, dtype=np.float64)
    k = len(C)
    blocks = _blocks(len(X))
    tol_abs = tol * _mean_variance(X, blocks)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        Cf = C.astype(X.dtype)
        c_sq = np.einsum("ij,ij->i", Cf, Cf)

        def step(b: slice, Cf=Cf, c_sq=c_sq) -> tuple[np.ndarray, np.ndarray]:
            Xb = X[b]
            lab = _block_sqdist(Xb, Cf, c_sq).argmin(axis=1)
            onehot = np.zeros((len(lab), k), dtype=X.dtype)
            onehot[np.arange(len(lab)), lab] = 1
            return (onehot.T @ Xb).astype(np.float64), np.bincount(lab, minlength=k)

        parts = _map(step, blocks)
        sums = np.sum([p[0] for p in parts], axis=0)
        counts = np.sum([p[1] for p in parts], axis=0)
        new = C.copy()
        filled = counts > 0
        new[filled] = sums[filled] / counts[filled, None]
        shift = float(((new - C) ** 2).sum())
        C = new
        if shift <= tol_abs:
            break
    return C.astype(X.dtype), n_iter


def _mean_variance(X: np.ndarray, blocks: list[slice]) -> float:
    """Mean of the columns' variances, in one pass over blocks (float64 sums)."""
    n = len(X)
    s = np.zeros(X.shape[1])
    s2 = np.zeros(X.shape[1])
    for b in blocks:
        Xb = X[b].astype(np.float64)
        s += Xb.sum(axis=0)
        s2 += np.einsum("ij,ij->j", Xb, Xb)
    mean = s / n
    return float(np.maximum(s2 / n - mean**2, 0).mean())
