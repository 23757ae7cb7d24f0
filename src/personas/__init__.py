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

from personas import datasets, errors
from personas._version import __version__
from personas.io import ROLES, Schema, ValidationReport, read_table, validate

__all__ = [
    "ROLES",
    "Schema",
    "ValidationReport",
    "__version__",
    "datasets",
    "errors",
    "read_table",
    "validate",
]
