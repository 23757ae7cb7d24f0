"""`profile()`: an event log (and optionally a users table) → one row per user.

The log is read and aggregated by DuckDB through Ibis (CSV, Parquet, globs of files, a
table of a DuckDB database, a DataFrame, or a SQL query); only the per-user result comes
back to pandas.
Cleaning rules are explicit options, and what each one did is counted in ``cleaning``.
"""

from __future__ import annotations

import functools
import json
import operator
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from personas._version import __version__
from personas.errors import DataError, EmptyDataError, PersonasError, SchemaError
from personas.profiles._features import (
    FEATURES,
    RULES,
    EventKinds,
    build_features,
    flags,
    items_bought,
    normalise,
    primitives,
    rule_tests,
    rules,
    share_levels,
)
from personas.profiles._inference import (
    Reads,
    check_event_type,
    headerless,
    level_counts,
    mostly_negative,
    one_order_each,
    user_hint,
    user_with_values,
)
from personas.profiles._mapping import (
    describe,
    flag_kind,
    infer_mapping,
    is_customer_name,
    is_email_name,
    mapping_toml,
    read_mapping,
)
from personas.profiles._numbers import number_reader
from personas.profiles._rfm import rfm_scores
from personas.profiles._source import (
    connect,
    fetch,
    flatten,
    join_users,
    kind,
    read_events,
    resolve_as_of,
)
from personas.profiles._times import date_from_parts, time_reader, with_clock

__all__ = ["Profiles", "profile"]


class Profiles:
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
        Rules that were switched off for this log, and why.
    timings : dict
        Seconds per step: reading, checks and line hashes (one pass), duplicates, each
        per-user aggregate (events; active days, unless the log spans few enough weeks
        to count them with the events; orders), their join, CLV, users and RFM.
    """

    def __init__(
        self,
        *,
        data,
        as_of,
        mapping,
        cleaning,
        features,
        source,
        seconds,
        clv=None,
        timings=None,
        notes=None,
    ):
        self.data = data
        self.as_of = as_of
        self.mapping = mapping
        self.cleaning = cleaning
        self.features = features
        self.source = source
        self.seconds = seconds
        self.clv = clv
        self.timings = timings or {}
        self.notes = list(notes or [])

    def __repr__(self) -> str:
        return (
            f"<Profiles: {len(self.data):,} users × {self.data.shape[1]} columns from "
            f"{self.source}, as of {self.as_of}; .data, .cleaning, .to_parquet()>"
        )

    def _repr_html_(self) -> str:
        head = self.data.head(10).to_html(index=False, max_cols=14)
        return f"<p>{repr(self)[1:-1]}</p>{head}"

    def summary(self) -> dict[str, Any]:
        rfm = (
            self.data["rfm_segment"].value_counts().to_dict() if "rfm_segment" in self.data else {}
        )
        return {
            "personas_version": __version__,
            "source": self.source,
            "as_of": self.as_of,
            "n_users": len(self.data),
            "mapping": self.mapping,
            "cleaning": self.cleaning,
            "notes": self.notes,
            "features": self.features,
            "rfm_segments": {str(k): int(v) for k, v in rfm.items()},
            "clv": self.clv,
            "basis": self.basis(),
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.summary(), indent=2, default=str, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def schema(self):
        """Roles of the profile columns and the default basis to segment them on.

        The basis is the behaviour that defines customers in RFM analyses — recency,
        frequency, monetary value — plus tenure (new versus long-standing customers); a log
        without money gives last activity, events, active weeks, tenure (and sessions).
        Every other feature describes the segments. Stored in ``profiles.parquet``, so
        ``personas segment profiles.parquet`` uses it.
        """
        from personas.io._schema import ColumnSpec, Schema

        inferred = Schema.infer(self.data, id_column="user_id")
        specs = []
        for name, spec in inferred.columns.items():
            if name == "rfm":
                spec = ColumnSpec(
                    name,
                    "ignore",
                    "the RFM code (r_score, f_score, m_score hold it)",
                    "personas profile",
                )
            elif name == "rfm_segment":
                spec = ColumnSpec(name, "categorical", "named RFM segment", "personas profile")
            specs.append(spec)
        return Schema(specs, id_column="user_id", basis=self.basis())

    def basis(self) -> list[str]:
        cols = set(self.data.columns)
        buyers = "frequency" in cols and float(self.data["frequency"].fillna(0).sum()) > 0
        if buyers and "monetary" in cols and self.data["monetary"].fillna(0).sum() > 0:
            wanted = ["recency_days", "frequency", "monetary", "tenure_days"]
        else:
            wanted = ["last_seen_days", "n_events", "active_weeks", "tenure_days", "sessions"]
        # (a column with one value, as sessions of a log without any, separates nobody)
        return [c for c in wanted if c in cols and self.data[c].nunique() > 1]

    def write_mapping(self, path: str | Path) -> Path:
        """Write the columns used (an ``[events]`` TOML table) to edit and pass back as
        ``mapping=`` (``--schema`` on the command line)."""
        path = Path(path)
        path.write_text(mapping_toml(self.mapping, self.source), encoding="utf-8")
        return path

    def to_parquet(self, path: str | Path) -> Path:
        """Write the profiles, with their schema (roles and basis) in the file's metadata."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from personas.io._readers import SCHEMA_KEY

        path = Path(path)
        table = pa.Table.from_pandas(self.data, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[SCHEMA_KEY] = json.dumps(self.schema().to_dict(), default=str).encode()
        pq.write_table(table.replace_schema_metadata(meta), path)
        return path


def profile(
    events: Any,
    users: Any = None,
    *,
    as_of: Any = None,
    query: str | None = None,
    table: str | None = None,
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
    **columns: str | None,
) -> Profiles:
    """Turn an event log into one row per user: RFM, engagement, tenure, windows, trends.

    Parameters
    ----------
    events : path, glob, DataFrame or None
        CSV (optionally compressed) or Parquet file(s) — a glob such as
        ``"events/*.parquet"`` or a folder (its Parquet files, else its CSV or JSON
        files, subfolders too) reads them all, matching columns by name —, a zip
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
    **columns
        Which column is which, when names do not say it: ``user_id``, ``timestamp``,
        ``amount``, ``price``, ``quantity``, ``event_type``, ``order_id``, ``product``,
        ``category``, ``channel``, ``device``, ``session_id``, ``duration``, ``plan``,
        ``status`` (an order's status: values such as canceled or refunded undo it).

    Examples
    --------
    >>> import personas
    >>> users, _ = personas.datasets.make_users(300, random_state=0)
    >>> events = personas.datasets.make_events(users, random_state=0)
    >>> p = personas.profile(events, as_of="2025-06-30")
    >>> int(p.data["frequency"].sum()) == int((events["event_type"] == "purchase").sum())
    True
    """
    with warnings.catch_warnings():
        # Ibis 12 warns about pandas 4 and DuckDB 2 deprecations it has yet to follow.
        warnings.filterwarnings("ignore", module=r"ibis(\.|$)")
        clv_options = None
        if clv not in (True, False, "auto"):
            raise PersonasError(f"clv must be True, False or 'auto', not {clv!r}.")
        if clv:  # (the options are checked before the log is read)
            clv_options = {
                "auto": clv == "auto",
                "pareto": clv is True,
                "calibration_end": _calibration_end(calibration_end),
                "unit": _time_unit(time_unit),
                "horizon_days": horizon_days,
                "annual_discount": annual_discount,
            }
        if mapping is not None:
            named = {k: v for k, v in columns.items() if v is not None}
            columns = read_mapping(mapping) | named
        if negative_quantities not in ("returns", "drop"):
            raise PersonasError(
                f"negative_quantities must be 'returns' or 'drop', not {negative_quantities!r}."
            )
        rules_ = {
            "cancelled_invoices": cancelled_invoices,
            "zero_value_orders": zero_value_orders,
            "drop_negative": negative_quantities == "drop",
        }
        return _profile(
            events, users, as_of, query, table, top_levels, drop_duplicates, columns, clv_options,
            **rules_,
        )  # fmt: skip


def _profile(
    events, users, as_of, query, table_name, top_levels, drop_duplicates, columns, clv_options,
    *, cancelled_invoices=None, zero_value_orders=False, drop_negative=False,
) -> Profiles:  # fmt: skip
    import ibis

    start = time.perf_counter()
    timings: dict[str, float] = {}
    lap = [start]

    def done(step: str) -> None:
        now = time.perf_counter()
        timings[step] = now - lap[0]
        lap[0] = now

    stored: list[str] = []

    def store(step: str, expr):  # a stored aggregate, timed as its own step
        stored.append(f"personas_{step}")
        table = con.create_table(stored[-1], expr)
        done(step)
        return table

    con = connect()
    log = read_events(con, events, query, table_name)
    table, source, notes = log.table, log.source, list(log.notes)
    table, found = flatten(table)
    notes += found
    if log.parse_once:
        # Text is parsed once: its typed columns go to a DuckDB table read by every query.
        table = con.create_table("personas_raw", table)
    parts = date_from_parts(table, columns.get("timestamp"))
    if parts is not None:  # the date in three columns: Year, Month, Day
        table = table.mutate(**{parts[0]: parts[1]})
        columns = columns | {"timestamp": parts[0]}
        notes.append(f"{parts[0].replace('-', ', ')} are read together as each event's date.")
    column_kinds = {name: kind(dtype) for name, dtype in table.schema().items()}
    if log.headerless:  # no names to go by: the columns' contents say what they are
        given = {k: v for k, v in columns.items() if v is not None}
        columns = headerless(table, column_kinds, given, source, notes) | given
    # Whether a text column reads as numbers ("$1,234.50"), a number column as times
    numeric_text = Reads(lambda c, t=table: number_reader(t, c, source))
    numeric_time = Reads(lambda c, t=table: time_reader(t, c, source))

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
            f"No column holds a customer number: {mapping.user_id} (names) is the user id, "
            "so customers sharing a name are one user. Name another with --user-id."
        )
    if mapping.event_type and not columns.get("event_type"):
        check_event_type(table, mapping, notes)
    numbers = {  # (a column the caller named that does not read as numbers: the error)
        meaning: numeric_text.found.get(col) or number_reader(table, col, source, meaning)
        for meaning in ("amount", "price", "quantity", "duration")
        if (col := getattr(mapping, meaning))
    }
    notes += [r.note for r in numbers.values() if r.note]
    if items_bought(mapping):
        named = [f"a product ({mapping.product})"] if mapping.product else []
        named += [f"an order ({mapping.order_id})"] if mapping.order_id else []
        notes.append(
            f"{source} has no event type and no amount: each line, naming "
            f"{' and '.join(named)}, is taken as an item bought without a value (monetary "
            "stays 0). Name an amount with --amount."
        )
    if mapping.price and not (mapping.amount or mapping.quantity):
        notes.append(f"{mapping.price} is a price without a quantity: each line's amount.")
    reader = numeric_time.reader(mapping.timestamp)  # (its error names the column)
    used = {c for c in mapping.to_dict().values() if c}
    reader = with_clock(reader, table, mapping.timestamp, used)
    notes += [reader.note] if reader.note else []
    e = normalise(table, mapping, row_hash=drop_duplicates, time=reader, numbers=numbers)
    values = level_counts(e, mapping)  # over the lines read: a cheap pass per column
    plans = [str(v) for v, _ in values.pop("plan", []) if v is not None and v == v]
    statuses = [str(v) for v, _ in values.pop("status", []) if v is not None and v == v]
    kinds = EventKinds([v for v, _ in values.get("etype", [])], statuses, flag_kind(mapping.status))
    levels = {key: share_levels(key, pairs, top_levels) for key, pairs in values.items()}
    as_of_ts = resolve_as_of(e, as_of, source)
    cutoff = int(as_of_ts.timestamp())
    # A blank id is empty or whitespace: only ids sorting before "!" (which begin with a
    # space or a control character) are stripped, as stripping every id is slow.
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
    if drop_negative and "negative" in facts:  # (--negative-quantities drop)
        checks["negative_lines_left_out"] = facts["negative"]
        usable &= ~facts["negative"]
    # The purchase/return rules are counted (in usable lines) from these facts
    known = facts | ({"order_lines": e.order_id.notnull()} if mapping.order_id else {})
    tally, hashes = _scan(e, checks, known, with_hash=drop_duplicates)
    counts = {"rows_read": tally.total}
    counts |= {name: tally.count(tally.bits[name]) for name in checks}
    counts["usable"] = tally.count(tally.usable)
    cancel_prefix = cancelled_invoices if cancelled_invoices is not None else True
    if mapping.order_id and cancelled_invoices is None:
        prefixed = tally.count(tally.bits["c_prefix"] & tally.usable)
        order_lines = tally.count(tally.bits["order_lines"] & tally.usable)
        if prefixed * 2 > order_lines > 0:
            # Most order ids look like "C123": the shop's numbering, not cancelled invoices.
            cancel_prefix = False
            notes.append(
                f"{prefixed:,} of {order_lines:,} order ids start with C and a digit: "
                "taken as the shop's numbering, not as cancelled invoices."
            )
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
        raise DataError(
            f"No event of {source} is usable: {counts['missing_user_id']} lack a user id, "
            f"{counts['missing_timestamp'] + counts['unreadable_timestamp']} a readable time, "
            f"{counts['at_or_after_as_of']} are at or after as_of {as_of_ts.isoformat()}"
            f"{negative}. Check the user-id and time columns, choose a later --as-of"
            f"{', or keep them: --negative-quantities returns' if n else ''}."
        )
    # The earliest and latest times of lines before as_of (of usable ones and maybe more):
    # reading the time column only, they bound the blocks of days of the active days.
    before = e.filter(e.sec < cutoff)
    span = before.aggregate(first=before.sec.min(), last=before.sec.max()).execute()
    done("read_and_checks")
    e = e.filter(usable)
    if drop_duplicates:
        e, counts["duplicate_lines"], repeats = _without_duplicates(con, e, hashes)
        del hashes
        for rule, extra in repeats.items():
            counts[rule] -= extra
        done("duplicates")
    counts["rows_used"] = usable_rows - counts.get("duplicate_lines", 0)
    first = ("rows_read", "missing_user_id", "missing_timestamp", "unreadable_timestamp")
    first += ("at_or_after_as_of",)
    counts = {k: counts[k] for k in first} | {k: v for k, v in counts.items() if k not in first}
    features = build_features(
        e,
        mapping,
        as_of_ts,
        kinds=kinds,
        levels={k: v for k, v in levels.items() if v is not None},
        plans=sorted(plans),
        span=(float(span["first"].iloc[0]), float(span["last"].iloc[0])),
        zero_value_orders=zero_value_orders,
        # One aggregation at a time, each stored (≤ one row per user) before the join:
        # run as one query, the three held memory together and spilled at 100M events.
        materialise=lambda name, part: store(f"features_{name}", part),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        data = fetch(features.order_by("uid"), con, drop=stored)
    done("features_join")
    clv_doc = None
    if clv_options is not None:
        auto = clv_options.pop("auto")
        if not auto or (data["frequency"] > 0).any():  # ("auto": none without purchases)
            try:
                data, clv_doc = _with_clv(e, data, as_of_ts, **clv_options)
                notes += clv_doc["notes"]
            except DataError as exc:  # too few repeat purchases (the options were checked)
                if not auto:
                    raise
                notes.append(f"No lifetime-value models: {exc}")
        done("clv")
    con.disconnect()  # DuckDB's memory goes back before the pandas steps
    data = data.rename(columns={"uid": "user_id"})  # sorted by DuckDB
    if users is not None:
        data, counts["users_without_events"] = join_users(data, users)
    data = rfm_scores(data)
    done("users_and_rfm")
    notes += filter(None, [one_order_each(data, mapping)])
    present = _definitions(data.columns)
    return Profiles(
        data=data,
        as_of=as_of_ts.isoformat(),
        mapping=describe(mapping),
        cleaning=counts,
        features=present,
        source=source,
        seconds=time.perf_counter() - start,
        clv=clv_doc,
        timings=timings,
        notes=notes,
    )


def _with_clv(
    e, data, as_of_ts, *, calibration_end, unit, horizon_days, annual_discount, pareto=True
):
    from personas.profiles._clv import clv_summary, fit_clv

    end = calibration_end
    if end is None:
        end = (pd.Timestamp(as_of_ts.replace(tzinfo=None)) - pd.Timedelta(days=1)).date()
    summary = clv_summary(e, end, unit).execute()
    if len(summary) < 10 or summary["x"].sum() == 0:
        raise DataError(
            f"Too few repeat purchases before {end} to fit lifetime-value models "
            f"({len(summary)} buyers, {int(summary['x'].sum())} repeat purchase days): they "
            "need ten buyers or more, some of them buying on two days or more (a later "
            "--calibration-end keeps more purchases in)."
        )
    per_user, doc = fit_clv(
        summary,
        unit=unit,
        horizon_days=horizon_days,
        annual_discount=annual_discount,
        pareto=pareto,
    )
    doc["calibration_end"] = str(end)
    per_user = per_user.rename(columns={"x": "cal_x", "t_x": "cal_t_x", "T": "cal_T", "m": "cal_m"})
    return data.merge(per_user, on="uid", how="left"), doc


def _time_unit(unit: str) -> str:
    from personas.profiles._clv import UNIT_DAYS

    if unit not in UNIT_DAYS:
        raise DataError(f"time_unit must be one of {sorted(UNIT_DAYS)}, not {unit!r}.")
    return unit


def _calibration_end(value: Any):
    """The calibration end as a date (None: the day before as_of, known later)."""
    if value is None:
        return None
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        raise DataError(
            f"calibration_end {value!r} is not a date: give one such as 1997-09-30 "
            "(--calibration-end), or leave it out for the day before as_of."
        ) from None


class _Tally:
    """Lines per combination of test bits (from :func:`_scan`).

    ``bits[name]`` says, for every combination, whether that test is set in it: any
    boolean combination of tests (``&``, ``|``, ``~`` on these arrays) is then counted by
    :meth:`count`. ``usable``: the combinations where none of the first ``n_checks``
    tests (the checks that leave a line out) is set.
    """

    def __init__(self, tally, names: list[str], n_checks: int):
        import numpy as np

        index = np.arange(len(tally))
        self.tally = tally
        self.bits = {name: (index >> i) & 1 == 1 for i, name in enumerate(names)}
        self.usable = (index & ((1 << n_checks) - 1)) == 0
        self.false = np.zeros(len(tally), dtype=bool)
        self.total = int(tally.sum())

    def count(self, mask) -> int:
        return int(self.tally[mask].sum())


def _scan(
    e,
    checks: dict[str, Any],
    facts: dict[str, Any],
    *,
    with_hash: bool,
    chunk_size: int = 1_000_000,
):
    """One pass over the log: lines per combination of ``checks`` and ``facts``, and the
    usable lines' hashes.

    Each line becomes a small integer whose bits are its tests and, with ``with_hash``,
    its hash (``h``). A line failing one of the ``checks`` is not usable. Codes are
    counted by NumPy as they stream in (a :class:`_Tally`); the hashes of usable lines are
    kept for :func:`_without_duplicates` (8 bytes a line). One pass instead of an
    aggregate followed by a second pass for the hashes, and every rule counted from a few
    plain facts per line rather than from the rules written out per line.
    """
    import ibis
    import numpy as np

    tests = checks | facts
    names = list(tests)
    # A CASE per test (casts to integer times powers of two took 1.6 times as long)
    bits = [ibis.ifelse(test, 1 << i, 0) for i, test in enumerate(tests.values())]
    code = functools.reduce(operator.add, bits)
    columns = {"code": code, **({"h": e.h} if with_hash else {})}
    tally = np.zeros(1 << len(names), dtype=np.int64)
    parts = []
    unusable = (1 << len(checks)) - 1
    for batch in e.select(**columns).to_pyarrow_batches(chunk_size=chunk_size):
        codes = batch.column(0).to_numpy()
        tally += np.bincount(codes, minlength=len(tally))
        if with_hash:
            parts.append(batch.column(1).to_numpy()[(codes & unusable) == 0])
    hashes = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
    return _Tally(tally, names, len(checks)), (hashes if with_hash else None)


def _without_duplicates(con, e, hashes):
    """``e`` with each set of identical lines replaced by one; the lines removed, in all
    and per purchase/return rule.

    Identical lines share the 64-bit hash of every column (``h``); ``hashes`` holds
    those of the usable lines (from :func:`_scan`). They are sorted (a DuckDB grouping
    of 100M lines needed 4 GB and twice the time); only the lines whose hash repeats
    are then grouped, exactly, by every column. Every later query reads the log without
    those lines plus one copy of each (a small table): nothing rewrites the log.
    """
    import ibis
    import numpy as np

    hashes.sort()
    repeated = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    del hashes
    if len(repeated) == 0:
        return e.drop("h"), 0, {}
    candidates = e.semi_join(ibis.memtable({"h": repeated}), "h")
    copies = candidates.group_by(candidates.columns).aggregate(n=candidates.count())
    copies = con.create_table("personas_duplicates", copies.filter(copies.n > 1))
    extra = copies.aggregate(
        extra=(copies.n - 1).sum(),
        **{rule: (copies.n - 1).sum(where=test) for rule, test in rule_tests(copies).items()},
    ).execute()
    extra = {k: int(v) if pd.notna(v) else 0 for k, v in extra.iloc[0].items()}
    if extra["extra"] == 0:
        return e.drop("h"), 0, {}
    keys = copies.select("h", "sec")
    one_each = copies.drop("n").cast(e.schema())  # (the stored table's types may differ)
    once = e.anti_join(keys, ["h", "sec"]).union(one_each, distinct=False)
    return once.drop("h"), extra.pop("extra"), extra


def _definitions(columns) -> dict[str, str]:
    out = {}
    for c in columns:
        if c in FEATURES:
            out[c] = FEATURES[c]
        elif c.startswith(("orders_", "spend_", "events_")) and c.endswith("d"):
            out[c] = FEATURES[c.split("_")[0] + "_{w}d"].replace(
                "w days", c.split("_")[1][:-1] + " days"
            )
        elif c.startswith("share_"):
            out[c] = FEATURES["share_{column}_{level}"]
    out.update(
        {
            "r_score": "recency quintile, 5 = most recent buyers (no order: empty)",
            "f_score": "frequency quintile, 5 = most orders",
            "m_score": "monetary quintile, 5 = highest spend",
            "rfm": "the three scores, e.g. 545",
            "rfm_segment": "named RFM segment (see the README's table)",
            "cal_x": "repeat purchase days up to the calibration end (CLV models)",
            "cal_t_x": "time from the first to the last purchase day, in the time unit",
            "cal_T": "time from the first purchase day to the calibration end, in the time unit",
            "cal_m": "mean value of the repeat purchase days",
            "expected_purchases": "BG/NBD expected purchases over the horizon",
            "p_alive": "BG/NBD probability that the customer is still active",
            "expected_value": "Gamma-Gamma expected value of a purchase",
            "clv": "discounted expected value over the horizon (BG/NBD × Gamma-Gamma)",
        }
    )
    return out
