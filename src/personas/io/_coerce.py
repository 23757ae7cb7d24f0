"""Turn raw columns into typed ones by their role, counting every value that changes.

Text columns are converted through their distinct values (``pandas.factorize``): a
10M-row column with 40 levels is parsed 40 times, not 10M times. Nothing is dropped
silently: every value read as missing or that cannot be parsed is counted, with the first
rows where it happens, in a :class:`Change`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from personas._parallel import thread_map
from personas.errors import SchemaError
from personas.io import _dates
from personas.io._infer import BOOLEAN_PAIRS, read_dates
from personas.io._numbers import read_numbers
from personas.io._schema import ColumnSpec, Schema

__all__ = ["Change", "coerce_frame"]

N_EXAMPLES = 5


@dataclass
class Change:
    """Values of one column that were changed while reading (counted, never silent)."""

    column: str
    code: str  # missing_token | not_a_number | not_a_date | not_a_boolean | infinite | trimmed
    count: int
    rows: list[int] = field(default_factory=list)  # 1-based data rows, first few
    values: list[str] = field(default_factory=list)  # offending values (never for PII)
    detail: str = ""


def _rows(mask: np.ndarray) -> list[int]:
    return (np.flatnonzero(mask)[:N_EXAMPLES] + 1).tolist()


def coerce_frame(
    df: pd.DataFrame, schema: Schema, *, source_name: str = "the data"
) -> tuple[pd.DataFrame, list[Change]]:
    """Return a copy of ``df`` with every column typed by its role, and the changes made."""
    done = thread_map(
        lambda name: _coerce_column(
            df[name], schema.columns[name], schema.missing_values, source_name=source_name
        ),
        df.columns,
        n_rows=len(df),
    )
    out = {name: series for name, (series, _) in zip(df.columns, done, strict=True)}
    changes = [change for _, col_changes in done for change in col_changes]
    typed = pd.DataFrame(out, index=df.index, copy=False)
    return typed, changes


def _coerce_column(
    s: pd.Series, spec: ColumnSpec, missing_values: list[str], *, source_name: str
) -> tuple[pd.Series, list[Change]]:
    if spec.role == "outcome":  # (held as a boolean)
        declared = {"declared": "an outcome (a yes/no role)"}
        spec = dataclasses.replace(spec, role="boolean", params=spec.params | declared)
    role, name = spec.role, spec.name
    changes: list[Change] = []
    pii = role == "pii"
    if role in ("pii", "ignore"):
        return s, changes
    extra_missing = [str(v) for v in spec.params.get("missing_values", [])]

    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        if role == "boolean" and pd.api.types.is_bool_dtype(s):
            return s.astype("boolean"), changes
        if role == "datetime" and pd.api.types.is_datetime64_any_dtype(s):
            return _naive_utc(s), changes

    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        if extra_missing:
            tokens = pd.to_numeric(pd.Series(extra_missing), errors="coerce").dropna().to_numpy()
            hit = np.isin(values, tokens)
            if hit.any():
                changes.append(
                    Change(
                        name,
                        "missing_token",
                        int(hit.sum()),
                        _rows(hit),
                        [f"{t:g}" for t in tokens],
                        "declared missing",
                    )
                )
                values = np.where(hit, np.nan, values)
                s = pd.Series(values, index=s.index, name=name)
        inf = np.isinf(values)
        if inf.any():
            changes.append(Change(name, "infinite", int(inf.sum()), _rows(inf), ["inf"]))
            values = np.where(inf, np.nan, values)
            s = pd.Series(values, index=s.index, name=name)
        if role == "numeric":
            return s, changes
        if role == "boolean":
            bad = ~np.isin(values, [0.0, 1.0]) & ~np.isnan(values)
            if bad.any():
                changes.append(
                    Change(
                        name,
                        "not_a_boolean",
                        int(bad.sum()),
                        _rows(bad),
                        [f"{v:g}" for v in np.unique(values[bad])[:N_EXAMPLES]],
                    )
                )
            out = pd.array(
                np.where(bad | np.isnan(values), 0, values).astype(bool), dtype="boolean"
            )
            out[bad | np.isnan(values)] = pd.NA
            return pd.Series(out, index=s.index, name=name), changes
        if role == "categorical":
            return s.astype("category"), changes
        if role == "datetime":
            text = pd.Series(
                np.where(np.isnan(values), "", np.nan_to_num(values).astype(np.int64).astype(str)),
                index=s.index,
            ).replace("", None)
            return _coerce_text(text, spec, missing_values, changes, pii=False)
        return s, changes  # id, high_cardinality, text, multi_label stored as numbers
    if role in ("id", "text") and len(s) > 50_000:
        return _coerce_keys(s, spec, missing_values, changes)
    return _coerce_text(s, spec, missing_values, changes, pii=pii)


def _coerce_keys(
    s: pd.Series, spec: ColumnSpec, missing_values: list[str], changes: list[Change]
) -> tuple[pd.Series, list[Change]]:
    """Ids and free text: mostly distinct values, so trim and look for tokens row by row in
    Arrow (no factorization of millions of distinct strings)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    name = spec.name
    arr = pa.array(s.astype("string").array)
    if isinstance(arr, pa.Array):
        arr = pa.chunked_array([arr])
    trimmed = pc.utf8_trim_whitespace(arr)
    if spec.role != "text":
        differs = pc.fill_null(pc.not_equal(trimmed, arr), False).to_numpy(zero_copy_only=False)
        if differs.any():
            changes.append(
                Change(
                    name,
                    "trimmed",
                    int(differs.sum()),
                    _rows(differs),
                    s[differs].head(N_EXAMPLES).astype(str).tolist(),
                    "leading/trailing spaces removed",
                )
            )
    tokens = sorted(
        {m.lower() for m in missing_values}
        | {str(m).lower() for m in spec.params.get("missing_values", [])}
    )
    lowered = pc.utf8_lower(trimmed)
    hit = pc.fill_null(pc.is_in(lowered, value_set=pa.array(tokens)), False).to_numpy(
        zero_copy_only=False
    )
    if hit.any():
        found = pd.Series(trimmed.filter(pa.chunked_array([pa.array(hit)])).to_pylist())
        for value, n in found.value_counts().items():
            mask = hit & pc.fill_null(pc.equal(trimmed, value), False).to_numpy(
                zero_copy_only=False
            )
            changes.append(
                Change(name, "missing_token", int(n), _rows(mask), [value], "read as missing")
            )
        trimmed = pc.if_else(
            pa.chunked_array([pa.array(hit)]), pa.scalar(None, pa.string()), trimmed
        )
    return pd.Series(
        pd.arrays.ArrowStringArray(trimmed), index=s.index, name=name, dtype="string"
    ), changes


def _coerce_text(
    s: pd.Series, spec: ColumnSpec, missing_values: list[str], changes: list[Change], *, pii: bool
) -> tuple[pd.Series, list[Change]]:
    name, role = spec.name, spec.role
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques)).astype(np.int64)
    raw = pd.Series(uniques, dtype=object).astype(str)
    stripped = raw.str.strip()
    missing_set = {m.lower() for m in missing_values} | {
        str(m).lower() for m in spec.params.get("missing_values", [])
    }
    tok = stripped.str.lower().isin(missing_set).to_numpy()
    trimmed = (stripped != raw).to_numpy() & ~tok
    if trimmed.any() and role not in ("text",):
        n = int(counts[trimmed].sum())
        changes.append(
            Change(
                name,
                "trimmed",
                n,
                _rows(np.isin(codes, np.flatnonzero(trimmed))),
                [] if pii else raw[trimmed].head(N_EXAMPLES).tolist(),
                "leading/trailing spaces removed",
            )
        )
    for value in pd.unique(stripped[tok]):
        idx = np.flatnonzero(tok & (stripped == value).to_numpy())
        n = int(counts[idx].sum())
        changes.append(
            Change(name, "missing_token", n, _rows(np.isin(codes, idx)), [value], "read as missing")
        )
    clean = stripped.mask(tok)

    if role in ("id", "categorical", "high_cardinality", "multi_label", "text"):
        typed_u = clean
    elif role in _PARSERS:
        code, parse = _PARSERS[role]
        typed_u = parse(clean, spec)
        unread = typed_u.isna().to_numpy() & clean.notna().to_numpy()
        if role == "numeric":  # ("nan" written out is missing, as the tokens are)
            unread &= ~clean.str.lower().eq("nan").fillna(False).to_numpy()
            infinite = np.isinf(typed_u.to_numpy(dtype=np.float64, na_value=np.nan))
            _bad(name, infinite, codes, counts, clean, "infinite", changes, pii)
            typed_u = typed_u.mask(infinite)
        _bad(name, unread, codes, counts, clean, code, changes, pii)
    else:
        raise SchemaError(f"Column {name!r} has unknown role {role!r}.")

    if role == "categorical":
        cat_codes, cats = pd.factorize(clean, use_na_sentinel=True)
        if len(cat_codes):
            row_codes = np.where(codes >= 0, cat_codes[np.where(codes >= 0, codes, 0)], -1)
        else:  # (every value missing: no level to point at)
            row_codes = np.full(len(codes), -1)
        result = pd.Series(
            pd.Categorical.from_codes(row_codes, categories=cats), index=s.index, name=name
        )
        return result, changes
    if role == "numeric":
        arr = typed_u.to_numpy(dtype=np.float64, na_value=np.nan)
    elif role == "datetime":
        arr = typed_u.to_numpy(dtype="datetime64[ns]")
    elif role == "boolean":
        arr = typed_u.array
    else:
        arr = clean.astype("string").array
    taken = pd.api.extensions.take(arr, codes, allow_fill=True)
    result = pd.Series(taken, index=s.index, name=name)
    if role == "datetime":
        result = _naive_utc(result)
    return result, changes


def _bad(name, mask, codes, counts, clean, code, changes, pii) -> None:
    if not mask.any():
        return
    idx = np.flatnonzero(mask)
    shown = [] if pii else clean[mask].head(N_EXAMPLES).tolist()
    changes.append(
        Change(
            name, code, int(counts[idx].sum()), _rows(np.isin(codes, idx)), shown, "read as missing"
        )
    )


def _parse_bool(clean: pd.Series, spec: ColumnSpec) -> pd.Series:
    trues = spec.params.get("true_values")
    falses = spec.params.get("false_values")
    lowered = clean.str.lower()
    if not trues or not falses:
        present = set(lowered.dropna())
        for t, f in BOOLEAN_PAIRS:
            if present <= t | f:
                trues, falses = sorted(t), sorted(f)
                break
        else:
            raise SchemaError(
                f"Column {spec.name!r} is declared {spec.params.get('declared', 'boolean')} but "
                "holds values "
                f"{sorted(present)[:6]}. Give true_values and false_values for it in the schema "
                "file, or choose another role."
            )
    t = {v.lower() for v in trues}
    f = {v.lower() for v in falses}
    out = pd.Series(pd.NA, index=clean.index, dtype="boolean")
    out[lowered.isin(t).fillna(False).to_numpy()] = True
    out[lowered.isin(f).fillna(False).to_numpy()] = False
    return out


def _parse_dates(clean: pd.Series, spec: ColumnSpec) -> pd.Series:
    fmt = spec.params.get("format")
    if fmt:
        return pd.to_datetime(clean, format=fmt, errors="coerce", utc=True).dt.tz_localize(None)
    # (a column declared a date without its form: the form reading the most, day first on a tie)
    return max((read_dates(clean, f) for f in _dates.TABLE_FORMATS), key=lambda p: p.notna().sum())


_PARSERS = {  # role: (the change's code for a value that does not read, the parser)
    "numeric": (
        "not_a_number",
        lambda v, spec: read_numbers(v, spec.params.get("decimal", "."), strict=True),
    ),
    "boolean": ("not_a_boolean", lambda v, spec: _parse_bool(v, spec)),
    "datetime": ("not_a_date", lambda v, spec: _parse_dates(v, spec)),
}


def _naive_utc(s: pd.Series) -> pd.Series:
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s
