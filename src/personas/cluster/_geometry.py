"""The geometry of a segmentation on a sample of its users: silhouettes and a 2-D map.

Quality measures and projections of the basis matrix, computed here so that charts
(``personas.viz``) only draw them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from personas._optional import import_optional

__all__ = ["embed_2d", "silhouette_by_segment"]


def _sample(X: np.ndarray, labels: np.ndarray, max_points: int, seed: int):
    rows = np.random.default_rng(seed).permutation(len(X))[:max_points]
    return X[rows], labels[rows]


def silhouette_by_segment(
    X: np.ndarray, labels: np.ndarray, *, max_points: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """Per segment, the silhouette values (sorted, largest first) of a sample of users.

    Returns ``{"values": {segment: array}, "mean": float, "n": int}``; with fewer than
    two segments in the sample the values are empty and the mean is NaN.
    """
    from sklearn.metrics import silhouette_samples

    X, labels = _sample(X, labels, max_points, seed)
    if len(np.unique(labels)) < 2:
        return {"values": {}, "mean": float("nan"), "n": 0}
    values = silhouette_samples(X, labels)
    per = {int(s): np.sort(values[labels == s])[::-1] for s in np.unique(labels)}
    return {"values": per, "mean": float(values.mean()), "n": len(values)}


def embed_2d(
    X: np.ndarray,
    labels: np.ndarray,
    *,
    method: str = "pca",
    max_points: int = 5000,
    seed: int = 0,
) -> dict[str, Any]:
    """2-D coordinates of a sample of users: PCA, or UMAP (the ``umap`` extra).

    Returns ``{"xy", "labels", "axes" (axis titles), "method"}``.
    """
    if method not in ("pca", "umap"):
        raise ValueError(f"method must be 'pca' or 'umap', not {method!r}.")
    X, labels = _sample(X, labels, max_points, seed)
    if method == "umap":
        umap = import_optional("umap", purpose="for the UMAP map of users")
        xy = umap.UMAP(n_components=2, random_state=seed).fit_transform(X)
        axes = ("UMAP 1", "UMAP 2")
    else:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=min(2, X.shape[1]), random_state=seed).fit(X)
        xy = pca.transform(X)
        if xy.shape[1] == 1:
            xy = np.column_stack([xy[:, 0], np.zeros(len(xy))])
        ev = list(pca.explained_variance_ratio_) + [0.0]
        axes = (f"PC1 ({ev[0]:.0%} of variance)", f"PC2 ({ev[1]:.0%})")
    return {"xy": xy, "labels": labels, "axes": axes, "method": method}
