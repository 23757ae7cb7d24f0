"""The profile store of ``personas serve``: events, the profile and segment of each user,
and the segment changes, in one SQLite file (WAL, so that readers never wait for the
writer and a commit is one append).

One writer at a time (the service holds a lock around each batch); each thread reads
through its own connection. A write is acknowledged only after its transaction commits
with ``synchronous = FULL``: an acknowledged event survives the process being killed.
The schema carries a version (``meta``): a store written by a newer personas is refused,
an older one is migrated step by step on open.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from personas.errors import PersonasError

__all__ = ["SCHEMA_VERSION", "Store", "StoreError", "open_store"]

SCHEMA_VERSION = 1

# Each version's statements, applied in order to a store of an older version.
_MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE IF NOT EXISTS events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL,
            ts REAL NOT NULL,
            body TEXT NOT NULL,
            received_at REAL NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS events_user ON events (user_id, ts)",
        """CREATE TABLE IF NOT EXISTS users (
            user_id TEXT PRIMARY KEY,
            profile TEXT NOT NULL,
            segment INTEGER,
            segment_name TEXT,
            confidence REAL,
            value REAL,
            as_of TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS users_segment ON users (segment)",
        """CREATE TABLE IF NOT EXISTS changes (
            change_id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id TEXT NOT NULL,
            from_segment INTEGER,
            to_segment INTEGER,
            at TEXT NOT NULL,
            event_id TEXT)""",
        "CREATE INDEX IF NOT EXISTS changes_user ON changes (user_id, change_id)",
        """CREATE TABLE IF NOT EXISTS traits (
            user_id TEXT PRIMARY KEY,
            traits TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS audit (
            audit_id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            user_hash TEXT NOT NULL,
            events INTEGER NOT NULL)""",
    ],
}


class StoreError(PersonasError):
    """The store cannot be opened or used (a bad URL, a newer schema, a damaged file)."""


def open_store(url: str | Path) -> Store:
    """The store at ``url``: ``sqlite:///path/to.db`` or a plain path (``personas.db``)."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        raise StoreError(
            f"--store {text.split('@')[-1]!r}: the PostgreSQL store is not available yet; "
            "use a SQLite file (--store sqlite:///personas.db, the default)."
        )
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") :]
    elif "://" in text:
        raise StoreError(
            f"--store {text!r} is not a store URL personas knows; use sqlite:///path.db "
            "(or a plain path to a .db file)."
        )
    if not text or text == ":memory:":
        raise StoreError("--store needs a file (sqlite:///personas.db): the store must last.")
    return Store(Path(text))


class Store:
    """A SQLite store at ``path`` (created with its schema on first open)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(f"--store {self.path} is a folder; give a file (personas.db).")
        if not self.path.parent.exists():
            raise StoreError(
                f"--store {self.path}: the folder {self.path.parent} does not exist; create it "
                "or choose another path."
            )
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self.lock = threading.RLock()  # (one writer: held around each batch)
        self._migrate()

    # ------------------------------------------------------------------ connections
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
        with self._guard:
            self._connections.append(con)
        return con

    @property
    def con(self) -> sqlite3.Connection:
        """This thread's connection."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
        return con

    def close(self) -> None:
        with self._guard:
            for con in self._connections:
                con.close()
            self._connections.clear()
        self._local = threading.local()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``), under the writer lock;
        rolled back when the block raises."""
        with self.lock:
            con = self.con
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _migrate(self) -> None:
        con = self.con
        try:
            has_meta = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"--store {self.path} is not a SQLite database ({exc}); give another path, "
                "or move the file away to start a new store."
            ) from None
        version = 0
        if has_meta:
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
        elif con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise StoreError(
                f"--store {self.path} is a SQLite database of something else (it has tables "
                "but no personas schema); give a new path."
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"--store {self.path} was written by a newer personas (store schema version "
                f"{version}; this one knows up to {SCHEMA_VERSION}). Upgrade personas "
                "(pip install -U personas) or give another store."
            )
        if version == SCHEMA_VERSION:
            return
        with self.transaction() as tx:
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[v]:
                    tx.execute(statement)
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )

    # ------------------------------------------------------------------ meta
    def meta(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, tx: sqlite3.Connection, key: str, value: str) -> None:
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ------------------------------------------------------------------ writes
    @staticmethod
    def add_events(
        tx: sqlite3.Connection, events: Iterable[dict[str, Any]], now: float
    ) -> list[bool]:
        """Insert events (``event_id``, ``user_id``, ``ts`` in Unix seconds, ``body``);
        per event, whether it is new (False: its id was stored before)."""
        out = []
        for e in events:
            cur = tx.execute(
                "INSERT INTO events (event_id, user_id, ts, body, received_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                (e["event_id"], e["user_id"], e["ts"], json.dumps(e["body"]), now),
            )
            out.append(cur.rowcount == 1)
        return out

    @staticmethod
    def put_users(tx: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
        tx.executemany(
            "INSERT INTO users (user_id, profile, segment, segment_name, confidence, value, "
            "as_of, updated_at) VALUES (:user_id, :profile, :segment, :segment_name, "
            ":confidence, :value, :as_of, :updated_at) ON CONFLICT (user_id) DO UPDATE SET "
            "profile = excluded.profile, segment = excluded.segment, segment_name = "
            "excluded.segment_name, confidence = excluded.confidence, value = excluded.value, "
            "as_of = excluded.as_of, updated_at = excluded.updated_at",
            rows,
        )

    @staticmethod
    def put_traits(tx: sqlite3.Connection, user_id: str, traits: dict[str, Any], at: str) -> None:
        """Merge ``traits`` into the user's attributes (an identify call's)."""
        row = tx.execute("SELECT traits FROM traits WHERE user_id = ?", (user_id,)).fetchone()
        merged = (json.loads(row[0]) if row else {}) | traits
        tx.execute(
            "INSERT INTO traits (user_id, traits, updated_at) VALUES (?, ?, ?) ON CONFLICT "
            "(user_id) DO UPDATE SET traits = excluded.traits, updated_at = excluded.updated_at",
            (user_id, json.dumps(merged), at),
        )

    def traits(self, user_id: str) -> dict[str, Any] | None:
        row = self.con.execute("SELECT traits FROM traits WHERE user_id = ?", (user_id,)).fetchone()
        return json.loads(row[0]) if row else None

    @staticmethod
    def add_changes(tx: sqlite3.Connection, changes: list[dict[str, Any]]) -> list[int]:
        ids = []
        for c in changes:
            cur = tx.execute(
                "INSERT INTO changes (user_id, from_segment, to_segment, at, event_id) "
                "VALUES (:user_id, :from, :to, :at, :event_id)",
                c,
            )
            ids.append(int(cur.lastrowid))
        return ids

    def forget_user(self, user_id: str, at: str) -> int | None:
        """Delete every trace of ``user_id`` (events, profile, changes) in one transaction,
        keep an audit record with only a salted hash of the id, and checkpoint the WAL so
        that no copy of the deleted rows is left in the files (``secure_delete`` zeroes
        freed space in the database file). The events deleted; None for an unknown user."""
        with self.transaction() as tx:
            events = tx.execute("DELETE FROM events WHERE user_id = ?", (user_id,)).rowcount
            users = tx.execute("DELETE FROM users WHERE user_id = ?", (user_id,)).rowcount
            tx.execute("DELETE FROM changes WHERE user_id = ?", (user_id,))
            users += tx.execute("DELETE FROM traits WHERE user_id = ?", (user_id,)).rowcount
            if not events and not users:
                return None
            tx.execute(
                "INSERT INTO audit (at, action, user_hash, events) VALUES (?, 'delete', ?, ?)",
                (at, self._salted(tx, user_id), events),
            )
        with self.lock:
            self.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return events

    def _salted(self, tx: sqlite3.Connection, user_id: str) -> str:
        """A salted SHA-256 of ``user_id`` (the salt is the store's own, made once)."""
        row = tx.execute("SELECT value FROM meta WHERE key = 'audit_salt'").fetchone()
        salt = row[0] if row else secrets.token_hex(16)
        if row is None:
            self.set_meta(tx, "audit_salt", salt)
        return hashlib.sha256((salt + user_id).encode()).hexdigest()

    def audit(self) -> list[dict[str, Any]]:
        rows = self.con.execute(
            "SELECT audit_id, at, action, user_hash, events FROM audit ORDER BY audit_id"
        ).fetchall()
        return [dict(zip(("audit_id", "at", "action", "user_hash", "events"), r, strict=True))
                for r in rows]  # fmt: skip

    # ------------------------------------------------------------------ reads
    def events_of(self, user_ids: list[str], con: sqlite3.Connection | None = None) -> list[dict]:
        """The stored events of ``user_ids`` (their bodies), oldest first."""
        con = con or self.con
        out: list[dict] = []
        for start in range(0, len(user_ids), 500):
            chunk = user_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = con.execute(
                f"SELECT body FROM events WHERE user_id IN ({marks}) ORDER BY ts, seq", chunk
            ).fetchall()
            out += [json.loads(r[0]) for r in rows]
        return out

    def segments_of(self, user_ids: list[str], con: sqlite3.Connection | None = None) -> dict:
        con = con or self.con
        out: dict[str, int | None] = {}
        for start in range(0, len(user_ids), 500):
            chunk = user_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = con.execute(
                f"SELECT user_id, segment FROM users WHERE user_id IN ({marks})", chunk
            ).fetchall()
            out.update(dict(rows))
        return out

    def user(self, user_id: str) -> dict[str, Any] | None:
        row = self.con.execute(
            "SELECT user_id, profile, segment, segment_name, confidence, as_of, updated_at "
            "FROM users WHERE user_id = ?",
            (user_id,),
        ).fetchone()
        if row is None:
            return None
        keys = ("user_id", "profile", "segment", "segment_name", "confidence", "as_of")
        out = dict(zip(keys, row[:6], strict=True)) | {"updated_at": row[6]}
        out["profile"] = json.loads(out["profile"])
        return out

    def history(self, user_id: str) -> list[dict[str, Any]]:
        rows = self.con.execute(
            "SELECT change_id, from_segment, to_segment, at, event_id FROM changes "
            "WHERE user_id = ? ORDER BY change_id",
            (user_id,),
        ).fetchall()
        keys = ("change_id", "from", "to", "at", "event_id")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def changes_after(self, cursor: int, limit: int) -> list[dict[str, Any]]:
        """Segment changes with an id above ``cursor``, in commit order."""
        rows = self.con.execute(
            "SELECT change_id, user_id, from_segment, to_segment, at, event_id FROM changes "
            "WHERE change_id > ? ORDER BY change_id LIMIT ?",
            (cursor, limit),
        ).fetchall()
        keys = ("change_id", "user_id", "from", "to", "at", "event_id")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def user_ids(self) -> list[str]:
        """Every user with an event, in id order."""
        rows = self.con.execute("SELECT DISTINCT user_id FROM events ORDER BY user_id")
        return [r[0] for r in rows.fetchall()]

    def last_change_id(self) -> int:
        row = self.con.execute("SELECT max(change_id) FROM changes").fetchone()
        return int(row[0] or 0)

    def segment_counts(self) -> dict[int | None, tuple[int, float]]:
        """Per segment: its users and their summed value."""
        rows = self.con.execute(
            "SELECT segment, count(*), coalesce(sum(value), 0) FROM users GROUP BY segment"
        ).fetchall()
        return {seg: (int(n), float(v)) for seg, n, v in rows}

    def files(self) -> list[Path]:
        """The store's files: the database, its WAL and shared-memory index."""
        return [self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")]

    def counts(self) -> dict[str, int]:
        con = self.con
        return {
            "events": int(con.execute("SELECT count(*) FROM events").fetchone()[0]),
            "users": int(con.execute("SELECT count(*) FROM users").fetchone()[0]),
        }
