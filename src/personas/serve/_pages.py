"""What each page of the dashboard shows, as plain data: live from the store (segment
totals, sizes per day, members, users, changes) and what training found from the model's
explanation; the members' exports and the scoring of an uploaded file. The routes
(:mod:`personas.serve._dashboard`) hand this to :mod:`personas.report` to draw."""

import csv
import io
import json
import tempfile
import time
from typing import Any

from personas import report
from personas.cluster import METHODS
from personas.errors import PersonasError
from personas.profiles import definitions
from personas.serve._engine import Engine
from personas.serve._metrics import Metrics

__all__ = ["PAGE_SIZE", "Views", "safe_name"]

PAGE_SIZE = 50  # members a page
STALE_DAYS = 30  # the latest event older than this: the overview says profiles age


class Views:
    """What each page shows, as plain data: live from the store, and from training."""

    def __init__(self, engine: Engine) -> None:
        from personas._version import __version__

        self.engine = engine
        self.names = engine.names
        self.x = engine.model.explanation
        self.version = __version__

    # ------------------------------------------------------------------ shared
    def computed_at(self) -> str | None:
        at = self.engine.store.meta("computed_at")
        return f"{at[:19].replace('T', ' ')} UTC" if at else None

    def trained(self) -> str:
        created = (self.x or self.engine.model.manifest).get("created") or "at an unknown time"
        return created[:16].replace("T", " ") + (" UTC" if created[:1].isdigit() else "")

    def segment_id(self, text: str) -> int | None:
        plain = text.isascii() and text.isdigit() and len(text) < 10  # ("²", 5,000 digits)
        return int(text) if plain and int(text) < len(self.names) else None

    def no_segment(self, text: str) -> str:
        return (
            f"No segment {text!r}: this model's segments are numbered 0 to {len(self.names) - 1}."
        )

    def live(self) -> list[dict[str, Any]]:
        """Every segment's live size, share, value and share of the value (the API's)."""
        return self.engine.segments()

    def sizes(self, only: int | None = None) -> dict[str, Any] | None:
        """Each segment's size at the end of each day with a change (cumulative)."""
        series: dict[int, list[tuple[str, int]]] = {}
        totals: dict[int, int] = {}
        for day, seg, delta in self.engine.store.segment_days():
            if only is not None and seg != only:
                continue
            totals[seg] = totals.get(seg, 0) + delta
            points = series.setdefault(seg, [])
            if points and points[-1][0] == day:
                points[-1] = (day, totals[seg])
            else:
                points.append((day, totals[seg]))
        return report.sizes_figure(series, self.names) if series else None

    def _trained(self, seg: int) -> dict[str, Any] | None:
        if not self.x:
            return None
        return next((s for s in self.x.get("segments", []) if s.get("id") == seg), None)

    def _insights(self, seg: int | None = None) -> list[dict[str, Any]]:
        found = ((self.x or {}).get("insights") or {}).get("insights", [])
        return [i for i in found if seg is None or i.get("segment") == seg]

    def _outcomes(self, seg: int) -> list[dict[str, Any]]:
        out = []
        for o in (self.x or {}).get("outcomes") or []:
            for s in o.get("segments", []):
                if s.get("segment") == seg:
                    out.append({"column": o["column"], "rate": s["rate"], "lift": s.get("lift")})
        return out

    # ------------------------------------------------------------------ pages
    def overview(self) -> dict[str, Any]:
        segments = self.live()
        for s in segments:
            trained = self._trained(s["id"]) or {}
            s["stability"] = trained.get("stability")
            s["outcomes"] = self._outcomes(s["id"])
            s["insights"] = self._insights(s["id"])
        counts = self.engine.store.counts()
        latest = self.engine.store.latest_event()
        stale = None
        if latest is not None and time.time() - latest > STALE_DAYS * 86_400:
            days = (time.time() - latest) / 86_400
            when = time.strftime("%Y-%m-%d", time.gmtime(latest))
            stale = (
                f"The latest event in the store is from {when}, {days:,.0f} days ago. Profiles "
                "are computed as of now, so recency and the windows count from today: users "
                "who were recent then may now sit in lapsed segments. Send current events, or "
                "train the model on data up to now."
            )
        return {
            "stale": stale,
            "segments": segments,
            "sizes": self.sizes(),
            "insights": self._insights(),
            "explained": self.x is not None,
            "trained": self.trained(),
            **counts,
        }

    def segment(self, seg: int) -> dict[str, Any]:
        trained = self._trained(seg)
        distinguishing = []
        if trained:
            means = {p["column"]: p for p in trained.get("profile", [])}
            for d in trained.get("distinguishing", []):
                p = means.get(d["column"], {})
                if d.get("value") is not None and d.get("share") is not None:  # (a level)
                    lift = d.get("lift") or 0
                    shares = {"mean": d["share"], "mean_all": d["share"] / lift if lift else None}
                    distinguishing.append(d | shares)
                else:
                    distinguishing.append(
                        d | {"mean": p.get("mean"), "mean_all": p.get("mean_all")}
                    )
        return {
            "s": self.live()[seg],
            "t": trained,
            "trained": self.trained(),
            "distinguishing": distinguishing,
            "effects": report.effects_figure(distinguishing) if distinguishing else None,
            "outcomes": self._outcomes(seg),
            "insights": self._insights(seg),
            "sizes": self.sizes(seg),
        }

    def members(self, seg: int, q: str, after: str) -> dict[str, Any]:
        q, after = q.strip()[:256], after[:256]
        rows = self.engine.store.members(seg, after=after, prefix=q, limit=PAGE_SIZE + 1)
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        return {
            "segment": seg,
            "rows": rows,
            "q": q,
            "after": after,
            "page_size": PAGE_SIZE,
            "next_after": rows[-1]["user_id"] if more else None,
        }

    def user(self, user_id: str) -> dict[str, Any] | None:
        store = self.engine.store
        user_id, stored = self.engine.find_user(user_id)  # (as written, else as profiles read it)
        if stored is None:
            return None
        events, n_events = store.recent_events(user_id, 50)
        fields = self.engine.reader.fields(events)[0]
        meanings = definitions(list(stored["profile"]))
        profile = [
            (k, v, meanings.get(k, "")) for k, v in stored["profile"].items() if k != "user_id"
        ]
        names = dict(enumerate(self.names))
        return {
            "u": stored,
            "history": store.history(user_id),
            "names": names,
            "events": events,
            "n_events": n_events,
            "fields": fields,
            "profile": profile,
        }

    def model(self) -> dict[str, Any]:
        model = self.engine.model
        x = self.x
        manifest = model.manifest
        scores = (x or {}).get("k_selection") or []
        columns = [
            c
            for c in (
                "silhouette",
                "calinski_harabasz",
                "davies_bouldin",
                "inertia",
                "bic",
                "stability",
            )
            if any(c in r for r in scores)
        ]
        cleaning = list(((x or {}).get("events") or {}).get("cleaning", {}).items())
        return {
            "x": x,
            "method": METHODS[model.method].label,
            "k": model.n_segments,
            "basis": model.basis,
            "input": {"kind": model.input},
            "trained": self.trained(),
            "training": manifest.get("training_data")
            or {"source": "?", "n_rows": None, "fingerprint": "?"},
            "versions": manifest.get("versions") or {},
            "k_figures": report.k_figures(scores, model.n_segments) if scores else [],
            "k_columns": columns,
            "cleaning": cleaning,
        }

    def compare(self, a: int, b: int) -> dict[str, Any]:
        """Two segments side by side: live size and value, and what training found. The
        difference of a column is the difference of the two segments' effects (each the
        segment's mean less all users', in all users' standard deviations), its interval
        from the two effects' intervals as independent estimates."""
        live = self.live()
        sides = []
        for seg in (a, b):
            trained = self._trained(seg) or {}
            facts = dict(trained.get("value") or {}) | {"stability": trained.get("stability")}
            sides.append(live[seg] | {"facts": facts, "profile": trained.get("profile", [])})
        keys = [k for k in sides[0]["facts"] if k in sides[1]["facts"]]
        labels = [
            (k, k.replace("_", " ") + (" (training)" if k != "stability" else "")) for k in keys
        ]
        rows, levels = [], []
        other = {p["column"]: p for p in sides[1]["profile"]}
        for p in sides[0]["profile"]:
            q = other.get(p["column"])
            if q is None:
                continue
            if p.get("effect") is not None and q.get("effect") is not None:
                half = [(x["ci"][1] - x["ci"][0]) / 2 if x.get("ci") else 0.0 for x in (p, q)]
                diff = p["effect"] - q["effect"]
                wide = (half[0] ** 2 + half[1] ** 2) ** 0.5
                rows.append(
                    {
                        "column": p["column"],
                        "a": p.get("mean"),
                        "b": q.get("mean"),
                        "a_median": p.get("median"),
                        "b_median": q.get("median"),
                        "all": p.get("mean_all"),
                        "effect": round(diff, 3),
                        "ci": [round(diff - wide, 3), round(diff + wide, 3)],
                    }
                )
            elif "top" in p and "top" in q:
                shares = {t["value"]: t for t in q["top"]}
                for t in p["top"]:
                    u = shares.get(t["value"], {})
                    levels.append(
                        {
                            "column": p["column"],
                            "value": t["value"],
                            "a": t.get("share"),
                            "b": u.get("share"),
                            "all": t.get("share_all"),
                        }
                    )
        rows.sort(key=lambda r: -abs(r["effect"]))
        chart = None
        if rows:
            chart = report.effects_figure(
                rows,
                title=f"Segment {a} against segment {b}",
                axis=f"difference, {a} less {b} (standard deviations)",
            )
        return {
            "a": sides[0],
            "b": sides[1],
            "facts": labels,
            "differences": rows,
            "levels": levels,
            "chart": chart,
            "explained": self.x is not None,
            "choices": list(enumerate(self.names)),
        }

    def live_changes(self, n: int = 50) -> dict[str, Any]:
        store = self.engine.store
        changes = store.latest_changes(n)
        return {
            "changes": changes,
            "cursor": changes[0]["change_id"] if changes else store.last_change_id(),
            "names": dict(enumerate(self.names)),
            "names_json": json.dumps(self.names),
        }

    def stats(self, metrics: Metrics) -> dict[str, Any]:
        return metrics.live() | {"users": self.engine.store.counts()["users"]}

    def score_form(self, limit: int) -> dict[str, Any]:
        model = self.engine.model
        events = model.input == "events"
        what = (
            "an event log (or profiles, one row per user)"
            if events
            else f"a user table with the columns {', '.join(model.basis)}"
        )
        return {
            "what": what,
            "events_model": events,
            "basis": model.basis,
            "limit_mb": max(limit // 2**20, 1),
            "error": "",
        }

    def score(self, filename: str, data: bytes, kind: str, as_of: str | None) -> bytes:
        """The uploaded file scored, as CSV: the model's ``predict`` of its events, or of
        its rows (a user table, or profiles with the basis columns)."""
        import pandas as pd

        from personas.io import read_table

        model = self.engine.model
        if kind not in ("auto", "events", "users"):
            raise ValueError(f"kind: expected auto, events or users; got {kind!r}.")
        parts = filename.rsplit("/", 1)[-1].split(".")
        suffix = "".join(f".{safe_name(p)}" for p in parts[1:])[:24] or ".csv"
        with tempfile.TemporaryDirectory(prefix="personas-score-") as folder:
            path = f"{folder}/{safe_name(parts[0])}{suffix}"
            with open(path, "wb") as out:
                out.write(data)
            try:
                if model.input == "events" and kind != "users":
                    table = read_table(path) if kind == "auto" else None
                    if table is not None and all(c in table.columns for c in model.basis):
                        scored = model.score_rows(table, source_name=filename)
                    else:
                        scored = model.predict(path, as_of=as_of, source_name=filename)
                elif model.input == "events":
                    scored = model.score_rows(read_table(path), source_name=filename)
                else:
                    scored = model.predict(path, source_name=filename)
            except (PersonasError, ValueError) as exc:  # (named as sent, not where it was put)
                said = str(exc).replace(path, filename).replace(folder, "the upload")
                raise ValueError(said) from None
        return pd.DataFrame(scored).to_csv(index=False).encode()

    # ------------------------------------------------------------------ exports
    def _frame(self, seg: int, rows: list[tuple]) -> Any:
        """Members' rows (as :meth:`~personas.store.BaseStore.member_rows` gives them) as
        a frame: the id, the segment, confidence and times, then the profile's features."""
        import pandas as pd

        features = [c for c in self.engine.model.profile_builder.columns_ if c != "user_id"]
        body = pd.DataFrame([json.loads(r[5]) for r in rows]).reindex(columns=features)
        head = pd.DataFrame(
            [(r[0], seg, *r[1:5]) for r in rows],
            columns=["user_id", "segment", "segment_name", "confidence", "as_of", "updated_at"],
        )
        return pd.concat([head, body], axis=1)

    def _frames(self, seg: int) -> Any:
        """The segment's members, a frame per chunk (all with the same columns); an empty
        segment gives one empty frame with the columns and types of another's members."""
        found = False
        for rows in self.engine.store.member_rows(seg):
            found = True
            yield self._frame(seg, rows)
        if not found:
            other = next(
                (rows for s in range(len(self.names))
                 for rows in self.engine.store.member_rows(s, chunk=1)), [],
            )  # fmt: skip
            yield self._frame(seg, other).iloc[:0]

    def csv_rows(self, seg: int) -> Any:
        """The members as CSV text, a chunk at a time (the header first)."""
        for i, frame in enumerate(self._frames(seg)):
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False, header=i == 0, quoting=csv.QUOTE_MINIMAL)
            yield buffer.getvalue()

    def parquet(self, seg: int) -> bytes:
        """The members as a Parquet file (columns typed from all of them)."""
        import pandas as pd

        out = io.BytesIO()
        pd.concat(list(self._frames(seg)), ignore_index=True).to_parquet(out, index=False)
        return out.getvalue()


def safe_name(name: str) -> str:
    """A file name's stem in ASCII letters, digits, - and _ (a download's name, which an
    HTTP header carries as Latin-1)."""
    kept = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "_" for c in name)
    return kept[:64] or "scored"
