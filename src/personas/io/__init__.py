"""Reading user tables, inferring column roles and validating data quality.

The results are plain data; :mod:`personas.results` wraps them in objects that render.
"""

from personas.io._coerce import Change, coerce_frame
from personas.io._eda import Exploration, eda
from personas.io._quality import Finding
from personas.io._read import SourceInfo, load_table, read_table
from personas.io._schema import FEATURE_ROLES, ROLES, ColumnSpec, Schema
from personas.io._validate import Validation, validate, validate_user_table

__all__ = [
    "FEATURE_ROLES",
    "ROLES",
    "Change",
    "ColumnSpec",
    "Exploration",
    "Finding",
    "Schema",
    "SourceInfo",
    "Validation",
    "coerce_frame",
    "eda",
    "load_table",
    "read_table",
    "validate",
    "validate_user_table",
]
