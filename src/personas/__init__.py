"""personas: user profiling and segmentation.

From a user table (and, later, raw event logs) to validated data, profiles and explained,
ML-found segments.

Examples
--------
>>> import personas
>>> users, truth = personas.datasets.make_users(500, random_state=0)
>>> report = personas.validate(users)
>>> report.ok
True
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from personas import errors
from personas._version import __version__

# Names are imported on first use, so that `import personas` (and every CLI command) does
# not pay for scikit-learn, SciPy and the rest before it needs them.
_LAZY = {
    "datasets": "personas.datasets",
    "Segmenter": "personas.cluster",
    "EDA": "personas.results",
    "ROLES": "personas.io",
    "Schema": "personas.io",
    "ValidationReport": "personas.results",
    "eda": "personas.results",
    "read_table": "personas.io",
    "validate": "personas.results",
    "Model": "personas.model",
    "load": "personas.model",
    "Segmentation": "personas.results",
    "segment": "personas.pipeline",
    "compare_methods": "personas.pipeline",
    "MethodComparison": "personas.results",
    "BasisBuilder": "personas.preprocess",
    "ProfileBuilder": "personas.profiles",
    "Profiles": "personas.results",
    "profile": "personas.results",
}

if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from personas import datasets
    from personas.cluster import Segmenter
    from personas.io import ROLES, Schema, read_table
    from personas.model import Model, load
    from personas.pipeline import compare_methods, segment
    from personas.preprocess import BasisBuilder
    from personas.profiles import ProfileBuilder
    from personas.results import (
        EDA,
        MethodComparison,
        Profiles,
        Segmentation,
        ValidationReport,
        eda,
        profile,
        validate,
    )


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'personas' has no attribute {name!r}")
    module = import_module(_LAZY[name])
    value = module if module.__name__ == f"personas.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ROLES",
    "ProfileBuilder",
    "Profiles",
    "BasisBuilder",
    "EDA",
    "MethodComparison",
    "Model",
    "Schema",
    "Segmentation",
    "Segmenter",
    "ValidationReport",
    "__version__",
    "compare_methods",
    "datasets",
    "eda",
    "errors",
    "load",
    "profile",
    "read_table",
    "segment",
    "validate",
]
