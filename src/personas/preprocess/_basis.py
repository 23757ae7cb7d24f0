"""`BasisBuilder`: the clustering matrix, with an equal say for every original column.

For each basis column (a *group* of output features):

- numeric — impute the median (plus a missing indicator when missingness is informative,
  i.e. rows with the value missing differ from the others on some other basis column by
  more than half a standard deviation); log-transform skewed columns (``log1p``, or a
  signed ``log1p`` when there are negatives); clip at Tukey's far fences (3×IQR) in that
  space; standardize.
- boolean — 0/1 with the mode imputed, standardized.
- datetime — days before ``as_of`` (recency/tenure), then as numeric.
- categorical — one-hot of the levels holding at least ``min_share`` of the rows (rarer
  levels pooled into ``(other)``; missing values get their own level when frequent).
- multi_label — one 0/1 feature per frequent label.

Then every group is scaled so that its features' variances add up to 1: a 6-level one-hot
has the same expected say in a Euclidean distance as ``income``. Output is float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from personas._parallel import thread_map
from personas.errors import DataError, SchemaError
from personas.io._coerce import coerce_frame
from personas.io._schema import FEATURE_ROLES, Schema

__all__ = ["BasisBuilder", "TableTyper", "default_basis"]

OTHER = "(other)"
MISSING = "(missing)"
SAMPLE_ROWS = 200_000
BLOCK_ROWS = 131_072


def default_basis(schema: Schema) -> list[str]:
    """Every column usable as a feature: numeric, boolean, categorical, multi-label, dates."""
    return [name for name, spec in schema.columns.items() if spec.role in FEATURE_ROLES]


class BasisBuilder(TransformerMixin, BaseEstimator):
    """Turn a typed user table into the float32 matrix segments are found in.

    Parameters
    ----------
    schema : Schema
        Column roles (from :func:`personas.validate` or :meth:`Schema.infer`).
    basis : list of str, optional
        The columns to build the matrix from (default: :func:`default_basis`).
    as_of : date-like, optional
        Reference date for datetime columns (default: the day after the latest date in
        the training data).
    skew_threshold : float, default 1.0
        Numeric columns whose sample skewness exceeds this are log-transformed.
    min_share : float, default 0.01
        Categories and labels rarer than this share of rows are pooled.
    random_state : int or None, default 0
        Seed of the row sample the statistics are computed on (for very large tables;
        None: a fresh sample each time).

    Attributes
    ----------
    groups_ : list of dict
        One entry per basis column: its role, the steps applied, the output features and
        the group weight — the record shown in reports.
    feature_names_out_ : ndarray of str
    as_of_ : str or None
        ISO date-time that datetime columns are measured from.

    Examples
    --------
    >>> import personas
    >>> from personas.preprocess import BasisBuilder
    >>> users, _ = personas.datasets.make_users(500, random_state=0)
    >>> report = personas.validate(users)
    >>> X = BasisBuilder(report.schema).fit_transform(report.data)
    >>> X.dtype, X.shape[0]
    (dtype('float32'), 500)
    """

    def __init__(
        self,
        schema: Schema | None = None,
        basis: list[str] | None = None,
        as_of: Any = None,
        skew_threshold: float = 1.0,
        min_share: float = 0.01,
        random_state: int | None = 0,
    ) -> None:
        self.schema = schema
        self.basis = basis
        self.as_of = as_of
        self.skew_threshold = skew_threshold
        self.min_share = min_share
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, X: pd.DataFrame, y: Any = None) -> BasisBuilder:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("BasisBuilder expects a pandas DataFrame (a typed user table).")
        schema = self.schema if self.schema is not None else Schema.infer(X)
        basis = list(self.basis) if self.basis is not None else default_basis(schema)
        self._check_basis(basis, schema, X)
        rng = np.random.default_rng(self.random_state)
        rows = np.arange(len(X))
        if len(X) > SAMPLE_ROWS:
            rows = np.sort(rng.choice(len(X), SAMPLE_ROWS, replace=False))
        sample = X.iloc[rows]
        as_of = self._as_of(X, basis, schema)
        self.as_of_ = None if as_of is None else as_of.isoformat()
        self.groups_ = []
        numeric_cache: dict[str, np.ndarray] = {}
        for col in basis:
            role = schema[col].role
            if role in ("numeric", "boolean", "datetime"):
                raw = self._numeric_values(sample[col], role)
                numeric_cache[col] = raw
                self.groups_.append(self._fit_numeric(col, role, raw))
            elif role == "categorical":
                self.groups_.append(self._fit_categorical(col, sample[col]))
            elif role == "multi_label":
                sep = schema[col].params.get("separator", ";")
                self.groups_.append(self._fit_multi_label(col, sample[col], sep))
        self._informative_missingness(numeric_cache)
        self._fit_weights(sample)
        self.basis_ = basis
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.feature_names_out_ = np.asarray(
            [f for g in self.groups_ for f in g["features"]], dtype=object
        )
        return self

    def _check_basis(self, basis: list[str], schema: Schema, X: pd.DataFrame) -> None:
        if not basis:
            raise DataError(
                "No basis column: the table has no numeric, boolean, categorical, multi-label "
                "or date column to find segments in. Check the roles with `personas validate`."
            )
        for col in basis:
            if col in schema.columns and schema[col].role not in FEATURE_ROLES:
                raise SchemaError(
                    f"Column {col!r} cannot be in the basis: its role is {schema[col].role!r} "
                    f"(a basis column must be one of {list(FEATURE_ROLES)}). Leave it out of "
                    "--basis, or change its role in the schema file."
                )
        missing = [c for c in basis if c not in X.columns]
        if missing:
            raise SchemaError(
                f"Basis column(s) {missing} are not in the table; its columns are "
                f"{list(X.columns)[:15]}. Fix the names given with --basis."
            )

    def _as_of(self, X: pd.DataFrame, basis: list[str], schema: Schema) -> pd.Timestamp | None:
        dates = [c for c in basis if schema[c].role == "datetime"]
        if self.as_of is not None:
            return pd.Timestamp(self.as_of)
        if not dates:
            return None
        latest = max(pd.to_datetime(X[c]).max() for c in dates)
        if pd.isna(latest):
            return None
        return pd.Timestamp(latest).normalize() + pd.Timedelta(days=1)

    def _numeric_values(self, s: pd.Series, role: str) -> np.ndarray:
        if role == "datetime":
            d = pd.to_datetime(s)
            if self.as_of_ is None:
                return np.full(len(s), np.nan)
            days = (pd.Timestamp(self.as_of_) - d).dt.total_seconds() / 86400.0
            return days.to_numpy(dtype=np.float64, na_value=np.nan)
        if role == "boolean":
            return s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)

    def _fit_numeric(self, col: str, role: str, x: np.ndarray) -> dict[str, Any]:
        ok = np.isfinite(x)
        steps: list[str] = []
        finite = x[ok]
        group: dict[str, Any] = {"column": col, "role": role, "kind": "numeric", "steps": steps}
        if role == "datetime":
            steps.insert(0, f"days before {self.as_of_[:10] if self.as_of_ else '?'}")
        if finite.size == 0:
            group.update(fill=0.0, transform="none", low=0.0, high=0.0, center=0.0, scale=1.0)
            group["features"] = [self._feature_name(col, role)]
            group["missing_share"] = 1.0
            return group
        transform = "none"
        if role != "boolean" and finite.size > 2 and np.unique(finite[:10000]).size > 2:
            skew = float(pd.Series(finite).skew())
            if skew > self.skew_threshold:
                transform = "log1p" if finite.min() >= 0 else "signed_log1p"
                steps.append(f"{transform} (skewness {skew:.1f})")
        t = _apply_transform(finite, transform)
        median = float(np.median(t))
        if role == "boolean":
            fill = float(np.round(np.mean(finite)))
            low, high = 0.0, 1.0
            if not ok.all():
                steps.insert(
                    0, f"missing ({1 - ok.mean():.1%}) → {'true' if fill else 'false'} (the mode)"
                )
        else:
            fill = median
            q1, q3 = np.quantile(t, [0.25, 0.75])
            iqr = q3 - q1
            low, high = (q1 - 3 * iqr, q3 + 3 * iqr) if iqr > 0 else (t.min(), t.max())
            n_clip = int(((t < low) | (t > high)).sum())
            if not ok.all():
                steps.insert(0, f"missing ({1 - ok.mean():.1%}) → median")
            if n_clip:
                steps.append(
                    f"clipped to [{_fmt(low, transform)}, {_fmt(high, transform)}]"
                    f" ({n_clip} of {t.size} sampled values)"
                )
        tc = np.clip(t, low, high)
        center, scale = float(tc.mean()), float(tc.std())
        scale = scale if scale > 0 else 1.0
        steps.append("standardized")
        group.update(
            fill=fill,
            transform=transform,
            low=float(low),
            high=float(high),
            center=center,
            scale=scale,
            features=[self._feature_name(col, role)],
            missing_share=float(1 - ok.mean()),
            indicator=False,
        )
        return group

    @staticmethod
    def _feature_name(col: str, role: str) -> str:
        return f"{col}_days_ago" if role == "datetime" else col

    def _fit_categorical(self, col: str, s: pd.Series) -> dict[str, Any]:
        text = s.astype("string")
        shares = text.fillna(MISSING).value_counts(normalize=True)
        keep = [str(v) for v, p in shares.items() if p >= self.min_share]
        if not keep:
            keep = [str(shares.index[0])]
        pooled = [str(v) for v in shares.index if str(v) not in keep]
        levels = keep + ([OTHER] if pooled else [])
        steps = [f"one-hot of {len(levels)} levels"]
        if pooled:
            steps.append(
                f"{len(pooled)} rare level(s) (< {self.min_share:.0%}) pooled into {OTHER!r}"
            )
        if MISSING in keep:
            steps.append("missing values are a level of their own")
        mode = str(shares.index[0]) if shares.index[0] != MISSING else (keep + [OTHER])[0]
        return {
            "column": col,
            "role": "categorical",
            "kind": "onehot",
            "levels": levels,
            "pooled": pooled,
            "mode": mode,
            "steps": steps,
            "features": [f"{col}={lvl}" for lvl in levels],
        }

    def _fit_multi_label(self, col: str, s: pd.Series, sep: str) -> dict[str, Any]:
        labels = _label_matrix_counts(s, sep)
        n = len(s)
        keep = [lab for lab, c in labels.items() if c / max(n, 1) >= self.min_share][:40]
        steps = [f"one 0/1 feature per label ({len(keep)} labels, separated by {sep!r})"]
        return {
            "column": col,
            "role": "multi_label",
            "kind": "labels",
            "labels": keep,
            "separator": sep,
            "steps": steps,
            "features": [f"{col}:{lab}" for lab in keep],
        }

    def _informative_missingness(self, cache: dict[str, np.ndarray]) -> None:
        """Add a missing indicator to numeric groups whose missingness says something."""
        cols = list(cache)
        for g in self.groups_:
            if g["kind"] != "numeric" or g["role"] == "boolean":
                continue
            miss = ~np.isfinite(cache[g["column"]])
            share = miss.mean()
            if not 0.01 <= share <= 0.99:
                continue
            best, best_col = 0.0, None
            for other in cols:
                if other == g["column"]:
                    continue
                x = cache[other]
                a, b = x[miss & np.isfinite(x)], x[~miss & np.isfinite(x)]
                if a.size < 10 or b.size < 10:
                    continue
                sd = np.nanstd(np.concatenate([a, b]))
                if sd <= 0:
                    continue
                d = abs(float(a.mean() - b.mean())) / sd
                if d > best:
                    best, best_col = d, other
            if best > 0.5:
                g["indicator"] = True
                g["indicator_center"] = float(share)
                g["indicator_scale"] = float(np.sqrt(share * (1 - share)))
                g["features"] = g["features"] + [f"{g['column']}_missing"]
                g["steps"].append(
                    f"+ missing indicator ({share:.0%} missing; those rows differ on "
                    f"{best_col!r} by {best:.1f} sd)"
                )

    def _fit_weights(self, sample: pd.DataFrame) -> None:
        for g in self.groups_:
            block = self._transform_group(g, sample[g["column"]], weighted=False)
            var = float(block.var(axis=0).sum()) if block.size else 0.0
            g["weight"] = float(1.0 / np.sqrt(var)) if var > 0 else 0.0
            g["steps"].append(f"group weight {g['weight']:.3f} (its variances add up to 1)")

    # ------------------------------------------------------------------ transform
    def transform(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "groups_")
        if not isinstance(X, pd.DataFrame):
            raise TypeError("BasisBuilder expects a pandas DataFrame (a typed user table).")
        missing = [c for c in self.basis_ if c not in X.columns]
        if missing:
            raise DataError(
                f"The table lacks the basis column(s) {missing} the model was trained on. "
                "Give a table with those columns (extra columns are ignored)."
            )
        out = np.empty((len(X), len(self.feature_names_out_)), dtype=np.float32)
        columns = X[self.basis_]

        def fill(rows: slice) -> None:
            part = columns.iloc[rows]
            block = np.empty((len(part), out.shape[1]), dtype=np.float32)
            start = 0
            for g in self.groups_:
                values = self._transform_group(g, part[g["column"]], weighted=True)
                block[:, start : start + values.shape[1]] = values
                start += values.shape[1]
            out[rows] = block

        # Row blocks on two threads (NumPy and Arrow release the GIL); each writes its own
        # rows of the output, so the result does not depend on the threads.
        blocks = [slice(i, i + BLOCK_ROWS) for i in range(0, len(X), BLOCK_ROWS)]
        thread_map(fill, blocks, n_rows=len(X))
        return out

    def _transform_group(self, g: dict[str, Any], s: pd.Series, *, weighted: bool) -> np.ndarray:
        w = g.get("weight", 1.0) if weighted else 1.0
        if g["kind"] == "numeric":
            x = self._numeric_values(s, g["role"])
            miss = ~np.isfinite(x)
            t = _apply_transform(np.where(miss, 0.0, x), g["transform"])
            t = np.where(miss, g["fill"], t)
            t = (np.clip(t, g["low"], g["high"]) - g["center"]) / g["scale"]
            cols = [t]
            if g.get("indicator"):
                cols.append((miss - g["indicator_center"]) / g["indicator_scale"])
            out = np.column_stack(cols)
            return (out * w).astype(np.float32)
        if g["kind"] == "onehot":
            if isinstance(s.dtype, pd.CategoricalDtype):
                # Map the few categories, then every row through its integer code.
                cats = pd.Index(s.cat.categories.astype(str))
                lookup = np.append(
                    pd.Index(g["levels"]).get_indexer(cats),
                    pd.Index(g["levels"]).get_indexer([MISSING]),
                )
                codes = lookup[s.cat.codes.to_numpy()].astype(np.int64)
            else:
                text = s.astype("string").fillna(MISSING).astype(str)
                codes = pd.Index(g["levels"]).get_indexer(text).astype(np.int64)
            if OTHER in g["levels"]:
                codes = np.where(codes < 0, g["levels"].index(OTHER), codes)
            else:
                fallback = g["levels"].index(g["mode"]) if g["mode"] in g["levels"] else -1
                codes = np.where(codes < 0, fallback, codes)
            out = np.zeros((len(s), len(g["levels"])), dtype=np.float32)
            ok = codes >= 0
            out[np.flatnonzero(ok), codes[ok]] = 1.0
            return out * np.float32(w)
        # Multi-label: build the 0/1 rows of the distinct values, then index them.
        codes, uniques = pd.factorize(s.astype("string"), use_na_sentinel=True)
        table = np.zeros((len(uniques) + 1, len(g["labels"])), dtype=np.float32)
        where = {lab: j for j, lab in enumerate(g["labels"])}
        for i, value in enumerate(uniques):
            for lab in str(value).split(g["separator"]):
                j = where.get(lab.strip())
                if j is not None:
                    table[i, j] = 1.0
        out = table[np.where(codes >= 0, codes, len(uniques))]
        return out * np.float32(w)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "groups_")
        return self.feature_names_out_.copy()

    def describe(self) -> list[dict[str, Any]]:
        """The record of every transformation, one entry per basis column (for reports)."""
        check_is_fitted(self, "groups_")
        return [
            {
                "column": g["column"],
                "role": g["role"],
                "features": list(g["features"]),
                "steps": list(g["steps"]),
                "weight": round(g["weight"], 4),
            }
            for g in self.groups_
        ]

    def inverse_numeric(self, column: str, z: np.ndarray) -> np.ndarray:
        """Map standardized values of a numeric group back to original units."""
        g = next(g for g in self.groups_ if g["column"] == column and g["kind"] == "numeric")
        t = np.asarray(z, dtype=np.float64) * g["scale"] + g["center"]
        if g["transform"] == "log1p":
            t = np.expm1(t)
        elif g["transform"] == "signed_log1p":
            t = np.sign(t) * np.expm1(np.abs(t))
        return t


class TableTyper(TransformerMixin, BaseEstimator):
    """Type a table's columns by their roles, as :func:`personas.validate` does: the first
    step of a model that scores user tables (or users' profiles).

    Parameters
    ----------
    schema : Schema, optional
        The roles (default: inferred from the table ``fit`` sees).
    columns : list of str, optional
        The columns kept (default: every column of the schema); any other is ignored.

    Attributes
    ----------
    schema_ : Schema
        The roles of the columns kept.
    id_column_ : str or None
        The column identifying users, when it is kept.

    Examples
    --------
    >>> import pandas as pd
    >>> from personas.preprocess import TableTyper
    >>> raw = pd.DataFrame({"user_id": ["a", "b"], "spend": ["1,234.5", "N/A"]})
    >>> TableTyper().fit(raw).transform(raw)["spend"].tolist()
    [1234.5, nan]
    """

    def __init__(self, schema: Schema | None = None, columns: list[str] | None = None) -> None:
        self.schema = schema
        self.columns = columns

    def fit(self, X: pd.DataFrame, y=None) -> TableTyper:
        schema = self.schema if self.schema is not None else Schema.infer(X)
        keep = list(self.columns) if self.columns is not None else list(schema.columns)
        unknown = [c for c in keep if c not in schema.columns]
        if unknown:
            raise SchemaError(f"Column(s) {unknown} have no role in the schema.")
        id_col = schema.id_column if schema.id_column in keep else None
        self.schema_ = Schema(
            [schema.columns[c] for c in keep],
            id_column=id_col,
            missing_values=schema.missing_values,
            max_categories=schema.max_categories,
        )
        self.id_column_ = id_col
        return self

    def transform(self, X: pd.DataFrame, *, source_name: str = "the table") -> pd.DataFrame:
        """The kept columns of ``X``, typed (a missing one is an error naming it)."""
        check_is_fitted(self, "schema_")
        keep = list(self.schema_.columns)
        missing = [c for c in keep if c not in X.columns and c != self.id_column_]
        if missing:
            raise DataError(
                f"{source_name} lacks column(s) {missing}: {len(missing)} of the {len(keep)} "
                "columns the model was trained on. Give a table with those columns (extra "
                "columns are ignored)."
            )
        present = [c for c in keep if c in X.columns]
        schema = Schema(
            [self.schema_.columns[c] for c in present],
            id_column=self.id_column_ if self.id_column_ in present else None,
            missing_values=self.schema_.missing_values,
            max_categories=self.schema_.max_categories,
        )
        typed, _ = coerce_frame(X[present], schema, source_name=source_name)
        return typed


def _apply_transform(x: np.ndarray, transform: str) -> np.ndarray:
    if transform == "log1p":
        return np.log1p(np.maximum(x, 0.0))
    if transform == "signed_log1p":
        return np.sign(x) * np.log1p(np.abs(x))
    return x


def _fmt(v: float, transform: str) -> str:
    if transform == "log1p":
        return f"{np.expm1(v):.4g}"
    if transform == "signed_log1p":
        return f"{np.sign(v) * np.expm1(abs(v)):.4g}"
    return f"{v:.4g}"


def _label_matrix_counts(s: pd.Series, sep: str) -> dict[str, int]:
    vc = s.dropna().astype(str).value_counts()
    counts: dict[str, int] = {}
    for value, c in vc.items():
        for lab in {t.strip() for t in value.split(sep) if t.strip()}:
            counts[lab] = counts.get(lab, 0) + int(c)
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
