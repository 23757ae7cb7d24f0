"""`validate()`: read, infer the schema, type every column and find data-quality problems.

The result is plain data (:class:`Validation`); ``personas.validate`` wraps it in a
:class:`~personas.ValidationReport`, which renders it (HTML, charts, Jupyter).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from personas._json import dumps
from personas._parallel import thread_map
from personas._version import __version__
from personas.errors import DataError
from personas.io import _names
from personas.io._coerce import Change, coerce_frame
from personas.io._quality import Finding, column_stats, find_problems, n_distinct
from personas.io._read import SourceInfo, load_table
from personas.io._schema import Schema

__all__ = ["Validation", "validate", "validate_user_table"]


class Validation:
    """What personas found in a user table: roles, quality summary and findings.

    The plain data of a :class:`~personas.ValidationReport`, whose docstring describes
    the attributes (``source``, ``schema``, ``data``, ``columns``, ``findings``,
    ``changes``); ``event_log``, from :func:`validate_user_table`: ``rows`` and
    ``users`` when the table's user ids repeat, two rows per id or more (an event log,
    whose quality checks as a user table were not run); None otherwise.
    """

    def __init__(
        self,
        *,
        source: SourceInfo,
        schema: Schema,
        data: pd.DataFrame,
        columns: dict[str, dict[str, Any]],
        findings: list[Finding],
        changes: list[Change],
        n_rows: int,
        seconds: float,
        event_log: dict[str, int] | None = None,
    ) -> None:
        self.source = source
        self.schema = schema
        self.data = data
        self.columns = columns
        self.findings = findings
        self.changes = changes
        self.n_rows = n_rows
        self.seconds = seconds
        self.event_log = event_log

    # ------------------------------------------------------------------ facts
    @property
    def n_columns(self) -> int:
        return len(self.columns)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    @property
    def ok(self) -> bool:
        """True when nothing makes the table unusable (no error-level finding)."""
        return not self.errors

    @property
    def n_duplicate_rows(self) -> int:
        return next((f.count or 0 for f in self.findings if f.code == "duplicate_rows"), 0)

    def raise_for_errors(self) -> Validation:
        """Raise :class:`~personas.errors.DataError` listing every error; return self if none."""
        if self.errors:
            lines = "\n".join(f"- {f.message}" for f in self.errors)
            raise DataError(f"{self.source.name} cannot be used as it is:\n{lines}")
        return self

    def __repr__(self) -> str:
        return (
            f"<Validation: {self.source.name}, {self.n_rows} rows × {self.n_columns} "
            f"columns; {len(self.errors)} errors, {len(self.warnings)} warnings>"
        )

    def to_dict(self) -> dict[str, Any]:
        roles: dict[str, int] = {}
        for c in self.columns.values():
            roles[c["role"]] = roles.get(c["role"], 0) + 1
        return {
            "personas_version": __version__,
            "source": self.source.to_dict(),
            "ok": self.ok,
            "n_rows": self.n_rows,
            "n_columns": self.n_columns,
            "id_column": self.schema.id_column,
            "roles": roles,
            "n_duplicate_rows": self.n_duplicate_rows,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "columns": self.columns,
            "findings": [f.to_dict() for f in self.findings],
            "seconds": round(self.seconds, 3),
        }

    def to_json(self, path: str | Path | None = None) -> str:
        """The report as JSON (each column's role under ``columns.<name>.role``)."""
        text = dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_pandas(self) -> pd.DataFrame:
        """One row per column: role, reason, missing share, distinct values."""
        rows = [
            {
                "column": name,
                "role": c["role"],
                "pct_missing": c["pct_missing"],
                "n_unique": c.get("n_unique"),
                "reason": c["reason"],
            }
            for name, c in self.columns.items()
        ]
        return pd.DataFrame(rows)


def validate(
    data: Any = None,
    *,
    schema: Schema | str | Path | None = None,
    id_column: str | None = None,
    date_order: str | None = None,
    **read_options: Any,
) -> Validation:
    """Read a user table, infer its schema, type its columns and check its quality: the
    plain data of :func:`personas.validate`, which takes the same parameters and says
    what they mean (and wraps this :class:`Validation` in a ``ValidationReport``)."""
    return _validate(data, schema, id_column, read_options, date_order=date_order)


def validate_user_table(
    data: Any,
    *,
    id_column: str | None = None,
    date_order: str | None = None,
    **read_options: Any,
) -> Validation:
    """:func:`validate`, which stops as soon as the inferred user ids repeat twice per id or
    more: the table is then an event log (``event_log`` says how many rows and users), and
    its quality checks as a user table (most of the time on a large log) are not run.
    ``personas.segment`` profiles such a log instead."""
    return _validate(
        data, None, id_column, read_options, stop_at_events=True, date_order=date_order
    )


def _users_of_a_log(typed: pd.DataFrame, schema: Schema, given: str | None) -> int | None:
    """The number of users of a table that is an event log although its id column is
    unique (an order or invoice number) or partly empty: a column named for the user
    ("customer", "Kundennummer", "id_client"; else a card's, "card_id"; else an e-mail
    address) repeats twice per value or more, beside a column of dates; None otherwise,
    or when the caller named the id column."""
    if given is not None or not schema.columns_with("datetime"):
        return None
    if schema.id_column is not None and _names.is_user_name(schema.id_column):
        return None  # (a unique customer_id: a table of customers, whatever else repeats)
    named = [  # the user's column, else a payment card's (not people's names: "customer"
        lambda c: _names.is_user_name(c) and schema[c].role != "pii",  # of full names)
        lambda c: _names.is_user_name(c, cards=True) and schema[c].role != "pii",
        lambda c: _names.pii_kind(c) == "e-mail address",  # else an e-mail address
    ]
    for says in named:
        for name in typed.columns:
            if name != schema.id_column and says(name):
                distinct = n_distinct(typed[name])
                if distinct >= 2 and len(typed) >= 2 * distinct:
                    return distinct
    return None


def _validate(
    data: Any,
    schema: Schema | str | Path | None,
    id_column: str | None,
    read_options: dict[str, Any],
    *,
    stop_at_events: bool = False,
    date_order: str | None = None,
    source: SourceInfo | None = None,
) -> Validation:
    """``source``: where ``data``, a DataFrame read already, came from (named so in the
    findings)."""
    start = time.perf_counter()
    raw, source = (data, source) if source is not None else load_table(data, **read_options)
    if isinstance(schema, (str, Path)):
        schema = Schema.read(schema)
    elif schema is None and source.schema_hint is not None:
        # A table written by `personas profile` carries its roles and default basis.
        schema = Schema.from_dict(source.schema_hint, source_name=source.name)
        source.notes.append("roles and basis from the schema stored by personas profile")
    inferred = Schema.infer(
        raw, schema=schema, id_column=id_column, source_name=source.name, date_order=date_order
    )
    source.notes += [s.params["date_note"] for s in inferred.columns.values()
                     if "date_note" in s.params]  # fmt: skip
    typed, changes = coerce_frame(raw, inferred, source_name=source.name)
    id_col = inferred.id_column
    id_distinct = n_distinct(typed[id_col]) if id_col is not None else None  # hashed once
    users = id_distinct
    if stop_at_events and not (users is not None and len(typed) >= 2 * max(users, 1)):
        users = _users_of_a_log(typed, inferred, id_column)  # (an order number is unique)
    if stop_at_events and users is not None and len(typed) >= 2 * max(users, 1):
        return Validation(
            source=source,
            schema=inferred,
            data=typed,
            columns={},
            findings=[],
            changes=changes,
            n_rows=len(raw),
            seconds=time.perf_counter() - start,
            event_log={"rows": len(typed), "users": users},
        )
    findings = find_problems(
        raw, typed, inferred, changes, source_name=source.name, id_distinct=id_distinct
    )
    if source.rows_skipped:
        findings.insert(
            0,
            Finding(
                "warning",
                "rows_skipped",
                f"{source.rows_skipped} malformed row(s) of {source.name} were left out "
                "(--skip-bad-lines).",
                None,
                source.rows_skipped,
            ),
        )

    def describe(spec) -> dict[str, Any]:
        return {
            "role": spec.role,
            "reason": spec.reason,
            "source": spec.source,
            "dtype": str(raw[spec.name].dtype),
            **column_stats(
                spec.name,
                typed[spec.name],
                spec.role,
                spec.params.get("separator", ";"),
                n_unique=id_distinct if spec.name == id_col else None,
            ),
        }

    specs = list(inferred.columns.values())
    columns = dict(
        zip([s.name for s in specs], thread_map(describe, specs, n_rows=len(raw)), strict=True)
    )
    return Validation(
        source=source,
        schema=inferred,
        data=typed,
        columns=columns,
        findings=findings,
        changes=changes,
        n_rows=len(raw),
        seconds=time.perf_counter() - start,
    )
