"""`segment()`: validate → basis matrix → K-Means with a chosen k → profiles and names.

Returns a :class:`Segmentation`, the result object behind ``personas segment``.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from personas._version import __version__
from personas.cluster import Segmenter
from personas.errors import DataError, PersonasError
from personas.interpret import (
    KSelection,
    Playbook,
    SegmentComparison,
    SegmentProfiles,
    derive_insights,
    find_meanings,
    profile_segments,
    segment_signals,
    segment_value,
    surrogate_rules,
)
from personas.io import EventLog, ValidationReport, validate, validate_user_table
from personas.model import Model, fingerprint, now_iso, scored_frame
from personas.preprocess import BasisBuilder

__all__ = ["Segmentation", "segment"]


class Segmentation:
    """The result of :func:`segment`: labels, segments, k-selection scores and the model.

    Attributes
    ----------
    labels : pandas.DataFrame
        One row per user: id (or ``row``), ``segment``, ``segment_name``, ``distance``,
        ``confidence``.
    segments : list of dict
        Per segment: ``id``, ``name``, ``size``, ``share``, ``stability``, ``centroid``,
        ``profile`` and ``distinguishing`` features.
    scores : pandas.DataFrame
        One row per k tried: silhouette, calinski_harabasz, davies_bouldin, inertia,
        stability.
    k : int
    k_reason : str
    model : Model
    validation : ValidationReport
    rules : SurrogateRules
        The surrogate decision tree's rules per segment (also in ``segments[i]["rules"]``)
        and its fidelity.
    insights : dict
        ``insights`` (suggested actions, each with the numbers it rests on, highest priority
        first), ``not_assessed`` (rules the data cannot support, and why), ``limits``,
        ``signals`` (per segment) and ``columns`` (which column gave value, churn, …).
    events : Profiles or None
        When an event log was given: its users' profiles, which were segmented (the CLI
        writes them to ``profiles.parquet``).
    """

    def __init__(
        self,
        *,
        labels,
        segments,
        scores,
        k,
        k_reason,
        model,
        validation,
        timings,
        preprocessing,
        as_of,
        rules=None,
        insights=None,
        events=None,
    ):
        self.labels = labels
        self.segments = segments
        self.scores = scores
        self.k = k
        self.k_reason = k_reason
        self.model = model
        self.validation = validation
        self.timings = timings
        self.preprocessing = preprocessing
        self.as_of = as_of
        self.rules = rules
        self.insights = insights
        self.events = events

    def __repr__(self) -> str:
        return (
            f"<Segmentation: {self.k} segments of {len(self.labels):,} users; .labels, "
            ".segments, .scores, .model, .write_html()>"
        )

    @property
    def eda(self) -> Any:
        """The EDA of the segmented table (bounded sample), computed on first use."""
        if getattr(self, "_eda", None) is None:
            from personas.io import eda

            self._eda = eda(self.validation)
        return self._eda

    @property
    def k_selection(self) -> KSelection:
        """Every k tried and why this k: renders in Jupyter, ``.plot()``."""
        return KSelection(self)

    @property
    def profiles(self) -> SegmentProfiles:
        """The segments' profiles: renders in Jupyter, ``.plot()``, ``.to_pandas()``."""
        return SegmentProfiles(self)

    def compare(self, a: int | str, b: int | str) -> SegmentComparison:
        """Segments ``a`` and ``b`` (ids or names) side by side, largest differences first.

        Examples
        --------
        >>> import personas
        >>> users, _ = personas.datasets.make_users(3000, random_state=0)
        >>> run = personas.segment(users, random_state=0)
        >>> run.compare(0, 1).rows[0]["difference"] != 0
        True
        """
        from personas.interpret import compare_segments

        ids = [self._segment_id(x) for x in (a, b)]
        return compare_segments(
            self.validation.data,
            self.validation.schema,
            self.model.builder,
            self.labels["segment"].to_numpy(),
            ids[0],
            ids[1],
            names=[s["name"] for s in self.segments],
        )

    def _segment_id(self, x: int | str) -> int:
        if isinstance(x, str):
            for s in self.segments:
                if s["name"] == x:
                    return int(s["id"])
            raise ValueError(
                f"No segment is named {x!r}; the names are {[s['name'] for s in self.segments]}."
            )
        if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or not 0 <= x < self.k:
            raise ValueError(f"Segment ids run from 0 to {self.k - 1}; got {x!r}.")
        return int(x)

    def to_pandas(self) -> pd.DataFrame:
        """One row per segment: id, name, size, share, stability."""
        return pd.DataFrame(
            [{k: s[k] for k in ("id", "name", "size", "share", "stability")} for s in self.segments]
        )

    def summary(self) -> dict[str, Any]:
        """Everything ``summary.json`` holds (stable keys for machines to read)."""
        id_col = self.validation.schema.id_column
        return {
            "personas_version": __version__,
            "created": now_iso(),
            "source": self.validation.source.to_dict(),
            "n_rows": len(self.labels),
            "id_column": id_col,
            "k": self.k,
            "k_reason": self.k_reason,
            "basis": self.model.basis,
            "as_of": self.as_of,
            "schema": self.validation.schema.to_dict(),
            "preprocessing": self.preprocessing,
            "k_selection": self.scores.to_dict("records"),
            "segments": self.segments,
            "rules": (
                {k: v for k, v in self.rules.to_dict().items() if k != "segments"}
                if self.rules is not None
                else None
            ),
            "insights": self.insights,
            # the report's EDA facts, once the report (or .eda) has computed them
            "eda": self._eda.to_dict() if getattr(self, "_eda", None) is not None else None,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "versions": _versions(),
        }

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.summary(), indent=2, default=_json_default, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def html(self) -> str:
        from personas.report import render_segmentation

        return render_segmentation(self)

    def write_html(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.html(), encoding="utf-8")
        return path

    def to_markdown(self, path: str | Path | None = None) -> str:
        """The report's facts as Markdown (segments, insights, rules, k); no charts."""
        from personas.report import render_markdown

        text = render_markdown(self)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def plot(self, kind: str = "sizes", *, interactive: bool = False, **options: Any) -> Any:
        """Draw one chart: a matplotlib Figure, or a plotly Figure with ``interactive=True``.

        ``kind`` is one of ``sizes``, ``heatmap``, ``radar``, ``snake``, ``map``,
        ``silhouette``, ``k_selection``, ``distributions``, ``category_mix``, ``tree``;
        ``options`` go to the chart (e.g. ``column=`` for distributions and category_mix,
        ``method="umap"`` for the map).
        """
        from personas.viz import CHARTS

        if kind not in CHARTS:
            raise ValueError(f"Unknown chart {kind!r}; choose one of {sorted(CHARTS)}.")
        return CHARTS[kind](self, interactive=interactive, **options)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{s['id']}</td><td>{html.escape(s['name'])}</td><td>{s['size']:,}</td>"
            f"<td>{s['share']:.1%}</td></tr>"
            for s in self.segments
        )
        return (
            f"<p>{html.escape(repr(self))}</p><p>{html.escape(self.k_reason)}</p><table>"
            "<thead><tr><th>id</th><th>name</th><th>users</th><th>share</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


def _check_k(k: Any, n_rows: int, source_name: str) -> None:
    """A clear error for a k that cannot work (the estimator itself raises plain ValueError)."""
    if k == "auto":
        return
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise DataError(f"k must be 'auto' or a whole number ≥ 1, not {k!r}.")
    if k > n_rows:
        raise DataError(
            f"k={k} segments cannot be found in the {n_rows} rows of {source_name}. "
            f"Choose k between 1 and {n_rows}, or k='auto'."
        )


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return None if not np.isfinite(obj) else float(obj)
    return str(obj)


def _versions() -> dict[str, str]:
    import sklearn

    return {
        "personas": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }


def segment(
    data: Any,
    *,
    k: Any = "auto",
    basis: list[str] | None = None,
    schema: Any = None,
    id_column: str | None = None,
    as_of: Any = None,
    k_min: int = 2,
    k_max: int = 12,
    random_state: int | None = 0,
    playbook: Any = None,
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
        The number of segments, or "auto" to choose it (see the README's rule).
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
    say = progress or (lambda message: None)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    say("Reading and checking the table")
    given = isinstance(data, ValidationReport)  # already read and checked
    events = None
    if given:
        report = data
    elif schema is not None or not isinstance(data, (str, Path, pd.DataFrame)):
        report = validate(data, schema=schema, id_column=id_column, **read_options)
    else:  # a user table, or an event log whose users' profiles are segmented
        try:
            report = validate_user_table(data, id_column=id_column, **read_options)
        except EventLog as log:
            named = {"user_id": id_column, "table": read_options.get("table")}
            events = _profiled_events(data, as_of, say, **named)
            if events is None:  # no log personas can profile: the table's errors stand
                report = validate(data, id_column=id_column, **read_options)
            else:  # segments of the users the log's events describe
                report = _profiles_report(events, log.source)
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

    start = time.perf_counter()
    _check_k(k, len(X), report.source.name)
    say("Choosing k and fitting K-Means" if k == "auto" else f"Fitting K-Means with k={k}")
    segmenter = Segmenter(k=k, k_min=k_min, k_max=k_max, random_state=random_state).fit(X)
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
    names = [s["name"] for s in segments]
    timings["profile"] = time.perf_counter() - start

    start = time.perf_counter()
    say("Reading rules off a surrogate decision tree")
    rules = surrogate_rules(table, builder, segmenter.labels_, random_state=random_state)
    for seg in segments:
        seg["rules"] = rules.for_segment(seg["id"])
    timings["rules"] = time.perf_counter() - start

    start = time.perf_counter()
    book = playbook if isinstance(playbook, Playbook) else Playbook.load(playbook)
    meanings = find_meanings(table, report.schema, book.columns)
    signals, why_not = segment_signals(table, report.schema, segmenter.labels_, segments, meanings)
    insights = derive_insights(signals, segments, book, why_not)
    insights["columns"] = meanings
    for seg, worth in zip(
        segments, segment_value(table, segmenter.labels_, len(segments), meanings), strict=True
    ):
        seg["value"] = {key: round(v, 6) for key, v in worth.items()}
    timings["insights"] = time.perf_counter() - start

    start = time.perf_counter()
    dist = segmenter.transform(X)
    id_col = report.schema.id_column
    labels = scored_frame(table, id_col, segmenter.labels_, dist, names)
    timings["labels"] = time.perf_counter() - start

    manifest = {
        "created": now_iso(),
        "parameters": {
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
        "versions": _versions(),
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
        events=events,
    )
    result.basis_sample = (X[rows], segmenter.labels_[rows])  # for the map in the report
    return result


def _profiled_events(data: Any, as_of: Any, say, **named) -> Any:
    """The per-user profiles of the event log ``data`` (its user ids repeat, twice per
    id or more on average), when :func:`personas.profile` finds a user id and a time in
    it; else None. ``named``: the user id column and DuckDB table, if given. Lifetime
    values are fitted where there are repeat purchases (``clv="auto"``), so that each
    segment's value includes its mean CLV and probability of being alive."""
    from personas.profiles import profile

    say("An event log: profiling its users first")
    try:
        return profile(data, as_of=as_of, clv="auto", **{k: v for k, v in named.items() if v})
    except PersonasError:
        return None


def _profiles_report(events: Any, log: Any) -> ValidationReport:
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
