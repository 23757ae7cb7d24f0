"""scikit-learn's estimator contract for estimators that must not import scikit-learn.

Importing any part of scikit-learn costs about a second here (it loads SciPy's stats and
sparse modules), which ``personas profile`` and ``personas validate`` do not otherwise
need. :class:`Estimator` gives what scikit-learn's ``BaseEstimator`` gives the
estimators that subclass it — ``get_params``/``set_params`` read off ``__init__``'s
signature, so that :func:`sklearn.base.clone`, :class:`~sklearn.pipeline.Pipeline` and
grid searches work —, and imports scikit-learn only when scikit-learn asks for its tags
or when a not-fitted estimator is used (the error is scikit-learn's ``NotFittedError``).
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["Estimator"]


class Estimator:
    """The estimator contract (parameters as ``__init__`` keywords stored unchanged)."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(
            name
            for name, p in signature.parameters.items()
            if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters (with ``deep``, those of estimators among them as ``a__b``)."""
        out: dict[str, Any] = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            out[name] = value
        return out

    def set_params(self, **params: Any) -> Estimator:
        valid = self._get_param_names()
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for {type(self).__name__}; valid "
                    f"parameters are {valid}."
                )
            if sub:
                getattr(self, name).set_params(**{sub: value})
            else:
                setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self).__init__).parameters
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params(deep=False).items()
            if defaults[name].default is inspect.Parameter.empty
            or not _same(value, defaults[name].default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        """A transformer's tags (scikit-learn ≥ 1.6 asks for them, e.g. in a Pipeline)."""
        from sklearn.base import BaseEstimator, TransformerMixin

        class Twin(TransformerMixin, BaseEstimator):
            pass

        return Twin().__sklearn_tags__()

    def _check_fitted(self, attribute: str) -> None:
        """scikit-learn's ``NotFittedError`` unless ``attribute`` was learned by fit."""
        if not hasattr(self, attribute):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return a is b
