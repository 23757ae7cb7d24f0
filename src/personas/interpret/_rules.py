"""Human-readable rules for every segment, from a shallow surrogate decision tree.

A decision tree is trained to predict each user's segment from the basis columns in their
original units (money in money, dates as days before ``as_of``, categories as "is"/"is
not"). Every leaf is a conjunction of conditions; a segment's rules are the leaves that
predict it. For each rule and for each segment as a whole (the union of its rules) we
report, on rows the tree did not learn from:

- precision — of the users the rule selects, the share in the segment;
- recall — of the segment's users, the share the rule selects;

and for the tree, its fidelity: the share of held-out users whose segment it predicts.
The depth is the smallest of 2–5 reaching a fidelity of 0.9 (else 5), so rules stay short
when short rules are faithful.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from personas.preprocess import BasisBuilder

__all__ = ["Condition", "Rule", "SurrogateRules", "surrogate_rules"]

FIDELITY_TARGET = 0.9
DEPTHS = (2, 3, 4, 5)
SAMPLE_ROWS = 50_000


@dataclass
class _Feature:
    column: str
    kind: str  # numeric | boolean | datetime | level | label
    value: str | None = None
    integer: bool = False
    has_missing: bool = False


@dataclass
class Condition:
    """One column's part of a rule: a range, a truth value or a set of levels."""

    column: str
    kind: str
    low: float | None = None  # value > low
    high: float | None = None  # value <= high
    is_: list[str] = field(default_factory=list)
    is_not: list[str] = field(default_factory=list)
    truth: bool | None = None
    with_missing: bool = False
    integer: bool = False
    only_missing: bool = False  # (a split of missing values from all others)

    def text(self, as_of: str | None = None) -> str:
        col = self.column
        miss = " (or missing)" if self.with_missing else ""
        if self.kind in ("level", "label"):
            verb = "includes" if self.kind == "label" else "is"
            if self.is_:
                return f"{col} {verb} {self.is_[0]}"
            values = ", ".join(self.is_not)
            if self.kind == "label":
                return f"{col} excludes {values}"
            return (
                f"{col} is not {values}" if len(self.is_not) == 1 else f"{col} not in {{{values}}}"
            )
        if self.kind == "boolean":
            return f"{col} is {'true' if self.truth else 'false'}{miss}"
        name = f"days since {col}" if self.kind == "datetime" else col
        if self.only_missing:
            return f"{name} is missing"
        lo = _bound(self.low, "low", self.integer)
        hi = _bound(self.high, "high", self.integer)
        if not (lo or hi):
            return f"{name} is known"
        if lo and hi:
            flipped = {">": "<", "≥": "≤"}[lo[0]]
            return f"{lo[1]} {flipped} {name} {hi[0]} {hi[1]}{miss}"
        if lo:
            return f"{name} {lo[0]} {lo[1]}{miss}"
        return f"{name} {hi[0]} {hi[1]}{miss}"

    def to_dict(self) -> dict[str, Any]:
        out = {"column": self.column, "kind": self.kind}
        for key in ("low", "high", "truth"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.only_missing:
            out["missing"] = True
        if self.is_:
            out["is"] = self.is_
        if self.is_not:
            out["is_not"] = self.is_not
        if self.with_missing:
            out["with_missing"] = True
        return out


@dataclass
class Rule:
    segment: int
    conditions: list[Condition]
    precision: float
    recall: float
    support: int  # held-out users the rule selects

    def text(self, as_of: str | None = None) -> str:
        return " and ".join(c.text(as_of) for c in self.conditions) or "everyone"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.text(),
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "support": self.support,
            "conditions": [c.to_dict() for c in self.conditions],
        }


class SurrogateRules:
    """Rules per segment and the fidelity of the tree behind them.

    Attributes
    ----------
    rules : dict of int to list of Rule
        Per segment, its rules (leaves), the one covering most of the segment first.
    precision, recall : dict of int to float
        Per segment, for the union of its rules (held-out rows).
    fidelity : float
        Share of held-out users whose segment the tree predicts.
    depth : int
    n_train, n_test : int
    tree : sklearn.tree.DecisionTreeClassifier
    """

    def __init__(self, rules, precision, recall, fidelity, depth, n_train, n_test, tree, features):
        self.rules = rules
        self.precision = precision
        self.recall = recall
        self.fidelity = fidelity
        self.depth = depth
        self.n_train = n_train
        self.n_test = n_test
        self.tree = tree
        self.feature_names = features

    def __repr__(self) -> str:
        return (
            f"<SurrogateRules: depth {self.depth}, fidelity {self.fidelity:.2f} on "
            f"{self.n_test:,} held-out users; .rules, .to_dict()>"
        )

    def for_segment(self, segment: int) -> dict[str, Any]:
        return {
            "precision": round(self.precision.get(segment, 0.0), 3),
            "recall": round(self.recall.get(segment, 0.0), 3),
            "rules": [r.to_dict() for r in self.rules.get(segment, [])],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "decision tree on the basis columns in original units",
            "depth": self.depth,
            "fidelity": round(self.fidelity, 3),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "segments": {str(s): self.for_segment(s) for s in sorted(self.rules)},
        }


def surrogate_rules(
    data: pd.DataFrame,
    builder: BasisBuilder,
    labels: np.ndarray,
    *,
    max_rules: int = 3,
    random_state: int | None = 0,
) -> SurrogateRules:
    """Fit the surrogate tree on a sample of users and read every segment's rules off it."""
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(random_state)
    n = len(labels)
    rows = rng.permutation(n)[: min(n, SAMPLE_ROWS)]
    X, features = _tree_features(data.iloc[np.sort(rows)], builder)
    y = np.asarray(labels)[np.sort(rows)]
    split = rng.permutation(len(y))
    n_test = max(1, len(y) // 4)
    test, train = np.sort(split[:n_test]), np.sort(split[n_test:])
    if len(train) < 2:
        train = test
    min_leaf = max(5, int(0.005 * len(train)))
    tree, depth, fidelity = None, DEPTHS[-1], 0.0
    for depth in DEPTHS:
        tree = DecisionTreeClassifier(
            max_depth=depth, min_samples_leaf=min_leaf, random_state=random_state
        ).fit(X[train], y[train])
        fidelity = float((tree.predict(X[test]) == y[test]).mean())
        if fidelity >= FIDELITY_TARGET:
            break
    leaves = _leaf_paths(tree, features)
    leaf_of = tree.apply(X[test])
    y_test = y[test]
    k = int(labels.max()) + 1 if len(labels) else 0
    rules: dict[int, list[Rule]] = {s: [] for s in range(k)}
    precision: dict[int, float] = {}
    recall: dict[int, float] = {}
    for s in range(k):
        in_seg = y_test == s
        mine = [leaf for leaf, (cls, _) in leaves.items() if tree.classes_[cls] == s]
        selected = np.isin(leaf_of, mine)
        precision[s] = float(in_seg[selected].mean()) if selected.any() else 0.0
        recall[s] = float(selected[in_seg].mean()) if in_seg.any() else 0.0
        found = []
        for leaf in mine:
            sel = leaf_of == leaf
            found.append(
                Rule(
                    s,
                    leaves[leaf][1],
                    float(in_seg[sel].mean()) if sel.any() else 0.0,
                    float(sel[in_seg].mean()) if in_seg.any() else 0.0,
                    int(sel.sum()),
                )
            )
        found.sort(key=lambda r: (-r.recall, -r.precision))
        # (a leaf no held-out user reaches has no precision to show: left out while the
        # segment has rules that are measured)
        rules[s] = ([r for r in found if r.support] or found)[:max_rules]
    names = [f.column + (f"={f.value}" if f.value is not None else "") for f in features]
    return SurrogateRules(
        rules, precision, recall, fidelity, depth, len(train), len(test), tree, names
    )


def _tree_features(data: pd.DataFrame, builder: BasisBuilder) -> tuple[np.ndarray, list[_Feature]]:
    """The basis columns in original units: numbers (NaN kept), 0/1 per level or label."""
    cols: list[np.ndarray] = []
    features: list[_Feature] = []
    for c in builder.columns_:
        s = data[c.column]
        if c.kind == "numeric":
            x = builder.numeric_values(s, c.role)
            finite = x[np.isfinite(x)]
            integer = bool(finite.size and np.all(finite == np.round(finite)))
            cols.append(x[:, None])
            has_missing = bool(finite.size < x.size)
            features.append(_Feature(c.column, c.role, None, integer, has_missing))
        elif c.kind == "onehot":
            cols.append(builder.encode(c, s, weighted=False))
            features += [_Feature(c.column, "level", str(v)) for v in c.levels]
        else:
            cols.append(builder.encode(c, s, weighted=False))
            features += [_Feature(c.column, "label", str(v)) for v in c.labels]
    return np.column_stack(cols).astype(np.float64), features


def _leaf_paths(tree, features: list[_Feature]) -> dict[int, tuple[int, list[Condition]]]:
    """Every leaf: (index of its majority class, its simplified conditions)."""
    t = tree.tree_
    out: dict[int, tuple[int, list[Condition]]] = {}

    def walk(node: int, path: list[tuple[int, bool, bool]]) -> None:
        if t.children_left[node] == t.children_right[node]:  # a leaf
            out[node] = (int(np.argmax(t.value[node][0])), _simplify(path, t, features))
            return
        left_missing = bool(t.missing_go_to_left[node])
        walk(int(t.children_left[node]), path + [(node, True, left_missing)])
        walk(int(t.children_right[node]), path + [(node, False, not left_missing)])

    walk(0, [])
    return out


def _simplify(path, t, features: list[_Feature]) -> list[Condition]:
    """Merge a leaf's splits into one condition per column, in order of first use."""
    conds: dict[str, Condition] = {}
    missing_ok: dict[str, bool] = {}  # rows with the value missing follow this path
    for node, left, takes_missing in path:
        feat = features[int(t.feature[node])]
        thr = float(t.threshold[node])
        c = conds.get(feat.column)
        if c is None:
            c = conds[feat.column] = Condition(feat.column, feat.kind, integer=feat.integer)
            missing_ok[feat.column] = feat.has_missing
        if feat.kind in ("level", "label"):
            if left:  # indicator <= 0.5: not this level
                if feat.value not in c.is_not:
                    c.is_not.append(feat.value)
            else:
                c.is_ = [feat.value]
        elif feat.kind == "boolean":
            c.truth = not left
            missing_ok[feat.column] &= takes_missing
        elif not math.isfinite(thr):  # (missing values apart from every present one)
            c.only_missing = c.only_missing or not left
            missing_ok[feat.column] &= takes_missing
        else:
            if left:
                c.high = thr if c.high is None else min(c.high, thr)
            else:
                c.low = thr if c.low is None else max(c.low, thr)
            missing_ok[feat.column] &= takes_missing
    out = []
    for col, c in conds.items():
        if c.is_:
            c.is_not = []
        c.with_missing = c.kind not in ("level", "label") and missing_ok[col]
        if c.only_missing:
            c.low = c.high = None
            c.with_missing = False
        vacuous = c.kind not in ("level", "label", "boolean") and c.with_missing
        if vacuous and c.low is None and c.high is None and not c.only_missing:
            continue  # (any value, or none: no condition)
        out.append(c)
    return out


def _bound(value: float | None, side: str, integer: bool) -> tuple[str, str] | None:
    """('>', '82k') for value > 81,950, or ('≥', '12') for an integer count > 11.5."""
    if value is None:
        return None
    if integer:
        return (
            ("≥", _num(math.floor(value) + 1)) if side == "low" else ("≤", _num(math.floor(value)))
        )
    return (">", _num(value)) if side == "low" else ("≤", _num(value))


def _num(x: float) -> str:
    """A short, readable number: 82k, 1.25M, 0.35, 12."""
    ax = abs(x)
    if ax >= 1e6:
        return f"{x / 1e6:.3g}M"
    if ax >= 1e4:
        return f"{x / 1e3:.3g}k"
    if ax >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:.3g}"
