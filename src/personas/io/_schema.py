"""`Schema`: the role of every column, why it was chosen, saved to and loaded from TOML."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from personas._parallel import thread_map
from personas.errors import SchemaError
from personas.io._infer import DEFAULT_MISSING, MAX_CATEGORIES, infer_column

__all__ = ["FEATURE_ROLES", "ROLES", "ColumnSpec", "Schema", "value_kind"]

#: Every role a column can have, with what it means.
ROLES: dict[str, str] = {
    "id": "identifies a user (a unique key); never a feature",
    "numeric": "a number used as a feature",
    "categorical": "a category with few levels, used as a feature",
    "high_cardinality": "a category with many levels (city, product): describes segments only",
    "boolean": "yes/no, true/false or 0/1, used as a feature",
    "outcome": "a yes/no outcome the segments should explain (churn, response, conversion): "
    "its rate is described per segment, never in the default basis (--basis adds it)",
    "datetime": "a date or time; becomes recency/tenure in days when used",
    "multi_label": "several labels in one value ('sports;music'), used as a feature",
    "text": "free text: describes, never clustered",
    "pii": "personal data (name, e-mail, phone): never used, never shown",
    "ignore": "left out (constant, all missing, or set so by the user)",
}
#: Roles whose columns can be features (the default basis of a segmentation).
FEATURE_ROLES = ("numeric", "categorical", "boolean", "multi_label", "datetime")


def value_kind(role: str) -> str:
    """How a role's values are held and measured: an outcome's as a boolean's."""
    return "boolean" if role == "outcome" else role


_PARAM_KEYS = {
    "format": str,
    "true_values": list,
    "false_values": list,
    "separator": str,
    "decimal": str,
    "missing_values": list,
}
_COLUMN_KEYS = {"role", "reason", *_PARAM_KEYS}
INFER_SAMPLE_ROWS = 200_000
_TOP_KEYS = {"version", "id_column", "missing_values", "max_categories", "basis", "columns"}
SCHEMA_VERSION = 1


@dataclass
class ColumnSpec:
    """One column of a :class:`Schema`.

    Attributes
    ----------
    name : str
    role : str
        One of :data:`ROLES`.
    reason : str
        Why the role was chosen (or ``"set in the schema file"``).
    source : str
        ``"inferred"`` or ``"schema file"``.
    params : dict
        How to read the values: ``format`` (dates), ``true_values``/``false_values``
        (booleans), ``separator`` (multi-label), ``decimal`` (numbers as text),
        ``missing_values`` (extra missing tokens for this column). Inference also records
        facts such as ``missing_tokens`` (token -> count) and ``non_numeric``.
    """

    name: str
    role: str
    reason: str = ""
    source: str = "inferred"
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Role, reason, source and how to read the values (what a schema file can hold)."""
        readable = {k: v for k, v in self.params.items() if k in _PARAM_KEYS and v is not None}
        return {"role": self.role, "reason": self.reason, "source": self.source, **readable}


class Schema:
    """The role of every column of a user table, inferred or loaded from a TOML file.

    Parameters
    ----------
    columns : list of ColumnSpec
    id_column : str, optional
        The column that identifies users (one row per user); None if there is none.
    missing_values : list of str, optional
        Text values read as missing in every text column (case-insensitive).
    max_categories : int, default 50
        Above this many distinct values a text column is ``high_cardinality``.

    Examples
    --------
    >>> import pandas as pd
    >>> from personas import Schema
    >>> df = pd.DataFrame({"user_id": ["a", "b", "c"], "plan": ["free", "paid", "free"],
    ...                    "spend": [0.0, 12.5, 3.0]})
    >>> schema = Schema.infer(df)
    >>> schema.roles
    {'user_id': 'id', 'plan': 'categorical', 'spend': 'numeric'}
    >>> print(schema.to_toml().splitlines()[0])
    # personas schema: one [columns.NAME] table per column. Edit a role and pass this file
    """

    def __init__(
        self,
        columns: list[ColumnSpec],
        *,
        id_column: str | None = None,
        missing_values: list[str] | None = None,
        max_categories: int = MAX_CATEGORIES,
        basis: list[str] | None = None,
    ) -> None:
        self.columns = {c.name: c for c in columns}
        self.id_column = id_column
        self.missing_values = list(DEFAULT_MISSING if missing_values is None else missing_values)
        self.max_categories = max_categories
        self.basis = list(basis) if basis is not None else None
        self.source_name: str | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def infer(
        cls,
        df: pd.DataFrame,
        *,
        schema: Schema | None = None,
        id_column: str | None = None,
        source_name: str = "the data",
        date_order: str | None = None,
    ) -> Schema:
        """Infer every column's role; columns declared in ``schema`` keep their declaration.

        Tables longer than ``INFER_SAMPLE_ROWS`` (200,000) are inferred on a random sample of
        that many rows (a column that is empty in the sample is inferred from its non-missing
        values); the reason of each such column says so.

        Parameters
        ----------
        df : pandas.DataFrame
        schema : Schema, optional
            A loaded schema (e.g. from :meth:`read`); it wins over inference for every
            column it names. Naming a column that ``df`` lacks is an error.
        id_column : str, optional
            Force the user-id column.
        source_name : str
            Used in error messages (the file name).
        date_order : "day" or "month", optional
            Which comes first in dates that read both ways (03/04/2024), when every sampled
            value of a column fits both (default: day; see :mod:`personas.io._dates`).
        """
        if date_order not in (None, "day", "month"):
            raise SchemaError(
                f"date_order must be 'day' or 'month', not {date_order!r} (--date-order)."
            )
        base = schema if schema is not None else cls([])
        base.check_columns(df, source_name)
        if id_column is not None and id_column not in df.columns:
            raise SchemaError(
                f"The id column {id_column!r} is not in {source_name}; its columns are "
                f"{_listing(df.columns)}. Give one of those with --id-column."
            )
        # Very large tables: roles are decided on a fixed-size random sample of rows (every
        # value is still typed and counted afterwards, and ids are checked on all rows).
        sample = df
        if len(df) > INFER_SAMPLE_ROWS:
            rows = np.random.default_rng(0).choice(len(df), INFER_SAMPLE_ROWS, replace=False)
            sample = df.iloc[np.sort(rows)]

        def infer_one(name: str) -> ColumnSpec:
            declared = base.columns.get(name)
            if declared is not None and declared.role and not _needs_params(declared):
                return declared
            column = sample[name]
            if len(sample) < len(df) and column.isna().all() and df[name].notna().any():
                column = df[name].dropna()  # a sparse column: infer from what is there
            facts = infer_column(
                name,
                column,
                n_rows=len(column),
                missing_values=base.missing_values + _declared_missing(declared),
                max_categories=base.max_categories,
                date_order=date_order,
            )
            if len(sample) < len(df) and facts.role != "pii":
                facts.reason += f" (decided on a sample of {len(sample):,} rows)"
            if declared is not None and declared.role:
                # The user chose the role; inference only fills in how to read the values.
                # (a role edited in a written schema keeps no reason given for another one)
                changed = (
                    declared.role != facts.role and declared.reason != "set in the schema file"
                )
                return ColumnSpec(
                    name,
                    declared.role,
                    f"set in the schema file (inferred: {facts.role})"
                    if changed
                    else declared.reason,
                    "schema file",
                    {**_reading_params(facts.params), **declared.params},
                )
            return ColumnSpec(name, facts.role, facts.reason, "inferred", facts.params)

        specs = thread_map(infer_one, df.columns, n_rows=len(sample))
        chosen = id_column or base.id_column
        if id_column is not None:
            spec = next(s for s in specs if s.name == id_column)
            if spec.role != "id":
                spec.role, spec.reason, spec.source = "id", "set as the user id", "user"
        if chosen is None:
            chosen = _pick_id(specs)
        return cls(
            specs,
            id_column=chosen,
            missing_values=base.missing_values,
            max_categories=base.max_categories,
            basis=base.basis,
        )

    @classmethod
    def read(cls, path: str | Path) -> Schema:
        """Load a schema from a TOML file written by :meth:`write` (and maybe edited)."""
        path = Path(path)
        doc = read_toml(
            path, "Write one with `personas validate DATA --write-schema schema.toml` and edit it."
        )
        return cls.from_dict(doc, source_name=path.name)

    @classmethod
    def from_dict(cls, doc: dict[str, Any], *, source_name: str | None = None) -> Schema:
        """Build a schema from the dictionary form of the TOML file, checking every key."""
        file_name = source_name
        source_name = source_name or "The schema"
        unknown = set(doc) - _TOP_KEYS
        if unknown:
            raise SchemaError(
                f"{source_name}: unknown key(s) {sorted(unknown)} at the top level. Allowed "
                f"keys: {sorted(_TOP_KEYS)}. Fix the spelling or remove them."
            )
        version = doc.get("version", SCHEMA_VERSION)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise SchemaError(
                f"{source_name} has schema version {version!r}; this personas reads version "
                f"{SCHEMA_VERSION}. Upgrade personas or write the schema again."
            )
        columns = doc.get("columns", {})
        if not isinstance(columns, dict):
            raise SchemaError(f"{source_name}: 'columns' must be a table of [columns.NAME].")
        specs = []
        for name, entry in columns.items():
            where = f"{source_name}, [columns.{_toml_key(name)}]"
            if isinstance(entry, str):
                entry = {"role": entry}
            if not isinstance(entry, dict):
                raise SchemaError(f"{where}: expected a table with a role, found {entry!r}.")
            bad = set(entry) - _COLUMN_KEYS - {"source"}
            if bad:
                raise SchemaError(
                    f"{where}: unknown key(s) {sorted(bad)}. Allowed keys: {sorted(_COLUMN_KEYS)}."
                )
            role = entry.get("role")
            if role not in ROLES:
                raise SchemaError(
                    f"{where}: role {role!r} is not one of {list(ROLES)}. Choose one of them."
                )
            params = {}
            for key, typ in _PARAM_KEYS.items():
                if key in entry:
                    if not isinstance(entry[key], typ):
                        raise SchemaError(
                            f"{where}: {key} should be a {typ.__name__}, found {entry[key]!r}."
                        )
                    params[key] = entry[key]
            specs.append(
                ColumnSpec(
                    name,
                    role,
                    entry.get("reason") or "set in the schema file",
                    "schema file",
                    params,
                )
            )
        id_column = doc.get("id_column")
        if id_column is not None and not isinstance(id_column, str):
            raise SchemaError(f"{source_name}: id_column should be a column name (a string).")
        missing = doc.get("missing_values")
        if missing is not None and not (
            isinstance(missing, list) and all(isinstance(m, str) for m in missing)
        ):
            raise SchemaError(f"{source_name}: missing_values should be a list of strings.")
        max_cat = doc.get("max_categories", MAX_CATEGORIES)
        if not isinstance(max_cat, int) or max_cat < 2:
            raise SchemaError(f"{source_name}: max_categories should be an integer ≥ 2.")
        basis = doc.get("basis")
        if basis is not None and not (
            isinstance(basis, list) and basis and all(isinstance(b, str) for b in basis)
        ):
            raise SchemaError(
                f"{source_name}: basis should be a non-empty list of column names, e.g. "
                'basis = ["purchases", "total_spend"].'
            )
        schema = cls(
            specs,
            id_column=id_column,
            missing_values=missing,
            max_categories=max_cat,
            basis=basis,
        )
        schema.source_name = file_name
        return schema

    # ------------------------------------------------------------------ checks + views
    def check_columns(self, df: pd.DataFrame, source_name: str = "the data") -> None:
        """Raise :class:`SchemaError` if the schema names a column that ``df`` lacks."""
        absent = [c for c in self.columns if c not in df.columns]
        absent += [c for c in (self.basis or []) if c not in df.columns and c not in absent]
        if self.id_column and self.id_column not in df.columns and self.id_column not in absent:
            absent.append(self.id_column)
        if absent:
            origin = f"Schema file {self.source_name}" if self.source_name else "The schema"
            raise SchemaError(
                f"{origin} names column(s) {absent} that {source_name} does not have. "
                f"Its columns are {_listing(df.columns)}. Fix the names in the schema file or "
                "remove those entries."
            )

    @property
    def roles(self) -> dict[str, str]:
        """Column name -> role."""
        return {name: spec.role for name, spec in self.columns.items()}

    def columns_with(self, *roles: str) -> list[str]:
        """Names of the columns whose role is one of ``roles``."""
        return [n for n, s in self.columns.items() if s.role in roles]

    @property
    def feature_columns(self) -> list[str]:
        return self.columns_with(*FEATURE_ROLES)

    def __getitem__(self, name: str) -> ColumnSpec:
        return self.columns[name]

    def __iter__(self):
        return iter(self.columns.values())

    def __len__(self) -> int:
        return len(self.columns)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and (
            self.roles == other.roles and self.id_column == other.id_column
        )

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for spec in self.columns.values():
            counts[spec.role] = counts.get(spec.role, 0) + 1
        parts = ", ".join(f"{n} {r}" for r, n in counts.items())
        return f"<Schema: {len(self.columns)} columns ({parts}); id={self.id_column!r}>"

    def to_pandas(self) -> pd.DataFrame:
        """One row per column: name, role, source, reason."""
        return pd.DataFrame(
            [(s.name, s.role, s.source, s.reason) for s in self.columns.values()],
            columns=["column", "role", "source", "reason"],
        )

    def _repr_html_(self) -> str:
        """Jupyter shows the table of :meth:`to_pandas` (pandas writes and escapes it)."""
        return self.to_pandas()._repr_html_()

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION,
            "id_column": self.id_column,
            "missing_values": self.missing_values,
            "max_categories": self.max_categories,
            "basis": self.basis,
            "columns": {n: s.to_dict() for n, s in self.columns.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def to_toml(self) -> str:
        """The schema as an editable TOML document (roles, reasons, how values are read)."""
        doc: dict[str, Any] = {"version": SCHEMA_VERSION}
        if self.id_column is not None:
            doc["id_column"] = self.id_column
        doc["missing_values"] = self.missing_values
        doc["max_categories"] = self.max_categories
        if self.basis is not None:
            doc["basis"] = self.basis
        doc["columns"] = {}
        for name, spec in self.columns.items():
            entry: dict[str, Any] = {"role": spec.role, "reason": spec.reason}
            entry.update(
                {k: v for k, v in spec.params.items() if k in _PARAM_KEYS and v is not None}
            )
            doc["columns"][name] = entry
        header = (
            "# personas schema: one [columns.NAME] table per column. Edit a role and pass this\n"
            "# file with --schema; what it says wins over inference. Roles:\n"
            + "".join(f"#   {role:<17}{meaning}\n" for role, meaning in ROLES.items())
            + "\n"
        )
        return header + tomli_w.dumps(doc)

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_toml` to ``path`` and return it."""
        path = Path(path)
        path.write_text(self.to_toml(), encoding="utf-8")
        return path


def _needs_params(spec: ColumnSpec) -> bool:
    """A declared role still needs inferred reading parameters (date format, booleans)."""
    if spec.role == "datetime":
        return "format" not in spec.params
    if spec.role == "boolean":
        return "true_values" not in spec.params
    return spec.role in ("numeric", "categorical", "multi_label", "high_cardinality", "text")


def _reading_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k in _PARAM_KEYS or k == "missing_tokens"}


def _declared_missing(spec: ColumnSpec | None) -> list[str]:
    return list(spec.params.get("missing_values", [])) if spec else []


def _pick_id(specs: list[ColumnSpec]) -> str | None:
    ids = [s for s in specs if s.role == "id"]
    if not ids:
        return None
    from personas.io._names import is_id_name

    named = [s for s in ids if is_id_name(s.name)]
    return (named or ids)[0].name


def _listing(names, n: int = 12) -> str:
    names = [str(x) for x in names]
    shown = ", ".join(repr(x) for x in names[:n])
    return shown + (f", … ({len(names) - n} more)" if len(names) > n else "")


def read_toml(path: Path, how_to_get_one: str) -> dict[str, Any]:
    """A schema file's TOML document; a missing or malformed file is a :class:`SchemaError`
    naming the file (``how_to_get_one`` says how to write one)."""
    if not path.is_file():
        raise SchemaError(f"Schema file {str(path)!r} does not exist. {how_to_get_one}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"Schema file {path.name} is not valid TOML: {exc}.") from None


def _toml_key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)
