"""How ``personas serve`` is set up: the API keys it accepts, a TOML settings file, and the
application built from the environment in each worker process (``--workers``).

Each setting comes from its flag, else its ``PERSONAS_*`` environment variable, else the
``[serve]`` table of the ``--config`` TOML file, else its default.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from personas.errors import InputFileError

__all__ = ["SETTINGS", "app_from_environment", "read_config", "read_keys"]

#: The settings a TOML file may hold, with their types.
SETTINGS: dict[str, type] = {
    "store": str, "host": str, "port": int, "workers": int, "rescore_every": float,
    "api_keys_file": str, "load": str,
}  # fmt: skip


def read_keys(keys: str | None, keys_file: str | Path | None) -> list[str]:
    """The API keys: ``keys`` comma-separated (``PERSONAS_API_KEYS``) and the lines of
    ``keys_file`` (blank lines and lines starting with # left out)."""
    found = [k.strip() for k in (keys or "").split(",") if k.strip()]
    if keys_file:
        path = Path(keys_file)
        if not path.is_file():
            raise InputFileError(f"--api-keys-file {path}: no such file.")
        lines = path.read_text(encoding="utf-8").splitlines()
        found += [k.strip() for k in lines if k.strip() and not k.strip().startswith("#")]
    return found


def read_config(path: Path) -> dict[str, Any]:
    """The ``[serve]`` table of a TOML settings file, checked key by key."""
    if not path.is_file():
        raise InputFileError(f"--config {path}: no such file.")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(f"--config {path} is not valid TOML ({exc}).") from None
    table = doc.get("serve")
    if not isinstance(table, dict):
        raise InputFileError(
            f"--config {path} has no [serve] table; write one, e.g. [serve] then "
            'store = "sqlite:///personas.db" and port = 8000.'
        )
    out: dict[str, Any] = {}
    for key, value in table.items():
        kind = SETTINGS.get(key.replace("-", "_"))
        if kind is None:
            raise InputFileError(
                f"--config {path}, [serve]: unknown setting {key!r}; use one of {sorted(SETTINGS)}."
            )
        ok = isinstance(value, kind) or (kind is float and isinstance(value, int))
        if not ok or isinstance(value, bool):
            raise InputFileError(
                f"--config {path}, [serve]: {key} must be a {kind.__name__}, not {value!r}."
            )
        out[key.replace("-", "_")] = kind(value)
    return out


def app_from_environment() -> Any:
    """The application of one worker process, from the environment the command set:
    ``PERSONAS_SERVE_MODEL``, ``PERSONAS_STORE``, the keys (``PERSONAS_API_KEYS``,
    ``PERSONAS_API_KEYS_FILE``) and ``PERSONAS_RESCORE_EVERY``."""
    from personas.model import load
    from personas.serve._app import create_app
    from personas.serve._engine import Engine
    from personas.store import open_store

    env = os.environ
    engine = Engine(load(env["PERSONAS_SERVE_MODEL"]), open_store(env["PERSONAS_STORE"]))
    keys = read_keys(env.get("PERSONAS_API_KEYS"), env.get("PERSONAS_API_KEYS_FILE"))
    every = float(env.get("PERSONAS_RESCORE_EVERY", "3600"))
    return create_app(engine, api_keys=keys, rescore_every=every)
