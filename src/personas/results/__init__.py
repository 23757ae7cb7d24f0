"""Result objects: the data each stage computed, shown — a one-line repr, an inline view
in Jupyter, ``to_dict``/``to_json``, ``to_pandas``, a self-contained page
(``html``/``write_html``) and charts (``plot``).

The stages below (``io``, ``profiles``, ``cluster``, ``interpret``…) return plain data and
never import ``report`` or ``viz``; this layer wraps their results and hands them to the
renderers. The public functions that return results (``validate``, ``eda``, ``profile``)
live here too; ``segment`` is in :mod:`personas.pipeline`.

Names are imported on first use: checking or profiling a table does not load
scikit-learn (about a second), which only segmentations need.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

_LAZY = {
    "Result": "_base",
    "json_default": "_base",
    "EDA": "_tables",
    "Profiles": "_tables",
    "ValidationReport": "_tables",
    "eda": "_tables",
    "profile": "_tables",
    "validate": "_tables",
    "KSelection": "_segmentation",
    "MethodComparison": "_methods",
    "SegmentComparison": "_segmentation",
    "SegmentProfiles": "_segmentation",
    "Segmentation": "_segmentation",
    "versions": "_segmentation",
}

if TYPE_CHECKING:
    from personas.results._base import Result, json_default
    from personas.results._methods import MethodComparison
    from personas.results._segmentation import (
        KSelection,
        Segmentation,
        SegmentComparison,
        SegmentProfiles,
        versions,
    )
    from personas.results._tables import EDA, Profiles, ValidationReport, eda, profile, validate


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'personas.results' has no attribute {name!r}")
    value = getattr(import_module(f"personas.results.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "EDA",
    "KSelection",
    "MethodComparison",
    "Profiles",
    "Result",
    "SegmentComparison",
    "SegmentProfiles",
    "Segmentation",
    "ValidationReport",
    "eda",
    "json_default",
    "profile",
    "validate",
    "versions",
]
