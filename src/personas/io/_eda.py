"""`eda()`: an exploratory overview of a user table, on a bounded sample for big tables.

Per column: role, missingness, distinct values, distribution (quantiles, skew, zeros,
far outliers) or top categories; pairwise associations (Spearman for numbers, Cramér's V
for categories, the correlation ratio between the two); and alerts from validation and
from the associations (near-duplicate columns would count twice in the clustering
distance). Everything is computed on a random sample of at most ``sample_rows`` rows, and
the report says so. The result is plain data (:class:`Exploration`); ``personas.eda``
wraps it in an :class:`~personas.EDA`, which draws it (with skrub's ``TableReport`` of the
sample, personal data and free text left out).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from personas._json import dumps
from personas.errors import DataError
from personas.io._read import SourceInfo, load_table
from personas.io._validate import Validation, _validate

__all__ = ["HIDDEN", "Exploration", "eda"]

EDA_SAMPLE_ROWS = 50_000
NEAR_DUPLICATE = 0.9
HIDDEN = ("pii", "text", "ignore")  # roles never shown


class Exploration:
    """Exploratory overview of a table: the plain data of a :class:`~personas.EDA`, whose
    docstring describes the attributes; ``sample`` holds the typed rows the statistics
    were computed on, ``schema`` their roles.
    """

    def __init__(self, *, source, n_rows, sample_rows, columns, associations, alerts, seconds,
                 sample=None, schema=None):  # fmt: skip
        self.source = source
        self.n_rows = n_rows
        self.sample_rows = sample_rows
        self.columns = columns
        self.associations = associations
        self.alerts = alerts
        self.seconds = seconds
        self.sample = sample
        self.schema = schema

    def __repr__(self) -> str:
        return (
            f"<Exploration: {self.source.name}, {self.n_rows:,} rows × {len(self.columns)} "
            f"columns (statistics on {self.sample_rows:,} rows); {len(self.alerts)} alerts>"
        )

    @property
    def sampled(self) -> bool:
        return self.sample_rows < self.n_rows

    def to_pandas(self) -> pd.DataFrame:
        """One row per column: role, missing %, distinct, median or top value, skew."""
        rows = []
        for name, c in self.columns.items():
            top = c.get("top") or []
            rows.append(
                {
                    "column": name,
                    "role": c["role"],
                    "pct_missing": c["pct_missing"],
                    "n_unique": c.get("n_unique"),
                    "median": c.get("median"),
                    "top": top[0]["value"] if top else None,
                    "skew": c.get("skew"),
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.to_dict(),
            "n_rows": self.n_rows,
            "sample_rows": self.sample_rows,
            "columns": self.columns,
            "associations": self.associations.head(30).to_dict("records"),
            "alerts": self.alerts,
            "seconds": round(self.seconds, 3),
        }

    def to_json(self, path: str | Path | None = None) -> str:
        text = dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def eda(
    data: Any = None,
    *,
    sample_rows: int = EDA_SAMPLE_ROWS,
    random_state: int = 0,
    schema: Any = None,
    id_column: str | None = None,
    date_order: str | None = None,
    **read_options: Any,
) -> Exploration:
    """Explore a user table: the plain data of :func:`personas.eda`, which takes the same
    parameters and says what they mean (and wraps this :class:`Exploration` in an
    ``EDA``)."""
    start = time.perf_counter()
    if isinstance(data, Validation):
        report, n_rows, source = data, data.n_rows, data.source
        typed = _sample(report.data, sample_rows, random_state)
    else:
        raw, source = load_table(data, **read_options)
        n_rows = len(raw)
        if n_rows < 2:
            raise DataError(
                f"{source.name} has {n_rows} row: there is no distribution to explore in it. "
                "Give the table with all its users."
            )
        sample = _sample(raw, sample_rows, random_state)
        report = _validate(sample, schema, id_column, {}, date_order=date_order, source=source)
        typed = report.data
    schema_ = report.schema
    columns: dict[str, dict[str, Any]] = {}
    for name, spec in schema_.columns.items():
        c = dict(report.columns.get(name, {"role": spec.role, "pct_missing": 0.0}))
        c["role"] = spec.role
        if isinstance(c.get("top"), dict):  # {value: count} -> [{value, count, pct}]
            c["top"] = [
                {"value": k, "count": v, "pct": round(100.0 * v / max(report.n_rows, 1), 1)}
                for k, v in c["top"].items()
            ]
        if spec.role in ("numeric",) and name in typed.columns:
            c.update(_numeric_extras(typed[name]))
        columns[name] = c
    associations = _associations(typed, schema_)
    alerts = [
        {"level": f.level, "column": f.column, "message": f.message}
        for f in report.findings
        if f.level in ("error", "warning")
    ]
    alerts += _alerts(columns, associations)
    return Exploration(
        source=source if isinstance(source, SourceInfo) else SourceInfo(name=str(source)),
        n_rows=n_rows,
        sample_rows=len(typed),
        columns=columns,
        associations=associations,
        alerts=alerts,
        seconds=time.perf_counter() - start,
        sample=typed,
        schema=schema_,
    )


def _sample(df: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if len(df) <= n:
        return df
    rows = np.sort(np.random.default_rng(seed).choice(len(df), n, replace=False))
    return df.iloc[rows].reset_index(drop=True)


def _numeric_extras(s: pd.Series) -> dict[str, Any]:
    v = s.to_numpy(dtype=np.float64, na_value=np.nan)
    v = v[np.isfinite(v)]
    if v.size < 3:
        return {}
    q1, q3 = np.quantile(v, [0.25, 0.75])
    iqr = q3 - q1
    far = int(((v < q1 - 3 * iqr) | (v > q3 + 3 * iqr)).sum()) if iqr > 0 else 0
    return {
        "p5": float(f"{np.quantile(v, 0.05):.6g}"),
        "p95": float(f"{np.quantile(v, 0.95):.6g}"),
        "skew": round(float(pd.Series(v).skew()), 3),
        "pct_zero": round(100.0 * float((v == 0).mean()), 2),
        "n_far_outliers": far,
    }


def _associations(df: pd.DataFrame, schema) -> pd.DataFrame:
    """Every pair of usable columns with an association in [0, 1], strongest first."""
    roles = {c: s.role for c, s in schema.columns.items() if c in df.columns}
    numeric = [c for c, r in roles.items() if r in ("numeric", "boolean", "datetime")]
    categorical = [
        c for c, r in roles.items() if r == "categorical" and df[c].nunique(dropna=True) <= 50
    ]
    values = {}
    for c in numeric:
        s = df[c]
        if roles[c] == "datetime":
            s = pd.to_datetime(s).astype("int64").where(s.notna())
        values[c] = pd.to_numeric(s.astype("Float64"), errors="coerce").astype(float)
    rows = []
    if len(numeric) >= 2:
        corr = pd.DataFrame(values).corr(method="spearman")
        for i, a in enumerate(numeric):
            for b in numeric[i + 1 :]:
                r = corr.loc[a, b]
                if np.isfinite(r):
                    rows.append((a, b, abs(float(r)), "Spearman |ρ|", float(r)))
    codes = {c: pd.factorize(df[c].astype("string"))[0] for c in categorical}
    for i, a in enumerate(categorical):
        for b in categorical[i + 1 :]:
            rows.append((a, b, _cramers_v(codes[a], codes[b]), "Cramér's V", None))
    for a in numeric:
        for b in categorical:
            rows.append((a, b, _correlation_ratio(values[a].to_numpy(), codes[b]), "η", None))
    table = pd.DataFrame(rows, columns=["a", "b", "association", "measure", "signed"])
    return table.sort_values("association", ascending=False, kind="stable").reset_index(drop=True)


def _cramers_v(x: np.ndarray, y: np.ndarray) -> float:
    ok = (x >= 0) & (y >= 0)
    x, y = x[ok], y[ok]
    if len(x) < 2:
        return 0.0
    table = np.zeros((x.max() + 1, y.max() + 1))
    np.add.at(table, (x, y), 1)
    n = table.sum()
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.nansum(np.where(expected > 0, (table - expected) ** 2 / expected, 0.0))
    r, k = table.shape
    denom = n * (min(r, k) - 1)
    return float(np.sqrt(chi2 / denom)) if denom > 0 else 0.0


def _correlation_ratio(v: np.ndarray, codes: np.ndarray) -> float:
    ok = np.isfinite(v) & (codes >= 0)
    v, codes = v[ok], codes[ok]
    if len(v) < 2 or v.var() == 0:
        return 0.0
    counts = np.bincount(codes)
    means = np.bincount(codes, weights=v) / np.maximum(counts, 1)
    between = float((counts * (means - v.mean()) ** 2).sum())
    return float(np.sqrt(between / (v.var() * len(v))))


def _alerts(columns: dict[str, dict[str, Any]], associations: pd.DataFrame) -> list[dict]:
    out = []
    for _, row in associations[associations["association"] >= NEAR_DUPLICATE].iterrows():
        out.append(
            {
                "level": "warning",
                "column": f"{row['a']}, {row['b']}",
                "message": (
                    f"{row['a']!r} and {row['b']!r} carry nearly the same information "
                    f"({row['measure']} = {row['association']:.2f}); in the clustering they "
                    "would count twice. Keep one of them in the basis (--basis)."
                ),
            }
        )
    for name, c in columns.items():
        if c.get("pct_zero", 0) >= 50:
            out.append(
                {
                    "level": "info",
                    "column": name,
                    "message": f"{name!r} is zero for {c['pct_zero']:.0f}% of users.",
                }
            )
        skew = c.get("skew") or 0
        if abs(skew) > 2:
            what = (
                "it is log-transformed before clustering"
                if skew > 0
                else "a few low values stand far from the rest"
            )
            out.append(
                {
                    "level": "info",
                    "column": name,
                    "message": f"{name!r} is strongly skewed (skewness {skew:.1f}); {what}.",
                }
            )
    return out
