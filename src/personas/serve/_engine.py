"""What the service does, without HTTP: take events, keep every user's profile and segment
up to date in the store, answer for a user and for the segments.

A batch of events is one transaction: the new events are stored, each user they touch is
profiled again from all of that user's stored events — by the model's own
:class:`~personas.ProfileBuilder`, so a profile here is the one ``personas profile`` and
``personas predict`` give over the same events at the same ``as_of`` — and scored, and the
profiles, segments and segment changes are written; the answer comes after the commit. A
user's row depends only on that user's events and what the model learned at fit time, so
late and out-of-order events give the same profile as in-order ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from personas._json import dumps, plain
from personas.errors import PersonasError
from personas.model import Model
from personas.profiles import read_id
from personas.serve._events import (
    MAX_DEPTH,
    EventError,
    EventReader,
    depth,
    identifier,
    read_instant,
    valid_text,
)
from personas.store import BaseStore

__all__ = ["Engine", "ServiceError"]

MAX_BATCH = 10_000
MAX_CHANGE_ID = 2**63 - 1  # the largest change_id a store keeps (SQLite's INTEGER)


def change_id(text: str) -> int | None:
    """A change id written as text (ASCII digits, at most the largest a store keeps), or
    None ("²" is a digit to Python, and int() refuses 4,300 digits)."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) < 20 and int(text) <= MAX_CHANGE_ID:
        return int(text)
    return None


class ServiceError(PersonasError):
    """A request the service refuses: ``status`` is its HTTP code (4xx)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def _instant(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC").floor("us")


class Engine:
    """The model and the store, and the one writer between them."""

    def __init__(self, model: Model, store: BaseStore) -> None:
        if model.input != "events":
            raise ServiceError(
                "This model was trained on a user table; the service keeps profiles from "
                "events, so it needs a model trained on an event log (personas segment LOG).",
                status=400,
            )
        self.model = model
        self.store = store
        self.reader = EventReader(model.profile_builder)
        self.names = list(model.segment_names)
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self.model_id = _model_id(model)
        self.rescored_at_start = self._adopt_model()

    def _adopt_model(self) -> bool:
        """Record the model in the store; a store whose profiles another model made has
        every user profiled and scored again by this one (its segments are other
        segments), the changes recorded. Whether that was done."""
        stored = self.store.meta("model")
        if stored == self.model_id:
            return False
        rescore = stored is not None and bool(self.store.counts()["users"])
        if rescore:
            self.rescore()
        with self.store.transaction() as tx:
            self.store.set_meta(tx, "model", self.model_id)
        return rescore

    # ------------------------------------------------------------------ writes
    def ingest(self, raw: list[Any]) -> dict[str, Any]:
        """Store ``raw`` events and update their users; the answer of ``POST /v1/events``."""
        if len(raw) > MAX_BATCH:
            raise ServiceError(
                f"events: at most {MAX_BATCH:,} events a request; got {len(raw):,}. Send them "
                "in several requests.",
                status=413,
            )
        now = time.time()
        parsed, rejected = [], []
        for i, event in enumerate(raw):
            try:
                parsed.append(self.reader.read(event, now))
            except EventError as exc:
                ident = event.get("event_id") if isinstance(event, dict) else None
                rejected.append({"index": i, "event_id": ident, "error": str(exc)})
        pending = _Pending(parsed)
        with self._queue_lock:
            self._queue.append(pending)
        # Group commit: whoever holds the writer lock commits every batch queued so far in
        # one transaction and one profiling of their users; the others find theirs done.
        with self.store.lock:
            if not pending.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit_group(group)
        if pending.error is not None:
            raise pending.error
        answer = {
            "accepted": pending.accepted,
            "duplicates": len(parsed) - pending.accepted,
            "rejected": rejected,
            "changes": pending.changes,
        }
        notes = self.reader.unread([p["body"] for p in parsed])
        return answer | ({"notes": notes} if notes else {})

    def _commit_group(self, group: list[_Pending]) -> None:
        """Commit ``group``'s events in one transaction; when profiling fails, each batch
        again on its own, so that one bad batch fails only itself."""
        try:
            self._commit(group)
        except Exception as exc:  # (each waiting request gets its own answer, never none)
            if len(group) == 1:
                group[0].error, group[0].done = exc, True
                return
            for pending in group:
                self._commit_group([pending])

    def _commit(self, group: list[_Pending]) -> None:
        now = time.time()
        with self.store.transaction() as tx:
            new = []
            for pending in group:
                fresh = self.store.add_events(tx, pending.parsed, now)
                pending.new = [e for e, is_new in zip(pending.parsed, fresh, strict=True) if is_new]
                new += pending.new
            changes = self._update(tx, new, now) if new else []
        by_user = {c["user_id"]: c for c in changes}
        for pending in group:
            users = dict.fromkeys(e["user_id"] for e in pending.new)
            pending.accepted = len(pending.new)
            pending.changes = [by_user[u] for u in users if u in by_user]
            pending.done = True

    def _update(self, tx: Any, new: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
        """Profile and score the users of ``new`` events from all their stored events; write
        their rows and the changes of segment."""
        users = sorted({e["user_id"] for e in new})
        last_event = {e["user_id"]: e["event_id"] for e in new}
        return self._update_users(tx, users, last_event, now)

    def load(self, source: Any, *, chunk: int = 50_000, **read: Any) -> dict[str, Any]:
        """Store an existing event log (a path, a DataFrame; what ``personas profile``
        reads) at batch speed, not through HTTP, then profile and score its users: a new
        service starts with the users it was trained on. Each line's event id is the
        log's name (a hash of its path, or of a table's content) and the line's number,
        so loading the same log again adds nothing."""
        try:
            events = self.model.profile_builder.read_events(source, **read)
        except PersonasError as exc:
            raise ServiceError(f"--load: {exc}", status=400) from None
        if isinstance(source, str | Path):  # (the file's name and a hash of its full path)
            where = str(Path(source).resolve())
            prefix = f"{Path(source).name}@{hashlib.sha256(where.encode()).hexdigest()[:8]}:"
        else:  # (a table: a hash of its content, so that two tables do not share ids)
            rows = pd.util.hash_pandas_object(pd.DataFrame(source), index=False).to_numpy()
            prefix = f"table@{hashlib.sha256(rows.tobytes()).hexdigest()[:8]}:"
        now = time.time()
        stamps = pd.to_datetime(events.pop("timestamp"), utc=True)
        columns = list(events.columns)
        added = 0
        for start in range(0, len(events), chunk):
            part = events.iloc[start : start + chunk]
            rows = []
            for i, (stamp, values) in enumerate(
                zip(stamps.iloc[start : start + chunk], part.itertuples(index=False), strict=True)
            ):
                if pd.isna(stamp) or values[0] is None or pd.isna(values[0]):
                    continue  # (a line without a user or a time profiles nothing)
                body = {c: _value(v) for c, v in zip(columns, values, strict=True)}
                body = {k: v for k, v in body.items() if v is not None}
                body["event_id"] = f"{prefix}{start + i}"
                body["timestamp"] = stamp.isoformat(timespec="microseconds")
                rows.append({"event_id": body["event_id"], "user_id": str(body["user_id"]),
                             "ts": stamp.timestamp(), "body": body})  # fmt: skip
            with self.store.transaction() as tx:
                added += sum(self.store.add_events(tx, rows, now))
        changes = self.rescore(now)
        return {"events": len(events), "added": added, "users": len(self.store.user_ids()),
                "changes": len(changes)}  # fmt: skip

    def rescore(self, now: float | None = None, chunk: int = 2000) -> list[dict[str, Any]]:
        """Profile and score every user again as of ``now`` (default: the clock), as time
        moves recency, the windows, the trends and the chance of being alive without new
        events; the segment changes (their ``event_id`` is None). A transaction per
        ``chunk`` users, so that events keep being taken in between."""
        now = time.time() if now is None else now
        changes: list[dict[str, Any]] = []
        users = self.store.user_ids()
        for start in range(0, len(users), chunk):
            with self.store.transaction() as tx:
                changes += self._update_users(tx, users[start : start + chunk], {}, now)
        with self.store.transaction() as tx:  # (the totals kept by sums, counted again)
            self.store.recount_totals(tx)
        return changes

    def _update_users(
        self, tx: Any, users: list[str], last_event: dict[str, str], now: float
    ) -> list[dict[str, Any]]:
        bodies = self.store.events_of(users, tx)
        profiles, scored = self._score(bodies, now)
        stamp = _instant(now).isoformat()
        rows = [
            self._row(str(record["user_id"]), record, s, profiles.attrs["as_of"], stamp)
            for record, (_, s) in zip(profiles, scored.iterrows(), strict=True)
        ]
        before = self.store.put_users(tx, rows)  # (each user's segment until now)
        changes = [
            {"user_id": r["user_id"], "from": before.get(r["user_id"]), "to": r["segment"],
             "at": stamp, "event_id": last_event.get(r["user_id"])}
            for r in rows if before.get(r["user_id"], -1) != r["segment"]
        ]  # fmt: skip
        self.store.set_meta(tx, "computed_at", stamp)
        for change, change_id in zip(changes, self.store.add_changes(tx, changes), strict=True):
            change["change_id"] = change_id
        return [{"change_id": c.pop("change_id"), **c} for c in changes]

    def _score(self, bodies: list[dict[str, Any]], now: float) -> tuple[Any, pd.DataFrame]:
        """Profiles (a list of row dicts, with ``attrs``) and scores of the users of
        ``bodies``, as of ``now`` — or just after the latest event, when a sender's clock
        runs a little ahead. Profiles count events before as_of, read to the nearest
        second: as_of is the whole second after the clock's and the latest event's
        rounded seconds, so that an event stamped "now" counts at once."""
        frame = self.reader.frame(bodies)
        latest = frame[self.reader.columns["timestamp"]].max().timestamp()
        as_of = _instant(math.floor(max(now, latest) + 0.5) + 1.0)
        return self._profile(frame, as_of)

    def _profile(self, frame: pd.DataFrame, as_of: pd.Timestamp):
        """Profiles and scores of the events ``frame`` (:meth:`EventReader.frame`)."""
        try:
            profiling, scored = self.model.score_events(
                frame, as_of=as_of, source_name="the events"
            )
        except PersonasError as exc:
            raise ServiceError(f"The events could not be profiled: {exc}") from None
        records = _Records(profiling.data.to_dict("records"))
        records.attrs["as_of"] = profiling.as_of
        return records, scored

    def _row(self, user: str, record: dict, s: pd.Series, as_of: str, stamp: str) -> dict:
        profile = plain({str(k): _value(v) for k, v in record.items()})
        return {
            "user_id": user,
            "profile": dumps(profile),
            "segment": int(s["segment"]),
            "segment_name": str(s["segment_name"]),
            "confidence": float(s["confidence"]),
            "value": _money(profile.get("monetary")),
            "as_of": as_of,
            "updated_at": stamp,
        }

    # ------------------------------------------------------------------ reads
    def user(self, user_id: str, as_of: Any = None) -> dict[str, Any] | None:
        """What ``GET /v1/users/{user_id}`` answers (None for a user the store lacks);
        with ``as_of``, the profile and segment recomputed from the stored events as of
        that instant."""
        user_id, stored = self.find_user(user_id)
        if stored is None:
            return None
        out = {
            "user_id": user_id,
            "profile": stored["profile"],
            "segment": stored["segment"],
            "segment_name": stored["segment_name"],
            "confidence": stored["confidence"],
            "as_of": stored["as_of"],
            "updated_at": stored["updated_at"],
            "history": self.store.history(user_id),
        }
        if as_of is not None:
            instant = _as_of(as_of)
            bodies = self.store.events_of([user_id])
            if not any(pd.Timestamp(b["timestamp"]) < instant for b in bodies):
                raise ServiceError(
                    f"as_of {as_of!r}: user {user_id!r} has no event before it (the first is "
                    f"at {bodies[0]['timestamp']}); give a later instant.",
                    status=422,
                )
            profiles, scored = self._profile(self.reader.frame(bodies), instant)
            s = scored.iloc[0]
            out |= {
                "profile": plain({str(k): _value(v) for k, v in profiles[0].items()}),
                "segment": int(s["segment"]),
                "segment_name": str(s["segment_name"]),
                "confidence": float(s["confidence"]),
                "as_of": profiles.attrs["as_of"],
            }
        return out

    def score(self, body: Any) -> dict[str, Any]:
        """Stateless scoring (``POST /v1/score``): ``{"events": [...], "as_of": ...}``,
        events of one or more users profiled and scored without being stored, or
        ``{"users": [...]}``, rows holding the model's basis columns."""
        if not isinstance(body, dict) or ("events" in body) == ("users" in body):
            raise ServiceError(
                'body: expected {"events": [...]} (events to profile and score, with an '
                'optional "as_of") or {"users": [...]} (rows with the columns '
                f"{self.model.basis}); got {_kind(body)}"
            )
        key = "events" if "events" in body else "users"
        items = body[key]
        if not isinstance(items, list) or not items:
            got = "an empty list" if items == [] else _kind(items)
            raise ServiceError(f"{key}: expected a non-empty list of objects; got {got}")
        if len(items) > MAX_BATCH:
            raise ServiceError(
                f"{key}: at most {MAX_BATCH:,} a request; got {len(items):,}.", status=413
            )
        if key == "users":
            for i, row in enumerate(items):
                if not isinstance(row, dict):
                    raise ServiceError(
                        f"users[{i}]: expected an object (one row); got {_kind(row)}"
                    )
                for column, value in row.items():
                    if isinstance(value, dict | list):
                        raise ServiceError(
                            f"users[{i}].{column}: expected a number, a string, true/false "
                            f"or null; got {_kind(value)}"
                        )
            try:
                scored = self.model.score_rows(pd.DataFrame(items), source_name="users")
            except PersonasError as exc:
                raise ServiceError(f"users: {exc}") from None
            return {"scores": _scores(scored, None), "notes": list(scored.attrs.get("notes", []))}
        now = time.time()
        bodies = []
        for i, event in enumerate(items):
            try:
                bodies.append(self.reader.read(event, now)["body"])
            except EventError as exc:
                raise ServiceError(f"events[{i}].{exc}") from None
        as_of = body.get("as_of")
        instant = _as_of(as_of) if as_of is not None else None
        if instant is None:
            profiles, scored = self._score(bodies, now)
        else:
            profiles, scored = self._profile(self.reader.frame(bodies), instant)
        return {"as_of": profiles.attrs["as_of"], "scores": _scores(scored, profiles)}

    def track(self, messages: list[Any], call: str | None = None) -> dict[str, Any]:
        """Messages of the Segment/RudderStack tracking API: events ingested, identify
        calls' traits kept as the user's attributes."""
        from personas.serve._tracking import TrackingError, read_message

        if len(messages) > MAX_BATCH:
            raise ServiceError(
                f"batch: at most {MAX_BATCH:,} messages a request; got {len(messages):,}. Send "
                "them in several requests.",
                status=413,
            )
        events, where, rejected, identified = [], [], [], 0
        for i, message in enumerate(messages):
            try:
                kind, read = read_message(message, call)
            except TrackingError as exc:
                ident = message.get("messageId") if isinstance(message, dict) else None
                rejected.append({"index": i, "event_id": ident, "error": str(exc)})
                continue
            if kind == "traits":
                try:
                    read["user_id"] = read_id(identifier(read["user_id"], "userId"))
                    valid_text(read["traits"], "traits")
                except EventError as exc:
                    rejected.append({"index": i, "event_id": read["event_id"], "error": str(exc)})
                    continue
                if depth(read["traits"]) > MAX_DEPTH:
                    error = f"traits: nested deeper than {MAX_DEPTH} levels"
                    rejected.append({"index": i, "event_id": read["event_id"], "error": error})
                    continue
                with self.store.transaction() as tx:
                    self.store.put_traits(tx, read["user_id"], read["traits"],
                                          _instant(time.time()).isoformat())  # fmt: skip
                identified += 1
            else:
                events.append(read)
                where.append(i)
        answer = self.ingest(events) if events else {"accepted": 0, "duplicates": 0,
                                                     "rejected": [], "changes": []}  # fmt: skip
        for r in answer["rejected"]:
            r["index"] = where[r["index"]]
        rejected = sorted(rejected + answer["rejected"], key=lambda r: r["index"])
        return {"success": True, **answer, "rejected": rejected, "identified": identified}

    def find_user(self, user_id: str) -> tuple[str, dict[str, Any] | None]:
        """The user as stored: under the id as written ("17850.0", kept by a store of an
        earlier version), else as profiles read it ("17850")."""
        stored = self.store.user(user_id)
        if stored is None and read_id(user_id) != user_id:
            user_id = read_id(user_id)
            stored = self.store.user(user_id)
        return user_id, stored

    def forget(self, user_id: str) -> dict[str, Any] | None:
        """Delete the user's events, profile and history (``DELETE /v1/users/{id}``)."""
        at = _instant(time.time()).isoformat()
        events = None
        for written in dict.fromkeys((user_id, read_id(user_id))):  # (a store kept before
            found = self.store.forget_user(written, at)  # ids were read so: both forms)
            if found is not None:
                user_id, events = written, (events or 0) + found
        return None if events is None else {"user_id": user_id, "deleted_events": events}

    def export(self, user_id: str) -> dict[str, Any] | None:
        """Everything the store holds about the user (``GET /v1/users/{id}/export``)."""
        written = user_id
        user_id, stored = self.find_user(user_id)
        # (a store of an earlier version kept events under the id as written, "17850.0",
        # and the profile under the id as profiles read it: both)
        events = self.store.events_of(list(dict.fromkeys((written, read_id(written)))))
        traits = self.store.traits(user_id)
        if stored is None and not events and traits is None:
            return None
        return {
            "user_id": user_id,
            "traits": traits,
            "events": events,
            "profile": stored and stored["profile"],
            "segment": stored and stored["segment"],
            "segment_name": stored and stored["segment_name"],
            "confidence": stored and stored["confidence"],
            "as_of": stored and stored["as_of"],
            "updated_at": stored and stored["updated_at"],
            "history": self.store.history(user_id),
        }

    def segments(self) -> list[dict[str, Any]]:
        """Every segment of the model with its live size, share, value and share of the
        value (None while no user has any)."""
        counts = self.store.segment_counts()
        total = sum(n for n, _ in counts.values()) or 1
        worth = sum(v for _, v in counts.values())
        out = []
        for i, name in enumerate(self.names):
            n, value = counts.get(i, (0, 0.0))
            out.append({"id": i, "name": name, "size": n, "share": n / total, "value": value,
                        "value_share": value / worth if worth > 0 else None})  # fmt: skip
        return out


def _model_id(model: Model) -> str:
    """A hash naming the model: its manifest and its segments' centres."""
    import hashlib
    import json

    h = hashlib.sha256(json.dumps(model.manifest, sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(model.segmenter.cluster_centers_, dtype=np.float64).tobytes())
    h.update("\n".join(model.segment_names).encode())
    return h.hexdigest()[:16]


class _Pending:
    """One request's events waiting for a commit, and what came of them."""

    def __init__(self, parsed: list[dict[str, Any]]) -> None:
        self.parsed = parsed
        self.new: list[dict[str, Any]] = []
        self.accepted = 0
        self.changes: list[dict[str, Any]] = []
        self.done = False
        self.error: Exception | None = None


class _Records(list):
    """A list of row dicts with ``attrs`` (as a DataFrame has)."""

    attrs: dict[str, Any]

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(rows)
        self.attrs = {}


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return f"an object with the keys {sorted(map(str, value))[:5]}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return f"{type(value).__name__} {str(value)[:40]!r}"


def _scores(scored: pd.DataFrame, profiles: Any) -> list[dict[str, Any]]:
    key = str(scored.columns[0])
    out = []
    for i, (_, s) in enumerate(scored.iterrows()):
        row = {
            key: _value(s[key]),
            "segment": int(s["segment"]),
            "segment_name": str(s["segment_name"]),
            "confidence": float(s["confidence"]),
        }
        if profiles is not None:
            row["profile"] = plain({str(k): _value(v) for k, v in profiles[i].items()})
        out.append(row)
    return out


def _value(v: Any) -> Any:
    if isinstance(v, pd.Timestamp | dt.datetime):
        return None if pd.isna(v) else v.isoformat()
    if v is pd.NA or v is pd.NaT:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v


def _money(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) else None


def _as_of(value: Any) -> pd.Timestamp:
    """An ``as_of`` given to the API: as event times are written."""
    try:
        seconds = read_instant(value, "as_of")
    except EventError as exc:
        raise ServiceError(str(exc), status=422) from None
    return _instant(seconds)
