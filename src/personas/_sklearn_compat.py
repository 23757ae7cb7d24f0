"""The one place where scikit-learn helpers that moved between versions are imported."""

from __future__ import annotations

from typing import Any

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    _validate_data = None


def validate_data(estimator: Any, X: Any, *, reset: bool = True, **kwargs: Any):
    """``sklearn.utils.validation.validate_data`` (or the older estimator method)."""
    if _validate_data is not None:
        return _validate_data(estimator, X, reset=reset, **kwargs)
    return estimator._validate_data(X, reset=reset, **kwargs)  # pragma: no cover
