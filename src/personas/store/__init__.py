"""The profile store of the real-time service: SQLite (WAL) by default."""

from personas.store._sqlite import SCHEMA_VERSION, Store, StoreError, open_store

__all__ = ["SCHEMA_VERSION", "Store", "StoreError", "open_store"]
