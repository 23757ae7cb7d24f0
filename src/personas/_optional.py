"""Lazy imports of optional dependencies, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from personas.errors import MissingDependencyError

#: import name -> (distribution name, extra of personas that installs it)
OPTIONAL_DEPENDENCIES: dict[str, tuple[str, str]] = {
    "openpyxl": ("openpyxl", "excel"),
    "fastapi": ("fastapi", "serve"),
    "uvicorn": ("uvicorn", "serve"),
    "pydantic_settings": ("pydantic-settings", "serve"),
    "psycopg": ("psycopg", "postgres"),
    "pyspark": ("pyspark", "spark"),
    "torch": ("torch", "deep"),
    "umap": ("umap-learn", "umap"),
}


def import_optional(name: str, *, purpose: str | None = None) -> ModuleType:
    """Import an optional dependency or raise an error naming the extra that installs it.

    Parameters
    ----------
    name : str
        The module to import, e.g. ``"openpyxl"``.
    purpose : str, optional
        What the caller needs it for, shown in the error ("to read Excel files").

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingDependencyError
        If the module is not installed.

    Examples
    --------
    >>> json = import_optional("json")
    >>> json.dumps([1])
    '[1]'
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        top = name.split(".")[0]
        dist, extra = OPTIONAL_DEPENDENCIES.get(top, (top, None))
        why = f" {purpose}" if purpose else ""
        hint = f"pip install {dist}" if extra is None else f"pip install 'personas[{extra}]'"
        raise MissingDependencyError(
            f"personas needs the optional package {dist!r}{why}, and it is not installed. "
            f"Install it with: {hint}"
        ) from exc
