"""Data-quality checks on a typed table: per-column statistics and findings.

A *finding* is one fact worth telling the user, at a level: ``error`` (the table cannot be
used as it is: duplicate or missing user ids, no feature column), ``warning`` (values were
changed or look wrong) or ``info``. Values of PII columns are never shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from personas._parallel import thread_map
from personas._spread import OUTLIER_SHARE, apply_transform, far_fences, skew_transform
from personas.io import _names
from personas.io._coerce import Change
from personas.io._schema import FEATURE_ROLES, Schema

__all__ = ["Finding", "column_stats", "find_problems"]

SENTINELS = (-1.0, -9.0, -99.0, -999.0, -9999.0, 99.0, 999.0, 9999.0, 99999.0, 999999.0)
N_EXAMPLES = 5


@dataclass
class Finding:
    """One data-quality fact, with where it is and how to fix it."""

    level: str  # error | warning | info
    code: str
    message: str
    column: str | None = None
    count: int | None = None
    rows: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != []}


def n_distinct(s: pd.Series) -> int:
    """Number of distinct non-missing values (Arrow's hash count for Arrow-backed text)."""
    array = getattr(s.array, "_pa_array", None)
    if array is not None:
        import pyarrow.compute as pc

        return int(pc.count_distinct(array, mode="only_valid").as_py())
    return int(s.nunique(dropna=True))


def _fmt_rows(rows: list[int], total: int | None = None) -> str:
    if not rows:
        return ""
    shown = ", ".join(str(r) for r in rows)
    more = f" and {total - len(rows)} more" if total and total > len(rows) else ""
    return f"row{'s' if len(rows) > 1 or more else ''} {shown}{more}"


def _rows(mask: np.ndarray) -> list[int]:
    return (np.flatnonzero(mask)[:N_EXAMPLES] + 1).tolist()


def _num(x: float) -> float | int | None:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return None
    return int(x) if float(x).is_integer() else round(float(x), 4)


def column_stats(
    name: str, s: pd.Series, role: str, separator: str = ";", n_unique: int | None = None
) -> dict[str, Any]:
    """Counts and a short distribution summary of one typed column (no values for PII)."""
    n = len(s)
    n_missing = int(s.isna().sum())
    stats: dict[str, Any] = {
        "n_missing": n_missing,
        "pct_missing": round(100.0 * n_missing / n, 2) if n else 0.0,
    }
    vc = None
    if role == "pii":  # nothing about the values, not even how many distinct ones
        return stats
    if role in ("categorical", "high_cardinality", "multi_label"):
        vc = s.value_counts(dropna=True)  # one hash pass gives distinct values and the top
        stats["n_unique"] = len(vc)
    else:
        try:
            stats["n_unique"] = n_unique if n_unique is not None else n_distinct(s)
        except TypeError:  # unhashable values (lists from JSON)
            stats["n_unique"] = None
    if role == "numeric" or (role == "id" and pd.api.types.is_numeric_dtype(s)):
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        v = v[np.isfinite(v)]
        if v.size:
            q = np.quantile(v, [0.0, 0.25, 0.5, 0.75, 1.0])
            stats.update(
                min=_num(q[0]),
                p25=_num(q[1]),
                median=_num(q[2]),
                p75=_num(q[3]),
                max=_num(q[4]),
                mean=_num(v.mean()),
                std=_num(v.std()),
            )
    elif role in ("boolean", "outcome"):
        v = s.dropna()
        stats["pct_true"] = round(100.0 * float(v.astype(bool).mean()), 2) if len(v) else None
    elif role == "datetime":
        v = s.dropna()
        if len(v):
            stats.update(min=str(v.min()), max=str(v.max()))
    elif vc is not None:
        if role == "multi_label":
            labels = pd.Series(vc.index.astype(str), dtype=object).str.split(separator)
            counts = np.repeat(vc.to_numpy(), labels.str.len().to_numpy())
            flat = pd.Series([t.strip() for ls in labels for t in ls], dtype=object)
            top = pd.Series(counts).groupby(flat.to_numpy()).sum()
            top = top[top.index != ""].sort_values(ascending=False, kind="stable").head(8)
        else:
            top = vc.head(8)
        stats["top"] = {str(k): int(v) for k, v in top.items()}
    return stats


def find_problems(
    raw: pd.DataFrame,
    typed: pd.DataFrame,
    schema: Schema,
    changes: list[Change],
    *,
    source_name: str,
    id_distinct: int | None = None,
) -> list[Finding]:
    """Every finding about the table, errors first.

    ``id_distinct`` is the number of distinct user ids, when the caller already knows it.
    """
    findings: list[Finding] = []
    findings += _id_findings(typed, schema, source_name, id_distinct)
    findings += _feature_findings(schema, source_name)
    for change in changes:
        findings.append(_change_finding(change, schema))

    def column_findings(spec) -> list[Finding]:
        name, s, found = spec.name, typed[spec.name], []
        if spec.role == "ignore":
            level = "warning" if "missing" in spec.reason else "info"
            return [Finding(level, "ignored", f"Column {name!r} is ignored: {spec.reason}.", name)]
        if spec.role == "pii":
            return []
        pct = 100.0 * s.isna().mean()
        if pct >= 50 and spec.role in FEATURE_ROLES:
            found.append(
                Finding(
                    "warning",
                    "mostly_missing",
                    f"Column {name!r} is {pct:.0f}% missing; segments will lean on imputed values. "
                    "Consider leaving it out (role = 'ignore') if it is not informative.",
                    name,
                    int(s.isna().sum()),
                )
            )
        if spec.role == "numeric":
            found += _numeric_findings(name, s)
        elif spec.role == "datetime":
            found += _date_findings(name, s)
        elif spec.role in ("categorical", "high_cardinality"):
            found += _spelling_findings(name, raw[name])
        return found

    for found in thread_map(column_findings, schema.columns.values(), n_rows=len(typed)):
        findings += found
    pii = schema.columns_with("pii")
    if pii:
        findings.append(
            Finding(
                "info",
                "pii",
                f"Column(s) {pii} hold personal data: they are never used as features and their "
                "values are never shown.",
                None,
                len(pii),
            )
        )
    ids_unique = schema.id_column is not None and not any(
        f.code in ("duplicate_ids", "missing_ids") for f in findings
    )
    # With unique ids no two rows can be equal: skip hashing every column.
    mask = np.zeros(len(typed), bool) if ids_unique else typed.duplicated().to_numpy()
    n_dup = int(mask.sum())
    if n_dup:
        findings.append(
            Finding(
                "warning",
                "duplicate_rows",
                f"{n_dup} row(s) are exact copies of an earlier row "
                f"({_fmt_rows(_rows(mask), n_dup)}). If each row should be a different user, "
                "remove the copies; they are kept as given.",
                None,
                n_dup,
                _rows(mask),
            )
        )
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: order[f.level])


def _id_findings(
    typed: pd.DataFrame, schema: Schema, source_name: str, id_distinct: int | None = None
) -> list[Finding]:
    out: list[Finding] = []
    col = schema.id_column
    if col is None:
        out.append(
            Finding(
                "info",
                "no_id",
                f"{source_name} has no user-id column: rows are numbered 1..{len(typed)} instead. "
                "If a column identifies users, name it with --id-column.",
                None,
            )
        )
        return out
    ids = typed[col]
    missing = ids.isna().to_numpy()
    if missing.any():
        n = int(missing.sum())
        out.append(
            Finding(
                "error",
                "missing_ids",
                f"The user-id column {col!r} is empty on {n} row(s) "
                f"({_fmt_rows(_rows(missing), n)}). "
                "Every user needs an id: fill them in or remove those rows.",
                col,
                n,
                _rows(missing),
            )
        )
    distinct = id_distinct if id_distinct is not None else n_distinct(ids)
    if distinct == int((~missing).sum()):
        return out  # every id is unique: no need to find the duplicated rows
    dup_mask = ids.duplicated(keep=False).to_numpy() & ~missing
    if dup_mask.any():
        dup_values = ids[dup_mask]
        n_values = int(dup_values.nunique())
        n_rows = int(dup_mask.sum())
        first = dup_values.iloc[0]
        where = (np.flatnonzero((ids == first).fillna(False).to_numpy(dtype=bool))[:3] + 1).tolist()
        per_id = len(ids) / max(ids.nunique(), 1)
        hint = (
            f" With {per_id:.1f} rows per id on average this looks like an event log (one row "
            "per event): aggregate it to one row per user first — `personas profile FILE -o "
            "profiles/` does (it needs each event's time: name that column with --timestamp), "
            "then segment profiles/profiles.parquet."
            if per_id >= 2
            else " Remove the duplicate rows, or give the column another role in the schema file"
            " if it does not identify users."
        )
        out.append(
            Finding(
                "error",
                "duplicate_ids",
                f"The user-id column {col!r} should be unique but {n_values} id(s) appear more "
                "than "
                f"once ({n_rows} rows; e.g. {first!r} on rows {', '.join(map(str, where))}).{hint}",
                col,
                n_rows,
                _rows(dup_mask),
            )
        )
    return out


def _feature_findings(schema: Schema, source_name: str) -> list[Finding]:
    if schema.feature_columns:
        return []
    found = ", ".join(f"{n} ({s.role})" for n, s in schema.columns.items()) or "none"
    return [
        Finding(
            "error",
            "no_features",
            f"{source_name} has no column usable as a feature (numeric, categorical, boolean, "
            f"multi-label or date). Its columns are: {found}. Add behaviour or attribute columns, "
            "or set a column's role in the schema file.",
            None,
        )
    ]


def _change_finding(change: Change, schema: Schema) -> Finding:
    name, n = change.column, change.count
    rows = _fmt_rows(change.rows, n)
    values = ", ".join(repr(v) for v in change.values[:N_EXAMPLES])
    shown = f" e.g. {values}" if values else ""
    if change.code == "missing_token":
        return Finding(
            "info",
            "missing_token",
            f"Column {name!r}: {n} value(s) {values or 'blank'} read as missing.",
            name,
            n,
            change.rows,
        )
    if change.code == "trimmed":
        return Finding(
            "info",
            "trimmed",
            f"Column {name!r}: {n} value(s) had leading/trailing spaces, removed.",
            name,
            n,
            change.rows,
        )
    if change.code == "infinite":
        return Finding(
            "warning",
            "infinite",
            f"Column {name!r} holds {n} infinite value(s) ({rows}); they are read as "
            "missing. Fix the computation that produced them.",
            name,
            n,
            change.rows,
        )
    kind = {"not_a_number": "numbers", "not_a_date": "dates", "not_a_boolean": "yes/no values"}
    role = schema.columns[name].role
    return Finding(
        "warning",
        "mixed_types",
        f"Column {name!r} holds {kind.get(change.code, role)} but {n} value(s) are not ({rows};"
        f"{shown}). They are read as missing. Fix those values, or declare another role for "
        f"the column in the schema file (e.g. role = 'categorical').",
        name,
        n,
        change.rows,
    )


def _numeric_findings(name: str, s: pd.Series) -> list[Finding]:
    out: list[Finding] = []
    v = s.to_numpy(dtype=np.float64, na_value=np.nan)
    ok = np.isfinite(v)
    if ok.sum() < 5:
        return out
    finite = v[ok]
    lo_all, hi_all = float(finite.min()), float(finite.max())
    # Placeholders for missing: -1/-999 under otherwise non-negative values, 999/9999 far above.
    for sentinel in SENTINELS:
        if not lo_all <= sentinel <= hi_all:
            continue
        hits = finite == sentinel
        count = int(hits.sum())
        if count < max(2, 0.001 * ok.sum()) or count == finite.size:
            continue
        others = finite[~hits]
        low = sentinel < 0 and others.min() >= 0
        high = sentinel > 0 and sentinel == hi_all and others.max() * 2 <= sentinel
        if low or high:
            apart = "all others ≥ 0" if low else f"next largest {others.max():g}"
            mask = v == sentinel
            out.append(
                Finding(
                    "warning",
                    "placeholder",
                    f"Column {name!r}: the value {sentinel:g} appears {count} times and sits "
                    f"apart from every other value ({apart}"
                    f"); it may be a code for 'missing' or 'not applicable'. If so, add "
                    f'missing_values = ["{sentinel:g}"] to [columns.{name}] in the schema file.',
                    name,
                    count,
                    _rows(mask),
                )
            )
    neg = finite < 0
    if 0 < neg.sum() <= 0.01 * finite.size:
        mask = ok & (np.nan_to_num(v) < 0)
        n = int(mask.sum())
        out.append(
            Finding(
                "warning",
                "negative_values",
                f"Column {name!r} is ≥ 0 on {100 * (1 - neg.mean()):.1f}% of rows but negative on "
                f"{n} ({_fmt_rows(_rows(mask), n)}). Check whether these are errors or returns.",
                name,
                n,
                _rows(mask),
            )
        )
    if "age" in _names.tokens(name):
        mask = ok & ((np.nan_to_num(v) < 0) | (np.nan_to_num(v) > 120))
        if mask.any():
            n = int(mask.sum())
            out.append(
                Finding(
                    "warning",
                    "implausible_age",
                    f"Column {name!r} has {n} age(s) outside 0–120 ({_fmt_rows(_rows(mask), n)}). "
                    "Correct them or blank them out.",
                    name,
                    n,
                    _rows(mask),
                )
            )
    # Far values (Tukey's 3×IQR fences), on the scale segmentation reads the column on:
    # the basis matrix's own rule (personas._spread), so the finding says what it does.
    transform = skew_transform(finite)[0]
    t = apply_transform(finite, transform)
    lo, hi, beyond, rare = far_fences(t)
    if beyond:
        vv = apply_transform(np.where(ok, v, np.median(finite)), transform)
        mask = ok & ((vv < lo) | (vv > hi))
        n = int(mask.sum())
        scale = " on a log scale" if transform != "none" else ""
        fate = (
            "they will be clipped at robust bounds for segmentation, not removed."
            if rare
            else f"more than {OUTLIER_SHARE:.0%} of the values, so they are a group of users "
            "rather than outliers: segmentation keeps them as they are."
        )
        out.append(
            Finding(
                "info",
                "outliers",
                f"Column {name!r} has {n} far value(s) beyond 3×IQR{scale} "
                f"({_fmt_rows(_rows(mask), n)}); {fate}",
                name,
                n,
                _rows(mask),
            )
        )
    return out


def _date_findings(name: str, s: pd.Series) -> list[Finding]:
    out: list[Finding] = []
    v = s.dropna()
    if v.empty:
        return out
    now = pd.Timestamp(datetime.now()).normalize() + pd.Timedelta(days=1)
    future = (s > now).fillna(False).to_numpy()
    old = (s < pd.Timestamp("1900-01-01")).fillna(False).to_numpy()
    for mask, what in ((future, "in the future"), (old, "before 1900")):
        if mask.any():
            n = int(mask.sum())
            out.append(
                Finding(
                    "warning",
                    "implausible_date",
                    f"Column {name!r} has {n} date(s) {what} ({_fmt_rows(_rows(mask), n)}). "
                    "Check the date format or correct those values.",
                    name,
                    n,
                    _rows(mask),
                )
            )
    return out


def _spelling_findings(name: str, raw: pd.Series) -> list[Finding]:
    if pd.api.types.is_numeric_dtype(raw):
        return []
    distinct = pd.Series(pd.unique(pd.Series(raw.dropna().unique()).astype(str).str.strip()))
    if len(distinct) > 5000 or len(distinct) < 2:
        return []
    key = distinct.str.lower().str.replace(r"\s+", " ", regex=True)
    groups = distinct.groupby(key).agg(list)
    clashes = [g for g in groups if len(g) > 1]
    if not clashes:
        return []
    shown = "; ".join(" / ".join(repr(x) for x in g[:3]) for g in clashes[:3])
    return [
        Finding(
            "warning",
            "inconsistent_spelling",
            f"Column {name!r} spells {len(clashes)} value(s) in several ways that differ only in "
            "case "
            f"or spaces ({shown}). They count as different categories; unify them at the source.",
            name,
            len(clashes),
        )
    ]
