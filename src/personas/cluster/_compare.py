"""Every segmentation method on the same basis matrix, measured on the same terms.

Each method chooses its own k (or takes the k given) as ``personas segment --method``
would; then all are measured alike: the silhouette on one row sample in the basis (the
space every method is fitted in), the stability of the chosen k (each method's bootstrap
refits), the seconds it took, and how far any two methods agree (adjusted Rand index).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

from personas.cluster._methods import METHODS, make_segmenter
from personas.cluster._select_k import SampleSilhouette

__all__ = ["MethodResult", "fit_methods"]


@dataclass
class MethodResult:
    """One method's segmentation of the basis and its measures."""

    method: str
    label: str
    k: int
    k_reason: str
    silhouette: float
    stability: float | None
    seconds: float
    labels: np.ndarray = field(repr=False)
    segmenter: Any = field(repr=False, default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "label": self.label,
            "k": self.k,
            "silhouette": round(self.silhouette, 4),
            "stability": None if self.stability is None else round(self.stability, 4),
            "seconds": round(self.seconds, 3),
            "k_reason": self.k_reason,
        }


def fit_methods(
    X: np.ndarray,
    methods: list[str] | None = None,
    *,
    k: Any = "auto",
    k_min: int = 2,
    k_max: int = 12,
    random_state: int | None = 0,
    silhouette_size: int = 5_000,
    groups: Any = None,
    progress: Any = None,
) -> tuple[list[MethodResult], np.ndarray]:
    """Fit every method of ``methods`` (default: all whose optional packages are
    installed) on ``X``; return their results and
    the matrix of adjusted Rand indices between their segmentations (methods' order).
    ``groups``: the category groups of ``X`` (for k-prototypes); ``progress``: called
    with a short description before each method."""
    if methods is None:  # every method that can run here
        methods = [name for name, m in METHODS.items() if m.available()]
    methods = list(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(
            f"methods must be some of {', '.join(METHODS)}; got "
            f"{', '.join(map(str, unknown)) or 'none'}."
        )
    rng = np.random.default_rng(random_state)
    rows = np.arange(len(X))
    if len(X) > silhouette_size:
        rows = np.sort(rng.choice(len(X), silhouette_size, replace=False))
    silhouette = SampleSilhouette(X[rows])
    out = []
    for method in dict.fromkeys(methods):  # (each once, in the order given)
        if progress is not None:
            progress(f"Fitting {METHODS[method].label}")
        start = time.perf_counter()
        own = method == "hdbscan"  # (its number of segments is its own: k is not given)
        seg = make_segmenter(
            method, k="auto" if own else k, k_min=k_min, k_max=k_max,
            random_state=random_state, groups=groups,
        ).fit(X)  # fmt: skip
        seconds = time.perf_counter() - start
        labels = np.asarray(seg.labels_)
        sub = labels[rows]
        sil = silhouette(sub) if len(np.unique(sub)) > 1 else float("nan")
        chosen = [s for s in seg.scores_ if s["k"] == seg.n_clusters_]
        stability = chosen[0]["stability"] if chosen else None
        if stability is not None and not np.isfinite(stability):
            stability = None
        out.append(
            MethodResult(
                method,
                METHODS[method].label,
                int(seg.n_clusters_),
                seg.k_reason_,
                float(sil),
                stability,
                seconds,
                labels,
                seg,
            )
        )
    n = len(out)
    agreement = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            agreement[i, j] = agreement[j, i] = adjusted_rand_score(out[i].labels, out[j].labels)
    return out, agreement
