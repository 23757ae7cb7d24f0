"""The clustering matrix: typed columns, imputed, transformed, encoded, scaled, weighted."""

from personas.preprocess._basis import (
    BasisBuilder,
    BasisColumn,
    TableTyper,
    default_basis,
    skew_transform,
)

__all__ = ["BasisBuilder", "BasisColumn", "TableTyper", "default_basis", "skew_transform"]
