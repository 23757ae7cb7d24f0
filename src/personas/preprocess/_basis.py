"""`BasisBuilder`: the clustering matrix, with an equal say for every original column.

For each basis column (a *group* of output features):

- numeric — impute the median (plus a missing indicator when missingness is informative,
  i.e. rows with the value missing differ from the others on some other basis column by
  more than half a standard deviation); log-transform long-tailed columns (``log1p``, or a
  signed ``log1p`` when there are negatives) where the log lowers their skewness; clip at
  Tukey's far fences (3×IQR) in that space when at most 1 % of values lie beyond them
  (more are a group of users, kept: :mod:`personas._spread`); standardize.
- boolean — 0/1 with the mode imputed, standardized.
- datetime — days before ``as_of`` (recency/tenure), then as numeric.
- categorical — one-hot of the levels holding at least ``min_share`` of the rows (rarer
  levels pooled into ``(other)``; missing values get their own level when frequent).
- multi_label — one 0/1 feature per frequent label.

Then every group is scaled so that its features' variances add up to 1: a 6-level one-hot
has the same expected say in a Euclidean distance as ``income``. Output is float32.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from personas._parallel import thread_map
from personas._spread import OUTLIER_SHARE, apply_transform, far_fences, skew_transform
from personas.errors import DataError, SchemaError
from personas.io._coerce import coerce_frame
from personas.io._dates import read_instant
from personas.io._schema import FEATURE_ROLES, Schema, value_kind

__all__ = ["BasisBuilder", "BasisColumn", "TableTyper", "default_basis", "skew_transform"]

OTHER = "(other)"
MISSING = "(missing)"
SAMPLE_ROWS = 200_000
BLOCK_ROWS = 131_072


@dataclass
class BasisColumn:
    """How one column of the table becomes columns of the basis matrix (fitted).

    Attributes
    ----------
    column, role : str
        The table's column and its role.
    kind : str
        ``numeric`` (numbers, booleans, dates as days before as_of), ``onehot`` (a
        category) or ``labels`` (a multi-label column).
    features : list of str
        The basis matrix's columns it gives.
    weight : float
        The factor that gives the group's variances a sum of 1 (its equal say).
    steps : list of str
        What is done to it, in words (shown in reports).
    transform : str
        For numbers: ``none``, ``log1p`` or ``signed_log1p`` (skewed values).
    fill, low, high, center, scale : float
        For numbers, on the transformed scale: the value a missing one takes, the clip
        bounds (Tukey's far fences), the centre and spread it is standardized by.
    missing_share : float
        The share of missing values in the fitted sample.
    indicator : bool
        Whether a missing-value indicator is added (when missingness is informative),
        standardized by ``indicator_center`` and ``indicator_scale``.
    levels, pooled : list of str
        For a category: the levels given a column (``(other)`` pools the rarer ones, which
        ``pooled`` lists; ``(missing)`` is a level when frequent); ``mode`` takes an unseen
        level when there is no ``(other)``.
    labels : list of str
        For a multi-label column: the labels given a column, split by ``separator``.
    """

    column: str
    role: str
    kind: str
    features: list[str] = field(default_factory=list)
    weight: float = 1.0
    steps: list[str] = field(default_factory=list)
    transform: str = "none"
    fill: float = 0.0
    low: float = 0.0
    high: float = 0.0
    center: float = 0.0
    scale: float = 1.0
    missing_share: float = 0.0
    indicator: bool = False
    indicator_center: float = 0.0
    indicator_scale: float = 1.0
    levels: list[str] = field(default_factory=list)
    pooled: list[str] = field(default_factory=list)
    mode: str | None = None
    labels: list[str] = field(default_factory=list)
    separator: str = ";"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    columns_ : list of BasisColumn
        One per basis column, in order: its role, transform, weight, output columns and
        the fitted numbers of each step (see :class:`BasisColumn`).
    transforms_ : dict
        The transform (``none``, ``log1p``, ``signed_log1p``) of every numeric column of
        the table, in the basis or not (one that only describes the segments is logged
        when it is skewed and non-negative): the profiles and charts show skewed columns
        on the scale decided here.
    feature_names_out_ : ndarray of str
    as_of_ : str or None
        ISO date-time that datetime columns are measured from.

    Notes
    -----
    scikit-learn's ``ColumnTransformer`` with ``SimpleImputer(add_indicator=True)`` and
    ``OneHotEncoder(min_frequency=...)`` does not give this matrix: its indicator is added
    for every column with a missing value (here only where missingness says something),
    an unseen level becomes all zeros or the infrequent level (here the pooled level, else
    the most frequent), levels are ordered by name (here by frequency), and it has no
    per-group weights, clipping at far fences or multi-label columns.

    Examples
    --------
    >>> import personas
    >>> from personas.preprocess import BasisBuilder
    >>> users, _ = personas.datasets.make_users(500, random_state=0)
    >>> report = personas.validate(users)
    >>> builder = BasisBuilder(report.schema)
    >>> X = builder.fit_transform(report.data)
    >>> X.dtype, X.shape[0]
    (dtype('float32'), 500)
    >>> builder.column("total_spend").transform, builder.transforms_["age"]
    ('log1p', 'none')
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
        self.columns_ = []
        numeric_cache: dict[str, np.ndarray] = {}
        for col in basis:
            role = value_kind(schema[col].role)  # (an outcome named in the basis: yes/no)
            if role in ("numeric", "boolean", "datetime"):
                raw = self.numeric_values(sample[col], role)
                numeric_cache[col] = raw
                self.columns_.append(self._fit_numeric(col, role, raw))
            elif role == "categorical":
                self.columns_.append(self._fit_categorical(col, sample[col]))
            elif role == "multi_label":
                sep = schema[col].params.get("separator", ";")
                self.columns_.append(self._fit_multi_label(col, sample[col], sep))
        self._informative_missingness(numeric_cache)
        self._fit_weights(sample)
        self.transforms_ = {c.column: c.transform for c in self.columns_ if c.kind == "numeric"}
        for col, spec in schema.columns.items():  # numbers that describe the segments
            if spec.role == "numeric" and col in X.columns and col not in self.transforms_:
                values = self.numeric_values(sample[col], "numeric")
                self.transforms_[col] = skew_transform(values, self.skew_threshold, signed=False)[0]
        self.basis_ = basis
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.feature_names_out_ = np.asarray(
            [f for c in self.columns_ for f in c.features], dtype=object
        )
        return self

    def _check_basis(self, basis: list[str], schema: Schema, X: pd.DataFrame) -> None:
        if not basis:
            raise DataError(
                "No basis column: the table has no numeric, boolean, categorical, multi-label "
                "or date column to find segments in. Check the roles with `personas validate`."
            )
        for col in basis:
            if col in schema.columns and schema[col].role not in (*FEATURE_ROLES, "outcome"):
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
        if self.as_of is not None:  # (a time with an offset: its UTC time, as profiles)
            stamp = read_instant(self.as_of)
            return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
        if not dates:
            return None
        latest = max(pd.to_datetime(X[c]).max() for c in dates)
        if pd.isna(latest):
            return None
        return pd.Timestamp(latest).normalize() + pd.Timedelta(days=1)

    def numeric_values(self, s: pd.Series, role: str) -> np.ndarray:
        """A column's values as float64 in original units (dates: days before ``as_of_``;
        booleans: 0/1), missing ones as NaN."""
        if role == "datetime":
            d = pd.to_datetime(s)
            if self.as_of_ is None:
                return np.full(len(s), np.nan)
            days = (pd.Timestamp(self.as_of_) - d).dt.total_seconds() / 86400.0
            return days.to_numpy(dtype=np.float64, na_value=np.nan)
        if role == "boolean":
            return s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)

    def _fit_numeric(self, col: str, role: str, x: np.ndarray) -> BasisColumn:
        ok = np.isfinite(x)
        steps: list[str] = []
        finite = x[ok]
        c = BasisColumn(col, role, "numeric", features=[self._feature_name(col, role)])
        c.steps = steps
        if role == "datetime":
            steps.insert(0, f"days before {self.as_of_[:10] if self.as_of_ else '?'}")
        if finite.size == 0:
            c.missing_share = 1.0
            return c
        transform = "none"
        if role != "boolean":
            transform, skew = skew_transform(finite, self.skew_threshold)
            if transform != "none":
                steps.append(f"{transform} (skewness {skew:.1f})")
        t = apply_transform(finite, transform)
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
            low, high, n_clip, rare = far_fences(t)
            if not rare:  # not outliers: a group of users, kept (no bounds)
                steps.append(
                    f"not clipped: {n_clip} of {t.size} sampled values lie beyond the far "
                    f"fences, more than {OUTLIER_SHARE:.0%} (a group of users, not outliers)"
                )
                low, high, n_clip = -np.inf, np.inf, 0
            if not ok.all():
                steps.insert(0, f"missing ({1 - ok.mean():.1%}) → median")
            if n_clip:
                steps.append(
                    f"clipped to [{_fmt(low, transform)}, {_fmt(high, transform)}]"
                    f" ({n_clip} of {t.size} sampled values)"
                )
        tc = np.clip(t, low, high)
        center, scale = float(tc.mean()), float(tc.std())
        steps.append("standardized")
        c.fill, c.transform, c.low, c.high = fill, transform, float(low), float(high)
        c.center, c.scale = center, scale if scale > 0 else 1.0
        c.missing_share = float(1 - ok.mean())
        return c

    @staticmethod
    def _feature_name(col: str, role: str) -> str:
        return f"{col}_days_ago" if role == "datetime" else col

    def _fit_categorical(self, col: str, s: pd.Series) -> BasisColumn:
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
        return BasisColumn(
            col,
            "categorical",
            "onehot",
            features=[f"{col}={lvl}" for lvl in levels],
            steps=steps,
            levels=levels,
            pooled=pooled,
            mode=mode,
        )

    def _fit_multi_label(self, col: str, s: pd.Series, sep: str) -> BasisColumn:
        labels = _label_matrix_counts(s, sep)
        n = len(s)
        keep = [lab for lab, c in labels.items() if c / max(n, 1) >= self.min_share][:40]
        steps = [f"one 0/1 feature per label ({len(keep)} labels, separated by {sep!r})"]
        return BasisColumn(
            col,
            "multi_label",
            "labels",
            features=[f"{col}:{lab}" for lab in keep],
            steps=steps,
            labels=keep,
            separator=sep,
        )

    def _informative_missingness(self, cache: dict[str, np.ndarray]) -> None:
        """Add a missing indicator to numeric columns whose missingness says something."""
        cols = list(cache)
        for c in self.columns_:
            if c.kind != "numeric" or c.role == "boolean":
                continue
            miss = ~np.isfinite(cache[c.column])
            share = miss.mean()
            if not 0.01 <= share <= 0.99:
                continue
            best, best_col = 0.0, None
            for other in cols:
                if other == c.column:
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
                c.indicator = True
                c.indicator_center = float(share)
                c.indicator_scale = float(np.sqrt(share * (1 - share)))
                c.features = c.features + [f"{c.column}_missing"]
                c.steps.append(
                    f"+ missing indicator ({share:.0%} missing; those rows differ on "
                    f"{best_col!r} by {best:.1f} sd)"
                )

    def _fit_weights(self, sample: pd.DataFrame) -> None:
        for c in self.columns_:
            block = self.encode(c, sample[c.column], weighted=False)
            var = float(block.var(axis=0).sum()) if block.size else 0.0
            c.weight = float(1.0 / np.sqrt(var)) if var > 0 else 0.0
            c.steps.append(f"group weight {c.weight:.3f} (its variances add up to 1)")

    # ------------------------------------------------------------------ transform
    def transform(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "columns_")
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
            for c in self.columns_:
                values = self.encode(c, part[c.column], weighted=True)
                block[:, start : start + values.shape[1]] = values
                start += values.shape[1]
            out[rows] = block

        # Row blocks on two threads (NumPy and Arrow release the GIL); each writes its own
        # rows of the output, so the result does not depend on the threads.
        blocks = [slice(i, i + BLOCK_ROWS) for i in range(0, len(X), BLOCK_ROWS)]
        thread_map(fill, blocks, n_rows=len(X))
        return out

    def encode(self, c: BasisColumn, s: pd.Series, *, weighted: bool = True) -> np.ndarray:
        """The basis matrix's columns of one basis column ``c`` (float32), from its values
        ``s``; ``weighted=False`` before the group weight (0/1 for levels and labels)."""
        w = c.weight if weighted else 1.0
        if c.kind == "numeric":
            x = self.numeric_values(s, c.role)
            miss = ~np.isfinite(x)
            t = apply_transform(np.where(miss, 0.0, x), c.transform)
            t = np.where(miss, c.fill, t)
            t = (np.clip(t, c.low, c.high) - c.center) / c.scale
            cols = [t]
            if c.indicator:
                cols.append((miss - c.indicator_center) / c.indicator_scale)
            out = np.column_stack(cols)
            return (out * w).astype(np.float32)
        if c.kind == "onehot":
            levels = pd.Index(c.levels)
            if isinstance(s.dtype, pd.CategoricalDtype):
                # Map the few categories, then every row through its integer code.
                cats = pd.Index(s.cat.categories.astype(str))
                lookup = np.append(levels.get_indexer(cats), levels.get_indexer([MISSING]))
                codes = lookup[s.cat.codes.to_numpy()].astype(np.int64)
            else:
                text = s.astype("string").fillna(MISSING).astype(str)
                codes = levels.get_indexer(text).astype(np.int64)
            if OTHER in c.levels:
                codes = np.where(codes < 0, c.levels.index(OTHER), codes)
            else:
                fallback = c.levels.index(c.mode) if c.mode in c.levels else -1
                codes = np.where(codes < 0, fallback, codes)
            out = np.zeros((len(s), len(c.levels)), dtype=np.float32)
            ok = codes >= 0
            out[np.flatnonzero(ok), codes[ok]] = 1.0
            return out * np.float32(w)
        # Multi-label: build the 0/1 rows of the distinct values, then index them.
        codes, uniques = pd.factorize(s.astype("string"), use_na_sentinel=True)
        table = np.zeros((len(uniques) + 1, len(c.labels)), dtype=np.float32)
        where = {lab: j for j, lab in enumerate(c.labels)}
        for i, value in enumerate(uniques):
            for lab in str(value).split(c.separator):
                j = where.get(lab.strip())
                if j is not None:
                    table[i, j] = 1.0
        out = table[np.where(codes >= 0, codes, len(uniques))]
        return out * np.float32(w)

    # ------------------------------------------------------------------ inspection
    def column(self, name: str) -> BasisColumn:
        """The fitted :class:`BasisColumn` of a basis column."""
        check_is_fitted(self, "columns_")
        for c in self.columns_:
            if c.column == name:
                return c
        raise KeyError(f"{name!r} is not a basis column; they are {list(self.basis_)}.")

    def scale_of(self, column: str, values: np.ndarray) -> np.ndarray:
        """Values of a numeric column on the scale its profile is read on: transformed as
        ``transforms_`` says (log for skewed columns), not standardized."""
        check_is_fitted(self, "columns_")
        return apply_transform(values, self.transforms_.get(column, "none"))

    def category_groups(self) -> list[tuple[int, int]]:
        """The column ranges ``(start, stop)`` of the matrix that hold one category each
        (a one-hot group: one level's weight in a row, zeros elsewhere)."""
        check_is_fitted(self, "columns_")
        out, start = [], 0
        for c in self.columns_:
            if c.kind == "onehot":
                out.append((start, start + len(c.features)))
            start += len(c.features)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "columns_")
        return self.feature_names_out_.copy()

    def describe(self) -> list[dict[str, Any]]:
        """The record of every transformation, one entry per basis column (for reports)."""
        check_is_fitted(self, "columns_")
        return [
            {
                "column": c.column,
                "role": c.role,
                "features": list(c.features),
                "steps": list(c.steps),
                "weight": round(c.weight, 4),
            }
            for c in self.columns_
        ]

    def inverse_numeric(self, column: str, z: np.ndarray) -> np.ndarray:
        """Map standardized values of a numeric group back to original units."""
        c = self.column(column)
        t = np.asarray(z, dtype=np.float64) * c.scale + c.center
        if c.transform == "log1p":
            t = np.expm1(t)
        elif c.transform == "signed_log1p":
            t = np.sign(t) * np.expm1(np.abs(t))
        return t

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Models saved before the fitted state was typed held ``groups_`` (dicts)."""
        groups = state.pop("groups_", None)
        if groups is not None:
            names = {f.name for f in BasisColumn.__dataclass_fields__.values()}
            state["columns_"] = [BasisColumn(**{k: v for k, v in g.items() if k in names})
                                 for g in groups]  # fmt: skip
            state.setdefault("transforms_", {c.column: c.transform for c in state["columns_"]
                                             if c.kind == "numeric"})  # fmt: skip
        super().__setstate__(state)


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

    def fit(self, X: pd.DataFrame | None, y=None) -> TableTyper:
        """Keep the schema's roles of ``columns`` (``X`` is read only to infer a schema
        when none is given)."""
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
        return self.type_table(X, source_name=source_name)[0]

    def type_table(self, X: pd.DataFrame, *, source_name: str = "the table") -> tuple:
        """:meth:`transform`, and every value changed while typing (:class:`Change`:
        values that could not be read are missing, and counted)."""
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
        return coerce_frame(X[present], schema, source_name=source_name)


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
