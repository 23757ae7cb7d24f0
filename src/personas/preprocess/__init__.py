"""The clustering matrix: impute, skew transform, clip, encode, scale, equal say per column."""

from personas.preprocess._basis import BasisBuilder, default_basis

__all__ = ["BasisBuilder", "default_basis"]
