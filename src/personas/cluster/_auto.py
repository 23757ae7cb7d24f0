"""``--method auto``: K-Means or the Gaussian mixture, whichever the other methods
support more — a rule that needs no truth.

Four methods segment the same basis (K-Means, the Gaussian mixture, Ward and
k-prototypes), each choosing its own k (or taking the k given). For K-Means and the
mixture, the **support** is the mean adjusted Rand index between its segments and the
other three methods'; the one with more support wins, and a tie goes to K-Means (the
default). Segments that several methods find again are less likely an artefact of one
method's assumptions: K-Means' equal spreads, or a mixture's BIC misled by one-hot
categories. On a table without categories k-prototypes is K-Means, so K-Means' own
segments are one of its supporters there: the rule leans to K-Means (as it was measured).

Why this rule (``benchmarks/bench_methods.py --methods kmeans,auto``; the user guide has
the figures): twenty rules were compared on two draws of the grid of 72 generated tables
(the silhouette, the stability, their product or the support, over K-Means and one to
three other methods). Only the support over K-Means and the mixture never chose a worse
segmentation than K-Means' (by more than 0.02 of adjusted Rand index against the planted
segments) on any of the 144 tables, and it gained a little on average; a third draw
confirmed it. Rules that pick by silhouette or stability gained more on one draw and lost
up to 0.45 (silhouette) or 0.65 (stability) on a table of another.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from personas.cluster._compare import MethodResult, fit_methods

__all__ = ["AUTO_CANDIDATES", "AUTO_PANEL", "choose_method"]

#: The methods ``auto`` chooses between, the first winning ties.
AUTO_CANDIDATES = ("kmeans", "gmm")
#: The methods whose segments measure the candidates' support.
AUTO_PANEL = ("kmeans", "gmm", "ward", "kprototypes")


def choose_method(
    X: np.ndarray,
    *,
    k: Any = "auto",
    k_min: int = 2,
    k_max: int = 12,
    random_state: int | None = None,
    groups: Any = None,
    progress: Any = None,
) -> tuple[MethodResult, str, list[MethodResult]]:
    """Fit the panel on ``X``; the candidate with the most support, a sentence saying
    why (with every candidate's support), and every method's result."""
    found, agree = fit_methods(
        X, list(AUTO_PANEL), k=k, k_min=k_min, k_max=k_max, random_state=random_state,
        groups=groups, progress=progress,
    )  # fmt: skip
    n = len(found)
    support = {
        r.method: float(np.mean([agree[i, j] for j in range(n) if j != i]))
        for i, r in enumerate(found)
    }
    candidates = [r for r in found if r.method in AUTO_CANDIDATES]
    best = max(candidates, key=lambda r: support[r.method])  # (the first of equals)
    others = ", ".join(r.label for r in found if r is not best)
    figures = "; ".join(f"{r.label} k={r.k}: {support[r.method]:.2f}" for r in candidates)
    reason = (
        f"auto chose {best.label}, whose segments the other methods ({others}) support "
        f"more (mean adjusted Rand index with theirs: {figures})"
    )
    return best, reason, found
