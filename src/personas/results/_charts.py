"""What each chart of a segmentation shows, gathered from it once, then drawn by
:mod:`personas.viz` (which takes plain tables): ``run.plot(kind)`` and the report's
figures both come from here, so both forms show the same numbers.

Statistics such as silhouettes and the 2-D map come from :mod:`personas.cluster`,
values in original units from :mod:`personas.interpret`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from personas import viz
from personas.cluster import embed_2d, silhouette_by_segment
from personas.interpret import NumberProfile, numeric_view
from personas.io._schema import value_kind

__all__ = ["CHARTS", "report_figures"]

MAX_POINTS = 5000


def segment_labels(run: Any) -> list[str]:
    return [f"{s.id}: {s.name}" for s in run.segments]


def _basis_sample(run: Any) -> tuple[np.ndarray, np.ndarray]:
    sample = getattr(run, "basis_sample", None)
    if sample is None:
        raise ValueError("This segmentation has no basis sample (it was loaded from a summary).")
    return sample


def sizes(run: Any) -> pd.DataFrame:
    """Per segment: share of users and, when a value column is known, share of value."""
    signals = (run.insights or {}).get("signals") or [{} for _ in run.segments]
    value_col = ((run.insights or {}).get("columns") or {}).get("value")
    return pd.DataFrame(
        {
            "segment": segment_labels(run),
            "users": [s.share for s in run.segments],
            "value": [sig.get("value_share", np.nan) for sig in signals],
        }
    ).assign(value_column=value_col)


def effects(run: Any, max_features: int = 25) -> pd.DataFrame:
    """Standardized differences from all users: features × segments, strongest first.

    Numbers (and dates, booleans) by their effect; each category's most over-represented
    level in some segment as ``column = level``.
    """
    rows: dict[str, dict[int, float]] = {}
    for s in run.segments:
        for p in s.profile:
            if isinstance(p, NumberProfile):
                rows.setdefault(p.column, {})[s.id] = p.effect
    for s in run.segments:
        for p in s.profile:
            for o in getattr(p, "over", [])[:1]:
                key = f"{p.column} = {o.value}"
                if key in rows:
                    continue
                rows[key] = {}
                for t in run.segments:  # the same level's effect in every segment
                    entry = t.entry(p.column)
                    hit = next((x for x in entry.over + entry.under if x.value == o.value), None)
                    rows[key][t.id] = hit.effect if hit else 0.0
    table = pd.DataFrame(rows).T.reindex(columns=[s.id for s in run.segments])
    if table.empty:
        return table
    order = table.abs().max(axis=1).sort_values(ascending=False).index[:max_features]
    return table.loc[order]


def distributions(run: Any, column: str, per_segment: int = 2000) -> dict[str, Any]:
    """Values of a numeric column per segment (a sample of each), in original units."""
    data, labels = _table(run)
    if column not in data.columns:
        raise ValueError(f"No column {column!r} in the segmented table.")
    role = value_kind(run.validation.schema[column].role)
    if role not in ("numeric", "datetime", "boolean"):
        raise ValueError(
            f"Column {column!r} is {role}; distributions are drawn for numbers and dates "
            "(use category_mix for categories)."
        )
    raw, _ = numeric_view(run.model.builder, column, role, data[column])
    rng = np.random.default_rng(0)
    values = {}
    for s in range(run.k):
        v = raw[(labels == s) & np.isfinite(raw)]
        values[s] = v if len(v) <= per_segment else rng.choice(v, per_segment, replace=False)
    unit = " (days ago)" if role == "datetime" else ""
    skewed = run.model.builder.transforms_.get(column) == "log1p"
    positive = all(len(v) == 0 or v.min() > 0 for v in values.values())
    return {"values": values, "title": f"{column}{unit}", "log": skewed and positive}


def category_mix(run: Any, column: str, top: int = 8) -> pd.DataFrame:
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


def _table(run: Any) -> tuple[pd.DataFrame, np.ndarray]:
    return run.validation.data, run.labels["segment"].to_numpy()


def default_columns(run: Any, n: int = 4) -> tuple[list[str], list[str]]:
    """The numeric and categorical columns that separate the segments most."""
    best: dict[str, float] = {}
    for s in run.segments:
        for t in s.distinguishing:
            best[t.column] = max(best.get(t.column, 0.0), abs(t.effect))
    ranked = sorted(best, key=lambda c: -best[c])
    schema = run.validation.schema
    numeric = [c for c in ranked if schema[c].role in ("numeric", "datetime")][:n]
    categorical = [c for c in ranked if schema[c].role in ("categorical", "high_cardinality")][:n]
    return numeric, categorical


# ---------------------------------------------------------------------- the charts
def _k_selection(run: Any, interactive: bool) -> Any:
    return viz.k_selection(run.scores, run.k, interactive=interactive)


def _silhouette(run: Any, interactive: bool, max_points: int = 2000) -> Any:
    X, labels = _basis_sample(run)
    values = silhouette_by_segment(X, labels, max_points=max_points)
    return viz.silhouette(values, segment_labels(run), interactive=interactive)


def _map(run: Any, interactive: bool, method: str = "pca") -> Any:
    X, labels = _basis_sample(run)
    points = embed_2d(X, labels, method=method, max_points=MAX_POINTS)
    return viz.segment_map(points, segment_labels(run), interactive=interactive)


def _sizes(run: Any, interactive: bool) -> Any:
    return viz.sizes(sizes(run), interactive=interactive)


def _heatmap(run: Any, interactive: bool, max_features: int = 25) -> Any:
    return viz.profile_heatmap(effects(run, max_features), interactive=interactive)


def _radar(run: Any, interactive: bool, max_features: int = 8) -> Any:
    return viz.radar(effects(run, max_features), segment_labels(run), interactive=interactive)


def _snake(run: Any, interactive: bool, max_features: int = 12) -> Any:
    return viz.snake(effects(run, max_features), segment_labels(run), interactive=interactive)


def _distributions(run: Any, interactive: bool, column: str | None = None) -> Any:
    if column is None:
        numeric, _ = default_columns(run, 1)
        if not numeric:
            raise ValueError("No numeric column distinguishes the segments; name one.")
        column = numeric[0]
    d = distributions(run, column)
    return viz.distributions(d, segment_labels(run), interactive=interactive)


def _category_mix(run: Any, interactive: bool, column: str | None = None) -> Any:
    if column is None:
        _, categorical = default_columns(run, 1)
        if not categorical:
            raise ValueError("No categorical column distinguishes the segments; name one.")
        column = categorical[0]
    return viz.category_mix(category_mix(run, column), column, interactive=interactive)


def _tree(run: Any, interactive: bool) -> Any:
    if run.rules is None:
        raise ValueError("This segmentation has no surrogate tree.")
    return viz.surrogate_tree(run.rules, segment_labels(run), interactive=interactive)


CHARTS = {
    "sizes": _sizes,
    "heatmap": _heatmap,
    "radar": _radar,
    "snake": _snake,
    "map": _map,
    "silhouette": _silhouette,
    "k_selection": _k_selection,
    "distributions": _distributions,
    "category_mix": _category_mix,
    "tree": _tree,
}


def report_figures(run: Any) -> dict[str, Any]:
    """Every interactive chart of the report (plotly figures; lists for the per-column
    ones), as the report lays them out."""
    out: dict[str, Any] = {
        "sizes": _sizes(run, True),
        "heatmap": _heatmap(run, True),
    }
    if len(effects(run, 8)) >= 3:
        out["radar"] = _radar(run, True)
    out["snake"] = _snake(run, True)
    if getattr(run, "basis_sample", None) is not None and run.basis_sample[0].shape[1] >= 2:
        out["map"] = _map(run, True)
        if run.k > 1:
            out["silhouette"] = _silhouette(run, True)
    if len(run.scores) > 1:
        out["k"] = _k_selection(run, True)
    if run.rules is not None and run.k > 1:
        out["tree"] = _tree(run, True)
    numeric, categorical = default_columns(run, 3)
    out["distributions"] = [_distributions(run, True, c) for c in numeric]
    out["mix"] = [_category_mix(run, True, c) for c in categorical[:2]]
    return out
