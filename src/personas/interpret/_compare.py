"""Two segments side by side: where they differ most, with 95 % intervals.

Differences are standardized by the whole population's spread, as the profiles' effects
are, so they rank across columns: for a number, (mean in A − mean in B) / population sd
on the clustering scale (log scale for skewed columns), with a Welch standard error; for
a category level or a label, (share in A − share in B) / √(p(1 − p)) with p its share
among all users.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from personas.interpret._profiles import Z95, _round, label_matrix, numeric_view, share_se
from personas.io._schema import Schema, value_kind
from personas.preprocess import BasisBuilder

__all__ = ["Comparison", "compare_segments"]

PROFILED = ("numeric", "boolean", "outcome", "datetime", "categorical", "high_cardinality",
            "multi_label")  # fmt: skip


class Comparison:
    """Segment ``a`` against segment ``b``: the plain data of a
    :class:`~personas.results.SegmentComparison` (see it for the attributes)."""

    def __init__(self, a: dict[str, Any], b: dict[str, Any], rows: list[dict[str, Any]]):
        self.a = a
        self.b = b
        self.rows = rows

    def __repr__(self) -> str:
        return (
            f"<Comparison: {self.a['id']} {self.a['name']!r} vs {self.b['id']} "
            f"{self.b['name']!r}; {len(self.rows)} differences>"
        )

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "column": r["column"],
                    "value": r.get("value"),
                    f"segment {self.a['id']}": r["a_text"],
                    f"segment {self.b['id']}": r["b_text"],
                    "difference": r["difference"],
                    "ci_low": r["ci"][0],
                    "ci_high": r["ci"][1],
                }
                for r in self.rows
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "differences": self.rows}


def compare_segments(
    data: pd.DataFrame,
    schema: Schema,
    builder: BasisBuilder,
    labels: np.ndarray,
    a: int,
    b: int,
    *,
    names: list[str] | None = None,
    top_levels: int = 3,
) -> Comparison:
    """Compare segments ``a`` and ``b`` on every profiled column."""
    labels = np.asarray(labels)
    in_a, in_b = labels == a, labels == b
    rows: list[dict[str, Any]] = []
    for col, spec in schema.columns.items():
        if spec.role not in PROFILED or col not in data.columns:
            continue
        s, role = data[col], value_kind(spec.role)
        if role in ("numeric", "boolean", "datetime"):
            row = _numeric_row(builder, col, role, s, in_a, in_b)
            if row is not None:
                rows.append(row)
        else:
            sep = spec.params.get("separator", ";") if spec.role == "multi_label" else None
            rows += _level_rows(col, spec.role, s, in_a, in_b, sep, top_levels)
    rows.sort(key=lambda r: -abs(r["difference"]))
    names = names or [f"segment {i}" for i in range(int(labels.max()) + 1)]
    return Comparison(
        {"id": a, "name": names[a], "size": int(in_a.sum())},
        {"id": b, "name": names[b], "size": int(in_b.sum())},
        rows,
    )


def _numeric_row(builder, col, role, s, in_a, in_b) -> dict[str, Any] | None:
    raw, scaled = numeric_view(builder, col, role, s)
    ok = np.isfinite(scaled)
    sd = float(np.std(scaled[ok])) if ok.any() else 0.0
    xa, xb = scaled[in_a & ok], scaled[in_b & ok]
    if sd <= 0 or xa.size < 2 or xb.size < 2:
        return None
    diff = (float(xa.mean()) - float(xb.mean())) / sd
    half = Z95 * float(np.sqrt(xa.var(ddof=1) / xa.size + xb.var(ddof=1) / xb.size)) / sd
    ra, rb = raw[in_a & ok], raw[in_b & ok]
    unit = " days ago" if role == "datetime" else ""

    def text(v: np.ndarray) -> str:
        if role == "boolean":
            return f"{v.mean():.0%} true"
        return f"median {_round(float(np.median(v)))}{unit} (mean {_round(float(v.mean()))})"

    return {
        "column": col,
        "kind": role,
        "a": {"mean": _round(float(ra.mean())), "median": _round(float(np.median(ra)))},
        "b": {"mean": _round(float(rb.mean())), "median": _round(float(np.median(rb)))},
        "a_text": text(ra),
        "b_text": text(rb),
        "difference": round(diff, 3),
        "ci": [round(diff - half, 3), round(diff + half, 3)],
    }


def _level_rows(col, role, s, in_a, in_b, sep, top_levels) -> list[dict[str, Any]]:
    if sep is not None:  # multi-label: one 0/1 column per label
        names, has = label_matrix(s, sep)
        if not names:
            return []
        pop, pa, pb = has.mean(axis=0), has[in_a].mean(axis=0), has[in_b].mean(axis=0)
    else:
        codes, names = pd.factorize(s.astype("string").fillna("(missing)"))
        n_levels = len(names)
        pop = np.bincount(codes, minlength=n_levels) / max(len(codes), 1)
        pa = np.bincount(codes[in_a], minlength=n_levels) / max(int(in_a.sum()), 1)
        pb = np.bincount(codes[in_b], minlength=n_levels) / max(int(in_b.sum()), 1)
    na, nb = max(int(in_a.sum()), 1), max(int(in_b.sum()), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(pop * (1 - pop))
        diff = np.where(sd > 0, (pa - pb) / sd, 0.0)
        se = np.sqrt(share_se(pa, na) ** 2 + share_se(pb, nb) ** 2)
        half = np.where(sd > 0, Z95 * se / sd, 0.0)
    rows = []
    for j in np.argsort(-np.abs(diff), kind="stable")[:top_levels]:
        if diff[j] == 0:
            continue
        rows.append(
            {
                "column": col,
                "kind": "label" if sep is not None else "level",
                "value": str(names[j]),
                "a": {"share": round(float(pa[j]), 4)},
                "b": {"share": round(float(pb[j]), 4)},
                "a_text": f"{pa[j]:.0%}",
                "b_text": f"{pb[j]:.0%}",
                "difference": round(float(diff[j]), 3),
                "ci": [round(float(diff[j] - half[j]), 3), round(float(diff[j] + half[j]), 3)],
            }
        )
    return rows
