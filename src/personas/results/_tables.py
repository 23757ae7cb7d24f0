"""The results of checking, exploring and profiling a table: ``ValidationReport``,
``EDA`` and ``Profiles`` (each the data of its stage, drawn by ``report`` and ``viz``), and
the public functions that return them: :func:`validate`, :func:`eda`, :func:`profile`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from personas import report, viz
from personas.io import Exploration, Schema, Validation
from personas.io import eda as explore
from personas.io import validate as check
from personas.io._eda import EDA_SAMPLE_ROWS
from personas.profiles import ProfileBuilder, Profiling, read_mapping
from personas.results._base import Result

__all__ = ["EDA", "Profiles", "ValidationReport", "eda", "profile", "validate"]


class ValidationReport(Result, Validation):
    """What personas found in a user table: roles, quality summary and findings.

    Attributes
    ----------
    source : SourceInfo
        Where the table came from and how it was read.
    schema : Schema
        The role of every column (inferred, or from the schema file).
    data : pandas.DataFrame
        The table with every column typed by its role (numbers as floats, booleans as
        nullable booleans, categories as ``category``, dates as ``datetime64``).
    columns : dict
        Per column: role, reason, dtype, missing counts and a short summary.
    findings : list of Finding
        Errors first, then warnings, then information.
    changes : list of Change
        Every value changed while typing the table (counted, never silent).

    Examples
    --------
    >>> import pandas as pd, personas
    >>> df = pd.DataFrame({"user_id": ["a", "b", "b"], "spend": [1.0, 2.0, 3.0]})
    >>> report = personas.validate(df)
    >>> report.ok
    False
    >>> report.errors[0].code
    'duplicate_ids'
    """

    _hint = ".to_pandas(), .to_json(), .plot(), .write_html()"

    def _summary(self) -> str:
        return (
            f"{self.source.name}, {self.n_rows} rows × {self.n_columns} columns; "
            f"{len(self.errors)} errors, {len(self.warnings)} warnings"
        )

    def _page(self, fragment: bool) -> str:
        return report.render_validation(self, fragment=fragment)

    def _charts(self) -> dict[str, Callable[..., Any]]:
        return {
            "missing": lambda interactive: viz.missing(
                missing_pct(self.columns), interactive=interactive
            )
        }


class EDA(Result, Exploration):
    """Exploratory overview of a table (see :func:`eda`).

    Attributes
    ----------
    source : SourceInfo
    n_rows : int
        Rows in the table.
    sample_rows : int
        Rows the statistics were computed on (all rows when the table is small).
    columns : dict
        Per column: role, missing share, distinct values and a distribution summary.
    associations : pandas.DataFrame
        Pairs of columns with their association (0–1) and the measure used, strongest first.
    alerts : list of dict
        ``level``, ``column`` and ``message``: validation findings and EDA alerts.
    """

    def _summary(self) -> str:
        return (
            f"{self.source.name}, {self.n_rows:,} rows × {len(self.columns)} columns "
            f"(statistics on {self.sample_rows:,} rows); {len(self.alerts)} alerts"
        )

    def _figures(self) -> dict[str, Any]:
        return {kind: chart(interactive=True) for kind, chart in self._charts().items()}

    def _page(self, fragment: bool) -> str:
        return report.render_eda(self, self._figures(), fragment=fragment)

    def _charts(self) -> dict[str, Callable[..., Any]]:
        """``missing`` (share missing per column) and ``associations`` (heatmap)."""
        return {
            "missing": lambda interactive: viz.missing(
                missing_pct(self.columns), interactive=interactive
            ),
            "associations": lambda interactive: viz.associations(
                association_table(self.associations), interactive=interactive
            ),
        }


class Profiles(Result, Profiling):
    """Per-user profiles built from events (see :func:`profile`).

    Attributes
    ----------
    data : pandas.DataFrame
        One row per user: ``user_id``, the features (see ``features``), RFM scores and
        segment, and the users table's columns when one was given.
    as_of : str
        Only events strictly before this instant (UTC) count.
    mapping : dict
        Which column of the log played which part.
    cleaning : dict
        What each cleaning rule did (row counts).
    features : dict
        The definition of every feature column present.
    notes : list of str
        How the log was read, rules that were switched off for it, and why.
    builder : ProfileBuilder
        The fitted builder that made them: ``builder.transform(other_events)`` profiles
        other events (next month's, or a few users') by the same reading and definitions.
    """

    _hint = ".data, .cleaning, .to_parquet(), .plot(), .write_html()"

    def _summary(self) -> str:
        return (
            f"{len(self.data):,} users × {self.data.shape[1]} columns from {self.source}, "
            f"as of {self.as_of}"
        )

    def to_dict(self) -> dict[str, Any]:
        """What ``summary.json`` holds (no per-user rows)."""
        return self.summary()

    def to_pandas(self) -> pd.DataFrame:
        return self.data

    def _page(self, fragment: bool) -> str:
        figures = {} if fragment or "rfm_segment" not in self.data else {"rfm": self._rfm(True)}
        return report.render_profiles(self, figures, fragment=fragment)

    def _rfm(self, interactive: bool) -> Any:
        counts = self.data["rfm_segment"].value_counts()  # (most users first)
        return viz.counts(counts, title="Users per RFM segment", interactive=interactive)

    def _distribution(self, interactive: bool, column: str = "monetary") -> Any:
        if column not in self.data.columns or self.data[column].dtype.kind not in "ifb":
            numbers = [c for c in self.data.columns if self.data[c].dtype.kind in "if"]
            raise ValueError(f"No numeric profile column {column!r}; choose one of {numbers}.")
        values = self.data[column].to_numpy(dtype=float, na_value=float("nan"))
        positive = values[values > 0]
        if positive.size and pd.Series(positive).skew() > 1:  # (money: the buyers, logged)
            title = f"{column} (the {positive.size:,} users above 0, log scale)"
            return viz.histogram(positive, title=title, log=True, interactive=interactive)
        return viz.histogram(values, title=column, interactive=interactive)

    def _charts(self) -> dict[str, Callable[..., Any]]:
        """``rfm`` (users per RFM segment) and ``distribution`` (``column=``, a feature)."""
        return {"rfm": self._rfm, "distribution": self._distribution}


def missing_pct(columns: dict[str, dict[str, Any]]) -> pd.Series:
    """Share of missing values per column (columns with any missing value, most first)."""
    pct = pd.Series({c: v["pct_missing"] for c, v in columns.items()}, dtype=float)
    return pct[pct > 0].sort_values(ascending=False)


def association_table(pairs: pd.DataFrame, max_columns: int = 25) -> pd.DataFrame:
    """A symmetric columns × columns table of associations (0–1), from pairs."""
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


def validate(
    data: Any = None,
    *,
    schema: Schema | str | Path | None = None,
    id_column: str | None = None,
    date_order: str | None = None,
    **read_options: Any,
) -> ValidationReport:
    """Read a user table, infer its schema, type its columns and check its quality.

    Parameters
    ----------
    data : str, Path, DataFrame or DuckDB connection
        What :func:`personas.read_table` accepts.
    schema : Schema or path, optional
        A schema (or TOML file) whose declarations win over inference.
    id_column : str, optional
        The column identifying users, if inference should not choose it.
    date_order : "day" or "month", optional
        Which comes first in dates that read both ways (03/04/2024), when every sampled
        value of a column fits both: day by default (``source.notes`` says so).
    **read_options
        Passed to :func:`personas.read_table` (``table``, ``query``, ``sheet``,
        ``delimiter``, ``encoding``, ``skip_bad_lines``).

    Returns
    -------
    ValidationReport
        Check ``report.ok``, or call ``report.raise_for_errors()``.

    Raises
    ------
    InputFileError, FileFormatError, EmptyDataError, SchemaError
        When the input cannot be read or the schema does not fit it.

    Examples
    --------
    >>> import personas
    >>> users, _ = personas.datasets.make_users(200, random_state=0)
    >>> report = personas.validate(users)
    >>> report.schema["email"].role, report.schema["user_id"].role
    ('pii', 'id')
    """
    found = check(data, schema=schema, id_column=id_column, date_order=date_order, **read_options)
    return ValidationReport.wrap(found)


def eda(
    data: Any = None,
    *,
    sample_rows: int = EDA_SAMPLE_ROWS,
    random_state: int = 0,
    schema: Any = None,
    id_column: str | None = None,
    date_order: str | None = None,
    **read_options: Any,
) -> EDA:
    """Explore a user table: distributions, missingness, associations, alerts.

    Parameters
    ----------
    data : path, DataFrame, DuckDB connection or ValidationReport
        What :func:`personas.read_table` reads, or an existing validation (its typed table
        is used as it is).
    sample_rows : int, default 50,000
        Statistics are computed on a random sample of at most this many rows.

    Examples
    --------
    >>> import personas
    >>> users, _ = personas.datasets.make_users(2000, random_state=0)
    >>> report = personas.eda(users)
    >>> report.columns["total_spend"]["role"], report.sampled
    ('numeric', False)
    """
    found = explore(
        data,
        sample_rows=sample_rows,
        random_state=random_state,
        schema=schema,
        id_column=id_column,
        date_order=date_order,
        **read_options,
    )
    return EDA.wrap(found)


def profile(
    events: Any = None,
    users: Any = None,
    *,
    as_of: Any = None,
    query: str | None = None,
    table: str | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    skip_bad_lines: bool = False,
    mapping: str | Path | dict[str, str] | None = None,
    top_levels: int = 5,
    drop_duplicates: bool = True,
    cancelled_invoices: bool | None = None,
    zero_value_orders: bool = False,
    negative_quantities: str = "returns",
    clv: bool | str = False,
    calibration_end: Any = None,
    time_unit: str = "week",
    horizon_days: float = 365.0,
    annual_discount: float = 0.10,
    date_order: str | None = None,
    **columns: str | None,
) -> Profiles:
    """Turn an event log into one row per user: RFM, engagement, tenure, windows, trends.

    Parameters
    ----------
    events : path, glob, DataFrame or None
        CSV (optionally compressed) or Parquet file(s) — a glob such as
        ``"events/*.parquet"`` or a folder (its data files, of one format, subfolders
        too) reads them all, matching columns by name —, a zip
        archive holding one data file, a text file of columns
        separated by spaces (with or without a header), JSON (``.json``, ``.jsonl``;
        nested fields become columns: ``properties_revenue``), an Excel workbook (``.xlsx``;
        every sheet with the first one's columns), a DuckDB database file (``.duckdb``,
        ``.ddb``, ``.db``; with ``table`` or ``query``), or a DataFrame.
        ``None`` with ``query``: SQL run by DuckDB (e.g. over files).
    query : str, optional
        SQL giving the events (over files, or over the tables of the DuckDB database).
    table : str, optional
        The table of the DuckDB database that holds the events (needed when it holds
        several). The database is attached read-only and never copied.
    sheet, delimiter, encoding, skip_bad_lines : optional
        As :func:`personas.read_table` takes them: the Excel sheet, the CSV delimiter and
        text encoding instead of the detected ones, and whether lines with the wrong
        number of fields are left out (counted in the notes) instead of failing.
    users : path or DataFrame, optional
        A users table: every user in it appears, with zero activity when they have no
        events; its columns are kept.
    as_of : date-like, optional
        Only events strictly before this instant count (default: midnight after the last
        event). Time-zone-aware times are converted to UTC.
    mapping : path or dict, optional
        Which column is which: a TOML file with an ``[events]`` table (``user_id =
        "customer"``…, as :meth:`Profiles.write_mapping` writes) or such a dict. Meanings
        it leaves out are inferred; ``**columns`` win over it.
    top_levels : int, default 5
        Category / channel / device / event-type levels given their own share column.
    drop_duplicates : bool, default True
        Drop exact duplicate lines (counted).
    cancelled_invoices : bool, optional
        Whether order ids of "C" and digits ("C489449") are cancelled invoices (returns).
        Default: yes, unless most order ids look like that (then it is the shop's
        numbering, said in ``notes``).
    zero_value_orders : bool, default False
        Count purchase lines of value 0 (free items, data errors) as orders; by default
        they are counted in ``cleaning["zero_prices"]`` but make no order.
    negative_quantities : "returns" or "drop", default "returns"
        What a line with a negative quantity or amount is: a return (counted in
        ``returns``, never an order), or a line to leave out (counted in
        ``cleaning["negative_lines_left_out"]``), as analyses that drop them do.
    clv : bool or "auto", default False
        Fit BG/NBD, Pareto/NBD and Gamma-Gamma on purchases up to ``calibration_end``
        (a date, inclusive; default: the day before as_of) and add ``expected_purchases``
        (over ``horizon_days``), ``p_alive``, ``expected_value`` and ``clv`` (discounted at
        ``annual_discount``) per user; the fits go to ``summary()["clv"]``. With too few
        repeat purchases to fit them, True is an error; "auto" (what ``personas segment``
        uses on an event log) says so in ``notes`` and profiles without them, and fits
        BG/NBD and Gamma-Gamma only (Pareto/NBD, reported beside them but not used for
        the predictions, is the slowest: about 115 s of the 125 s at 222,000 buyers).
    time_unit : "day", "week" or "month", default "week"
        The unit the CLV models' parameters are expressed in.
    date_order : "day" or "month", optional
        Which comes first in dates written as text that read both ways (03/04/2024),
        when every sampled value fits both: day by default (``notes`` say so).
    **columns
        Which column is which, when names do not say it: ``user_id``, ``timestamp``,
        ``amount``, ``price``, ``quantity``, ``event_type``, ``order_id``, ``product``,
        ``category``, ``channel``, ``device``, ``session_id``, ``duration``, ``plan``,
        ``status`` (an order's status: values such as canceled or refunded undo it).

    Returns
    -------
    Profiles
        Its ``builder`` (a fitted :class:`ProfileBuilder`) profiles other events the same
        way: ``profiles.builder.transform(next_month, as_of=...)``.

    Examples
    --------
    >>> import personas
    >>> users, _ = personas.datasets.make_users(300, random_state=0)
    >>> events = personas.datasets.make_events(users, random_state=0)
    >>> p = personas.profile(events, as_of="2025-06-30")
    >>> int(p.data["frequency"].sum()) == int((events["event_type"] == "purchase").sum())
    True
    """
    if mapping is not None:
        named = {k: v for k, v in columns.items() if v is not None}
        columns = read_mapping(mapping) | named
    builder = ProfileBuilder(
        {k: v for k, v in columns.items() if v is not None},
        top_levels=top_levels,
        drop_duplicates=drop_duplicates,
        cancelled_invoices=cancelled_invoices,
        zero_value_orders=zero_value_orders,
        negative_quantities=negative_quantities,
        clv=clv,
        calibration_end=calibration_end,
        time_unit=time_unit,
        horizon_days=horizon_days,
        annual_discount=annual_discount,
        date_order=date_order,
    )
    read = {"query": query, "table": table, "sheet": sheet, "delimiter": delimiter,
            "encoding": encoding, "skip_bad_lines": skip_bad_lines}  # fmt: skip
    return Profiles.wrap(builder.fit_profile(events, as_of=as_of, users=users, **read))
