"""`segment()`: validate (profile an event log first) → basis matrix → segments by the
chosen method (K-Means by default) and k → profiles, names, rules and insights → the
model of the whole path.

Returns a :class:`~personas.Segmentation`, the result object behind ``personas segment``.
"""

from __future__ import annotations

import time
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from personas.cluster import METHODS, UNASSIGNED, choose_method, make_segmenter
from personas.errors import DataError, NoUsableEventsError, PersonasError
from personas.interpret import (
    Playbook,
    derive_insights,
    find_meanings,
    outcome_rates,
    profile_segments,
    segment_signals,
    segment_value,
    surrogate_rules,
)
from personas.io import Validation, validate, validate_user_table
from personas.model import Model, fingerprint, membership, now_iso, scored_frame
from personas.preprocess import BasisBuilder
from personas.profiles import ProfileBuilder
from personas.results import (
    MethodComparison,
    Profiles,
    Segmentation,
    ValidationReport,
    versions,
)

__all__ = ["compare_methods", "segment"]


MAX_K = 1_000  # (every method's row sample holds at least 5,000 rows)


def _check_k(k: Any, n_rows: int, source_name: str, method: str = "kmeans") -> None:
    """A clear error for a k that cannot work (the estimator itself raises plain ValueError)."""
    if n_rows < 2:
        raise DataError(
            f"{source_name} has {n_rows} row(s) to segment: segments need two users or more. "
            "Give the table (or the event log) of all the users."
        )
    if k == "auto":
        return
    if method == "hdbscan":
        raise DataError(
            f"k={k!r}: HDBSCAN finds the number of segments from the data's density, so k "
            "cannot be given with --method hdbscan; leave k at 'auto', or choose a method "
            "that takes k (kmeans, gmm, ward, kprototypes, deep)."
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise DataError(f"k must be 'auto' or a whole number ≥ 1, not {k!r}.")
    if k > n_rows:
        raise DataError(
            f"k={k} segments cannot be found in the {n_rows} rows of {source_name}. "
            f"Choose k between 1 and {n_rows}, or k='auto'."
        )
    if k > MAX_K:
        raise DataError(
            f"k={k}: personas finds at most {MAX_K:,} segments (each is profiled, named and "
            "explained; thousands would explain nothing). Choose a smaller k, or k='auto'."
        )


def _check_method(method: Any, option: str = "--method") -> str:
    """The method's name as ``METHODS`` spells it (any capitalisation, spaces around
    ignored; "auto" too for ``--method``), or an error that lists them and suggests the
    nearest."""
    known = [*METHODS, "auto"] if option == "--method" else list(METHODS)
    name = method.strip().lower() if isinstance(method, str) else method
    if name in known:
        return name
    near = get_close_matches(str(name), known, n=1, cutoff=0.6)
    raise PersonasError(
        f"method must be one of {', '.join(known)}, not {method!r} ({option})."
        + (f" Did you mean {near[0]!r}?" if near else "")
        + " docs/guide/segments.md (Methods) says what each finds."
    )


def segment(
    data: Any = None,
    *,
    k: Any = "auto",
    method: str = "kmeans",
    basis: list[str] | None = None,
    schema: Any = None,
    id_column: str | None = None,
    as_of: Any = None,
    k_min: int = 2,
    k_max: int = 12,
    random_state: int | None = 0,
    playbook: Any = None,
    date_order: str | None = None,
    progress: Any = None,
    **read_options: Any,
) -> Segmentation:
    """Find segments in a user table.

    Parameters
    ----------
    data : path, DataFrame, DuckDB connection or ValidationReport
        What :func:`personas.read_table` accepts, or the result of
        :func:`personas.validate` (its typed table and schema are used as they are).
        An event log (a file or DataFrame whose user ids repeat, two lines per user or
        more on average, in which :func:`personas.profile` finds a time) is profiled
        first, with ``as_of``; the segments are those of its users' profiles, which the
        result's ``events`` holds.
    k : "auto" or int, default "auto"
        The number of segments, or "auto" to choose it (see the rule in docs/guide/segments.md).
    method : {"kmeans", "gmm", "hdbscan", "ward", "kprototypes", "deep", "auto"}, default "kmeans"
        How segments are found: K-Means, a Gaussian mixture (k by BIC; each user's
        membership probabilities in ``labels``), HDBSCAN (dense segments, their number
        its own; k cannot be given; the users in none form a last segment, "Unassigned"),
        "auto" (K-Means or the mixture, whichever Ward's and k-prototypes' segments and
        each other's support more), Ward's hierarchical clustering of a
        sample, k-prototypes (categories as categories: a segment's prototype holds one
        level of each) or deep segmentation (an autoencoder's embedding refined by IDEC;
        the ``deep`` extra); see docs/guide/segments.md, Methods. Every method fits the same
        basis matrix and gives the same result.
    basis : list of str, optional
        The columns segments are found on (default: every usable feature column).
    schema : Schema or path, optional
        Roles that win over inference.
    id_column : str, optional
    as_of : date-like, optional
        Reference date for date columns (default: the day after the latest date).
    k_min, k_max : int
        The range of k tried by "auto".
    random_state : int or None, default 0
        Same data + same random_state = same segments; None draws every random choice
        (row samples, K-Means starts, bootstrap refits, the rules' tree) afresh.
    playbook : path or Playbook, optional
        A TOML playbook adding to (or replacing) the default insight rules, and naming the
        value / churn / … columns when their names do not say it.
    date_order : "day" or "month", optional
        Which comes first in dates written as text that read both ways (03/04/2024),
        when every sampled value fits both: day by default (a note says so).
    progress : callable, optional
        Called with a short description before each step (the CLI shows it).

    Returns
    -------
    Segmentation

    Raises
    ------
    DataError
        When the table is unusable (``personas validate`` tells why).

    Examples
    --------
    >>> import personas
    >>> users, truth = personas.datasets.make_users(3000, random_state=0)
    >>> run = personas.segment(users, random_state=0)
    >>> run.k
    6
    """
    _check_random_state(random_state)
    method = _check_method(method)
    say = progress or (lambda message: None)
    timings: dict[str, float] = {}
    report, table, builder, X, events = _prepare(
        data, schema, id_column, as_of, basis, random_state, date_order, say, timings, read_options
    )

    start = time.perf_counter()
    _check_k(k, len(X), report.source.name, method)
    if method == "auto":  # (K-Means or the mixture: the one the other methods support)
        chosen, why, _ = choose_method(
            X, k=k, k_min=k_min, k_max=k_max, random_state=random_state,
            groups=builder.category_groups(), progress=say,
        )  # fmt: skip
        segmenter = chosen.segmenter
        segmenter.k_reason_ = f"{why}. {segmenter.k_reason_}"
    else:
        what = METHODS[method].label
        say(f"Choosing k and fitting {what}" if k == "auto" else f"Fitting {what} with k={k}")
        segmenter = make_segmenter(
            method,
            k=k,
            k_min=k_min,
            k_max=k_max,
            random_state=random_state,
            groups=builder.category_groups(),
        ).fit(X)
    timings.update({f"segment_{k_}": v for k_, v in segmenter.timings_.items()})
    timings["segment"] = time.perf_counter() - start

    start = time.perf_counter()
    say("Profiling and naming the segments")
    segments = profile_segments(
        table,
        report.schema,
        builder,
        segmenter.labels_,
        stability=segmenter.segment_stability_,
    )
    noise = getattr(segmenter, "noise_segment_", None)
    if noise is not None:  # (HDBSCAN's users in no dense segment: named for what they are)
        segments[noise].name = UNASSIGNED
    names = [s.name for s in segments]
    timings["profile"] = time.perf_counter() - start

    start = time.perf_counter()
    say("Reading rules off a surrogate decision tree")
    rules = surrogate_rules(table, builder, segmenter.labels_, random_state=random_state)
    for seg in segments:
        seg.rules = rules.for_segment(seg.id)
    timings["rules"] = time.perf_counter() - start

    start = time.perf_counter()
    book = playbook if isinstance(playbook, Playbook) else Playbook.load(playbook)
    meanings = find_meanings(table, report.schema, book.columns)
    signals, why_not = segment_signals(table, report.schema, segmenter.labels_, segments, meanings)
    named = {"outcome": meanings["outcome"]} if meanings.get("outcome") else {}
    insights = derive_insights(signals, segments, book, why_not, named)
    insights["columns"] = meanings
    for seg, worth in zip(
        segments, segment_value(table, segmenter.labels_, len(segments), meanings), strict=True
    ):
        seg.value = {key: round(v, 6) for key, v in worth.items()}
    outcomes = outcome_rates(table, segmenter.labels_, report.schema)
    timings["insights"] = time.perf_counter() - start

    start = time.perf_counter()
    dist = segmenter.transform(X)
    id_col = report.schema.id_column
    proba, confidence = membership(segmenter, X)
    labels = scored_frame(table, id_col, segmenter.labels_, dist, names, proba, confidence)
    timings["labels"] = time.perf_counter() - start

    manifest = {
        "created": now_iso(),
        "parameters": {
            "method": method,
            "k": k,
            "k_min": k_min,
            "k_max": k_max,
            "random_state": random_state,
            "as_of": builder.as_of_,
            "basis": builder.basis_,
        },
        "training_data": {
            "source": report.source.name,
            "n_rows": len(table),
            "fingerprint": fingerprint(table),
        },
        "versions": versions(),
    }
    model = Model.compose(
        schema=report.schema,
        builder=builder,
        segmenter=segmenter,
        segment_names=names,
        profile_builder=events.builder if events is not None else None,
        manifest=manifest,
    )
    scores = pd.DataFrame(segmenter.scores_)
    rows = np.random.default_rng(random_state).choice(len(X), min(len(X), 5000), replace=False)
    result = Segmentation(
        labels=labels,
        segments=segments,
        scores=scores,
        k=segmenter.n_clusters_,
        k_reason=segmenter.k_reason_,
        model=model,
        validation=report,
        timings=timings,
        preprocessing=builder.describe(),
        as_of=builder.as_of_,
        rules=rules,
        insights=insights,
        outcomes=outcomes,
        events=events,
        basis_sample=(X[rows], segmenter.labels_[rows]),  # for the map in the report
    )
    model.explanation = result.explanation()  # (saved with the model: the dashboard's)
    return result


def _check_random_state(random_state: Any) -> None:
    if random_state is not None and (
        isinstance(random_state, bool)
        or not isinstance(random_state, int | np.integer)
        or random_state < 0
    ):
        raise PersonasError(
            f"random_state must be None or a whole number of 0 or more, not {random_state!r} "
            "(--random-state)."
        )


def _prepare(
    data, schema, id_column, as_of, basis, random_state, date_order, say, timings, read_options
) -> tuple[ValidationReport, pd.DataFrame, BasisBuilder, Any, Any]:
    """Read and check ``data`` (profiling an event log first) and build its basis matrix:
    the validation, the table without personal data, the fitted basis builder, the
    matrix and the profiles of an event log (else None). ``timings`` gets the seconds."""
    start = time.perf_counter()
    say("Reading and checking the table")
    dated = {"date_order": date_order}
    given = isinstance(data, Validation)  # already read and checked
    events = None
    if given:
        report = data
    elif schema is not None or not (data is None or isinstance(data, (str, Path, pd.DataFrame))):
        report = validate(data, schema=schema, id_column=id_column, **dated, **read_options)
    else:  # a user table, or an event log whose users' profiles are segmented (a file,
        # a folder, a DataFrame, or what --query reads)
        report = validate_user_table(data, id_column=id_column, **dated, **read_options)
        if report.event_log is not None:
            events = _profiled_events(data, as_of, say, id_column, date_order, read_options)
            if events is not None and events.cleaning["rows_used"] < 1.5 * len(events.data):
                events = None  # (profiled by a column unique per row: a table after all)
            if events is None:  # no log personas can profile: the table's errors stand
                report = validate(data, id_column=id_column, **dated, **read_options)
            else:  # segments of the users the log's events describe
                report = _profiles_report(events, report.source)
    report = ValidationReport.wrap(report) if not isinstance(report, ValidationReport) else report
    report.raise_for_errors()
    # Personal data, free text and ignored columns are never used: let go of them now
    # (the caller's own report is left as it is).
    table = report.data.drop(columns=report.schema.columns_with("pii", "text", "ignore"))
    if not given:
        report.data = table
    timings["validate"] = time.perf_counter() - start

    start = time.perf_counter()
    say("Building the basis matrix")
    if basis is None:
        basis = report.schema.basis  # a `basis = [...]` entry of the schema file
    builder = BasisBuilder(report.schema, basis=basis, as_of=as_of, random_state=random_state)
    X = builder.fit_transform(table)
    timings["preprocess"] = time.perf_counter() - start
    return report, table, builder, X, events


def compare_methods(
    data: Any = None,
    *,
    methods: list[str] | None = None,
    k: Any = "auto",
    basis: list[str] | None = None,
    schema: Any = None,
    id_column: str | None = None,
    as_of: Any = None,
    k_min: int = 2,
    k_max: int = 12,
    random_state: int | None = 0,
    date_order: str | None = None,
    progress: Any = None,
    **read_options: Any,
) -> MethodComparison:
    """Every segmentation method on the same data, measured alike.

    The data are read, checked and turned into the basis matrix once, as
    :func:`segment` does (an event log is profiled first); then each method finds its
    segments (choosing its own k, or taking ``k``) and is measured: k, the silhouette on
    one sample of users in the basis, the stability of its k, the seconds it took, how
    each outcome column falls across its segments, and its agreement with the other
    methods (adjusted Rand index).

    Parameters
    ----------
    data, k, basis, schema, id_column, as_of, k_min, k_max, random_state, date_order,
    progress, **read_options
        As :func:`segment`.
    methods : list of str, optional
        Which methods (default: every one that can run here — ``deep`` needs the
        ``deep`` extra).

    Returns
    -------
    MethodComparison

    Examples
    --------
    >>> import personas
    >>> users, _ = personas.datasets.make_users(1500, random_state=0)
    >>> found = personas.compare_methods(users, random_state=0)
    >>> list(found.to_pandas()["method"])[:4]
    ['kmeans', 'gmm', 'hdbscan', 'ward']
    """
    _check_random_state(random_state)
    if methods is not None:
        if isinstance(methods, str) or not methods:
            raise PersonasError(
                f"methods must be a list of method names ({', '.join(METHODS)}), not "
                f"{methods!r} (--methods kmeans,gmm)."
            )
        methods = [_check_method(method, "--methods") for method in methods]
    say = progress or (lambda message: None)
    report, table, builder, X, _ = _prepare(
        data, schema, id_column, as_of, basis, random_state, date_order, say, {}, read_options
    )
    _check_k(k, len(X), report.source.name)
    say("Fitting every method")
    return MethodComparison.compute(
        X,
        table,
        report.schema,
        source=report.source.name,
        basis=builder.basis_,
        methods=methods,
        k=k,
        k_min=k_min,
        k_max=k_max,
        random_state=random_state,
        groups=builder.category_groups(),
        progress=say,
    )


def _profiled_events(data: Any, as_of: Any, say, user_id, date_order, read) -> Any:
    """The per-user profiles of the event log ``data`` (its user ids repeat, twice per
    id or more on average), when :func:`personas.profile` finds a user id and a time in
    it; else None. ``user_id``: the user id column, if given. Lifetime
    values are fitted where there are repeat purchases (``clv="auto"``), so that each
    segment's value includes its mean CLV and probability of being alive. ``read``: how
    the log is read (the reader's options)."""
    say("An event log: profiling its users first")
    columns = {"user_id": user_id} if user_id else None
    builder = ProfileBuilder(columns, clv="auto", date_order=date_order)
    try:
        return Profiles.wrap(builder.fit_profile(data, as_of=as_of, **read))
    except NoUsableEventsError:
        if as_of is not None:
            raise  # a log, but nothing before the as_of given: that is the error to tell
        return None
    except PersonasError:
        return None


def _profiles_report(events: Any, log: Any) -> Validation:
    """The validated profiles of ``events``, named after the log they come from (``log``,
    its SourceInfo)."""
    report = validate(events.data, schema=events.schema())
    per_user = events.cleaning["rows_used"] / max(len(events.data), 1)
    report.source.name = log.name
    report.source.path = log.path
    report.source.notes.insert(
        0,
        f"{log.name} is an event log ({events.cleaning['rows_read']:,} lines, "
        f"{per_user:.1f} per user): its {len(events.data):,} users were profiled first "
        f"(as personas profile does, as of {events.as_of}), and the segments are found on "
        f"those profiles ({', '.join(events.basis())}).",
    )
    report.source.notes[1:1] = events.notes  # what profiling decided (as profile says)
    return report
