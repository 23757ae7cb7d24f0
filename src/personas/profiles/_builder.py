"""`ProfileBuilder`: an event log → one row per user, as a scikit-learn transformer.

``fit`` learns how the log is read (which column is which, how times, amounts and ids are
written), which event names mean what, the share columns, the cleaning decisions and the
population's thresholds (RFM quintiles, the typical billing period, lifetime-value fits);
``transform(events, as_of=...)`` profiles any events — next month's log, or a few users'
events — by what it learned, so a user's profile depends only on that user's events.
``personas.profile`` is the one-call form (fit and profile a log).

The log is read and aggregated by DuckDB through Ibis (CSV, Parquet, globs of files, a
table of a DuckDB database, a DataFrame, or a SQL query); only the per-user result comes
back to pandas. Cleaning rules are explicit options, and what each one did is counted in
``Profiling.cleaning``.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import re
import time
import types
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from personas._estimator import Estimator
from personas.errors import (
    DataError,
    EmptyDataError,
    NoUsableEventsError,
    PersonasError,
    SchemaError,
)
from personas.io._numbers import NumberReader, number_reader
from personas.profiles._cleaning import scan, without_duplicates
from personas.profiles._features import (
    RULES,
    ZERO_DECIMAL_TESTS,
    EventKinds,
    build_features,
    definitions,
    fitted_levels,
    flags,
    items_bought,
    normalise,
    primitives,
    rules,
    share_levels,
    zero_decimal_tests,
    zero_decimals,
)
from personas.profiles._inference import (
    check_event_type,
    headerless,
    level_counts,
    mostly_negative,
    one_order_each,
    reads,
    user_hint,
    user_with_values,
    without_empty_money,
)
from personas.profiles._mapping import (
    EventMapping,
    describe,
    duration_minutes,
    flag_kind,
    infer_mapping,
    is_customer_name,
    is_email_name,
    read_mapping,
)
from personas.profiles._profiling import Profiling
from personas.profiles._rfm import rfm_scores, rfm_thresholds
from personas.profiles._source import (
    connect,
    fetch,
    flatten,
    join_users,
    kind,
    read_events,
    resolve_as_of,
)
from personas.profiles._times import date_from_parts, fitted_time_reader, time_reader, with_clock

__all__ = ["ProfileBuilder"]

# The normalised log's columns under the meanings' names (ProfileBuilder.read_events)
_MEANINGS = {"uid": "user_id", "ts": "timestamp", "qty": "quantity", "unit_price": "price",
             "etype": "event_type", "session": "session_id"}  # fmt: skip


class ProfileBuilder(Estimator):
    """Profile users from their events: RFM, engagement, tenure, windows, trends, CLV.

    Parameters
    ----------
    mapping : dict, path or None
        Which column is which (``{"user_id": "customer", "amount": "total"}``, or a TOML
        file with an ``[events]`` table as :meth:`Profiling.write_mapping` writes);
        meanings left out are inferred from names, types and contents.
    top_levels : int, default 5
        Category / channel / device / event-type levels given their own share column.
    drop_duplicates : bool, default True
        Drop exact duplicate lines (counted).
    cancelled_invoices : bool, optional
        Whether order ids of "C" and digits ("C489449") are cancelled invoices (returns).
        Default: yes, unless most order ids of the fitted log look like that.
    zero_value_orders : bool, default False
        Count purchase lines of value 0 as orders.
    negative_quantities : "returns" or "drop", default "returns"
        What a line with a negative quantity or amount is: a return, or a line to leave
        out.
    clv : bool or "auto", default False
        Fit BG/NBD, Pareto/NBD and Gamma-Gamma on the fitted log's purchases and add
        ``expected_purchases``, ``p_alive``, ``expected_value`` and ``clv`` per user
        ("auto": only where there are enough repeat purchases, without Pareto/NBD).
    calibration_end : date-like, optional
        The last day of the purchases the CLV models see (default: the day before as_of).
    time_unit : "day", "week" or "month", default "week"
    horizon_days : float, default 365
    annual_discount : float, default 0.10
    date_order : "day" or "month", optional
        Which comes first in dates written as text that read both ways (03/04/2024), when
        every sampled value fits both: day by default (a note says so).

    Attributes
    ----------
    mapping_ : dict
        Meaning → column of the fitted log (``user_id``, ``timestamp``, ``amount``…).
    time_reader_ : dict
        How the time column is read (``how``: as_is, date, cast, format, yyyymmdd,
        epoch or days; ``format``, ``scale``, ``clock``; ``text_format``, the form of the
        text a CSV reader parsed).
    date_formats_ : dict
        The forms a CSV's dates and times were read with (``dateformat``,
        ``timestampformat``): other CSVs are read with them.
    number_readers_ : dict
        Meaning → the decimal mark of numbers written as text (None: already numbers).
    event_kinds_ : dict
        ``present``: the event kinds counted (purchase, renewal, session…);
        ``status_flag``: whether the status column is a flag (is_cancel).
    share_levels_ : dict
        Per share column (category, channel, device, etype): the share column names and
        whether an ``_other`` share pools the rest.
    cancel_prefix_ : bool
        Whether order ids of "C" and digits are cancelled invoices.
    billing_period_ : float or None
        The median period between billing events (seconds), for days_to_renewal.
    rfm_thresholds_ : dict
        The quintile edges of recency, frequency and monetary value (RFM scores).
    clv_ : dict or None
        The lifetime-value models' parameters and options.
    as_of_ : str
        The instant the fitted log was profiled at.
    columns_ : list of str
        The columns of the profiles.
    notes_ : list of str
        What reading the fitted log decided.

    Examples
    --------
    >>> import personas
    >>> users, _ = personas.datasets.make_users(300, random_state=0)
    >>> events = personas.datasets.make_events(users, random_state=0)
    >>> builder = personas.ProfileBuilder().fit(events, as_of="2025-06-30")
    >>> some = events[events["user_id"].isin(users["user_id"][:5])]
    >>> builder.transform(some, as_of="2025-06-30").shape[0]
    5
    """

    def __init__(
        self,
        mapping: dict[str, str] | str | Path | None = None,
        *,
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
    ) -> None:
        self.mapping = mapping
        self.top_levels = top_levels
        self.drop_duplicates = drop_duplicates
        self.cancelled_invoices = cancelled_invoices
        self.zero_value_orders = zero_value_orders
        self.negative_quantities = negative_quantities
        self.clv = clv
        self.calibration_end = calibration_end
        self.time_unit = time_unit
        self.horizon_days = horizon_days
        self.annual_discount = annual_discount
        self.date_order = date_order

    # ------------------------------------------------------------------ the estimator
    def fit(self, X: Any, y: Any = None, **read: Any) -> ProfileBuilder:
        """Learn how ``X`` (an event log) is read and its population's thresholds.

        ``read``: ``as_of``, ``users`` and how ``X`` is read, as for :meth:`profile`.
        """
        self.fit_profile(X, **read)
        return self

    def fit_transform(self, X: Any, y: Any = None, **read: Any) -> pd.DataFrame:
        """Fit on ``X`` and return its profiles (one pass over the log)."""
        return self.fit_profile(X, **read).data

    def transform(self, X: Any, **read: Any) -> pd.DataFrame:
        """The profiles of the users of ``X``, one row each (see :meth:`profile`)."""
        return self.profile(X, **read).data

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        import numpy as np

        self._check_fitted("columns_")
        return np.asarray(self.columns_, dtype=object)

    def fit_profile(
        self, X: Any, *, as_of: Any = None, users: Any = None, **read: Any
    ) -> Profiling:
        """Fit on the log ``X`` and return its :class:`Profiling` (``fit_transform`` with
        everything learned about it: cleaning counts, notes, timings)."""
        return _Run(self, fitting=True).profile(X, users, as_of, read)

    def profile(self, X: Any, *, as_of: Any = None, users: Any = None, **read: Any) -> Profiling:
        """Profile the users of the events ``X`` by what was fitted.

        Parameters
        ----------
        X : path, glob, DataFrame or None
            Events with the fitted log's columns (or columns under the meanings' own
            names: ``user_id``, ``timestamp``, ``amount``…); what :func:`personas.profile` reads.
        as_of : date-like, optional
            Only events strictly before this instant count (default: midnight after the
            last event of ``X``). Give it to profile a few users as of the same instant
            as the whole log: each user's row depends only on that user's events.
        users : path or DataFrame, optional
            A users table: every user in it appears (zero activity without events).
        **read
            How ``X`` is read: ``query``, ``table``, ``sheet``, ``delimiter``, ``encoding``,
            ``skip_bad_lines`` (see :func:`personas.profile`).

        Returns
        -------
        Profiling
        """
        self._check_fitted("mapping_")
        return _Run(self, fitting=False).profile(X, users, as_of, read)

    def read_events(self, X: Any, **read: Any) -> pd.DataFrame:
        """The events of ``X`` as the fitted builder reads them, one row per line, under
        the meanings' names: ``user_id``, ``timestamp`` (UTC), and those of ``amount``,
        ``price``, ``quantity``, ``order_id``, ``event_type``, ``product``, ``category``,
        ``channel``, ``device``, ``session_id``, ``duration``, ``plan``, ``status`` the
        fitted log had (what the real-time service stores). ``read`` as for
        :meth:`profile`."""
        self._check_fitted("mapping_")
        return _Run(self, fitting=False).events(X, read)

    def input_columns(self) -> dict[str, Any]:
        """The columns the fitted builder reads, by meaning (``timestamp`` may be a date in
        three columns; ``time_of_day`` the column adding the time to dates)."""
        self._check_fitted("mapping_")
        out: dict[str, Any] = dict(self.mapping_)
        if self.date_parts_:
            out["timestamp"] = self.date_parts_.split("-")
        if self.time_reader_.get("clock"):
            out["time_of_day"] = self.time_reader_["clock"]
        return out

    def _read_forms(self) -> dict[str, str]:
        """The forms the fitted log's dates and times were read with, for a CSV's reader:
        those its own CSV reader used, else the time column's (of a DataFrame's text)."""
        forms = dict(self.date_formats_)
        reader = self.time_reader_
        form = reader["format"] if reader["how"] == "format" else reader.get("text_format")
        if form:
            key = "timestampformat" if "%H" in form or "%I" in form else "dateformat"
            forms.setdefault(key, form)
        return forms

    # ------------------------------------------------------------------ checks
    def _options(self, fitting: bool) -> dict[str, Any]:
        """The parameters, checked (before anything is read); the columns named."""
        if self.clv not in (True, False, "auto"):
            raise PersonasError(f"clv must be True, False or 'auto', not {self.clv!r}.")
        _check_options(self)
        if self.date_order not in (None, "day", "month"):
            raise PersonasError(
                f"date_order must be 'day' or 'month', not {self.date_order!r} (--date-order)."
            )
        if self.negative_quantities not in ("returns", "drop"):
            raise PersonasError(
                "negative_quantities must be 'returns' or 'drop', "
                f"not {self.negative_quantities!r} (--negative-quantities)."
            )
        if self.time_unit not in ("day", "week", "month"):  # (checked with clv off too)
            raise DataError(
                f"time_unit must be one of ['day', 'month', 'week'], not {self.time_unit!r} "
                "(--time-unit)."
            )
        clv = None
        if self.clv:  # (the models' module, SciPy's optimisers, only when asked for)
            from personas.profiles._clv import checked_calibration_end, checked_time_unit

            clv = {
                "auto": self.clv == "auto",
                "pareto": self.clv is True,
                "calibration_end": checked_calibration_end(self.calibration_end, self.date_order),
                "unit": checked_time_unit(self.time_unit),
                "horizon_days": float(self.horizon_days),
                "annual_discount": float(self.annual_discount),
            }
        named = fitting and self.mapping is not None
        return {"clv": clv, "columns": read_mapping(self.mapping) if named else {}}


class _Run:
    """One profiling of a log by a builder: fitting it (learning what ``fit`` learns) or
    by what it has learned. The steps are the same either way; each decision that
    depends on the log is made from the log when fitting, and taken from the builder
    otherwise."""

    def __init__(self, builder: ProfileBuilder, *, fitting: bool):
        self.b = builder
        self.fitting = fitting
        # What is learned goes to a namespace of its own, given to the builder only once
        # the whole run succeeded (a failed fit leaves the builder as it was); what was
        # learned is read from the builder.
        self.f = types.SimpleNamespace() if fitting else builder
        self.timings: dict[str, float] = {}
        self.lap = time.perf_counter()
        self.stored: list[str] = []

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = now - self.lap
        self.lap = now

    def store(self, step: str, expr: Any) -> Any:
        """A stored aggregate, timed as its own step."""
        self.stored.append(f"personas_{step}")
        table = self.con.create_table(self.stored[-1], expr)
        self.done(step)
        return table

    def profile(self, events, users, as_of, read: dict[str, Any]) -> Profiling:
        start = time.perf_counter()
        with warnings.catch_warnings():
            # Ibis 12 warns about pandas 4 and DuckDB 2 deprecations it has yet to follow.
            warnings.filterwarnings("ignore", module=r"ibis(\.|$)")
            options = self.b._options(self.fitting)  # (checked before the log is read)
            table, mapping, reader, numbers = self._read(events, options, read)
            data, counts, as_of_ts, clv_doc = self._features(
                table, mapping, reader, numbers, as_of, options
            )
        if users is not None:
            data, counts["users_without_events"] = join_users(data, users)
            self.notes += data.attrs.pop("notes", [])
        if self.fitting:
            self.f.rfm_thresholds_ = rfm_thresholds(data)
        data = rfm_scores(data, self.f.rfm_thresholds_)
        self.done("users_and_rfm")
        self.notes += filter(None, [one_order_each(data, mapping)])
        if not self.fitting:  # the fitted log's column order (counts decide its shares')
            fitted = [c for c in self.f.columns_ if c in data.columns]
            data = data[fitted + [c for c in data.columns if c not in set(fitted)]]
        else:
            self.f.as_of_ = as_of_ts.isoformat()
            self.f.columns_ = [str(c) for c in data.columns]
            self.f.notes_ = list(self.notes)
            self.f.source_ = self.source
            self.b.__dict__.update(vars(self.f))
        return Profiling(
            data=data,
            as_of=as_of_ts.isoformat(),
            mapping=describe(mapping),
            cleaning=counts,
            features=definitions(data.columns),
            source=self.source,
            seconds=time.perf_counter() - start,
            clv=clv_doc,
            timings=self.timings,
            notes=self.notes,
            builder=self.b,
        )

    # ------------------------------------------------------------------ reading
    def _read(self, events, options, read: dict[str, Any]):
        """The log as an Ibis table on a new DuckDB connection, with its mapping and how
        its times and numbers are read (inferred when fitting, else as fitted)."""
        self.con = connect()
        dates = {"date_order": self.b.date_order}
        if not self.fitting:  # (ties of day and month are read as the fitted log's)
            dates["date_formats"] = self.b._read_forms()
        log = read_events(self.con, events, **read, **dates)
        if self.fitting:
            self.f.date_formats_ = dict(log.date_formats)
        self.source, self.notes = log.source, list(log.notes)
        table, found = flatten(log.table)
        self.notes += found
        if log.parse_once:
            # Text is parsed once: its typed columns go to a DuckDB table every query reads.
            table = self.con.create_table("personas_raw", table)
        columns = options["columns"]
        parts = self._date_parts(table, columns)
        if parts is not None:  # the date in three columns: Year, Month, Day
            table = table.mutate(**{parts[0]: parts[1]})
            columns = columns | {"timestamp": parts[0]}
            self.notes.append(
                f"{parts[0].replace('-', ', ')} are read together as each event's date."
            )
        if self.fitting:
            mapping, reader, numbers = self._infer(table, columns, log.headerless)
        else:
            mapping, reader, numbers = self._fitted(table)
        return table, mapping, reader, numbers

    def events(self, events, read: dict[str, Any]) -> pd.DataFrame:
        """The log's events as read for profiling, one row per line, under the meanings'
        names (``user_id``, ``timestamp`` in UTC, ``amount``, ``price``, ``quantity``,
        ``order_id``, ``event_type``…: the columns the fitted log had)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"ibis(\.|$)")
            table, mapping, reader, numbers = self._read(events, self.b._options(False), read)
            try:
                e = normalise(table, mapping, time=reader, numbers=numbers)
                named = _MEANINGS
                present = {k for k, v in mapping.to_dict().items() if v}
                keep = [c for c in e.columns if named.get(c, c) in present]
                data = fetch(e.select(*keep), self.con)
            finally:
                self.con.disconnect()
        data = data.rename(columns=named)
        if "amount" in data and not mapping.amount:
            data = data.drop(columns="amount")  # (price × quantity: each is kept)
        return data

    def _date_parts(self, table, columns: dict[str, str]):
        if self.fitting:
            parts = date_from_parts(table, columns.get("timestamp"))
            self.f.date_parts_ = parts[0] if parts is not None else None
            return parts
        name = self.f.date_parts_
        return date_from_parts(table, name) if name and name not in table.columns else None

    def _infer(self, table, columns: dict[str, str], header_missing: bool):
        """The mapping and how the time and the numbers are read, inferred from the log
        (names first, then contents), with notes on what was decided."""
        source, notes = self.source, self.notes
        column_kinds = {name: kind(dtype) for name, dtype in table.schema().items()}
        if header_missing:  # no names to go by: the columns' contents say what they are
            given = {k: v for k, v in columns.items() if v is not None}
            columns = headerless(table, column_kinds, given, source, notes) | given
        # Whether a text column reads as numbers ("$1,234.50"), a number column as times
        numeric_text = reads(lambda c, t=table: number_reader(t, c, source))
        numeric_time = reads(lambda c, t=table: time_reader(t, c, source, self.b.date_order))
        infer = functools.partial(infer_mapping, overrides=columns, source_name=source,
                                  numeric_text=numeric_text, numeric_time=numeric_time)  # fmt: skip
        try:
            mapping = infer(column_kinds)
        except SchemaError as exc:  # no user id by name: say which column repeats like one
            hint = user_hint(table, column_kinds) if "user_id" in str(exc) else None
            if hint is None:
                raise
            raise SchemaError(f"{exc} {hint}") from None
        if not columns.get("user_id"):
            mapping = user_with_values(table, column_kinds, mapping, infer, notes)
        if not columns.get("user_id") and is_email_name(mapping.user_id):
            notes.append(
                f"No column is named for a user: {mapping.user_id} (e-mail addresses) is the "
                "user id, and profiles.parquet holds them. Name another with --user-id."
            )
        elif not columns.get("user_id") and is_customer_name(mapping.user_id):
            notes.append(
                f"No column holds a customer number: {mapping.user_id} (names) is the user "
                "id, so customers sharing a name are one user. Name another with --user-id."
            )
        if mapping.event_type and not columns.get("event_type"):
            check_event_type(table, mapping, notes)
        if not mapping.event_type:  # (money says what a purchase is: it must hold some)
            mapping = without_empty_money(table, mapping, columns, source, notes)
        numbers = {  # (a column the caller named that does not read as numbers: the error)
            meaning: numeric_text(col) or number_reader(table, col, source, meaning)
            for meaning in ("amount", "price", "quantity", "duration")
            if (col := getattr(mapping, meaning))
        }
        notes += [r.note for r in numbers.values() if r.note]
        if items_bought(mapping):
            named = [f"a product ({mapping.product})"] if mapping.product else []
            named += [f"an order ({mapping.order_id})"] if mapping.order_id else []
            notes.append(
                f"{source} has no event type and no amount: each line, naming "
                f"{' and '.join(named)}, is taken as an item bought without a value "
                "(monetary stays 0). Name an amount with --amount."
            )
        _, unit = duration_minutes(mapping.duration)
        if mapping.duration:
            notes.append(
                f"{mapping.duration} is read in {unit or 'minutes'}"
                + (" (its name says so)" if unit else " (its name gives no unit)")
                + ": avg_session_minutes is in minutes."
            )
        if mapping.price and not (mapping.amount or mapping.quantity):
            notes.append(f"{mapping.price} is a price without a quantity: each line's amount.")
        reader = numeric_time(mapping.timestamp) or time_reader(  # (its error names the column)
            table, mapping.timestamp, source, self.b.date_order
        )
        used = {c for c in mapping.to_dict().values() if c}
        reader = with_clock(reader, table, mapping.timestamp, used)
        notes += [reader.note] if reader.note else []
        typ = table[mapping.timestamp].type()  # text a CSV reader parsed: its form
        formats = self.f.date_formats_
        if reader.how == "as_is" and typ.is_timestamp() and "timestampformat" in formats:
            reader.text_format = formats["timestampformat"]
        elif reader.how == "date" and "dateformat" in formats:
            reader.text_format = formats["dateformat"]
        self.f.mapping_ = describe(mapping)
        self.f.time_reader_ = dataclasses.asdict(reader)
        self.f.number_readers_ = {meaning: r.decimal for meaning, r in numbers.items()}
        return mapping, reader, numbers

    def _fitted(self, table):
        """The fitted mapping, found in ``table`` (a column under the fitted log's name, or
        under the meaning's own: ``user_id``, ``timestamp``…), and the fitted ways of
        reading times and numbers, for its columns' types."""
        present = set(table.columns)
        found: dict[str, str] = {}
        missing = []
        for meaning, col in self.f.mapping_.items():
            if col in present:
                found[meaning] = col
            elif meaning in present:
                found[meaning] = meaning
            else:
                missing.append(f"{col!r} (the {meaning.replace('_', ' ')}, or {meaning!r})")
        clock = self.f.time_reader_.get("clock")
        if clock and clock not in present and "timestamp" not in found.values():
            # (the time of day the fitted log's dates were given: without it every time
            # would be midnight; events under the meanings' own names carry a timestamp)
            missing.append(f"{clock!r} (the time of day of {found.get('timestamp')!r})")
        if missing:
            raise DataError(
                f"{self.source} lacks the column(s) profiles are built from: "
                f"{', '.join(missing)}; its columns are {list(table.columns)[:20]}. These "
                f"profiles (and a model holding them) read events like those of "
                f"{self.f.source_}, the log they were fitted on: give such events (a user "
                "table is scored by a model trained on a user table)."
            )
        mapping = EventMapping(**found)
        try:
            reader = fitted_time_reader(
                self.f.time_reader_, table, mapping.timestamp, self.source, self.b.date_order
            )
            self.notes += [reader.note] if reader.note else []
            numbers = {}
            for meaning, decimal in self.f.number_readers_.items():
                col = getattr(mapping, meaning)
                typ = table[col].type()
                if typ.is_numeric() or typ.is_boolean():
                    numbers[meaning] = NumberReader()
                elif typ.is_string() and decimal is not None:
                    numbers[meaning] = NumberReader(decimal=decimal)
                else:  # (text where numbers were: read as the fitted log's would have been)
                    numbers[meaning] = number_reader(table, col, self.source, meaning)
        except DataError as exc:  # (its fix names the flags of a fit, which choose columns)
            text = re.sub(r",? or name the [^.]*?--[\w-]+(?: \([^)]*\))?", "", str(exc))
            what = re.split(r"\.\s+Name ", text, maxsplit=1)[0].rstrip(".")
            raise DataError(
                f"{what}. These profiles read it as the log they were fitted on "
                f"({self.f.source_}) was read: give events whose columns hold what that "
                "log's did, or fit again on this log."
            ) from None
        return mapping, reader, numbers

    # ------------------------------------------------------------------ profiling
    def _features(self, table, mapping, reader, numbers, as_of, options):
        import ibis

        b, source, notes = self.b, self.source, self.notes
        e = normalise(
            table, mapping, row_hash=b.drop_duplicates, time=reader, numbers=numbers,
            zero_ids=False,  # (rewritten below where the scan finds such ids)
        )  # fmt: skip
        values = level_counts(e, mapping)  # over the lines read: a cheap pass per column
        plans = [str(v) for v, _ in values.pop("plan", []) if v is not None and v == v]
        statuses = [str(v) for v, _ in values.pop("status", []) if v is not None and v == v]
        etypes = [v for v, _ in values.get("etype", [])]
        if self.fitting:
            kinds = EventKinds(etypes, statuses, flag_kind(mapping.status))
            levels = {key: share_levels(key, pairs, b.top_levels) for key, pairs in values.items()}
            levels = {key: share for key, share in levels.items() if share is not None}
            self.f.event_kinds_ = {
                "present": list(kinds.present),
                "status_flag": kinds.status_flag,
                "flag": flag_kind(mapping.status),
            }
            self.f.share_levels_ = {key: fitted_levels(share) for key, share in levels.items()}
        else:
            # (a flag's meaning comes from its fitted name: under "status" it is the same)
            fitted = dict(self.f.event_kinds_)
            flag = fitted.pop("flag", flag_kind(mapping.status))
            kinds = EventKinds(etypes, statuses, flag, **fitted)
            levels = {
                key: share_levels(key, values.get(key, []), b.top_levels, fitted=spec)
                for key, spec in self.f.share_levels_.items()
            }
        as_of_ts = resolve_as_of(e, as_of, source, b.date_order)
        if as_of is None and not self.fitting:  # (a few users' events: their own last day)
            notes.append(
                f"Profiled as of {as_of_ts:%Y-%m-%d %H:%M} UTC, midnight after the last event "
                f"of {source} (the profiles were fitted as of {self.f.as_of_[:16]}); give "
                "as_of (--as-of) to profile them at another instant."
            )
        cutoff = int(as_of_ts.timestamp())
        # A blank id is empty or whitespace: only ids sorting before "!" (which begin with
        # a space or a control character) are stripped, as stripping every id is slow.
        # (A CASE, as DuckDB evaluates both sides of an AND outside a WHERE.)
        blank = ibis.cases((e.uid < "!", e.uid.strip() == ""), else_=False)
        no_user = e.uid.isnull() | blank
        usable = ~no_user & e.ts.notnull() & (e.sec < cutoff)
        facts = primitives(e, mapping, kinds)
        checks = {  # a line failing one of these is left out
            "missing_user_id": no_user,
            "missing_timestamp": e.ts.isnull() & ~e.ts_unread,
            "unreadable_timestamp": e.ts_unread,
            "at_or_after_as_of": (e.sec >= cutoff).fill_null(False),
        }
        drop_negative = b.negative_quantities == "drop"
        if drop_negative and "negative" in facts:  # (--negative-quantities drop)
            checks["negative_lines_left_out"] = facts["negative"]
            usable &= ~facts["negative"]
        # The purchase/return rules are counted (in usable lines) from these facts
        known = facts | ({"order_lines": e.order_id.notnull()} if mapping.order_id else {})
        zero = zero_decimal_tests(e, mapping)  # (ids written 17850.0: rewritten below)
        tally, hashes = scan(e, checks, known | zero, with_hash=b.drop_duplicates)
        zero_ids = [ZERO_DECIMAL_TESTS[t] for t in zero if tally.count(tally.bits[t])]
        bought = tally.bits.get("kind_purchase", tally.usable)  # (lines that may be purchases)
        valued = "has_amount" in tally.bits and tally.count(tally.bits["has_amount"])
        if "has_amount" in tally.bits and tally.count(bought & tally.usable) and not valued:
            money = [c for c in (mapping.amount, mapping.price, mapping.quantity) if c]
            notes.append(  # (a batch of page views has no amount to say anything of)
                f"No line of {source} has an amount ({' and '.join(money)} hold no value "
                "that makes one): no purchase here is valued."
            )
        counts = {"rows_read": tally.total}
        counts |= {name: tally.count(tally.bits[name]) for name in checks}
        counts["usable"] = tally.count(tally.usable)
        cancel_prefix = self._cancel_prefix(tally, mapping)
        if "negative" in facts and not drop_negative:
            negative = tally.count(tally.bits["negative"] & tally.usable)
            priced = tally.count(tally.bits["has_amount"] & tally.usable)
            notes += filter(None, [mostly_negative(negative, priced, mapping, source)])
        found = rules(
            {name: tally.bits[name] for name in facts},
            event_type=bool(mapping.event_type),
            cancel_prefix=cancel_prefix,
            false=tally.false,
            unpriced=items_bought(mapping),
        )
        # What the purchase/return rules find in usable lines (less duplicates, below)
        counts |= {rule: tally.count(found[rule] & tally.usable) for rule in RULES}
        e = flags(e, mapping, kinds, cancel_prefix=cancel_prefix)
        usable_rows = counts.pop("usable")
        if counts["rows_read"] == 0:
            raise EmptyDataError(f"{source} has no rows: there are no events to profile.")
        if usable_rows == 0:
            n = counts.get("negative_lines_left_out")
            negative = f", {n} have a negative quantity or amount (left out)" if n else ""
            no_time = counts["missing_timestamp"] + counts["unreadable_timestamp"]
            raise NoUsableEventsError(
                f"No event of {source} is usable: of its {counts['rows_read']:,} lines, "
                f"{counts['missing_user_id']:,} have no user id, {no_time:,} have no time "
                f"that can be read, and {counts['at_or_after_as_of']:,} are at or after "
                f"as_of {as_of_ts.isoformat()}{negative} (a line may fail several checks). "
                "Check the user-id and time columns, or choose a later as_of (--as-of)"
                f"{', or keep them: --negative-quantities returns' if n else ''}."
            )
        # The earliest and latest times of lines before as_of (of usable ones and maybe
        # more): reading the time column only, they bound the blocks of the active days.
        before = e.filter(e.sec < cutoff)
        span = before.aggregate(first=before.sec.min(), last=before.sec.max()).execute()
        self.done("read_and_checks")
        e = zero_decimals(e.filter(usable), zero_ids)
        if b.drop_duplicates:
            e, counts["duplicate_lines"], repeats = without_duplicates(self.con, e, hashes)
            del hashes
            for rule, extra in repeats.items():
                counts[rule] -= extra
            self.done("duplicates")
        counts["rows_used"] = usable_rows - counts.get("duplicate_lines", 0)
        first = ("rows_read", "missing_user_id", "missing_timestamp", "unreadable_timestamp")
        first += ("at_or_after_as_of",)
        counts = {k: counts[k] for k in first} | {k: v for k, v in counts.items() if k not in first}
        billing = {} if self.fitting else {"period": self.f.billing_period_}
        features = build_features(
            e,
            mapping,
            as_of_ts,
            kinds=kinds,
            levels=levels,
            plans=sorted(plans),
            span=(float(span["first"].iloc[0]), float(span["last"].iloc[0])),
            zero_value_orders=b.zero_value_orders,
            # One aggregation at a time, each stored (≤ one row per user) before the join:
            # run as one query, the three held memory together and spilled at 100M events.
            materialise=lambda name, part: self.store(f"features_{name}", part),
            billing=billing,
        )
        if self.fitting:
            self.f.billing_period_ = billing.get("period")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            data = fetch(features.order_by("uid"), self.con, drop=self.stored)
        self.done("features_join")
        data, clv_doc = self._clv(e, data, as_of_ts, options["clv"])
        self.con.disconnect()  # DuckDB's memory goes back before the pandas steps
        data = data.rename(columns={"uid": "user_id"})  # sorted by DuckDB
        return data, counts, as_of_ts, clv_doc

    def _cancel_prefix(self, tally, mapping) -> bool:
        """Whether order ids of "C" and digits are cancelled invoices: yes, unless most
        order ids of the fitted log look like that (the shop's numbering)."""
        if not self.fitting:
            return self.f.cancel_prefix_
        chosen = self.b.cancelled_invoices
        cancel_prefix = chosen if chosen is not None else True
        if mapping.order_id and chosen is None:
            prefixed = tally.count(tally.bits["c_prefix"] & tally.usable)
            order_lines = tally.count(tally.bits["order_lines"] & tally.usable)
            if prefixed * 2 > order_lines > 0:
                cancel_prefix = False
                self.notes.append(
                    f"{prefixed:,} of {order_lines:,} order ids start with C and a digit: "
                    "taken as the shop's numbering, not as cancelled invoices."
                )
        self.f.cancel_prefix_ = cancel_prefix
        return cancel_prefix

    def _clv(self, e, data, as_of_ts, options):
        """``data`` with each user's lifetime value: the models fitted on this log's
        purchases (when fitting with ``clv``) or the fitted ones."""
        if self.fitting:
            self.f.clv_ = None
        if (options if self.fitting else self.f.clv_) is None:  # no lifetime values asked for
            return data, None
        from personas.profiles._clv import (
            checked_calibration_end,
            clv_summary,
            day_before,
            enough_repeats,
            fit_clv_models,
            with_clv,
        )

        if not self.fitting:
            end = checked_calibration_end(self.b.calibration_end, self.b.date_order)
            end = end or day_before(as_of_ts)
            data = with_clv(e, data, end, self.f.clv_)
            self.done("clv")
            return data, None
        auto = options["auto"]
        doc = None
        if not auto or (data["frequency"] > 0).any():  # ("auto": none without purchases)
            end = options["calibration_end"] or day_before(as_of_ts)
            summary = clv_summary(e, end, options["unit"]).execute()
            try:
                enough_repeats(summary, end)
                doc, params = fit_clv_models(
                    summary, unit=options["unit"], pareto=options["pareto"]
                )
            except DataError as exc:  # too few repeat purchases (the options were checked)
                if not auto:
                    raise
                self.notes.append(f"No lifetime-value models: {exc}")
            else:
                kept = {k: options[k] for k in ("horizon_days", "annual_discount")}
                self.f.clv_ = params | kept
                doc = kept | doc | {"calibration_end": str(end)}
                self.notes += doc["notes"]
                data = with_clv(e, data, end, self.f.clv_, summary)
        self.done("clv")
        return data, doc


def _check_options(b: ProfileBuilder) -> None:
    """A clear error for a parameter of the wrong kind (each names its option)."""

    def whole(x: Any) -> bool:
        return isinstance(x, numbers.Integral) and not isinstance(x, bool)

    def number(x: Any) -> bool:
        return isinstance(x, numbers.Real) and not isinstance(x, bool) and x == x

    problems = []
    if not whole(b.top_levels) or b.top_levels < 1:
        problems.append(f"top_levels must be a whole number of 1 or more, not {b.top_levels!r}")
    for name in ("drop_duplicates", "zero_value_orders"):
        if not isinstance(getattr(b, name), bool):
            problems.append(f"{name} must be True or False, not {getattr(b, name)!r}")
    if b.cancelled_invoices not in (None, True, False):
        problems.append(
            f"cancelled_invoices must be True, False or None, not {b.cancelled_invoices!r}"
        )
    if not number(b.horizon_days) or b.horizon_days <= 0:
        problems.append(f"horizon_days must be a number of days above 0, not {b.horizon_days!r}")
    if not number(b.annual_discount) or not 0 <= b.annual_discount < 10:
        problems.append(f"annual_discount must be a rate such as 0.10, not {b.annual_discount!r}")
    if problems:
        raise PersonasError("; ".join(problems) + ".")
