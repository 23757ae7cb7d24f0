"""`Profiling`: what profiling an event log gives — one row per user, and how it was read.

Plain data; ``personas.profile`` wraps it in a :class:`~personas.Profiles`, which renders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from personas._json import dumps
from personas._version import __version__
from personas.profiles._mapping import mapping_toml

__all__ = ["Profiling"]


class Profiling:
    """Per-user profiles built from events, and how they were made: the plain data of a
    :class:`~personas.Profiles` (see it for the attributes: ``data``, ``as_of``,
    ``mapping``, ``cleaning``, ``features``, ``notes``, ``builder``), as
    :meth:`ProfileBuilder.profile` gives it; ``timings`` are seconds per step: reading,
    checks and line hashes (one pass), duplicates, each per-user aggregate (events;
    active days, unless the log spans few enough weeks to count them with the events;
    orders), their join, CLV, users and RFM.
    """

    def __init__(
        self,
        *,
        data,
        as_of,
        mapping,
        cleaning,
        features,
        source,
        seconds,
        clv=None,
        timings=None,
        notes=None,
        builder=None,
    ):
        self.data = data
        self.as_of = as_of
        self.mapping = mapping
        self.cleaning = cleaning
        self.features = features
        self.source = source
        self.seconds = seconds
        self.clv = clv
        self.timings = timings or {}
        self.notes = list(notes or [])
        self.builder = builder

    def __repr__(self) -> str:
        return (
            f"<Profiling: {len(self.data):,} users × {self.data.shape[1]} columns from "
            f"{self.source}, as of {self.as_of}>"
        )

    def summary(self) -> dict[str, Any]:
        rfm = (
            self.data["rfm_segment"].value_counts().to_dict() if "rfm_segment" in self.data else {}
        )
        return {
            "personas_version": __version__,
            "source": self.source,
            "as_of": self.as_of,
            "n_users": len(self.data),
            "mapping": self.mapping,
            "cleaning": self.cleaning,
            "notes": self.notes,
            "features": self.features,
            "rfm_segments": {str(k): int(v) for k, v in rfm.items()},
            "clv": self.clv,
            "basis": self.basis(),
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def to_json(self, path: str | Path | None = None) -> str:
        text = dumps(self.summary(), indent=2)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def schema(self):
        """Roles of the profile columns and the default basis to segment them on.

        The basis is the behaviour that defines customers in RFM analyses — recency,
        frequency, monetary value — plus tenure (new versus long-standing customers); a log
        without money gives last activity, events, active weeks, tenure (and sessions).
        Every other feature describes the segments. Stored in ``profiles.parquet``, so
        ``personas segment profiles.parquet`` uses it.
        """
        from personas.io._schema import ColumnSpec, Schema

        inferred = Schema.infer(self.data, id_column="user_id")
        specs = []
        for name, spec in inferred.columns.items():
            if name == "rfm":
                spec = ColumnSpec(
                    name,
                    "ignore",
                    "the RFM code (r_score, f_score, m_score hold it)",
                    "personas profile",
                )
            elif name == "rfm_segment":
                spec = ColumnSpec(name, "categorical", "named RFM segment", "personas profile")
            specs.append(spec)
        return Schema(specs, id_column="user_id", basis=self.basis())

    def basis(self) -> list[str]:
        cols = set(self.data.columns)
        buyers = "frequency" in cols and float(self.data["frequency"].fillna(0).sum()) > 0
        if buyers and "monetary" in cols and self.data["monetary"].fillna(0).sum() > 0:
            wanted = ["recency_days", "frequency", "monetary", "tenure_days"]
        else:
            wanted = ["last_seen_days", "n_events", "active_weeks", "tenure_days", "sessions"]
        # (a column with one value, as sessions of a log without any, separates nobody)
        return [c for c in wanted if c in cols and self.data[c].nunique() > 1]

    def write_mapping(self, path: str | Path) -> Path:
        """Write the columns used (an ``[events]`` TOML table) to edit and pass back as
        ``mapping=`` (``--schema`` on the command line)."""
        path = Path(path)
        path.write_text(mapping_toml(self.mapping, self.source), encoding="utf-8")
        return path

    def to_parquet(self, path: str | Path) -> Path:
        """Write the profiles, with their schema (roles and basis) in the file's metadata."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from personas.io._read import SCHEMA_KEY

        path = Path(path)
        table = pa.Table.from_pandas(self.data, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[SCHEMA_KEY] = json.dumps(self.schema().to_dict(), default=str).encode()
        pq.write_table(table.replace_schema_metadata(meta), path)
        return path
