"""How ``personas serve`` is set up: its settings (pydantic-settings), the API keys it
accepts, and the application built from the environment in each worker process
(``--workers``).

Each setting comes from its flag, else its ``PERSONAS_*`` environment variable, else the
``[serve]`` table of the ``--config`` TOML file, else its default. A bad value is refused
with a message naming where it came from (the flag, the variable or the file's key), what
was expected and what was found.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, InitSettingsSource, SettingsConfigDict

from personas.errors import InputFileError

__all__ = ["ServeSettings", "app_from_environment", "read_keys", "read_settings"]


MAX_RESCORE = 366 * 86_400.0  # seconds: a year (a timer cannot wait for ever)


class ServeSettings(BaseSettings):
    """The settings of ``personas serve`` (the API keys aside: they are secrets, read
    from ``PERSONAS_API_KEYS`` or ``api_keys_file``, never from the TOML file)."""

    model_config = SettingsConfigDict(env_prefix="PERSONAS_", extra="forbid")

    store: str = "sqlite:///personas.db"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1)
    rescore_every: float = Field(3600.0, ge=0, le=MAX_RESCORE, allow_inf_nan=False)
    api_keys_file: Path | None = None
    load: str | None = None

    @field_validator("port", "workers", "rescore_every", mode="before")
    @classmethod
    def _not_a_flag(cls, value: Any) -> Any:
        if isinstance(value, bool):  # (pydantic reads true as 1)
            raise ValueError("expected a number, not true or false")
        return value


#: The settings' names, as the TOML file writes them.
SETTINGS = sorted(ServeSettings.model_fields)


def read_settings(flags: dict[str, Any], config: Path | None = None) -> ServeSettings:
    """The settings: ``flags`` (the command's, None where not given) over the
    ``PERSONAS_*`` variables over ``config``'s ``[serve]`` table over the defaults."""
    given = {k: v for k, v in flags.items() if v is not None}
    table = _config_table(config) if config is not None else {}

    class _Sourced(ServeSettings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, **_):
            return (init_settings, env_settings, InitSettingsSource(settings_cls, table))

    try:
        return _Sourced(**given)
    except ValidationError as exc:
        raise InputFileError(_explain(exc, given, config)) from None


def _config_table(path: Path) -> dict[str, Any]:
    """The ``[serve]`` table of a settings file; a clear error for a file that is
    missing, not TOML, or without that table."""
    if not path.is_file():
        raise InputFileError(f"--config {path}: no such file.")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(f"--config {path} is not valid TOML ({exc}).") from None
    if not isinstance(doc.get("serve"), dict):
        raise InputFileError(
            f"--config {path} has no [serve] table; write one, e.g. [serve] then "
            'store = "sqlite:///personas.db" and port = 8000.'
        )
    return {str(k).replace("-", "_"): v for k, v in doc["serve"].items()}  # (rescore-every)


def _explain(exc: ValidationError, given: dict[str, Any], config: Path | None) -> str:
    """Each refused setting: where it came from, what was expected, what came."""
    problems = []
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error["loc"] else "?"
        if error["type"] == "extra_forbidden":
            problems.append(
                f"--config {config}, [serve]: unknown setting {name!r}; use one of {SETTINGS}"
            )
            continue
        variable = f"PERSONAS_{name.upper()}"
        if name in given:
            where = f"--{name.replace('_', '-')}"
        elif variable in os.environ:
            where = variable
        else:
            where = f"--config {config}, [serve] {name}"
        said = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {said[0].lower()}{said[1:]}; got {error['input']!r}")
    return ". ".join(problems) + "."


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


def app_from_environment() -> Any:
    """The application of one worker process, from what the command exported after
    reading and checking the settings: ``PERSONAS_SERVE_MODEL``, ``PERSONAS_STORE``,
    ``PERSONAS_RESCORE_EVERY``, the keys (``PERSONAS_API_KEYS``,
    ``PERSONAS_API_KEYS_FILE``). (Not the whole settings again: a variable a flag
    overrode is not read, so it cannot stop a worker.)"""
    from personas.model import load
    from personas.serve._app import create_app
    from personas.serve._engine import Engine
    from personas.store import open_store

    env = os.environ
    engine = Engine(load(env["PERSONAS_SERVE_MODEL"]), open_store(env["PERSONAS_STORE"]))
    keys = read_keys(env.get("PERSONAS_API_KEYS"), env.get("PERSONAS_API_KEYS_FILE"))
    every = float(env.get("PERSONAS_RESCORE_EVERY", "3600"))
    return create_app(engine, api_keys=keys, rescore_every=every)
