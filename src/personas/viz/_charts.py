"""One function per chart: ``interactive=False`` gives a matplotlib ``Figure`` (save it as
PNG or SVG with ``fig.savefig``), ``interactive=True`` a plotly ``Figure`` (``fig.show()``,
``fig.write_html``). Both forms draw the same numbers, computed once in ``_data``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from personas.viz import _data
from personas.viz import _interactive as _i
from personas.viz import _static as _s

if TYPE_CHECKING:
    from personas.pipeline import Segmentation

__all__ = [
    "CHARTS",
    "category_mix",
    "distributions",
    "eda_associations",
    "eda_missing",
    "k_selection",
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


def k_selection(run: Segmentation, *, interactive: bool = False) -> Any:
    """Every k-selection criterion against k, the chosen k marked."""
    scores, k = _data.k_selection(run)
    return _pick(interactive).k_selection_figure(scores, k)


def silhouette(run: Segmentation, *, interactive: bool = False) -> Any:
    """Silhouette values of a sample of users, by segment."""
    return _pick(interactive).silhouette_figure(_data.silhouette(run), _data.segment_labels(run))


def segment_map(run: Segmentation, *, method: str = "pca", interactive: bool = False) -> Any:
    """2-D map of a sample of users coloured by segment (``method="umap"`` needs the
    ``umap`` extra)."""
    m = _data.segment_map(run, method)
    return _pick(interactive).map_figure(m, _data.segment_labels(run))


def sizes(run: Segmentation, *, interactive: bool = False) -> Any:
    """Share of users, and of value when a value column is known, per segment."""
    return _pick(interactive).sizes_figure(_data.sizes(run))


def profile_heatmap(run: Segmentation, *, max_features: int = 25, interactive: bool = False):
    """Standardized differences from all users: features × segments."""
    return _pick(interactive).profile_heatmap_figure(_data.effects(run, max_features))


def radar(run: Segmentation, *, max_features: int = 8, interactive: bool = False) -> Any:
    """Segment profiles on the strongest features, as a radar."""
    table = _data.effects(run, max_features)
    return _pick(interactive).radar_figure(table, _data.segment_labels(run))


def snake(run: Segmentation, *, max_features: int = 12, interactive: bool = False) -> Any:
    """Segment profiles on the strongest features, as lines (snake plot)."""
    table = _data.effects(run, max_features)
    return _pick(interactive).snake_figure(table, _data.segment_labels(run))


def distributions(run: Segmentation, column: str | None = None, *, interactive: bool = False):
    """Box plots of a numeric column by segment (default: the most distinguishing one)."""
    if column is None:
        numeric, _ = _data.default_columns(run, 1)
        if not numeric:
            raise ValueError("No numeric column distinguishes the segments; name one.")
        column = numeric[0]
    d = _data.distributions(run, column)
    return _pick(interactive).distributions_figure(d, _data.segment_labels(run))


def category_mix(run: Segmentation, column: str | None = None, *, interactive: bool = False):
    """Level shares of a categorical column within each segment."""
    if column is None:
        _, categorical = _data.default_columns(run, 1)
        if not categorical:
            raise ValueError("No categorical column distinguishes the segments; name one.")
        column = categorical[0]
    return _pick(interactive).category_mix_figure(_data.category_mix(run, column), column)


def surrogate_tree(run: Segmentation, *, interactive: bool = False) -> Any:
    """The decision tree the segment rules are read from."""
    if run.rules is None:
        raise ValueError("This segmentation has no surrogate tree.")
    return _pick(interactive).tree_figure(run.rules, _data.segment_labels(run))


def eda_missing(report: Any, *, interactive: bool = False) -> Any:
    """Share of missing values per column, of an :class:`~personas.EDA`."""
    return _pick(interactive).eda_missing_figure(_data.eda_missing(report))


def eda_associations(report: Any, *, interactive: bool = False) -> Any:
    """Associations between columns, of an :class:`~personas.EDA`."""
    return _pick(interactive).eda_associations_figure(_data.eda_associations(report))


CHARTS = {
    "k_selection": k_selection,
    "silhouette": silhouette,
    "map": segment_map,
    "sizes": sizes,
    "heatmap": profile_heatmap,
    "radar": radar,
    "snake": snake,
    "distributions": distributions,
    "category_mix": category_mix,
    "tree": surrogate_tree,
}
