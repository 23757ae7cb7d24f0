"""The results of a segmentation: ``Segmentation`` (what :func:`personas.segment`
returns) and its views — ``KSelection``, ``SegmentProfiles`` and ``SegmentComparison``.

They hold data (labels, segments, scores, the model…); :mod:`personas.report` writes
their pages and :mod:`personas.viz` draws their charts from tables gathered in
``_charts``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from personas import report, viz
from personas._version import __version__
from personas.interpret import Comparison, NumberProfile, compare_segments
from personas.model import now_iso
from personas.results import _charts
from personas.results._base import Result

__all__ = ["KSelection", "SegmentComparison", "SegmentProfiles", "Segmentation", "versions"]


class Segmentation(Result):
    """The result of :func:`personas.segment`: labels, segments, k-selection scores and
    the model.

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
        The whole fitted path (for an event log, from its events), to save and score with.
    validation : ValidationReport
        The segmented table, typed, with its schema and quality findings.
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

    _hint = ".labels, .segments, .scores, .model, .write_html()"

    def __init__(self, *, labels, segments, scores, k, k_reason, model, validation, timings,
                 preprocessing, as_of, rules=None, insights=None, events=None,
                 basis_sample=None, outcomes=None):  # fmt: skip
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
        self.outcomes = outcomes or []  # (each outcome's rate per segment: outcome_rates)
        self.events = events
        self.basis_sample = basis_sample  # (rows of the basis matrix, their segments)
        self._eda = None

    def _summary(self) -> str:
        return f"{self.k} segments of {len(self.labels):,} users"

    @property
    def eda(self) -> Any:
        """The EDA of the segmented table (bounded sample), computed on first use."""
        if self._eda is None:
            from personas.results._tables import eda

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
        ids = [self._segment_id(x) for x in (a, b)]
        if ids[0] == ids[1]:
            raise ValueError(f"Compare two different segments; {a!r} and {b!r} are one.")
        found = compare_segments(
            self.validation.data,
            self.validation.schema,
            self.model.builder,
            self.labels["segment"].to_numpy(),
            ids[0],
            ids[1],
            names=[s.name for s in self.segments],
        )
        return SegmentComparison.wrap(found)

    def compare_methods(self, methods: list[str] | None = None, **options: Any) -> Any:
        """Every segmentation method on this run's basis matrix, measured alike (a
        :class:`~personas.MethodComparison`; see :func:`personas.compare_methods`).
        ``options``: ``k``, ``k_min``, ``k_max``, ``random_state`` (default: this run's)."""
        from personas.results._methods import MethodComparison

        table = self.validation.data
        params = self.model.manifest.get("parameters", {})
        defaults = {key: params[key] for key in ("k_min", "k_max", "random_state") if key in params}
        return MethodComparison.compute(
            self.model.builder.transform(table),
            table,
            self.validation.schema,
            source=self.validation.source.name,
            basis=self.model.basis,
            methods=methods,
            groups=self.model.builder.category_groups(),
            **(defaults | options),
        )

    def _segment_id(self, x: int | str) -> int:
        if isinstance(x, str):
            for s in self.segments:
                if s.name == x:
                    return int(s.id)
            raise ValueError(
                f"No segment is named {x!r}; the names are {[s.name for s in self.segments]}."
            )
        if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or not 0 <= x < self.k:
            raise ValueError(f"Segment ids run from 0 to {self.k - 1}; got {x!r}.")
        return int(x)

    def to_pandas(self) -> pd.DataFrame:
        """One row per segment: id, name, size, share, stability."""
        return pd.DataFrame(
            [
                {k: getattr(s, k) for k in ("id", "name", "size", "share", "stability")}
                for s in self.segments
            ]  # fmt: skip
        )

    def summary(self) -> dict[str, Any]:
        """Everything ``summary.json`` holds (stable keys for machines to read)."""
        id_col = self.model.schema.id_column
        return {
            "personas_version": __version__,
            "created": now_iso(),
            "source": self.validation.source.to_dict(),
            "n_rows": len(self.labels),
            "id_column": id_col,
            "method": self.model.method,
            "k": self.k,
            "k_reason": self.k_reason,
            "basis": self.model.basis,
            "as_of": self.as_of,
            "schema": self.validation.schema.to_dict(),
            "preprocessing": self.preprocessing,
            "k_selection": self.scores.to_dict("records"),
            "segments": [s.to_dict() for s in self.segments],
            "rules": (
                {k: v for k, v in self.rules.to_dict().items() if k != "segments"}
                if self.rules is not None
                else None
            ),
            "insights": self.insights,
            "outcomes": self.outcomes,
            # the report's EDA facts, once the report (or .eda) has computed them
            "eda": self._eda.to_dict() if self._eda is not None else None,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "versions": versions(),
        }

    def to_dict(self) -> dict[str, Any]:
        return self.summary()

    def explanation(self) -> dict[str, Any]:
        """What the saved model keeps of this run (``Model.explanation``): the summary
        less the column roles, the EDA and the timings, with the training data's quality
        (the validation's counts and findings, without per-column facts) and, for an event
        log, what profiling counted."""
        out = {k: v for k, v in self.summary().items() if k not in ("schema", "eda", "timings")}
        checked = self.validation.to_dict()
        out["quality"] = {k: v for k, v in checked.items() if k not in ("columns", "source")}
        if self.events is not None:
            out["events"] = {"as_of": self.events.as_of, "cleaning": self.events.cleaning}
        return out

    def _page(self, fragment: bool) -> str:
        if fragment:
            return report.render_fragment("segmentation", self)
        eda = self.eda  # on a bounded sample of the segmented table
        section = report.render_eda(eda, eda._figures(), fragment=True)
        return report.render_segmentation(self, _charts.report_figures(self), section)

    def to_markdown(self, path: str | Path | None = None) -> str:
        """The report's facts as Markdown (segments, insights, rules, k); no charts."""
        text = report.render_markdown(self)
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
        return super().plot(kind, interactive=interactive, **options)

    def _charts(self) -> dict[str, Callable[..., Any]]:
        return {kind: functools.partial(chart, self) for kind, chart in _charts.CHARTS.items()}


class KSelection(Result):
    """Every k tried, its scores, the chosen k and why."""

    _hint = ".to_pandas(), .plot()"

    def __init__(self, run: Segmentation) -> None:
        self._run = run
        self.k = run.k
        self.reason = run.k_reason
        self.scores = run.scores

    def _summary(self) -> str:
        return f"k={self.k} chosen among {len(self.scores)} candidates"

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k, "reason": self.reason, "scores": self.scores.to_dict("records")}

    def to_pandas(self) -> pd.DataFrame:
        return self.scores.copy()

    def _page(self, fragment: bool) -> str:
        return report.render_fragment(
            "k_selection", self.scores.to_dict("records"), self.k, self.reason
        )

    def _charts(self) -> dict[str, Callable[..., Any]]:
        return {"k_selection": functools.partial(_charts.CHARTS["k_selection"], self._run)}


class SegmentProfiles(Result):
    """Every segment's profile against all users (effects with 95 % intervals)."""

    _hint = ".to_pandas(), .plot()"

    def __init__(self, run: Segmentation) -> None:
        self._run = run
        self.segments = run.segments

    def _summary(self) -> str:
        return f"{len(self.segments)} segments"

    def __len__(self) -> int:
        return len(self.segments)

    def __getitem__(self, i: int) -> Any:
        return self.segments[i]

    def to_dict(self) -> dict[str, Any]:
        return {"segments": [s.to_dict() for s in self.segments]}

    def to_pandas(self) -> pd.DataFrame:
        """Long format: one row per segment × column (and level, for categories)."""
        rows = []
        for s in self.segments:
            for p in s.profile:
                base = {"segment": s.id, "name": s.name, "column": p.column}
                if isinstance(p, NumberProfile):
                    rows.append(
                        base
                        | {
                            "value": None,
                            "mean": p.mean,
                            "median": p.median,
                            "median_all": p.median_all,
                            "effect": p.effect,
                            "ci_low": p.ci[0],
                            "ci_high": p.ci[1],
                        }
                    )
                    continue
                for level in p.over + p.under:
                    rows.append(
                        base
                        | {
                            "value": level.value,
                            "share": level.share,
                            "share_all": level.share_all,
                            "lift": level.lift,
                            "effect": level.effect,
                            "ci_low": level.ci[0],
                            "ci_high": level.ci[1],
                        }
                    )
        return pd.DataFrame(rows)

    def _page(self, fragment: bool) -> str:
        return report.render_fragment("segment_profiles", self.segments)

    def _charts(self) -> dict[str, Callable[..., Any]]:
        """``heatmap``, ``radar`` or ``snake``."""
        return {
            kind: functools.partial(_charts.CHARTS[kind], self._run)
            for kind in ("heatmap", "radar", "snake")
        }


class SegmentComparison(Result, Comparison):
    """Segment ``a`` against segment ``b``, one row per difference, largest first.

    Attributes
    ----------
    a, b : dict
        ``id``, ``name`` and ``size`` of each segment.
    rows : list of dict
        ``column``, ``kind``, ``value`` (the level or label, for categories), ``a`` and
        ``b`` (mean and median, or share), ``difference`` (standardized) and ``ci``.
    """

    _hint = ".to_pandas(), .plot()"

    def _summary(self) -> str:
        return (
            f"{self.a['id']} {self.a['name']!r} vs {self.b['id']} {self.b['name']!r}; "
            f"{len(self.rows)} differences"
        )

    def _page(self, fragment: bool) -> str:
        return report.render_fragment("comparison", self)

    def _differences(self, interactive: bool, top: int = 15) -> Any:
        rows = self.rows[:top]
        table = pd.DataFrame(
            {
                "label": [
                    r["column"] + (f" = {r['value']}" if r.get("value") is not None else "")
                    for r in rows
                ],
                "difference": [r["difference"] for r in rows],
                "ci_low": [r["ci"][0] for r in rows],
                "ci_high": [r["ci"][1] for r in rows],
            }
        )
        title = f"Segment {self.a['id']} against segment {self.b['id']}"
        return viz.differences(table, title=title, interactive=interactive)

    def _charts(self) -> dict[str, Callable[..., Any]]:
        """``differences``: the largest standardized differences with their intervals."""
        return {"differences": self._differences}


def versions() -> dict[str, str]:
    import sklearn

    return {
        "personas": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
