"""The one rule for long tails and far values, shared by the data checks (``io``) and
the basis matrix (``preprocess``), so that what ``validate`` says is what segmentation
does.

- A column is log-transformed (``log1p``; ``signed_log1p`` when it has negatives) when
  its sample skewness exceeds a threshold *and* the log makes it less skewed: a skew that
  comes from a distinct group of users rather than a long tail is left alone, since the
  log would squeeze that group.
- Values beyond Tukey's far fences (3×IQR, on that scale) are clipped only when they are
  rare — at most ``OUTLIER_SHARE`` of the values; more are a group of users, kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["OUTLIER_SHARE", "apply_transform", "far_fences", "skew_transform"]

OUTLIER_SHARE = 0.01  # beyond the far fences: clipped when at most this share of values


def skew_transform(
    values: np.ndarray, threshold: float = 1.0, *, signed: bool = True
) -> tuple[str, float | None]:
    """How skewed values are brought in: ``log1p`` (all ≥ 0) or, with ``signed``,
    ``signed_log1p`` when their sample skewness exceeds ``threshold`` and the log makes
    them less skewed, else ``none``; and the skewness (None for fewer than three distinct
    values). The one rule of the data checks, the basis matrix (``signed``), the
    segments' profiles and the charts (columns that only describe the segments are
    logged when they are non-negative)."""
    finite = values[np.isfinite(values)]
    if finite.size <= 2 or np.unique(finite[:10000]).size <= 2:
        return "none", None
    skew = float(pd.Series(finite).skew())
    if skew > threshold and (signed or finite.min() >= 0):
        transform = "log1p" if finite.min() >= 0 else "signed_log1p"
        if abs(float(pd.Series(apply_transform(finite, transform)).skew())) < abs(skew):
            return transform, skew
    return "none", skew


def apply_transform(x: np.ndarray, transform: str) -> np.ndarray:
    if transform == "log1p":
        return np.log1p(np.maximum(x, 0.0))
    if transform == "signed_log1p":
        return np.sign(x) * np.log1p(np.abs(x))
    return x


def far_fences(t: np.ndarray) -> tuple[float, float, int, bool]:
    """Tukey's far fences of the (transformed) finite values ``t``: the bounds, how many
    values lie beyond them, and whether they are rare enough to be outliers (clipped)
    rather than a group of users (kept)."""
    q1, q3 = np.quantile(t, [0.25, 0.75])
    iqr = q3 - q1
    if not iqr > 0:
        return float(t.min()), float(t.max()), 0, True
    low, high = float(q1 - 3 * iqr), float(q3 + 3 * iqr)
    beyond = int(((t < low) | (t > high)).sum())
    return low, high, beyond, beyond <= OUTLIER_SHARE * t.size
