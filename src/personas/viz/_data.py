"""What each chart shows, taken once from a segmentation (renderer-independent).

Every function here returns plain data (pandas / NumPy / dicts) gathered from the result
(statistics such as silhouettes and the 2-D map come from ``personas.cluster``);
``_static`` draws it with matplotlib and ``_interactive`` with plotly, so both forms show
the same numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from personas.pipeline import Segmentation

MAX_POINTS = 5000


def segment_labels(run: Segmentation) -> list[str]:
    return [f"{s['id']}: {s['name']}" for s in run.segments]


def k_selection(run: Segmentation) -> tuple[pd.DataFrame, int]:
    return run.scores, run.k


def _basis_sample(run: Segmentation) -> tuple[np.ndarray, np.ndarray]:
    sample = getattr(run, "basis_sample", None)
    if sample is None:
        raise ValueError("This segmentation has no basis sample (it was loaded from a summary).")
    return sample


def silhouette(run: Segmentation, max_points: int = 2000) -> dict[str, Any]:
    """Per segment, the sorted silhouette values of a sample of its users."""
    from personas.cluster._geometry import silhouette_by_segment

    X, labels = _basis_sample(run)
    return silhouette_by_segment(X, labels, max_points=max_points)


def segment_map(run: Segmentation, method: str = "pca") -> dict[str, Any]:
    """2-D coordinates of a sample of users (PCA, or UMAP with the ``umap`` extra)."""
    from personas.cluster._geometry import embed_2d

    X, labels = _basis_sample(run)
    return embed_2d(X, labels, method=method, max_points=MAX_POINTS)


def sizes(run: Segmentation) -> pd.DataFrame:
    """Per segment: share of users and, when a value column is known, share of value."""
    signals = (run.insights or {}).get("signals") or [{} for _ in run.segments]
    value_col = ((run.insights or {}).get("columns") or {}).get("value")
    return pd.DataFrame(
        {
            "segment": segment_labels(run),
            "users": [s["share"] for s in run.segments],
            "value": [sig.get("value_share", np.nan) for sig in signals],
        }
    ).assign(value_column=value_col)


def effects(run: Segmentation, max_features: int = 25) -> pd.DataFrame:
    """Standardized differences from all users: features × segments, strongest first.

    Numbers (and dates, booleans) by their effect; each category's most over-represented
    level in some segment as ``column = level``.
    """
    rows: dict[str, dict[int, float]] = {}
    for s in run.segments:
        for p in s["profile"]:
            if "effect" in p:
                rows.setdefault(p["column"], {})[s["id"]] = p["effect"]
    for s in run.segments:
        for p in s["profile"]:
            for o in p.get("over", [])[:1]:
                key = f"{p['column']} = {o['value']}"
                if key in rows:
                    continue
                rows[key] = {}
                for t in run.segments:  # the same level's effect in every segment
                    entry = next(q for q in t["profile"] if q["column"] == p["column"])
                    hit = next(
                        (
                            x
                            for x in entry.get("over", []) + entry.get("under", [])
                            if x["value"] == o["value"]
                        ),
                        None,
                    )
                    rows[key][t["id"]] = hit["effect"] if hit else 0.0
    table = pd.DataFrame(rows).T.reindex(columns=[s["id"] for s in run.segments])
    if table.empty:
        return table
    order = table.abs().max(axis=1).sort_values(ascending=False).index[:max_features]
    return table.loc[order]


def distributions(run: Segmentation, column: str, per_segment: int = 2000) -> dict[str, Any]:
    """Values of a numeric column per segment (a sample of each), in original units."""
    data, labels = _table(run)
    if column not in data.columns:
        raise ValueError(f"No column {column!r} in the segmented table.")
    role = run.validation.schema[column].role
    if role not in ("numeric", "datetime", "boolean"):
        raise ValueError(
            f"Column {column!r} is {role}; distributions are drawn for numbers and dates "
            "(use category_mix for categories)."
        )
    from personas.interpret._profiles import _numeric_view

    raw, _ = _numeric_view(run.model.builder, column, role, data[column])
    rng = np.random.default_rng(0)
    values = {}
    for s in range(run.k):
        v = raw[(labels == s) & np.isfinite(raw)]
        values[s] = v if len(v) <= per_segment else rng.choice(v, per_segment, replace=False)
    unit = " (days ago)" if role == "datetime" else ""
    skewed = any(
        g["column"] == column and g.get("transform") == "log1p" for g in run.model.builder.groups_
    )
    positive = all(len(v) == 0 or v.min() > 0 for v in values.values())
    return {"values": values, "title": f"{column}{unit}", "log": skewed and positive}


def category_mix(run: Segmentation, column: str, top: int = 8) -> pd.DataFrame:
    """Share of each level (top levels, the rest pooled) within every segment."""
    data, labels = _table(run)
    if column not in data.columns:
        raise ValueError(f"No column {column!r} in the segmented table.")
    text = data[column].astype("string").fillna("(missing)")
    keep = text.value_counts().index[:top]
    text = text.where(text.isin(keep), "(other)")
    table = pd.crosstab(labels, text.to_numpy(), normalize="index")
    table.index = segment_labels(run)
    return table[[c for c in list(keep) + ["(other)"] if c in table.columns]]


def _table(run: Segmentation) -> tuple[pd.DataFrame, np.ndarray]:
    return run.validation.data, run.labels["segment"].to_numpy()


def default_columns(run: Segmentation, n: int = 4) -> tuple[list[str], list[str]]:
    """The numeric and categorical columns that separate the segments most."""
    best: dict[str, float] = {}
    kinds: dict[str, str] = {}
    for s in run.segments:
        for t in s.get("distinguishing", []):
            best[t["column"]] = max(best.get(t["column"], 0.0), abs(t["effect"]))
            kinds[t["column"]] = t["kind"]
    ranked = sorted(best, key=lambda c: -best[c])
    schema = run.validation.schema
    numeric = [c for c in ranked if schema[c].role in ("numeric", "datetime")][:n]
    categorical = [c for c in ranked if schema[c].role in ("categorical", "high_cardinality")][:n]
    return numeric, categorical


def eda_missing(report: Any) -> pd.Series:
    """Share of missing values per column (columns with any missing value, most first)."""
    pct = pd.Series({c: v["pct_missing"] for c, v in report.columns.items()}, dtype=float)
    return pct[pct > 0].sort_values(ascending=False)


def eda_associations(report: Any, max_columns: int = 25) -> pd.DataFrame:
    """A symmetric columns × columns table of associations (0–1)."""
    pairs = report.associations
    if pairs.empty:
        return pd.DataFrame()
    strength = (
        pd.concat(
            [pairs.groupby("a")["association"].max(), pairs.groupby("b")["association"].max()]
        )
        .groupby(level=0)
        .max()
    )
    cols = list(strength.sort_values(ascending=False).index[:max_columns])
    table = pd.DataFrame(np.eye(len(cols)), index=cols, columns=cols)
    for row in pairs.itertuples():
        if row.a in table.index and row.b in table.index:
            table.loc[row.a, row.b] = table.loc[row.b, row.a] = row.association
    return table
