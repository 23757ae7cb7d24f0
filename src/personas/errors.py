"""Typed errors and warnings raised by personas.

Every error says *where* (file, column, row or field), *what was expected*, *what was
found* and *how to fix it*. The command line prints them without a traceback (exit
code 2) and the API maps them to 4xx responses.

Examples
--------
>>> from personas.errors import DataError
>>> try:
...     raise DataError("users.csv is empty: no header and no rows.")
... except DataError as exc:
...     print(exc)
users.csv is empty: no header and no rows.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "DataQualityWarning",
    "EmptyDataError",
    "NoUsableEventsError",
    "FileFormatError",
    "InputFileError",
    "MissingDependencyError",
    "PersonasError",
    "PersonasWarning",
    "SchemaError",
]


class PersonasError(ValueError):
    """Base class of every error personas raises on purpose.

    It subclasses :class:`ValueError` so that code catching bad-input errors in the
    usual way keeps working.
    """

    exit_code = 2


class InputFileError(PersonasError):
    """A file cannot be found, opened or read (missing path, directory, permissions)."""


class FileFormatError(PersonasError):
    """A file is not in a format personas reads, or its content cannot be parsed."""


class EmptyDataError(PersonasError):
    """The input holds no rows (an empty file, or a header with no data)."""


class DataError(PersonasError):
    """The data are readable but unusable as given (duplicate ids, no feature column…)."""


class NoUsableEventsError(DataError):
    """An event log none of whose lines can be profiled: each lacks a user id or a
    readable time, or lies at or after as_of."""


class SchemaError(PersonasError):
    """A schema (inferred or from a file) does not fit the data or is malformed."""


class MissingDependencyError(PersonasError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    exit_code = 3


class PersonasWarning(UserWarning):
    """Base class of the warnings personas emits."""


class DataQualityWarning(PersonasWarning):
    """Something in the data looks wrong but the run can go on (values coerced, rows skipped)."""
