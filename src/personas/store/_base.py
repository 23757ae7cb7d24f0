"""What every profile store of ``personas serve`` holds and answers, whatever the
database: events (unique by ``event_id``), each user's profile and segment, the segment
changes, identify traits and an audit of deletions. The SQL is written once, with ``?`` and
``:name`` parameters; each database says how it connects, opens a write transaction,
creates its schema and cleans up after a deletion (``_sqlite``, ``_postgres``).

One writer at a time: the service holds ``lock`` around each batch in a process, and the
database's own lock orders the processes. Each thread reads through its own connection.
The schema carries a version (``meta``): a store written by a newer personas is refused,
an older one is migrated step by step on open.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from personas.errors import PersonasError

__all__ = ["SCHEMA_VERSION", "BaseStore", "StoreError"]

SCHEMA_VERSION = 3

# Each version's statements, applied in order to a store of an older version.
MIGRATIONS: dict[int, list[str]] = {
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
    # 2: segment sizes kept per day as they change (the dashboard's sizes over time, read
    # without counting users), filled from the changes already stored; members listed by
    # segment in id order from an index; each segment's users and value kept as totals.
    2: [
        """CREATE TABLE IF NOT EXISTS segment_days (
            day TEXT NOT NULL,
            segment INTEGER NOT NULL,
            delta INTEGER NOT NULL,
            PRIMARY KEY (day, segment))""",
        """INSERT INTO segment_days (day, segment, delta)
            SELECT day, segment, sum(delta) FROM (
                SELECT substr(at, 1, 10) AS day, to_segment AS segment, 1 AS delta
                FROM changes WHERE to_segment IS NOT NULL
                UNION ALL
                SELECT substr(at, 1, 10), from_segment, -1
                FROM changes WHERE from_segment IS NOT NULL) AS moves
            GROUP BY day, segment""",
        "CREATE INDEX IF NOT EXISTS users_segment_id ON users (segment, user_id)",
        "DROP INDEX IF EXISTS users_segment",
        # Each segment's users and summed value, kept as users are written and deleted
        # (read in the time of a few rows, however many users there are).
        """CREATE TABLE IF NOT EXISTS segment_totals (
            segment INTEGER PRIMARY KEY,
            users BIGINT NOT NULL,
            value REAL NOT NULL)""",
        """INSERT INTO segment_totals (segment, users, value)
            SELECT segment, count(*), coalesce(sum(value), 0) FROM users
            WHERE segment IS NOT NULL GROUP BY segment""",
        # Rows counted as they are written (a count(*) reads every row: seconds at 10M)
        "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n BIGINT NOT NULL)",
        "INSERT INTO counters (name, n) SELECT 'events', count(*) FROM events",
        "INSERT INTO counters (name, n) SELECT 'users', count(*) FROM users",
    ],
    # 3: the dashboard's sessions ended by a log out before they expire; the latest
    # event's time kept (read once here, then as events are written).
    3: [
        "CREATE TABLE IF NOT EXISTS ended_sessions (nonce TEXT PRIMARY KEY, expires REAL NOT NULL)",
        """INSERT INTO meta (key, value)
            SELECT 'latest_event', CAST(max(ts) AS TEXT) FROM events HAVING count(*) > 0
            ON CONFLICT (key) DO NOTHING""",
    ],
}


class StoreError(PersonasError):
    """The store cannot be opened or used (a bad URL, a newer schema, a damaged file)."""


class BaseStore:
    """The queries of a store; subclasses connect and write (see the module)."""

    name = "the store"
    #: a parameter as the driver writes it: "?" (sqlite3) or "%s" (psycopg)
    param = "?"

    def __init__(self) -> None:
        self._local = threading.local()
        self._connections: list[Any] = []
        self._guard = threading.Lock()
        self.lock = threading.RLock()  # (one writer in this process: held around a batch)
        self._migrate()

    # ------------------------------------------------------------------ connections
    def _connect(self) -> Any:
        raise NotImplementedError

    @property
    def con(self) -> Any:
        """This thread's connection."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
            with self._guard:
                self._connections.append(con)
        return con

    def close(self) -> None:
        with self._guard:
            for con in self._connections:
                con.close()
            self._connections.clear()
        self._local = threading.local()

    def _begin(self, con: Any) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """One write transaction, under the writer locks; rolled back when the block
        raises."""
        with self.lock:
            con = self.con
            try:
                self._begin(con)
                yield con
                con.execute("COMMIT")
            except BaseException:
                try:
                    con.execute("ROLLBACK")
                except Exception:  # (a broken connection: the next use opens a new one)
                    self._discard(con)
                raise

    def _discard(self, con: Any) -> None:
        """Drop this thread's connection ``con`` (broken: a server restarted, a failed
        commit); the next query opens a new one."""
        with self._guard:
            if con in self._connections:
                self._connections.remove(con)
        if getattr(self._local, "con", None) is con:
            self._local.con = None
        with contextlib.suppress(Exception):
            con.close()

    def _run(self, con: Any, sql: str, params: Any = ()) -> Any:
        """``sql`` (with ``?`` or ``:name`` parameters) run on ``con``."""
        return con.execute(self._sql(sql), params)

    def _many(self, con: Any, sql: str, rows: list[Any]) -> None:
        con.cursor().executemany(self._sql(sql), rows)

    def _sql(self, sql: str) -> str:
        if self.param == "?":
            return sql
        return re.sub(r":(\w+)", r"%(\1)s", sql.replace("?", "%s"))

    def _tables(self) -> set[str]:
        raise NotImplementedError

    def _schema(self, statement: str) -> str:
        """A migration's statement in this database's dialect."""
        return statement

    def _migrate(self) -> None:
        tables = self._tables()
        version = 0
        if "meta" in tables:
            row = self._run(
                self.con, "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()
            version = int(row[0]) if row else 0
        elif tables:
            raise StoreError(
                f"--store {self.name} is a database of something else (it has tables but no "
                "personas schema); give a new one."
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"--store {self.name} was written by a newer personas (store schema version "
                f"{version}; this one knows up to {SCHEMA_VERSION}). Upgrade personas "
                "(pip install -U personas) or give another store."
            )
        if version == SCHEMA_VERSION:
            return
        with self.transaction() as tx:
            # Read again under the write lock: another process may have migrated meanwhile.
            version = 0
            if "meta" in self._tables():
                row = tx.execute(
                    self._sql("SELECT value FROM meta WHERE key = 'schema_version'")
                ).fetchone()
                version = int(row[0]) if row else 0
            if version >= SCHEMA_VERSION:
                return
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[v]:
                    tx.execute(self._schema(statement))
            self.set_meta(tx, "schema_version", str(SCHEMA_VERSION))

    def _after_forget(self) -> None:
        """What a deletion leaves to clean up, outside its transaction."""

    def size_bytes(self) -> int:
        """The bytes the store takes."""
        raise NotImplementedError

    # ------------------------------------------------------------------ meta
    def meta(self, key: str) -> str | None:
        row = self._run(self.con, "SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, tx: Any, key: str, value: str) -> None:
        self._run(
            tx,
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ------------------------------------------------------------------ writes
    def add_events(self, tx: Any, events: Iterable[dict[str, Any]], now: float) -> list[bool]:
        """Insert events (``event_id``, ``user_id``, ``ts`` in Unix seconds, ``body``);
        per event, whether it is new (False: its id was stored before)."""
        events = list(events)
        out = []
        for e in events:
            cur = self._run(
                tx,
                "INSERT INTO events (event_id, user_id, ts, body, received_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                (e["event_id"], e["user_id"], e["ts"], json.dumps(e["body"]), now),
            )
            out.append(cur.rowcount == 1)
        self._count(tx, "events", sum(out))
        new = [e["ts"] for e, fresh in zip(events, out, strict=True) if fresh]
        if new:  # (the latest event's time, kept: the dashboard says when data are old)
            row = self._run(tx, "SELECT value FROM meta WHERE key = 'latest_event'").fetchone()
            if row is None or max(new) > float(row[0]):
                self.set_meta(tx, "latest_event", repr(float(max(new))))
        return out

    def latest_event(self) -> float | None:
        """The time (Unix seconds) of the latest event stored; None without events."""
        found = self.meta("latest_event")  # (kept since the schema's version 3)
        return None if found is None else float(found)

    def _count(self, tx: Any, name: str, n: int) -> None:
        if n:
            self._run(tx, "UPDATE counters SET n = n + ? WHERE name = ?", (n, name))

    def put_users(self, tx: Any, rows: list[dict[str, Any]]) -> dict[str, int | None]:
        """Write users' profiles and segments, and move the segments' totals by what the
        rows change (a user's segment and value before, and now). User id → segment
        before, for the users the store had."""
        sql = "SELECT user_id, segment, value FROM users WHERE user_id IN ({ids})"
        before = {u: (seg, value) for u, seg, value in
                  self._for_users(sql, [r["user_id"] for r in rows], tx)}  # fmt: skip
        totals: dict[int, list[float]] = {}
        for row in rows:
            for seg, value, sign in (
                (*before.get(row["user_id"], (None, None)), -1),
                (row["segment"], row["value"], 1),
            ):
                if seg is not None:
                    moved = totals.setdefault(int(seg), [0, 0.0])
                    moved[0] += sign
                    moved[1] += sign * (value or 0.0)
        self._total(tx, totals)
        self._count(tx, "users", len({r["user_id"] for r in rows} - set(before)))
        self._many(
            tx,
            "INSERT INTO users (user_id, profile, segment, segment_name, confidence, value, "
            "as_of, updated_at) VALUES (:user_id, :profile, :segment, :segment_name, "
            ":confidence, :value, :as_of, :updated_at) ON CONFLICT (user_id) DO UPDATE SET "
            "profile = excluded.profile, segment = excluded.segment, segment_name = "
            "excluded.segment_name, confidence = excluded.confidence, value = excluded.value, "
            "as_of = excluded.as_of, updated_at = excluded.updated_at",
            rows,
        )
        return {u: seg for u, (seg, _) in before.items()}

    def put_traits(self, tx: Any, user_id: str, traits: dict[str, Any], at: str) -> None:
        """Merge ``traits`` into the user's attributes (an identify call's)."""
        row = self._run(tx, "SELECT traits FROM traits WHERE user_id = ?", (user_id,)).fetchone()
        merged = (json.loads(row[0]) if row else {}) | traits
        self._run(
            tx,
            "INSERT INTO traits (user_id, traits, updated_at) VALUES (?, ?, ?) ON CONFLICT "
            "(user_id) DO UPDATE SET traits = excluded.traits, updated_at = excluded.updated_at",
            (user_id, json.dumps(merged), at),
        )

    def traits(self, user_id: str) -> dict[str, Any] | None:
        row = self._run(
            self.con, "SELECT traits FROM traits WHERE user_id = ?", (user_id,)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def add_changes(self, tx: Any, changes: list[dict[str, Any]]) -> list[int]:
        """Record segment changes (and the segments' sizes of their day); their ids."""
        ids = []
        moves: dict[tuple[str, int], int] = {}
        for c in changes:
            cur = self._run(
                tx,
                "INSERT INTO changes (user_id, from_segment, to_segment, at, event_id) "
                "VALUES (:user_id, :from, :to, :at, :event_id) RETURNING change_id",
                c,
            )
            ids.append(int(cur.fetchone()[0]))
            for segment, delta in ((c["from"], -1), (c["to"], 1)):
                if segment is not None:
                    key = (c["at"][:10], int(segment))
                    moves[key] = moves.get(key, 0) + delta
        self._move(tx, moves)
        return ids

    def _total(self, tx: Any, totals: dict[int, list[float]]) -> None:
        """Add (users, value) to each segment's totals."""
        self._many(
            tx,
            "INSERT INTO segment_totals (segment, users, value) VALUES (?, ?, ?) ON CONFLICT "
            "(segment) DO UPDATE SET users = segment_totals.users + excluded.users, "
            "value = segment_totals.value + excluded.value",
            [(seg, int(n), float(v)) for seg, (n, v) in totals.items() if n or v],
        )

    def _move(self, tx: Any, moves: dict[tuple[str, int], int]) -> None:
        """Add ``moves`` ((day, segment) → users in less users out) to the sizes per day."""
        self._many(
            tx,
            "INSERT INTO segment_days (day, segment, delta) VALUES (?, ?, ?) ON CONFLICT "
            "(day, segment) DO UPDATE SET delta = segment_days.delta + excluded.delta",
            [(day, segment, delta) for (day, segment), delta in moves.items() if delta],
        )

    def forget_user(self, user_id: str, at: str) -> int | None:
        """Delete every trace of ``user_id`` (events, profile, changes) in one transaction,
        keep an audit record with only a salted hash of the id, and checkpoint the WAL so
        that no copy of the deleted rows is left in the files (``secure_delete`` zeroes
        freed space in the database file). The events deleted; None for an unknown user."""
        with self.transaction() as tx:
            events = self._run(tx, "DELETE FROM events WHERE user_id = ?", (user_id,)).rowcount
            row = self._run(tx, "SELECT segment, value FROM users WHERE user_id = ?", (user_id,))
            segment = row.fetchone()
            if segment is not None and segment[0] is not None:  # (one user fewer from today)
                self._move(tx, {(at[:10], int(segment[0])): -1})
                self._total(tx, {int(segment[0]): [-1, -(segment[1] or 0.0)]})
            users = self._run(tx, "DELETE FROM users WHERE user_id = ?", (user_id,)).rowcount
            self._count(tx, "events", -events)
            self._count(tx, "users", -users)
            self._run(tx, "DELETE FROM changes WHERE user_id = ?", (user_id,))
            users += self._run(tx, "DELETE FROM traits WHERE user_id = ?", (user_id,)).rowcount
            if not events and not users:
                return None
            self._run(
                tx,
                "INSERT INTO audit (at, action, user_hash, events) VALUES (?, 'delete', ?, ?)",
                (at, self._salted(tx, user_id), events),
            )
        self._after_forget()
        return events

    def _salted(self, tx: Any, user_id: str) -> str:
        """A salted SHA-256 of ``user_id`` (the salt is the store's own, made once)."""
        row = self._run(tx, "SELECT value FROM meta WHERE key = 'audit_salt'").fetchone()
        salt = row[0] if row else secrets.token_hex(16)
        if row is None:
            self.set_meta(tx, "audit_salt", salt)
        return hashlib.sha256((salt + user_id).encode()).hexdigest()

    def audit(self) -> list[dict[str, Any]]:
        rows = self._run(
            self.con, "SELECT audit_id, at, action, user_hash, events FROM audit ORDER BY audit_id"
        ).fetchall()
        return [dict(zip(("audit_id", "at", "action", "user_hash", "events"), r, strict=True))
                for r in rows]  # fmt: skip

    # ------------------------------------------------------------------ reads
    def _for_users(self, sql: str, user_ids: list[str], con: Any | None) -> list[tuple]:
        """The rows of ``sql`` (its ``{ids}``: the user ids' parameters), 500 users a query."""
        rows: list[tuple] = []
        for start in range(0, len(user_ids), 500):
            chunk = user_ids[start : start + 500]
            query = sql.format(ids=",".join("?" * len(chunk)))
            rows += self._run(con or self.con, query, chunk).fetchall()
        return rows

    def events_of(self, user_ids: list[str], con: Any | None = None) -> list[dict]:
        """The stored events of ``user_ids`` (their bodies; each user's oldest first)."""
        sql = "SELECT body FROM events WHERE user_id IN ({ids}) ORDER BY ts, seq"
        return [json.loads(r[0]) for r in self._for_users(sql, user_ids, con)]

    def recent_events(self, user_id: str, limit: int) -> tuple[list[dict], int]:
        """The user's latest ``limit`` events (newest first) and how many are stored."""
        rows = self._run(
            self.con,
            "SELECT body FROM events WHERE user_id = ? ORDER BY ts DESC, seq DESC LIMIT ?",
            (user_id, limit),
        ).fetchall()
        n = self._run(self.con, "SELECT count(*) FROM events WHERE user_id = ?", (user_id,))
        return [json.loads(r[0]) for r in rows], int(n.fetchone()[0])

    def user(self, user_id: str) -> dict[str, Any] | None:
        row = self._run(
            self.con,
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
        rows = self._run(
            self.con,
            "SELECT change_id, from_segment, to_segment, at, event_id FROM changes "
            "WHERE user_id = ? ORDER BY change_id",
            (user_id,),
        ).fetchall()
        keys = ("change_id", "from", "to", "at", "event_id")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def latest_changes(self, limit: int) -> list[dict[str, Any]]:
        """The latest ``limit`` segment changes, newest first."""
        return self._changes("ORDER BY change_id DESC LIMIT ?", (limit,))

    def changes_after(self, cursor: int, limit: int) -> list[dict[str, Any]]:
        """Segment changes with an id above ``cursor``, in commit order."""
        return self._changes("WHERE change_id > ? ORDER BY change_id LIMIT ?", (cursor, limit))

    def _changes(self, where: str, params: tuple) -> list[dict[str, Any]]:
        rows = self._run(
            self.con,
            "SELECT change_id, user_id, from_segment, to_segment, at, event_id FROM changes "
            + where,
            params,
        ).fetchall()
        keys = ("change_id", "user_id", "from", "to", "at", "event_id")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def user_ids(self) -> list[str]:
        """Every user with an event, in id order."""
        rows = self._run(self.con, "SELECT DISTINCT user_id FROM events ORDER BY user_id")
        return [r[0] for r in rows.fetchall()]

    def last_change_id(self) -> int:
        row = self._run(self.con, "SELECT max(change_id) FROM changes").fetchone()
        return int(row[0] or 0)

    def segment_counts(self) -> dict[int, tuple[int, float]]:
        """Per segment: its users and their summed value (kept as totals)."""
        rows = self._run(self.con, "SELECT segment, users, value FROM segment_totals").fetchall()
        return {int(seg): (int(n), float(v)) for seg, n, v in rows if n}

    def segment_days(self) -> list[tuple[str, int, int]]:
        """(day, segment, users in less users out that day), in day order: a segment's
        size at the end of a day is the sum of its deltas up to that day."""
        rows = self._run(
            self.con, "SELECT day, segment, delta FROM segment_days ORDER BY day, segment"
        ).fetchall()
        return [(str(d), int(s), int(n)) for d, s, n in rows]

    def members(
        self, segment: int, *, after: str = "", prefix: str = "", limit: int = 50
    ) -> list[dict[str, Any]]:
        """A page of the segment's users in id order: those with an id after ``after``
        (and beginning with ``prefix``), with their confidence, value and update time."""
        sql = (
            "SELECT user_id, confidence, value, updated_at FROM users WHERE segment = ? "
            "AND user_id > ?"
        )
        params: list[Any] = [segment, after]
        if prefix:
            sql += " AND substr(user_id, 1, ?) = ?"
            params += [len(prefix), prefix]
        rows = self._run(self.con, sql + " ORDER BY user_id LIMIT ?", (*params, limit))
        keys = ("user_id", "confidence", "value", "updated_at")
        return [dict(zip(keys, r, strict=True)) for r in rows.fetchall()]

    def member_rows(self, segment: int, chunk: int = 5000) -> Iterator[list[tuple]]:
        """Every user of the segment, ``chunk`` at a time in id order: (user_id,
        segment_name, confidence, as_of, updated_at, profile as JSON text)."""
        after = ""
        while True:
            rows = self._run(
                self.con,
                "SELECT user_id, segment_name, confidence, as_of, updated_at, profile FROM users "
                "WHERE segment = ? AND user_id > ? ORDER BY user_id LIMIT ?",
                (segment, after, chunk),
            ).fetchall()
            if not rows:
                return
            yield rows
            after = rows[-1][0]

    def end_session(self, nonce: str, expires: float, now: float) -> None:
        """Record a dashboard session as ended (until it would have expired)."""
        with self.transaction() as tx:
            self._run(tx, "DELETE FROM ended_sessions WHERE expires < ?", (now,))
            self._run(
                tx,
                "INSERT INTO ended_sessions (nonce, expires) VALUES (?, ?) "
                "ON CONFLICT (nonce) DO NOTHING",
                (nonce, expires),
            )

    def session_ended(self, nonce: str) -> bool:
        row = self._run(self.con, "SELECT 1 FROM ended_sessions WHERE nonce = ?", (nonce,))
        return row.fetchone() is not None

    def recount_totals(self, tx: Any) -> None:
        """Each segment's totals counted again from the users (sums kept by adding and
        subtracting values drift when values differ by many orders of magnitude)."""
        self._run(tx, "DELETE FROM segment_totals")
        self._run(
            tx,
            "INSERT INTO segment_totals (segment, users, value) SELECT segment, count(*), "
            "coalesce(sum(value), 0) FROM users WHERE segment IS NOT NULL GROUP BY segment",
        )

    def secret(self, key: str) -> str:
        """A random secret of the store's own, made once (shared by every worker)."""
        value = self.meta(key)
        if value is None:
            with self.transaction() as tx:
                self._run(
                    tx,
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                    (key, secrets.token_hex(32)),
                )
            value = self.meta(key)
        return str(value)

    def counts(self) -> dict[str, int]:
        """The events and users stored (counted as they are written)."""
        rows = self._run(self.con, "SELECT name, n FROM counters").fetchall()
        found = {str(name): int(n) for name, n in rows}
        return {"events": found.get("events", 0), "users": found.get("users", 0)}
