"""The default store: one SQLite file in WAL mode, so that readers never wait for the
writer and a commit is one append. A write transaction begins ``IMMEDIATE`` (it takes the
file's write lock at once, ordering writers across processes) and commits with
``synchronous = FULL``: an acknowledged event survives the process being killed.
``secure_delete`` zeroes what a deletion frees, and the write-ahead log is checkpointed
and truncated after it, so that no copy of a deleted user is left in the files."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from personas.store._base import BaseStore, StoreError

__all__ = ["SQLiteStore"]


class SQLiteStore(BaseStore):
    """A SQLite store at ``path`` (created with its schema on first open)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        if self.path.is_dir():
            raise StoreError(f"--store {self.path} is a folder; give a file (personas.db).")
        if not self.path.parent.exists():
            raise StoreError(
                f"--store {self.path}: the folder {self.path.parent} does not exist; create it "
                "or choose another path."
            )
        if sqlite3.sqlite_version_info < (3, 35):
            raise StoreError(
                f"--store {self.path}: this Python's SQLite is {sqlite3.sqlite_version}; the "
                "store needs 3.35 or later (RETURNING). Use a newer Python, or PostgreSQL."
            )
        super().__init__()

    def _connect(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA busy_timeout = 30000")
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = FULL")
            con.execute("PRAGMA secure_delete = ON")
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"--store {self.path} is not a personas store SQLite can open ({exc}); give "
                "another path, or move the file away to start a new store."
            ) from None
        return con

    def _begin(self, con: Any) -> None:
        con.execute("BEGIN IMMEDIATE")

    def _tables(self) -> set[str]:
        try:
            rows = self.con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {r[0] for r in rows.fetchall()} - {"sqlite_sequence"}
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"--store {self.path} is not a SQLite database ({exc}); give another path, "
                "or move the file away to start a new store."
            ) from None

    def _after_forget(self) -> None:
        """Copy the log into the database and truncate it (retried while a reader holds
        it), so that the deleted rows' old pages leave the WAL file."""
        for _ in range(50):
            with self.lock:
                busy = self.con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                return
            time.sleep(0.1)
        raise StoreError(
            f"--store {self.path}: the write-ahead log could not be truncated after a "
            "deletion (a reader held it for 5 s); the deleted rows may stay in "
            f"{self.path.name}-wal until the next deletion or restart."
        )

    def files(self) -> list[Path]:
        """The store's files: the database, its WAL and shared-memory index."""
        return [self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")]

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.files() if p.exists())
