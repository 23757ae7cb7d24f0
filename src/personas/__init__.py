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
from personas.cluster import Segmenter
from personas.io import EDA, ROLES, Schema, ValidationReport, eda, read_table, validate
from personas.model import Model, load
from personas.pipeline import Segmentation, segment
from personas.preprocess import BasisBuilder
from personas.profiles import Profiles, profile

__all__ = [
    "ROLES",
    "Profiles",
    "BasisBuilder",
    "EDA",
    "Model",
    "Schema",
    "Segmentation",
    "Segmenter",
    "ValidationReport",
    "__version__",
    "datasets",
    "eda",
    "errors",
    "load",
    "profile",
    "read_table",
    "segment",
    "validate",
]
