"""The clustering matrix: typed columns, imputed, transformed, encoded, scaled, weighted."""

from personas.preprocess._basis import BasisBuilder, TableTyper, default_basis

__all__ = ["BasisBuilder", "TableTyper", "default_basis"]
