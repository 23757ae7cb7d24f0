"""Per-segment profiles against the whole population, and short distinct names.

Effect sizes are standardized differences: for a number, (segment mean − population
mean) / population standard deviation, computed on the same scale the clustering used
(log scale for skewed columns); for a category level or a label, (segment share −
population share) / √(p(1 − p)), the same difference on its 0/1 indicator. They are
comparable across columns, so the largest ones name the segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from personas._parallel import thread_map
from personas.interpret._segments import LevelProfile, LevelShare, NumberProfile, Segment, Term
from personas.io._names import tokens
from personas.io._schema import Schema, value_kind
from personas.preprocess import BasisBuilder

__all__ = ["profile_segments"]

UNINFORMATIVE = {
    "yes",
    "no",
    "true",
    "false",
    "none",
    "other",
    "unknown",
    "n/a",
    "na",
    "(missing)",
    "(other)",
    "0",
    "1",
    "y",
    "n",
}
MIN_EFFECT = 0.3  # below this a difference does not name a segment
Z95 = 1.959964  # two-sided 95 % normal quantile


def _nice(col: str) -> str:
    words = [w for w in tokens(col) if w not in {"date", "dt", "at", "on"}]
    return " ".join(words) or col


def numeric_view(builder: BasisBuilder, col: str, role: str, s: pd.Series):
    """(values in original units, values on the scale profiles are read on) of a
    numeric-ish column: skewed columns on a log scale, as the basis builder decided."""
    raw = builder.numeric_values(s, role)
    if role == "datetime" and builder.as_of_ is None:  # (a date that is not in the basis)
        as_of = pd.to_datetime(s).max()
        raw = ((as_of - pd.to_datetime(s)).dt.total_seconds() / 86400.0).to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    return raw, builder.scale_of(col, raw)


def _round(x: float) -> float | None:
    if x is None or not np.isfinite(x):
        return None
    return float(f"{x:.4g}")


def profile_segments(
    data: pd.DataFrame,
    schema: Schema,
    builder: BasisBuilder,
    labels: np.ndarray,
    *,
    stability: np.ndarray | None = None,
    top_levels: int = 5,
) -> list[Segment]:
    """Profile every segment on every usable column (basis and descriptors).

    Returns
    -------
    list of Segment
        One per segment: ``id``, ``size``, ``share``, ``stability``, ``centroid``
        (numbers in original units: the segment median; categories: the most common
        level), ``profile`` (one entry per column), ``distinguishing`` (the features
        that set it apart most, strongest first) and ``name``.
    """
    k = int(labels.max()) + 1 if len(labels) else 0
    n = len(labels)
    basis = set(builder.basis_)
    columns = [
        c
        for c, spec in schema.columns.items()
        if spec.role
        in (
            "numeric",
            "boolean",
            "outcome",
            "datetime",
            "categorical",
            "high_cardinality",
            "multi_label",
        )  # fmt: skip
    ]
    segments = [Segment(id=s, size=int((labels == s).sum()), share=0.0) for s in range(k)]
    for seg in segments:
        seg.share = round(seg.size / n, 4) if n else 0.0
        if stability is not None and np.isfinite(stability[seg.id]):
            seg.stability = round(float(stability[seg.id]), 3)
    order = np.argsort(labels, kind="stable")
    ends = np.cumsum(np.bincount(labels, minlength=k))
    members = (order, np.concatenate([[0], ends[:-1]]), ends)  # rows sorted by segment

    def profile_column(col: str) -> list[_Part]:
        # Each column fills its own per-segment records; they are merged in column order.
        part = [_Part(seg.id) for seg in segments]
        role = value_kind(schema[col].role)  # (an outcome's rate: a yes/no column's share)
        in_basis = col in basis
        if role in ("numeric", "boolean", "datetime"):
            _profile_numeric(part, col, role, in_basis, data[col], members, builder)
        elif role in ("categorical", "high_cardinality"):
            _profile_levels(part, col, role, in_basis, data[col], labels, top_levels)
        else:
            sep = schema[col].params.get("separator", ";")
            _profile_labels(part, col, in_basis, data[col], labels, sep, top_levels)
        return part

    parts = thread_map(profile_column, columns, n_rows=n)
    terms: list[list[Term]] = [[] for _ in segments]
    for part in parts:
        for seg, done in zip(segments, part, strict=True):
            seg.profile.extend(done.profile)
            seg.centroid.update(done.centroid)
            terms[seg.id].extend(done.terms)
    for seg in segments:
        terms[seg.id].sort(key=lambda t: -abs(t.effect))
        seg.distinguishing = terms[seg.id][:8]
    _name_segments(segments, terms)
    return segments


def _profile_numeric(segments, col, role, in_basis, s, members, builder) -> None:
    raw, scaled = numeric_view(builder, col, role, s)
    ok = np.isfinite(scaled)
    mu, sd = float(np.nanmean(scaled[ok])) if ok.any() else 0.0, float(np.nanstd(scaled[ok]))
    pop_mean = float(np.nanmean(raw)) if ok.any() else np.nan
    pop_median = float(np.nanmedian(raw)) if ok.any() else np.nan
    unit = "days ago" if role == "datetime" else ("share true" if role == "boolean" else "")
    order, starts, ends = members
    raw_sorted, scaled_sorted = raw[order], scaled[order]  # one gather per column
    for seg in segments:
        part = raw_sorted[starts[seg.id] : ends[seg.id]]
        part_scaled = scaled_sorted[starts[seg.id] : ends[seg.id]]
        keep = np.isfinite(part_scaled)
        if not keep.any():
            continue
        values = part[keep]
        seg_mean = float(values.mean())
        seg_median = float(np.median(values))
        on_scale = part_scaled[keep]
        effect = (float(on_scale.mean()) - mu) / sd if sd > 0 else 0.0
        # 95 % interval of the effect: the segment mean's standard error, in population sd
        half = Z95 * float(on_scale.std()) / np.sqrt(on_scale.size) / sd if sd > 0 else 0.0
        ci = _ci(effect, half)
        seg.profile.append(
            NumberProfile(
                column=col,
                role=role,
                in_basis=in_basis,
                unit=unit,
                mean=_round(seg_mean),
                mean_all=_round(pop_mean),
                median=_round(seg_median),
                median_all=_round(pop_median),
                effect=round(effect, 3),
                ci=ci,
            )
        )
        seg.centroid[col] = _round(seg_mean if role == "boolean" else seg_median)
        if abs(effect) >= MIN_EFFECT:
            seg.terms.append(
                Term(
                    column=col,
                    kind="numeric",
                    role=role,
                    effect=round(effect, 3),
                    ci=ci,
                    label=_numeric_term(col, role, effect),
                    in_basis=in_basis,
                )
            )


# Readable words for the profile features of `personas profile`: (higher, lower).
PROFILE_TERMS = {
    "recency_days": ("lapsed buyers", "recent buyers"),
    "last_seen_days": ("inactive", "recently active"),
    "tenure_days": ("long-standing", "new"),
    "frequency": ("frequent buyers", "rare buyers"),
    "monetary": ("high spend", "low spend"),
    "avg_order_value": ("big baskets", "small baskets"),
    "inter_purchase_days": ("long gaps between orders", "short gaps between orders"),
    "n_events": ("very active", "little activity"),
    "active_weeks": ("active many weeks", "active few weeks"),
    "return_share": ("frequent returns", "few returns"),
    "trend_30d": ("growing activity", "falling activity"),
    "trend_90d": ("growing activity", "falling activity"),
}


def _numeric_term(col: str, role: str, effect: float) -> str:
    if col in PROFILE_TERMS:
        return PROFILE_TERMS[col][0 if effect > 0 else 1]
    name = _nice(col)
    if role == "datetime":
        return f"{name} long ago" if effect > 0 else f"recent {name}"
    if role == "boolean":
        return name if effect > 0 else f"no {name}"
    return f"{'high' if effect > 0 else 'low'} {name}"


def _level_term(col: str, value: str) -> str:
    v = str(value).strip()
    if v.lower() in UNINFORMATIVE or v.replace(".", "").isdigit() or len(v) > 30:
        return f"{_nice(col)} {v}"
    return v


def _shares_entry(col, role, in_basis, row, pop, names, top_levels, n_seg):
    """Lift, effect and its 95 % half-width for every level in one segment, and its profile
    entry (top levels)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(pop > 0, row / pop, np.nan)
        sd = np.sqrt(pop * (1 - pop))
        effect = np.where((pop > 0) & (pop < 1), (row - pop) / sd, 0.0)
        half = np.where((pop > 0) & (pop < 1), share_se(row, n_seg) * Z95 / sd, 0.0)
    top = [j for j in np.argsort(-row, kind="stable") if pop[j] > 0][:top_levels]

    def share(j: int, *, effects: bool = True) -> LevelShare:
        return LevelShare(
            value=str(names[j]),
            share=round(float(row[j]), 4),
            share_all=round(float(pop[j]), 4),
            lift=_round(float(lift[j])),
            effect=round(float(effect[j]), 3) if effects else None,
            ci=_ci(effect[j], half[j]) if effects else None,
        )

    # Over- and under-represented levels: a clear difference (the 95 % interval of the
    # effect excludes 0) of at least 20 % in share, largest effects first.
    by_effect = np.argsort(-effect, kind="stable")
    over = [share(j) for j in by_effect if effect[j] - half[j] > 0 and lift[j] >= 1.2]
    under = [share(j) for j in by_effect[::-1] if effect[j] + half[j] < 0 and lift[j] <= 0.8]
    entry = LevelProfile(
        column=col,
        role=role,
        in_basis=in_basis,
        top=[share(j, effects=False) for j in top],
        over=over[:top_levels],
        under=under[:top_levels],
    )
    return lift, effect, half, top, entry


def _profile_levels(segments, col, role, in_basis, s, labels, top_levels) -> None:
    if isinstance(s.dtype, pd.CategoricalDtype):  # typed categories: use their codes
        codes = s.cat.codes.to_numpy().astype(np.int64)
        levels = pd.Index(list(s.cat.categories.astype(str)) + ["(missing)"])
        codes = np.where(codes < 0, len(levels) - 1, codes)
    else:
        codes, levels = pd.factorize(s.astype("string").fillna("(missing)"))
    k = len(segments)
    n_levels = len(levels)
    table = np.bincount(labels * n_levels + codes, minlength=k * n_levels).reshape(k, n_levels)
    table = table.astype(np.float64)
    sizes = table.sum(axis=1, keepdims=True)
    pop = table.sum(axis=0) / max(table.sum(), 1)
    share = np.divide(table, sizes, out=np.zeros_like(table), where=sizes > 0)
    for seg in segments:
        row = share[seg.id]
        lift, effect, half, top, entry = _shares_entry(
            col, role, in_basis, row, pop, levels, top_levels, int(sizes[seg.id, 0])
        )
        seg.profile.append(entry)
        seg.centroid[col] = str(levels[top[0]]) if len(top) else None
        for j in np.argsort(-effect, kind="stable")[:2]:
            if levels[j] == "(missing)" or effect[j] < MIN_EFFECT or row[j] < 0.25:
                continue
            seg.terms.append(
                Term(
                    column=col,
                    kind="level",
                    role=role,
                    value=str(levels[j]),
                    effect=round(float(effect[j]), 3),
                    ci=_ci(effect[j], half[j]),
                    share=round(float(row[j]), 4),
                    lift=_round(float(lift[j])),
                    label=_level_term(col, levels[j]),
                    in_basis=in_basis,
                )
            )


def label_matrix(s: pd.Series, sep: str) -> tuple[list[str], np.ndarray]:
    """The labels of a multi-label column and, per row, which it has (rows × labels)."""
    codes, uniques = pd.factorize(s.astype("string"), use_na_sentinel=True)
    names = sorted({t.strip() for u in uniques for t in str(u).split(sep) if t.strip()})
    index = {lab: j for j, lab in enumerate(names)}
    table = np.zeros((len(uniques) + 1, len(names)), dtype=bool)
    for i, u in enumerate(uniques):
        for t in str(u).split(sep):
            if t.strip() in index:
                table[i, index[t.strip()]] = True
    return names, table[np.where(codes >= 0, codes, len(uniques))]


def _profile_labels(segments, col, in_basis, s, labels, sep, top_levels) -> None:
    names, has = label_matrix(s, sep)
    if not names:
        return
    pop = has.mean(axis=0)
    for seg in segments:
        m = labels == seg.id
        row = has[m].mean(axis=0) if m.any() else np.zeros(len(names))
        lift, effect, half, _, entry = _shares_entry(
            col, "multi_label", in_basis, row, pop, names, top_levels, int(m.sum())
        )
        seg.profile.append(entry)
        j = int(np.argmax(effect))
        if effect[j] >= MIN_EFFECT and row[j] >= 0.25:
            seg.terms.append(
                Term(
                    column=col,
                    kind="label",
                    role="multi_label",
                    value=names[j],
                    effect=round(float(effect[j]), 3),
                    ci=_ci(effect[j], half[j]),
                    share=round(float(row[j]), 4),
                    lift=_round(float(lift[j])),
                    label=f"{names[j]} fans",
                    in_basis=in_basis,
                )
            )


def share_se(p: np.ndarray, n: int) -> np.ndarray:
    """Standard error of a share, Agresti–Coull adjusted (two successes and two failures
    added), so that a share of 0 or 1 in a small segment is not taken as certain."""
    adj = (np.asarray(p) * n + 2) / (n + 4)
    return np.sqrt(adj * (1 - adj) / (n + 4))


def _ci(effect: float, half: float) -> list[float]:
    return [round(float(effect - half), 3), round(float(effect + half), 3)]


def _name_segments(segments: list[Segment], terms: list[list[Term]], n_terms: int = 3) -> None:
    """Name each segment by its strongest basis terms (``terms``: each segment's, strongest
    first); add terms until names are distinct."""

    def candidates(found: list[Term]) -> list[str]:
        ordered = [t for t in found if t.in_basis] + [t for t in found if not t.in_basis]
        seen, labels, out = set(), set(), []
        for t in ordered:
            key = frozenset(t.label.lower().split())
            if t.column in seen or str(t.column).startswith("cal_"):
                continue  # (cal_x, cal_T…: the lifetime-value models' inputs, no name)
            if any(key >= said for said in labels):  # ("high spend 365d" after "high spend")
                continue
            seen.add(t.column)
            labels.add(key)
            out.append(t.label)
        return out

    pools = {seg.id: candidates(terms[seg.id]) for seg in segments}
    width = {seg.id: n_terms for seg in segments}
    for _ in range(6):
        names = {sid: _join(pools[sid][: width[sid]]) for sid in pools}
        clashes = {v for v in names.values() if list(names.values()).count(v) > 1}
        if not clashes:
            break
        for sid, name in names.items():
            if name in clashes:
                width[sid] += 1
    names = {sid: _join(pools[sid][: width[sid]]) or "Typical users" for sid in pools}
    used: dict[str, int] = {}
    for seg in segments:
        name = names[seg.id]
        used[name] = used.get(name, 0) + 1
        seg.name = name if used[name] == 1 else f"{name} ({seg.id})"


@dataclass
class _Part:
    """One column's contribution to a segment (merged in column order)."""

    id: int
    profile: list[NumberProfile | LevelProfile] = field(default_factory=list)
    centroid: dict[str, Any] = field(default_factory=dict)
    terms: list[Term] = field(default_factory=list)


def _join(terms: list[str]) -> str:
    text = " · ".join(terms)
    return text[:1].upper() + text[1:] if text else ""


def outcome_rates(data: pd.DataFrame, labels: np.ndarray, schema: Schema) -> list[dict[str, Any]]:
    """How each outcome column (a yes/no the segments should explain: churn, response…)
    falls across the segments (see :func:`outcome_rate`)."""
    k = int(labels.max()) + 1 if len(labels) else 0
    found = (outcome_rate(data[c], labels, k) for c in schema.columns_with("outcome") if c in data)
    return [entry for entry in found if entry is not None]


def outcome_rate(values: pd.Series, labels: np.ndarray, k: int) -> dict[str, Any] | None:
    """One yes/no column across ``k`` segments: its rate overall and in each segment, the
    lift (segment rate / overall rate), and ``separation`` — the share of its variance
    lying between the segments (η², 0: the segments say nothing of it, 1: each is all yes
    or all no). None when no value is known."""
    y = values.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    known = np.isfinite(y)
    if not known.any():
        return None
    overall = float(y[known].mean())
    n = np.bincount(labels[known], minlength=k).astype(float)
    yes = np.bincount(labels[known], weights=y[known], minlength=k)
    rate = np.divide(yes, n, out=np.full(k, np.nan), where=n > 0)
    total = float(((y[known] - overall) ** 2).sum())
    between = float(np.nansum(n * (rate - overall) ** 2))
    return {
        "column": str(values.name),
        "rate": round(overall, 4),
        "separation": round(between / total, 4) if total > 0 else 0.0,
        "segments": [
            {
                "segment": s,
                "rate": None if np.isnan(rate[s]) else round(float(rate[s]), 4),
                "lift": (
                    None
                    if np.isnan(rate[s]) or overall == 0
                    else round(float(rate[s]) / overall, 3)
                ),
                "n": int(n[s]),
            }
            for s in range(k)
        ],
    }
