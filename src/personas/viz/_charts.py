"""One function per chart, each drawing plain data (tables, arrays, dicts): with
``interactive=False`` a matplotlib ``Figure`` (save it as PNG or SVG with
``fig.savefig``), with ``interactive=True`` a plotly ``Figure`` (``fig.show()``,
``fig.write_html``). Both forms draw the same numbers.

The result objects (``Segmentation.plot``, ``EDA.plot``…) gather those numbers and call
these functions; nothing here knows a result object.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from personas.viz import _interactive as _i
from personas.viz import _static as _s

__all__ = [
    "associations",
    "category_mix",
    "counts",
    "differences",
    "distributions",
    "histogram",
    "k_selection",
    "methods",
    "missing",
    "profile_heatmap",
    "radar",
    "segment_map",
    "silhouette",
    "sizes",
    "snake",
    "surrogate_tree",
]


def _pick(interactive: bool):
    return _i if interactive else _s


def k_selection(scores: pd.DataFrame, k: int, *, interactive: bool = False) -> Any:
    """Every k-selection criterion against k (``scores``: one row per k), ``k`` marked."""
    return _pick(interactive).k_selection_figure(scores, k)


def methods(table: pd.DataFrame, *, interactive: bool = False) -> Any:
    """Segmentation methods side by side (``table``: one row per method with ``method``,
    ``k``, ``silhouette``, ``stability``, ``seconds``)."""
    return _pick(interactive).methods_figure(table)


def silhouette(values: dict[str, Any], names: list[str], *, interactive: bool = False) -> Any:
    """Silhouette values of a sample of users by segment (``values``: ``values`` per
    segment, their ``mean`` and ``n``)."""
    return _pick(interactive).silhouette_figure(values, names)


def segment_map(points: dict[str, Any], names: list[str], *, interactive: bool = False) -> Any:
    """A 2-D map of users coloured by segment (``points``: ``xy``, ``labels``, ``axes``,
    ``method``)."""
    return _pick(interactive).map_figure(points, names)


def sizes(table: pd.DataFrame, *, interactive: bool = False) -> Any:
    """Share of users, and of value when known, per segment (``segment``, ``users``,
    ``value``, ``value_column``)."""
    return _pick(interactive).sizes_figure(table)


def profile_heatmap(effects: pd.DataFrame, *, interactive: bool = False) -> Any:
    """Standardized differences from all users: features × segments."""
    return _pick(interactive).profile_heatmap_figure(effects)


def radar(effects: pd.DataFrame, names: list[str], *, interactive: bool = False) -> Any:
    """Segment profiles on the strongest features, as a radar."""
    return _pick(interactive).radar_figure(effects, names)


def snake(effects: pd.DataFrame, names: list[str], *, interactive: bool = False) -> Any:
    """Segment profiles on the strongest features, as lines (snake plot)."""
    return _pick(interactive).snake_figure(effects, names)


def distributions(values: dict[str, Any], names: list[str], *, interactive: bool = False) -> Any:
    """Box plots of a numeric column by segment (``values``: the ``values`` of each
    segment, a ``title``, and whether to draw them on a ``log`` scale)."""
    return _pick(interactive).distributions_figure(values, names)


def category_mix(table: pd.DataFrame, column: str, *, interactive: bool = False) -> Any:
    """Level shares of a categorical column (``table``: segments × levels)."""
    return _pick(interactive).category_mix_figure(table, column)


def surrogate_tree(rules: Any, names: list[str], *, interactive: bool = False) -> Any:
    """The decision tree the segment rules are read from (a ``SurrogateRules``)."""
    return _pick(interactive).tree_figure(rules, names)


def missing(pct: pd.Series, *, interactive: bool = False) -> Any:
    """Share of missing values (%) per column."""
    return _pick(interactive).bars_figure(
        pct, "Missing values by column", "missing (%)", color=1, empty="no missing values",
        hover="%{x:.1f}% missing",
    )  # fmt: skip


def associations(table: pd.DataFrame, *, interactive: bool = False) -> Any:
    """Associations between columns (a symmetric table of values in 0–1)."""
    return _pick(interactive).eda_associations_figure(table)


def counts(
    values: pd.Series, *, title: str, xlabel: str = "users", interactive: bool = False
) -> Any:
    """One bar per label of ``values`` (e.g. users per RFM segment), in its order."""
    return _pick(interactive).bars_figure(values, title, xlabel, color=0, empty="nothing to count")


def histogram(values: Any, *, title: str, log: bool = False, interactive: bool = False) -> Any:
    """The distribution of one column's values (``log``: log-spaced, when all positive)."""
    return _pick(interactive).histogram_figure(np.asarray(values, dtype=float), title, log)


def differences(table: pd.DataFrame, *, title: str, interactive: bool = False) -> Any:
    """Standardized differences with 95 % intervals (``label``, ``difference``,
    ``ci_low``, ``ci_high``), in the table's order."""
    return _pick(interactive).differences_figure(table, title)
