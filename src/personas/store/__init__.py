"""The profile store of the real-time service: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path

from personas.store._base import SCHEMA_VERSION, BaseStore, StoreError
from personas.store._sqlite import SQLiteStore

__all__ = ["SCHEMA_VERSION", "BaseStore", "SQLiteStore", "StoreError", "open_store"]


def open_store(url: str | Path) -> BaseStore:
    """The store at ``url``: ``sqlite:///path/to.db`` or a plain path (``personas.db``), or
    ``postgresql://user:password@host:port/database``."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        from personas.store._postgres import PostgresStore

        return PostgresStore(text)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") :]
    elif "://" in text:
        raise StoreError(
            f"--store {text!r} is not a store URL personas knows; use sqlite:///path.db (or a "
            "plain path to a .db file) or postgresql://user@host/database."
        )
    if not text or text == ":memory:":
        raise StoreError("--store needs a file (sqlite:///personas.db): the store must last.")
    return SQLiteStore(Path(text))
